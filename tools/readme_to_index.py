"""Write nbs/index.ipynb (the docs' front page) from README.md: one markdown cell per `## ` section.

`make test` runs it under tools/check_unchanged.sh, so the two cannot drift apart.
"""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sections(text: str) -> list[str]:
    "The README cut before each level-2 heading; the title and summary line form the first cell."
    parts = re.split(r"\n(?=## )", text.strip())
    head = parts[0].split("\n\n", 2)
    first = ["\n\n".join(head[:2])] + (head[2:] if len(head) > 2 else [])
    return first + parts[1:]


def main() -> None:
    text = (ROOT / "README.md").read_text().replace("](docs/", "](../docs/")  # links from nbs/
    cells = [
        {"cell_type": "markdown", "id": f"i{i:03d}", "metadata": {}, "source": s.splitlines(keepends=True)}
        for i, s in enumerate(sections(text))
    ]
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (ROOT / "nbs" / "index.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
