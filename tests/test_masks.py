import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy import ndimage

from heritage_inpaint.io import InputError
from heritage_inpaint.masks import (
    MASK_KINDS,
    decompose_regions,
    disk_kernel,
    latent_regions,
    moving_shape_masks,
    random_mask,
    stroke_mask,
)


@st.composite
def binary_masks(draw):
    h, w = draw(st.integers(4, 40)), draw(st.integers(4, 40))
    seed = draw(st.integers(0, 2**31))
    p = draw(st.floats(0.0, 0.6))
    return (np.random.default_rng(seed).random((h, w)) < p).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(binary_masks(), st.integers(0, 6))
def test_regions_exclusive_sum_to_one_and_match_scipy_dilation(m, k):
    r = decompose_regions(torch.from_numpy(m)[None], band=k)
    stack = r.stack()[0].numpy()
    assert set(np.unique(stack)) <= {0.0, 1.0}
    np.testing.assert_array_equal(stack.sum(0), np.ones_like(m))  # exclusive and summing to 1
    np.testing.assert_array_equal(r.hole[0, 0].numpy(), m)  # hole untouched
    ref = (
        ndimage.binary_dilation(m.astype(bool), structure=disk_kernel(k).numpy().astype(bool)) if k else m.astype(bool)
    )
    np.testing.assert_array_equal(r.band[0, 0].numpy(), (ref & ~m.astype(bool)).astype(np.float32))


def test_band_width_is_k_pixels_euclidean():
    m = torch.zeros(1, 41, 41)
    m[0, 20, 20] = 1
    r = decompose_regions(m, band=7)
    yy, xx = np.nonzero(r.band[0, 0].numpy())
    d = np.hypot(yy - 20, xx - 20)
    assert d.max() <= 7 and d.min() >= 1 and r.band.sum() == disk_kernel(7).sum() - 1


def test_regions_refuse_non_binary_and_bad_shapes():
    with pytest.raises(InputError, match="not binary"):
        decompose_regions(torch.full((1, 4, 4), 0.5))
    with pytest.raises(InputError, match="expected"):
        decompose_regions(torch.zeros(2, 3, 4, 4))


def test_latent_regions_match_numpy_maxpool_and_scaled_band():
    m = random_mask(64, 96, "medium", seed=4)
    r = latent_regions(m, band_px=16)
    ref = m[0].numpy().reshape(8, 8, 12, 8).max(axis=(1, 3))
    np.testing.assert_array_equal(r.hole[0, 0].numpy(), ref)
    dil = ndimage.binary_dilation(ref.astype(bool), structure=disk_kernel(2).numpy().astype(bool))
    np.testing.assert_array_equal(r.band[0, 0].numpy(), (dil & ~ref.astype(bool)).astype(np.float32))
    np.testing.assert_array_equal(r.stack().sum(1).numpy(), np.ones((1, 8, 12)))
    with pytest.raises(InputError, match="multiple of the VAE factor"):
        latent_regions(torch.zeros(1, 60, 64))


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_generators_seeded_nontrivial_and_binary(kind):
    a, b, c = (random_mask(96, 128, kind, seed=s) for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (1, 96, 128) and set(a.unique().tolist()) == {0.0, 1.0}
    assert 0.005 < a.mean() < 0.9


def test_stroke_presets_order_by_coverage_at_any_size():
    for h, w in ((128, 128), (512, 384)):
        cov = {
            k: np.mean([stroke_mask(h, w, k, seed=s).mean().item() for s in range(15)])
            for k in ("thin", "medium", "thick")
        }
        assert cov["thin"] < cov["medium"] < cov["thick"]


def test_moving_shape_masks_move_and_keep_area():
    m = moving_shape_masks(96, 128, n_frames=22, seed=3)
    assert m.shape == (22, 1, 96, 128)
    areas = m.flatten(1).sum(1)
    assert (areas > 0).all() and areas.max() / areas.min() < 1.6  # same shape, breathing only slightly
    cy = [(f[0].nonzero()[:, 0].float().mean().item(), f[0].nonzero()[:, 1].float().mean().item()) for f in m]
    assert np.hypot(np.diff([c[0] for c in cy]), np.diff([c[1] for c in cy])).sum() > 10  # it moves
    assert torch.equal(m, moving_shape_masks(96, 128, n_frames=22, seed=3))
    with pytest.raises(InputError):
        random_mask(8, 8, "circle")
