"""Execute library notebooks and keep their pictures as small JPEG outputs (everything else stays unexecuted).

    .venv/bin/python tools/render_outputs.py nbs/01_masks.ipynb nbs/40_patch_network.ipynb …
    .venv/bin/python tools/render_outputs.py --all      # every notebook listed in PICTURED

The committed notebooks then show what each stage does on GitHub, in JupyterLab before running, and on the docs
site. Only image outputs are kept (text, widget state and tracebacks are dropped), each as a JPEG of at most
MAX_WIDTH pixels; tests/test_notebook_outputs.py holds the size budget. Run it again after changing a pictured
cell, then `nbdev-clean`.
"""

import argparse
import base64
import io
import json
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
MAX_WIDTH = 720
QUALITY = 80
PICTURED = [
    "01_masks",
    "01a_degradations",
    "04_collage",
    "05_inpainters",
    "12_sd2_widgets",
    "30_colorfix",
    "40_patch_network",
    "50_lightmap_scene",
    "51_lightmap_model",
    "53_lightmap_render",
    "54_lightmap_viewer",
    "13_clips",
    "15_propagation",
]


def small_jpeg(data: str) -> str:
    "A base64 PNG/JPEG as a base64 JPEG of at most MAX_WIDTH pixels."
    im = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    if im.width > MAX_WIDTH:
        im = im.resize((MAX_WIDTH, round(im.height * MAX_WIDTH / im.width)), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=QUALITY, optimize=True)
    return base64.b64encode(buf.getvalue()).decode()


def pictures(outputs: list) -> list:
    "The image outputs of a cell, as small JPEG display_data outputs."
    kept = []
    for out in outputs:
        data = out.get("data", {})
        img = data.get("image/jpeg") or data.get("image/png")
        if img:
            kept.append(
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "image/jpeg": small_jpeg(img if isinstance(img, str) else "".join(img)),
                        "text/plain": ["<picture>"],
                    },
                }
            )
    return kept


def render(path: Path) -> int:
    "Execute `path`, write its pictures into it; returns the number of pictures."
    from execnb.shell import CaptureShell

    with tempfile.TemporaryDirectory() as d:
        executed = Path(d) / path.name
        CaptureShell().execute(path, executed, exc_stop=True)
        ran = {c["id"]: c.get("outputs", []) for c in json.loads(executed.read_text())["cells"] if "id" in c}
    nb = json.loads(path.read_text())
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = pictures(ran.get(cell["id"], []))
            count += len(cell["outputs"])
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--all", action="store_true", help="every notebook in PICTURED")
    a = ap.parse_args()
    paths = [ROOT / "nbs" / f"{n}.ipynb" for n in PICTURED] if a.all else a.notebooks
    for p in paths:
        print(f"{p.name}: {render(p.resolve())} pictures", file=sys.stderr)


if __name__ == "__main__":
    main()
