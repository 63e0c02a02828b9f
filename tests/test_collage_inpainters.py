import pytest
import torch

from heritage_inpaint.collage import make_collage, paint_fill_white
from heritage_inpaint.inpainters import INPAINTERS, Inpainter, get_inpainter, row_seeds
from heritage_inpaint.io import InputError
from heritage_inpaint.masks import random_mask
from heritage_inpaint.metrics import psnr


def test_collage_layout_exact():
    h, w, sh, sv = 7, 9, 3, 5
    o = torch.rand(3, h, w)
    m = random_mask(h, w, "box", seed=0)
    rs = [torch.rand(3, h, w) for _ in range(4)]
    g = make_collage(o, m, rs, sh, sv)
    assert g.shape == (3, 4 * h + 3 * sv, 3 * w + 2 * sh)
    for i, r in enumerate(rs):
        y = i * (h + sv)
        assert torch.equal(g[:, y : y + h, :w], o)
        assert torch.equal(g[:, y : y + h, w + sh : 2 * w + sh], paint_fill_white(o, m))
        assert torch.equal(g[:, y : y + h, 2 * (w + sh) :], r)
    assert (g[:, :, w : w + sh] == 1).all() and (g[:, h : h + sv] == 1).all()
    assert make_collage(o, m, rs[:1], 0, 0).shape == (3, h, 3 * w)
    with pytest.raises(InputError, match="result 1"):
        make_collage(o, m, [o, o[:, :-1]])


def test_masked_white_only_inside_mask(photo):
    m = random_mask(*photo.shape[-2:], "thick", seed=1)
    out = paint_fill_white(photo, m)
    assert (out[:, m[0].bool()] == 1).all() and torch.equal(out[:, ~m[0].bool()], photo[:, ~m[0].bool()])


@pytest.mark.parametrize("name", ["telea", "ns", "patchmatch"])
def test_classical_inpainters_keep_known_pixels_and_fill_plausibly(name, photo):
    m = random_mask(*photo.shape[-2:], "medium", seed=2)
    inp = get_inpainter(name)
    assert isinstance(inp, Inpainter) and inp.name == name
    out = inp(photo, m, seed=7)
    assert out.shape == photo.shape and out.dtype == torch.float32
    assert torch.equal(out[:, ~m[0].bool()], photo[:, ~m[0].bool()])
    white = paint_fill_white(photo, m)
    assert psnr(out, photo, m) > psnr(white, photo, m) + 5  # far better than leaving the hole blank
    assert torch.equal(out, inp(photo, m, seed=7))  # reproducible under a seed


@pytest.mark.parametrize(
    "mask,msg",
    [
        (torch.full((1, 8, 8), 0.5), "not binary"),
        (torch.zeros(1, 8, 9), "differ in size"),
        (torch.zeros(3, 8, 8), "expected \\[1,H,W\\]"),
    ],
)
def test_inpainters_reject_bad_masks(mask, msg):
    with pytest.raises(InputError, match=msg):
        get_inpainter("telea")(torch.rand(3, 8, 8), mask)


def test_registry_and_row_seeds():
    assert {"telea", "ns", "patchmatch"} <= set(INPAINTERS)
    with pytest.raises(InputError, match="unknown method 'lama'"):
        get_inpainter("lama")
    assert row_seeds(5, 3) == [5, 6, 7]
    r = row_seeds(0, 3)
    assert len(set(r)) == 3 and r != row_seeds(0, 3)
    with pytest.raises(InputError):
        row_seeds(1, 0)
