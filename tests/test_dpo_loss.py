import numpy as np
import pytest
import torch
import torch.nn.functional as F

from heritage_inpaint.io import InputError
from heritage_inpaint.masks import decompose_regions, latent_regions, random_mask
from heritage_inpaint.dpo_loss import RegionDPOConfig, region_errors, region_reg_dpo_loss, timestep_weight


def preds(B=4, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, 4, 16, 16, generator=g, dtype=dtype) for _ in range(6)]


def diffusion_dpo_reference(pw, pl, rw, rl, tw, tl, beta_code):
    "The public Diffusion-DPO loss, transcribed independently in float64."
    mse = lambda a, b: ((a.double() - b.double()) ** 2).mean(dim=(1, 2, 3))
    model_diff = mse(pw, tw) - mse(pl, tl)
    ref_diff = mse(rw, tw) - mse(rl, tl)
    inside = -0.5 * beta_code * (model_diff - ref_diff)
    return float(np.mean([np.logaddexp(0.0, -x) for x in inside.tolist()]))  # -log sigmoid(x) = log(1 + e^-x)


@pytest.mark.parametrize("beta", [0.5, 50.0, 2500.0])
def test_full_image_region_equals_diffusion_dpo(beta):
    pw, pl, rw, rl, tw, tl = preds()
    full = decompose_regions(torch.ones(4, 1, 16, 16), band=2)  # hole = everything, band = context = 0
    out = region_reg_dpo_loss(
        pw, pl, rw, rl, tw, tl, full, RegionDPOConfig(beta=beta, alpha=(1, 0.3, 0.7), rho=(0, 0, 0))
    )
    assert out.loss.item() == pytest.approx(
        diffusion_dpo_reference(pw, pl, rw, rl, tw, tl, 2 * beta), rel=1e-5, abs=1e-6
    )


def test_equal_alphas_three_regions_equal_diffusion_dpo():
    pw, pl, rw, rl, tw, tl = preds(seed=1)
    regions = latent_regions(random_mask(128, 128, "thick", seed=2).expand(4, 1, 128, 128), band_px=16)
    out = region_reg_dpo_loss(pw, pl, rw, rl, tw, tl, regions, RegionDPOConfig(beta=30.0, alpha=(1, 1, 1)))
    assert out.loss.item() == pytest.approx(diffusion_dpo_reference(pw, pl, rw, rl, tw, tl, 60.0), rel=1e-5)


def test_region_errors_sum_to_mse_and_rho_term():
    pw, _, _, _, tw, _ = preds(seed=2)
    regions = decompose_regions((torch.rand(4, 1, 16, 16) > 0.6).float(), band=2)
    e = region_errors(pw, tw, regions)
    torch.testing.assert_close(e.sum(1).double(), ((pw - tw) ** 2).mean(dim=(1, 2, 3)), rtol=1e-5, atol=1e-7)
    out = region_reg_dpo_loss(*preds(seed=2), regions, RegionDPOConfig(rho=(100, 200, 3)))
    assert out.sft_loss.item() == pytest.approx((e * torch.tensor([100, 200, 3.0])).sum(1).mean().item(), rel=1e-5)
    torch.testing.assert_close(out.sft_region, e.mean(0))


@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4])
def test_stable_for_large_beta_prime_s(scale):
    pw, pl, rw, rl, tw, tl = preds(dtype=torch.float32)
    pw = pw.clone().requires_grad_(True)
    regions = decompose_regions(torch.ones(4, 1, 16, 16), band=0)
    s = region_reg_dpo_loss(pw, pl, rw, rl, tw, tl, regions, RegionDPOConfig(beta=1.0)).s_region
    beta = scale / s.abs().min().item()  # every |β′ s| >= scale
    out = region_reg_dpo_loss(pw, pl, rw, rl, tw, tl, regions, RegionDPOConfig(beta=beta))
    out.loss.backward()
    assert torch.isfinite(out.loss) and torch.isfinite(pw.grad).all() and torch.isfinite(out.dgr).all()
    assert (out.beta_prime * out.s_region).abs().min() >= scale * 0.999


def test_no_gradient_reaches_the_reference():
    net = torch.nn.Conv2d(4, 4, 1)
    ref = torch.nn.Conv2d(4, 4, 1)
    x_w, x_l, tw, tl = (torch.randn(2, 4, 8, 8) for _ in range(4))
    with torch.no_grad():
        rw, rl = ref(x_w), ref(x_l)
    regions = decompose_regions(torch.ones(2, 1, 8, 8), band=0)
    out = region_reg_dpo_loss(net(x_w), net(x_l), rw, rl, tw, tl, regions, RegionDPOConfig(beta=10))
    out.loss.backward()
    assert net.weight.grad is not None and ref.weight.grad is None
    with pytest.raises(InputError, match="no_grad"):
        region_reg_dpo_loss(net(x_w), net(x_l), ref(x_w), rl, tw, tl, regions, RegionDPOConfig())


def test_dgr_is_the_gradient_scale_of_s_region():
    pw, pl, rw, rl, tw, tl = preds(seed=4)
    regions = decompose_regions(torch.ones(4, 1, 16, 16), band=0)
    cfg = RegionDPOConfig(beta=3.0, alpha=(1, 1, 1))
    s = region_reg_dpo_loss(pw, pl, rw, rl, tw, tl, regions, cfg).s_region.clone().requires_grad_(True)
    (-F.logsigmoid(-cfg.beta * s)).sum().backward()  # d loss_i / d s_i
    out = region_reg_dpo_loss(pw, pl, rw, rl, tw, tl, regions, cfg)
    torch.testing.assert_close(out.dgr, s.grad)
    assert out.implicit_acc.item() == pytest.approx((out.s_region < 0).float().mean().item())


def test_min_snr_weighting():
    from diffusers import DDPMScheduler

    ac = DDPMScheduler().alphas_cumprod
    t = torch.tensor([1, 500, 999])
    w = timestep_weight(RegionDPOConfig(timestep_weighting="min_snr", snr_gamma=5.0), t, ac)
    snr = ac[t] / (1 - ac[t])
    torch.testing.assert_close(w, torch.clamp(snr, max=5.0) / snr)
    assert w[0] < 0.1 and w[2] == 1.0
    with pytest.raises(InputError):
        timestep_weight(RegionDPOConfig(timestep_weighting="sqrt"))
