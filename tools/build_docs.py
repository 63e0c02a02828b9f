"""Build the documentation site offline: every notebook as a page (with its committed pictures) and an API page per
exported module, with MkDocs, mkdocs-material, mkdocs-jupyter and mkdocstrings (`make docs` → `_docs/index.html`).

Quarto (what `nbdev-docs` uses) cannot be installed here; the notebooks keep nbdev's metadata, so a user who has
Quarto can still run `nbdev-docs`. The staging folder `_docs_src/` and the site `_docs/` are generated, never committed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE, SITE = ROOT / "_docs_src", ROOT / "_docs"
SRC = STAGE / "docs"
PAPERMILL = re.compile(r"^(report|restore_report|video_report|train_.*|ab_.*)$")


def page_notebook(path: Path, dest: Path) -> str:
    "Copy a notebook for the site: `#| hide` cells dropped, nbdev directives removed; returns its title."
    nb = json.loads(path.read_text())
    cells = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and (src.startswith("#| hide") or src.startswith("#| default_exp")):
            continue
        if cell["cell_type"] == "code":
            src = "\n".join(line for line in src.split("\n") if not line.startswith("#|"))
        cell["source"] = src.splitlines(keepends=True)
        cells.append(cell)
    nb["cells"] = cells
    dest.write_text(json.dumps(nb, ensure_ascii=False).replace("](../docs/", "](docs/"))
    first = "".join(cells[0]["source"]) if cells else path.stem
    return first.splitlines()[0].lstrip("# ").strip() or path.stem


def modules() -> list[str]:
    "The exported modules, in notebook order."
    order = []
    for nb in sorted((ROOT / "nbs").glob("[0-9]*.ipynb")):
        m = re.search(r"#\| default_exp (\w+)", nb.read_text())
        if m:
            order.append(m.group(1))
    return order


def main() -> None:
    shutil.rmtree(STAGE, ignore_errors=True)
    (SRC / "api").mkdir(parents=True)
    shutil.copytree(ROOT / "docs", SRC / "docs")  # the pictures and design notes the pages link to
    chapters, runs = [], []
    for nb in sorted((ROOT / "nbs").glob("*.ipynb")):
        title = page_notebook(nb, SRC / nb.name)
        if nb.stem == "index":
            continue
        (runs if PAPERMILL.match(nb.stem) else chapters).append({f"{nb.stem} — {title}": nb.name})
    api = []
    for mod in modules():
        (SRC / "api" / f"{mod}.md").write_text(f"# heritage_inpaint.{mod}\n\n::: heritage_inpaint.{mod}\n")
        api.append({mod: f"api/{mod}.md"})
    config = {
        "site_name": "heritage-inpaint",
        "docs_dir": str(SRC),
        "site_dir": str(SITE),
        "use_directory_urls": False,
        "theme": {"name": "material", "font": False, "features": ["navigation.sections"]},
        "nav": [{"Home": "index.ipynb"}, {"Chapters": chapters}, {"Papermill notebooks": runs}, {"API": api}],
        "plugins": [
            {"mkdocs-jupyter": {"execute": False, "include_source": True, "ignore_h1_titles": False}},
            {"mkdocstrings": {"handlers": {"python": {"options": {"show_source": False, "docstring_style": None}}}}},
        ],
        "markdown_extensions": ["tables", "admonition", "toc"],
    }
    (STAGE / "mkdocs.yml").write_text(json.dumps(config, indent=1, ensure_ascii=False))
    mkdocs = Path(sys.executable).parent / "mkdocs"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        [str(mkdocs), "build", "--quiet", "-f", str(STAGE / "mkdocs.yml")], check=True, cwd=STAGE, env=env
    )  # mkdocs-jupyter caches in the cwd
    print(f"docs: {SITE / 'index.html'}")


if __name__ == "__main__":
    main()
