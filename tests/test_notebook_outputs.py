"""The committed notebooks keep only small pictures as outputs (tools/render_outputs.py), within a size budget:
the repository stays small and every output is a picture a reader wants, never text, a traceback or widget state."""

import base64
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PICTURE_BYTES = 80_000  # one JPEG
NOTEBOOK_BYTES = 150_000  # all pictures of one notebook
TOTAL_BYTES = 1_200_000  # all pictures of all notebooks


def pictures(path: Path) -> list[int]:
    "Decoded sizes of a notebook's pictures; fails on any other kind of output."
    sizes = []
    for cell in json.loads(path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            assert set(data) <= {"image/jpeg", "text/plain"} and "image/jpeg" in data, (path.name, list(data))
            jpeg = data["image/jpeg"]
            sizes.append(len(base64.b64decode(jpeg if isinstance(jpeg, str) else "".join(jpeg))))
    return sizes


def test_notebook_pictures_stay_within_budget():
    per_notebook = {p.name: pictures(p) for p in sorted((ROOT / "nbs").glob("*.ipynb"))}
    assert all(s <= PICTURE_BYTES for sizes in per_notebook.values() for s in sizes), per_notebook
    assert all(sum(sizes) <= NOTEBOOK_BYTES for sizes in per_notebook.values()), per_notebook
    assert sum(sum(s) for s in per_notebook.values()) <= TOTAL_BYTES
    assert sum(len(s) for s in per_notebook.values()) >= 10  # the chapters about images do show pictures
