"""One Region-Reg-DPO training step, full SD2-inpainting architecture (random weights), 512², a clip of 8 frames.

Naive setup: a trained UNet (LoRA r16) plus a second full UNet copy as the reference, fp32, no gradient
checkpointing. Ours (what `train_region_dpo` does): the reference is the same UNet with its adapter disabled under
no_grad, bf16 autocast, gradient checkpointing. Both in the same run: step time (median) and peak memory.
Target: ours fits in 24 GiB.   Run: python benchmarks/dpo_step.py --out benchmarks/results/dpo_step.json
"""

import argparse, copy, json, statistics, time, traceback
from pathlib import Path

import torch

from heritage_inpaint.dpo_loss import RegionDPOConfig, region_reg_dpo_loss
from heritage_inpaint.dpo_train import reference_prediction
from heritage_inpaint.masks import latent_regions, moving_shape_masks
from heritage_inpaint.sd2 import build_sd2_pipeline
from heritage_inpaint.sd2_lora import LoraTrainConfig, prepare_trainable_unet


def bench(naive: bool, frames=8, size=512, steps=5, warmup=2):
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float32, device="cuda")
    unet = pipe.unet
    ref_unet = copy.deepcopy(unet).requires_grad_(False) if naive else None
    params = prepare_trainable_unet(unet, LoraTrainConfig(rank=16, alpha=32))
    if not naive:
        unet.enable_gradient_checkpointing()
    opt = torch.optim.AdamW(params, lr=1e-6)
    n, h = frames, size // 8
    g = torch.Generator("cuda").manual_seed(0)
    x = torch.randn(2 * n, 9, h, h, device="cuda", generator=g)
    tgt = torch.randn(2 * n, 4, h, h, device="cuda", generator=g)
    t = torch.full((2 * n,), 500, device="cuda")
    emb = torch.randn(2 * n, 77, 1024, device="cuda", generator=g)
    regions = latent_regions(moving_shape_masks(size, size, n, seed=0).cuda(), band_px=9)
    cfg = RegionDPOConfig(beta=500.0, rho=(100.0, 200.0, 0.0))

    def step():
        if naive:
            with torch.no_grad():
                ref = ref_unet(x, t, emb).sample
            pred = unet(x, t, emb).sample
        else:
            ref = reference_prediction(unet, x, t, emb)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                pred = unet(x, t, emb).sample
        out = region_reg_dpo_loss(pred[:n], pred[n:], ref[:n], ref[n:], tgt[:n], tgt[n:], regions, cfg)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    r = dict(
        median_step_s=statistics.median(times), times_s=times, peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30
    )
    del pipe, unet, ref_unet, opt
    torch.cuda.empty_cache()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/dpo_step.json")
    a = ap.parse_args()
    res = dict(
        device=torch.cuda.get_device_name(),
        torch=torch.__version__,
        frames=8,
        size=512,
        lora_rank=16,
        weights="random (SD2_PRESETS['full'])",
        naive="second fp32 UNet as reference, fp32, no checkpointing",
        ours="adapter-disabled reference under no_grad, bf16 autocast, gradient checkpointing",
    )
    for name, naive in (("ours", False), ("naive", True)):
        try:
            res[name + "_result"] = bench(naive)
        except torch.cuda.OutOfMemoryError:
            res[name + "_result"] = dict(error="CUDA out of memory")
            torch.cuda.empty_cache()
        except Exception:
            res[name + "_result"] = dict(error=traceback.format_exc()[-1500:])
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(res, indent=1))
        print(name, res[name + "_result"], flush=True)
    o, nv = res["ours_result"], res["naive_result"]
    if "median_step_s" in o and "median_step_s" in nv:
        res["memory_ratio_naive_over_ours"] = nv["peak_mem_gib"] / o["peak_mem_gib"]
        res["time_ratio_naive_over_ours"] = nv["median_step_s"] / o["median_step_s"]
        Path(a.out).write_text(json.dumps(res, indent=1))
        print(res["memory_ratio_naive_over_ours"], res["time_ratio_naive_over_ours"])


if __name__ == "__main__":
    main()
