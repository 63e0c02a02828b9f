import math

import numpy as np
import pytest
import torch

from heritage_inpaint.degradations import (
    DegradationConfig,
    add_noise,
    anisotropic_kernel,
    degrade,
    random_blur_kernel,
    random_jpeg,
    sinc_kernel,
    usm_sharpen,
)
from heritage_inpaint.metrics import psnr


@pytest.fixture
def hq(photo):
    return photo[None, :, :96, :96].contiguous()


def test_kernels_sum_to_one_with_requested_shape():
    g = torch.Generator().manual_seed(1)
    for second in (False, True):
        for _ in range(100):
            k = random_blur_kernel(g, DegradationConfig(), second, pad_to=21)
            assert k.shape == (21, 21) and k.sum().item() == pytest.approx(1.0, abs=1e-9)
    for size in (7, 13, 21):
        assert anisotropic_kernel(size, 1.5, 0.7, 0.3, "plateau", 1.5).shape == (size, size)


def test_kernel_families_against_closed_forms():
    g = anisotropic_kernel(11, 1.7, 1.7, 0.0)
    r = np.arange(11) - 5
    yy, xx = np.meshgrid(r, r, indexing="ij")
    ref = np.exp(-(xx**2 + yy**2) / (2 * 1.7**2))
    ref /= ref.sum()
    np.testing.assert_allclose(g.numpy(), ref, atol=1e-12)
    torch.testing.assert_close(
        anisotropic_kernel(11, 2.0, 1.0, 0.4, "generalized", 1.0), anisotropic_kernel(11, 2.0, 1.0, 0.4)
    )
    aniso = anisotropic_kernel(21, 3.0, 0.8, 0.0)
    assert aniso[10].sum() > aniso[:, 10].sum()  # elongated along x


def test_sinc_kernel_is_a_lowpass_filter():
    k = sinc_kernel(21, math.pi / 2, pad_to=63)
    spec = torch.fft.fftshift(torch.fft.fft2(k)).abs()
    c = 31  # DC after fftshift of 63 samples
    assert spec[c, c].item() == pytest.approx(1.0, abs=1e-9)  # DC gain 1
    assert spec[c, c + 4].item() > 0.8 and spec[c, c + 28].item() < 0.2  # cutoff pi/2 = 0.25 cycles: bin ~16 of 63
    with pytest.raises(Exception, match="odd"):
        sinc_kernel(21, 1.0, pad_to=64)


def test_degrade_shape_dtype_range_and_seed(hq):
    lq = degrade(hq, seed=5)
    assert lq.shape == hq.shape and lq.dtype == torch.float32 and lq.min() >= 0 and lq.max() <= 1
    assert torch.equal(lq, degrade(hq, seed=5)) and not torch.equal(lq, degrade(hq, seed=6))
    assert degrade(hq, seed=5, resize_back=False).shape == (1, 3, 24, 24)
    assert psnr(lq[0], hq[0]).item() < 35  # it is really degraded


def test_higher_jpeg_quality_gives_higher_psnr(hq):
    g = lambda: torch.Generator().manual_seed(0)
    low, high = random_jpeg(hq, g(), (20.0, 20.0)), random_jpeg(hq, g(), (90.0, 90.0))
    assert psnr(high[0], hq[0]) > psnr(low[0], hq[0]) + 3


@pytest.mark.parametrize("gray", [0.0, 1.0])
def test_measured_gaussian_noise_sigma_in_configured_range(gray):
    flat = torch.full((8, 3, 64, 64), 0.5)
    noisy = add_noise(flat, torch.Generator().manual_seed(0), 1.0, (10.0, 20.0), (0.05, 3.0), gray)
    sigmas = ((noisy - flat).flatten(1).std(1) * 255).tolist()
    assert all(9.0 < s < 21.0 for s in sigmas), sigmas
    if gray:
        assert torch.allclose(noisy[:, 0], noisy[:, 1])


def test_usm_sharpening_steepens_edges_only():
    x = torch.zeros(1, 3, 128, 128)
    x[..., 64:] = 0.8
    import kornia

    x = kornia.filters.gaussian_blur2d(x, (9, 9), (2.0, 2.0))
    s = usm_sharpen(x)
    assert (s[..., 66] - s[..., 61]).abs().mean() > (x[..., 66] - x[..., 61]).abs().mean()
    torch.testing.assert_close(s[..., :, :20], x[..., :, :20])  # flat area away from the edge untouched
