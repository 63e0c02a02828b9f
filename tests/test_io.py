import warnings

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from heritage_inpaint.io import (
    InputError,
    from_model_size,
    load_image,
    load_mask,
    pair_images_masks,
    save_image,
    to_model_size,
)


def test_rgb_png_and_jpeg_roundtrip(tmp_path, rng):
    arr = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    x = load_image(tmp_path / "a.png")
    assert x.dtype == torch.float32 and x.shape == (3, 9, 13)
    np.testing.assert_array_equal((x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), arr)
    Image.fromarray(arr).save(tmp_path / "b.jpg", quality=95)
    assert load_image(tmp_path / "b.jpg").shape == (3, 9, 13)


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[0, 0] = 255  # red-ish marker top-left of the stored pixels
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # orientation 6: rotate 90° clockwise to display
    img.save(tmp_path / "o.jpg", exif=exif, quality=100)
    x = load_image(tmp_path / "o.jpg")
    assert x.shape == (3, 20, 10)  # displayed as portrait
    assert x[:, 0, -1].mean() > 0.8  # the marker moved to the top-right corner


def test_grayscale_and_palette(tmp_path, rng):
    g = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    x = load_image(tmp_path / "g.png")
    assert x.shape == (3, 5, 6) and torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])
    np.testing.assert_allclose(x[0].numpy(), g / 255.0, atol=1e-7)
    Image.fromarray(g, "L").convert("P").save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").shape == (3, 5, 6)


def test_rgba_composites_over_white_or_drops(tmp_path, rng):
    rgba = rng.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    a = rgba[..., 3:] / 255.0
    expected = rgba[..., :3] / 255.0 * a + (1 - a)
    np.testing.assert_allclose(load_image(tmp_path / "a.png").permute(1, 2, 0).numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(
        load_image(tmp_path / "a.png", alpha="drop").permute(1, 2, 0).numpy(), rgba[..., :3] / 255.0, atol=1e-6
    )
    with pytest.raises(InputError, match="alpha"):
        load_image(tmp_path / "a.png", alpha="bogus")


def test_16bit_rgb_png_keeps_precision(tmp_path, rng):
    arr = rng.integers(0, 65536, (6, 7, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "h.png"), arr[..., ::-1])  # OpenCV writes BGR
    x = load_image(tmp_path / "h.png")
    np.testing.assert_allclose(x.permute(1, 2, 0).numpy(), arr / 65535.0, atol=1e-7)
    assert ((x * 65535).round() % 257 != 0).any()  # not 8-bit values scaled up


@pytest.mark.parametrize(
    "content,msg",
    [
        (None, "file not found"),
        (b"", "file is empty"),
        (b"not an image at all", "cannot decode"),
        ("truncated", "cannot decode"),
    ],
)
def test_bad_image_files_name_the_file(tmp_path, content, msg):
    p = tmp_path / "bad.png"
    if content == "truncated":
        Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 7).save(p)
        p.write_bytes(p.read_bytes()[:60])
    elif content is not None:
        p.write_bytes(content)
    with pytest.raises(InputError, match=msg) as e:
        load_image(p)
    assert str(p) in str(e.value)


def test_mask_modes_threshold_and_resize(tmp_path):
    g = np.array([[0, 100, 127, 128, 200, 255]] * 2, np.uint8)
    Image.fromarray(g).save(tmp_path / "m.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        black = load_mask(tmp_path / "m.png", "black")
        white = load_mask(tmp_path / "m.png", "white")
    assert black[0, 0].tolist() == [1, 1, 1, 0, 0, 0] and white[0, 0].tolist() == [0, 0, 0, 1, 1, 1]
    big = load_mask(tmp_path / "m.png", "black", size=(4, 12), on_grey="ignore")
    ref = np.asarray(Image.fromarray(g).resize((12, 4), Image.NEAREST)) < 128  # PIL nearest as the reference
    np.testing.assert_array_equal(big[0].numpy(), ref.astype(np.float32))
    assert set(big.unique().tolist()) == {0.0, 1.0}


def test_grey_masks_warn_or_fail(tmp_path, rng):
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(tmp_path / "photo.png")
    with pytest.warns(UserWarning, match="not black-and-white"):
        load_mask(tmp_path / "photo.png")
    with pytest.raises(InputError, match="not black-and-white"):
        load_mask(tmp_path / "photo.png", on_grey="error")


@pytest.mark.parametrize(
    "value,mode,msg",
    [(255, "black", "no pixel to fill"), (0, "black", "every pixel"), (0, "white", "no pixel to fill")],
)
def test_empty_and_full_masks_are_refused(tmp_path, value, mode, msg):
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(InputError, match=msg) as e:
        load_mask(tmp_path / "m.png", mode)
    assert "mask_mode" in str(e.value) and str(tmp_path / "m.png") in str(e.value)
    assert load_mask(tmp_path / "m.png", mode, allow_empty=True, allow_full=True).shape == (1, 8, 8)


def test_pairing_recursive_by_stem_lists_unmatched_and_refuses_duplicates(tmp_path):
    for p in ["i/x/a.JPG", "i/b.jpeg", "i/c.png", "i/notes.txt", "m/a.png", "m/y/z/b.png", "m/d.png"]:
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).write_bytes(b"x")
    pr = pair_images_masks(tmp_path / "i", tmp_path / "m")
    assert [(s, i.name, m.name) for s, i, m in pr.pairs] == [("a", "a.JPG", "a.png"), ("b", "b.jpeg", "b.png")]
    assert "c.png" in pr.describe() and "d.png" in pr.describe()
    (tmp_path / "m" / "y" / "a.jpg").write_bytes(b"x")
    with pytest.raises(InputError, match="duplicate file stems.*a:"):
        pair_images_masks(tmp_path / "i", tmp_path / "m")
    with pytest.raises(InputError, match="directory not found"):
        pair_images_masks(tmp_path / "nope", tmp_path / "m")


@pytest.mark.parametrize("hw,size", [((321, 481), None), ((321, 481), 768), ((1000, 37), 512), ((9, 9), None)])
def test_model_size_multiples_of_8_and_exact_way_back(hw, size):
    img = torch.rand(3, *hw)
    mask = (torch.rand(1, *hw) > 0.7).float()
    im, mk, orig = to_model_size(img, mask, size)
    assert im.shape[-1] % 8 == 0 and im.shape[-2] % 8 == 0 and mk.shape[-2:] == im.shape[-2:]
    assert set(mk.unique().tolist()) <= {0.0, 1.0}
    if size:
        assert max(im.shape[-2:]) == size or abs(max(im.shape[-2:]) - size) < 8
    assert abs(im.shape[-1] / im.shape[-2] - hw[1] / hw[0]) < 0.1 * hw[1] / hw[0] + 8 / min(im.shape[-2:])
    back = from_model_size(im, orig)
    assert back.shape == img.shape


def test_way_back_preserves_content():
    const = torch.full((3, 50, 70), 0.25)
    im, _, orig = to_model_size(const, torch.zeros(1, 50, 70), 64)
    torch.testing.assert_close(from_model_size(im, orig), const)  # no border, no shift, exact size
    with pytest.raises(InputError, match="differ in size"):
        to_model_size(const, torch.zeros(1, 49, 70))


def test_save_image_is_atomic_and_exact(tmp_path):
    x = torch.rand(3, 6, 5)
    save_image(x, tmp_path / "d" / "x.png")
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["x.png"]
    np.testing.assert_allclose(load_image(tmp_path / "d" / "x.png").numpy(), x.numpy(), atol=0.5 / 255 + 1e-6)
