import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from heritage_inpaint.io import InputError, load_image
from heritage_inpaint.assets import asset_dir
from heritage_inpaint.lpips import CALIBRATION_STEMS, LPIPS, LPIPS_ALEX_OFFICIAL, LPIPSUnavailable
from heritage_inpaint import metrics
from heritage_inpaint.metrics import image_metrics, lpips, psnr, ssim


@pytest.fixture
def pair(photo):
    g = torch.Generator().manual_seed(0)
    noisy = (photo + 0.05 * torch.randn(photo.shape, generator=g)).clamp(0, 1)
    mask = torch.zeros(1, *photo.shape[-2:])
    mask[:, 40:90, 30:110] = 1
    return noisy, photo, mask


def np_hwc(t):
    return t.permute(1, 2, 0).double().numpy()


def test_psnr_matches_skimage_and_float64_masked_formula(pair):
    p, t, m = pair
    assert psnr(p, t).item() == pytest.approx(peak_signal_noise_ratio(np_hwc(t), np_hwc(p), data_range=1.0), abs=1e-9)
    sel = m[0].bool().numpy()
    mse = ((np_hwc(p) - np_hwc(t))[sel] ** 2).mean()
    assert psnr(p, t, m).item() == pytest.approx(10 * math.log10(1 / mse), abs=1e-9)


def test_ssim_matches_skimage_whole_and_masked(pair):
    p, t, m = pair
    ref, full = structural_similarity(
        np_hwc(t),
        np_hwc(p),
        channel_axis=-1,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    assert ssim(p, t).item() == pytest.approx(ref, abs=1e-5)
    assert ssim(p, t, m).item() == pytest.approx(full[m[0].bool().numpy()].mean(), abs=1e-5)  # mask is interior


def test_metrics_are_batched_and_check_shapes(pair):
    p, t, m = pair
    b = psnr(torch.stack([p, t]), torch.stack([t, t]), torch.stack([m, m]))
    assert b.shape == (2,) and b[1] == math.inf and b[0] == pytest.approx(psnr(p, t, m).item())
    with pytest.raises(InputError, match="differ in shape"):
        psnr(p, t[:, :-1])
    with pytest.raises(InputError, match="no pixel"):
        psnr(p, t, torch.zeros_like(m))
    with pytest.raises(InputError, match="smaller than the 11x11"):
        ssim(torch.rand(3, 8, 8), torch.rand(3, 8, 8))


def test_lpips_alex_matches_official_calibration():
    cal = asset_dir() / "calibration"
    model = LPIPS("alex")
    got = [
        model(load_image(cal / "dist" / f"{s}.bmp")[None], load_image(cal / "ref" / f"{s}.bmp")[None]).item()
        for s in CALIBRATION_STEMS
    ]
    np.testing.assert_allclose(got, LPIPS_ALEX_OFFICIAL, atol=1e-3)


def test_lpips_masked_is_mask_weighted_spatial_map(pair):
    p, t, m = pair
    model = LPIPS("alex")
    dmap = model(p[None], t[None], spatial=True)[0, 0].double()
    assert lpips(p, t, m).item() == pytest.approx(dmap[m[0].bool()].mean().item(), rel=1e-6)
    assert lpips(p, t, torch.ones_like(m)).item() == pytest.approx(dmap.mean().item(), rel=1e-6)
    assert lpips(p, t).item() == pytest.approx(lpips(t, p).item(), rel=1e-5)  # symmetric
    assert lpips(t, t).item() == pytest.approx(0.0, abs=1e-7)


def test_lpips_vgg_loads_real_weights(pair):
    p, t, _ = pair
    v = LPIPS("vgg")
    assert v(t[None], t[None]).item() == pytest.approx(0.0, abs=1e-7)
    assert 0.0 < v(p[None], t[None]).item() < v(torch.zeros_like(t)[None], t[None]).item()


def test_missing_weights_are_reported_not_invented(pair, tmp_path, monkeypatch):
    p, t, m = pair
    monkeypatch.setenv("HERITAGE_INPAINT_CACHE", str(tmp_path))
    metrics.lpips_model.cache_clear()
    try:
        with pytest.raises(LPIPSUnavailable, match="fetch-assets"):
            LPIPS("alex")
        r = image_metrics(p, t, m)
        assert r["lpips"] is None and r["lpips_masked"] is None and "fetch-assets" in r["lpips_error"]
        assert r["psnr_masked"] == pytest.approx(psnr(p, t, m).item())
    finally:
        metrics.lpips_model.cache_clear()


def test_masked_metrics_see_what_whole_image_metrics_hide(pair):
    _, t, m = pair
    bad = t.clone()
    bad[:, m[0].bool()] = 1.0  # a method that leaves the hole white
    r = image_metrics(bad, t, m)
    assert r["psnr_masked"] < r["psnr"] - 5 and r["ssim_masked"] < r["ssim"] and r["lpips_masked"] > r["lpips"]
