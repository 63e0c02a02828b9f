"""Issue 16: bad clips and masks given to `heritage-inpaint video` end in one line naming the file and the problem
(exit 2), before anything is written; a clip round-trips through MP4."""

from pathlib import Path

import pytest
import torch

from heritage_inpaint.cli import main
from heritage_inpaint.clips import Clip, read_clip, write_mp4
from heritage_inpaint.io import save_image, save_mask


def _frames(folder: Path, n: int, size=(48, 64), odd: int | None = None) -> Path:
    folder.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for t in range(n):
        h, w = (size[0] + 6, size[1]) if t == odd else size
        save_image(torch.rand(3, h, w, generator=g), folder / f"f{t:03d}.png")
    return folder


def _video(tmp_path, argv, expect: str, capsys):
    out = tmp_path / "out"
    assert main(["video", *argv, "--out-dir", str(out), "--methods", "telea"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0], err
    assert not out.exists(), "nothing is written for a refused input"


def test_frames_of_different_sizes(tmp_path, capsys):
    frames = _frames(tmp_path / "frames", 4, odd=2)
    _video(tmp_path, ["--input", str(frames)], "f002.png: frame of 64×54 px", capsys)


def test_mask_count_differs_from_frame_count(tmp_path, capsys):
    frames = _frames(tmp_path / "frames", 4)
    (tmp_path / "masks").mkdir()
    for t in range(3):
        save_mask(torch.ones(1, 48, 64), tmp_path / "masks" / f"m{t}.png")
    _video(tmp_path, ["--input", str(frames), "--masks", str(tmp_path / "masks")], "3 masks for a clip of 4", capsys)


def test_unreadable_video(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video at all")
    _video(tmp_path, ["--input", str(bad)], "broken.mp4: not a readable video", capsys)


def test_empty_video_file(tmp_path, capsys):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    _video(tmp_path, ["--input", str(empty)], "empty.mp4: ", capsys)


def test_one_frame_clip(tmp_path, capsys):
    frames = _frames(tmp_path / "frames", 1)
    _video(tmp_path, ["--input", str(frames)], "a clip needs at least two frames", capsys)


def test_unknown_method_before_reading(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["video", "--out-dir", str(out), "--methods", "telea,nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("size", [(48, 64), (47, 63)])
def test_mp4_round_trip_keeps_count_size_fps_and_content(tmp_path, size):
    g = torch.Generator().manual_seed(1)
    base = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 8, generator=g), size, mode="bilinear")[0]
    frames = torch.stack([base.roll(t, -1) for t in range(5)])  # smooth content: within H.264's tolerance
    path = write_mp4(Clip(frames, 12.5), tmp_path / "c.mp4")
    back = read_clip(path, size=size)
    assert len(back) == 5 and back.size == size and back.fps == pytest.approx(12.5)
    err = (back.frames - frames).abs().mean((1, 2, 3))
    assert err.max() < 0.03, err  # H.264 quality 8, 4:2:0 chroma on 48×64 random-smooth content: about 0.021
    assert err.max() < (back.frames[1:] - frames[:-1]).abs().mean((1, 2, 3)).min()  # frames in their order
