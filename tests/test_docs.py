"`make docs` builds the site offline: the front page with its picture, every chapter with its pictures, API pages."

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_docs_site_builds_offline():
    r = subprocess.run([sys.executable, "tools/build_docs.py"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    site = ROOT / "_docs"
    front = (site / "index.html").read_text()
    assert "docs/stages.jpg" in front and (site / "docs" / "stages.jpg").is_file()
    chapter = (site / "40_patch_network.html").read_text()
    assert "data:image/jpeg;base64" in chapter and "load_patch_model" in chapter
    assert "default_patch_weights" in (site / "api" / "patch_network.html").read_text()
