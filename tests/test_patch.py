"The patch network: switches, exact Haar, documented bad-input behaviour, and the shipped model against Telea."

import numpy as np
import pytest
import torch

from heritage_inpaint.inpainters import get_inpainter
from heritage_inpaint.io import InputError, load_image
from heritage_inpaint.masks import random_mask
from heritage_inpaint.metrics import psnr
from heritage_inpaint.patch_network import (
    HoleDetector,
    PatchExtractor,
    PatchNetConfig,
    PatchNetwork,
    haar_dwt,
    haar_idwt,
)
from heritage_inpaint.patch_network import PatchInpainter, default_patch_weights, load_patch_model
from heritage_inpaint.samples import sample_dir


@pytest.fixture(scope="module")
def shipped():
    return load_patch_model(default_patch_weights())


def test_shipped_weights_are_small_safetensors_with_a_model_card():
    w = default_patch_weights()
    assert w.suffix == ".safetensors" and w.stat().st_size <= 20 * 2**20
    card = w.with_suffix(".md").read_text()
    assert "BSDS500 train" in card and "5500 steps" in card and "PatchMatch" in card


@pytest.mark.parametrize(
    "flag", [dict(dual_context=True), dict(region_attention=True), dict(haar_heads=True), dict(global_context=True)]
)
def test_each_switch_changes_only_its_own_part(flag):
    torch.manual_seed(0)
    base = set(PatchNetwork(PatchNetConfig(base_channels=8)).state_dict())
    torch.manual_seed(0)
    other = set(PatchNetwork(PatchNetConfig(base_channels=8, **flag)).state_dict())
    changed = {k.split(".")[0] for k in base ^ other}
    expected = {
        "dual_context": {"global_context", "context_proj", "u1"},
        "region_attention": {"bottleneck"},
        "haar_heads": {"out", "low_head", "high_head"},
        "global_context": {"fourier"},
    }[next(iter(flag))]
    assert changed and changed <= expected, changed


def test_switches_off_is_the_base_design():
    torch.manual_seed(0)
    a = PatchNetwork(PatchNetConfig(base_channels=8))
    torch.manual_seed(0)
    b = PatchNetwork(
        PatchNetConfig(
            base_channels=8,
            multi_scale_factors=(1.0,),
            dual_context=False,
            region_attention=False,
            haar_heads=False,
            dynamic_log_cap=False,
            kl_weight=0.0,
            global_context=False,
            max_work_side=0,
        )
    )
    x = torch.rand(1, 4, 32, 32)
    assert torch.equal(a(x), b(x))


def test_the_fourier_unit_starts_as_the_identity():
    torch.manual_seed(0)
    a = PatchNetwork(PatchNetConfig(base_channels=8))
    torch.manual_seed(0)
    b = PatchNetwork(PatchNetConfig(base_channels=8, global_context=True))
    b.load_state_dict(a.state_dict(), strict=False)  # the same weights; the unit's gate starts closed
    x = torch.rand(1, 4, 32, 32)
    assert torch.equal(a(x), b(x))


def test_haar_round_trip_is_exact_in_float64():
    x = torch.rand(2, 5, 16, 12, dtype=torch.float64)
    ll, hi = haar_dwt(x)
    assert (haar_idwt(ll, hi) - x).abs().max() < 1e-12
    assert torch.allclose((ll**2).sum() + (hi**2).sum(), (x**2).sum())  # orthonormal: energy kept


def test_bad_input_cases(shipped):
    img = load_image(sample_dir() / "images" / "coffee.png")[:, :200, :260]
    H, W = img.shape[-2:]
    cases = {}
    m = torch.zeros(1, H, W)
    cases["no hole"] = m
    m = torch.zeros(1, H, W)
    m[0, :12, 100:160] = 1
    cases["touches border"] = m
    m = torch.zeros(1, H, W)
    m[0, 20:190, 30:240] = 1
    cases["larger than a patch"] = m
    m = torch.zeros(1, H, W)
    m[0, 77, 91] = 1
    cases["one pixel"] = m
    for name, mask in cases.items():
        out = shipped.inpaint(img, mask)
        assert out.shape == img.shape and torch.isfinite(out).all(), name
        assert torch.equal(out[:, mask[0] == 0], img[:, mask[0] == 0]), name
    assert torch.equal(shipped.inpaint(img, cases["no hole"]), img)
    wins = PatchExtractor(shipped.cfg).windows(
        HoleDetector()(cases["larger than a patch"]), H, W, cases["larger than a patch"] > 0.5
    )
    assert len(wins) > 1  # a large hole is covered by several windows
    small = img[:, :50, :60]
    sm = torch.zeros(1, 50, 60)
    sm[0, 20:30, 20:30] = 1
    out = shipped.inpaint(small, sm)  # smaller than a 128 patch: reflect-padded
    assert out.shape == small.shape and torch.equal(out[:, sm[0] == 0], small[:, sm[0] == 0])


def test_shipped_model_beats_telea_on_embedded_photos(shipped):
    patch, telea = PatchInpainter(), get_inpainter("telea")
    gains = []
    for stem in ("astronaut", "chelsea", "coffee"):
        img = load_image(sample_dir() / "images" / f"{stem}.png")
        mask = random_mask(*img.shape[-2:], "medium", seed=3)
        gains.append((psnr(patch(img, mask), img, mask) - psnr(telea(img, mask), img, mask)).item())
    assert np.mean(gains) > 0.3, gains


def test_corrupt_or_mismatched_weights_are_named(tmp_path):
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"nope")
    (tmp_path / "w.json").write_text(default_patch_weights().with_suffix(".json").read_text())
    with pytest.raises(InputError, match="w.safetensors"):
        load_patch_model(bad)
    (tmp_path / "x.safetensors").write_bytes(default_patch_weights().read_bytes())
    with pytest.raises(InputError, match="x.json"):
        load_patch_model(tmp_path / "x.safetensors")
