import numpy as np
import pytest
import torch
from scipy import ndimage

from heritage_inpaint.colorfix import wavelet_blur, wavelet_color_fix, wavelet_decompose
from heritage_inpaint.io import InputError


@pytest.mark.parametrize("radius", [1, 2, 4, 16])
def test_wavelet_blur_matches_scipy_dilated_correlation(radius):
    x = np.random.default_rng(radius).random((1, 2, 37, 53))
    k = np.zeros((2 * radius + 1, 2 * radius + 1))
    k[::radius, ::radius] = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    ref = np.stack([ndimage.correlate(x[0, c], k, mode="nearest") for c in range(2)])
    got = wavelet_blur(torch.from_numpy(x).double(), radius)[0].numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_color_fix_takes_low_band_of_the_input_and_high_band_of_the_output(photo):
    x = photo[None, :, :96, :128]
    y = (x * torch.tensor([1.2, 0.8, 1.0]).view(1, 3, 1, 1) + 0.05).clamp(0, 1)  # colour-shifted "restoration"
    y = y + 0.05 * torch.randn(y.shape, generator=torch.Generator().manual_seed(0))  # with its own detail
    out = wavelet_color_fix(y, x)
    low = lambda t: wavelet_decompose(t)[1]
    high = lambda t: wavelet_decompose(t)[0]
    assert (low(out) - low(x)).norm() < 0.05 * (low(y) - low(x)).norm()  # colours: the input's (measured 0.02×)
    assert (high(out) - high(y)).norm() < 0.1 * (
        high(x) - high(y)
    ).norm()  # detail: the restored one's (measured 0.07×)
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(InputError, match="differ"):
        wavelet_color_fix(y, x[..., :-1])
