import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from heritage_inpaint.cli import main
from heritage_inpaint.io import load_image, load_mask
from heritage_inpaint.samples import SAMPLES, sample_dir, write_sample_data


def _make_data(root: Path, rng):
    for stem, (h, w) in {"a": (40, 56), "b": (48, 48)}.items():
        sub = root / "imgs" / ("deep" if stem == "a" else "")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(sub / f"{stem}.jpg")
        m = np.zeros((h // 2, w // 2), np.uint8)
        m[5:12, 6:15] = 255  # white = fill, half size
        (root / "masks_inverted").mkdir(exist_ok=True)
        Image.fromarray(m).save(root / "masks_inverted" / f"{stem}.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "masks_inverted" / "orphan.png")


def test_cli_report_on_own_folders_white_masks(tmp_path, rng, capsys):
    _make_data(tmp_path, rng)
    out = tmp_path / "out"
    rc = main(
        [
            "report",
            "--image_dir",
            str(tmp_path / "imgs"),
            "--mask_dir",
            str(tmp_path / "masks_inverted"),
            "--mask_mode",
            "white",
            "--methods",
            "telea,patchmatch",
            "--rows",
            "2",
            "--seed",
            "10",
            "--out-dir",
            str(out),
            "--collage_spacing_h",
            "4",
            "--collage_spacing_v",
            "6",
        ]
    )
    assert rc == 0
    assert "orphan.png" in capsys.readouterr().out  # unmatched mask reported
    table = pd.read_csv(out / "metrics.csv")
    assert len(table) == 2 * 2 * 2 and set(table.seed) == {10, 11}
    assert {"psnr", "psnr_masked", "ssim", "ssim_masked", "lpips", "lpips_masked", "seconds"} <= set(table.columns)
    col = load_image(out / "collages" / "a_collage.png")
    assert col.shape == (3, 4 * 40 + 3 * 6, 3 * 56 + 2 * 4)
    used = load_mask(out / "masks" / "a.png")  # saved black = fill at image size
    assert used.shape == (1, 40, 56) and used.sum() == 4 * 7 * 9
    res = load_image(out / "results" / "telea" / "a_s10.png")
    src = load_image(tmp_path / "imgs" / "deep" / "a.jpg")
    assert (res - src).abs()[:, ~used[0].bool()].max() <= 1 / 255 + 1e-6  # known pixels kept
    s = json.loads((out / "metrics.json").read_text())
    assert s["collage_rows"] == [["telea", 10], ["telea", 11], ["patchmatch", 10], ["patchmatch", 11]]
    page = (out / "report.html").read_text()
    assert page.count("data:image/jpeg;base64,") == 2 and "masked LPIPS ↓" in page


def test_cli_generated_masks_and_errors(tmp_path, rng, capsys):
    _make_data(tmp_path, rng)
    out = tmp_path / "gen"
    assert (
        main(
            [
                "report",
                "--image-dir",
                str(tmp_path / "imgs"),
                "--mask-kind",
                "thick",
                "--methods",
                "ns",
                "--out-dir",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["a.png", "b.png"]
    assert main(["report", "--image-dir", str(tmp_path / "nope"), "--out-dir", str(out)]) == 2
    assert "directory not found" in capsys.readouterr().err
    assert main(["report", "--methods", "lama", "--out-dir", str(out)]) == 2
    assert "unknown method" in capsys.readouterr().err


def test_embedded_samples_are_what_write_sample_data_produces(tmp_path):
    write_sample_data(tmp_path)
    for stem, (fname, _, _) in SAMPLES.items():
        ext = Path(fname).suffix
        assert (tmp_path / "images" / f"{stem}{ext}").read_bytes() == (
            sample_dir() / "images" / f"{stem}{ext}"
        ).read_bytes()
        assert np.array_equal(
            np.asarray(Image.open(tmp_path / "masks" / f"{stem}.png")),
            np.asarray(Image.open(sample_dir() / "masks" / f"{stem}.png")),
        )


def test_console_script_runs_the_report(tmp_path):
    exe = Path(sys.executable).parent / "heritage-inpaint"
    r = subprocess.run(
        [str(exe), "report", "--methods", "telea", "--max-images", "1", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "report.html").exists() and "telea" in r.stdout
