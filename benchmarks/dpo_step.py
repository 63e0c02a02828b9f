"""One Region-Reg-DPO training step, full SD2-inpainting architecture (random weights), 512², clips of 8 and 22 frames.

Naive setup: a trained UNet (LoRA r16) plus a second full UNet copy as the reference, fp32, no gradient
checkpointing. Ours: the library's step (`region_dpo_backward`, what `train_region_dpo` runs): the reference is the
same UNet with its adapter disabled under no_grad and under the same bf16 autocast as the trained pass, gradient
checkpointing, and `frames_per_pass` pairs per UNet pass (0: all). Every variant in the same run: step time
(median), frame pairs per second, peak memory.
Run: python benchmarks/dpo_step.py --out benchmarks/results/dpo_step.json
"""

import argparse, copy, json, statistics, time, traceback
from functools import partial
from pathlib import Path

import torch

from heritage_inpaint.dpo_loss import RegionDPOConfig, region_reg_dpo_loss
from heritage_inpaint.dpo_train import DPOTrainConfig, prepare_dpo_unet, region_dpo_backward
from heritage_inpaint.masks import latent_regions, moving_shape_masks
from heritage_inpaint.sd2 import build_sd2_pipeline
from heritage_inpaint.sd2_lora import ATTENTION_PROJECTIONS, LoraTrainConfig, prepare_trainable_unet


def bench(
    naive: bool,
    frames=8,
    size=512,
    steps=5,
    warmup=2,
    frames_per_pass=0,
    channels_last=False,
    checkpointing=True,
    base_bf16=False,
    compile_unet=False,
):
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float32, device="cuda")
    unet = pipe.unet
    ref_unet = copy.deepcopy(unet).requires_grad_(False) if naive else None
    torch.manual_seed(0)  # the adapter's initialisation: the same in every variant
    lora = LoraTrainConfig(rank=16, alpha=32, target_modules=ATTENTION_PROJECTIONS)
    if naive:
        params = prepare_trainable_unet(unet, lora)
    else:  # the trainer's setup: base_bf16 = cast_frozen_weights (bf16 frozen weights, float32 adapter)
        switches = dict(cast_frozen_weights=base_bf16, gradient_checkpointing=checkpointing, compile_unet=compile_unet)
        params = prepare_dpo_unet(unet, lora, DPOTrainConfig(mixed_precision="bf16", **switches))
    if channels_last:
        unet.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(params, lr=1e-6)
    n, h = frames, size // 8
    g = torch.Generator("cuda").manual_seed(0)
    x = torch.randn(2 * n, 9, h, h, device="cuda", generator=g)
    tgt = torch.randn(2 * n, 4, h, h, device="cuda", generator=g)
    t = torch.full((2 * n,), 500, device="cuda")
    emb = torch.randn(2 * n, 77, 1024, device="cuda", generator=g)
    masks = moving_shape_masks(size, size, n, seed=0).cuda()
    regions = latent_regions(masks, band_px=9)
    cfg = RegionDPOConfig(beta=500.0, rho=(100.0, 200.0, 0.0))
    bf16 = partial(torch.autocast, "cuda", dtype=torch.bfloat16)

    def step():
        if naive:
            with torch.no_grad():
                ref = ref_unet(x, t, emb).sample
            pred = unet(x, t, emb).sample
            out = region_reg_dpo_loss(pred[:n], pred[n:], ref[:n], ref[n:], tgt[:n], tgt[n:], regions, cfg)
            out.loss.backward()
        else:
            out = region_dpo_backward(
                unet, unet, (x, t, emb, tgt), masks, torch.ones(1, device="cuda"), cfg, 9, frames_per_pass, bf16
            )
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return out.loss.detach(), norm

    t0 = time.perf_counter()
    first_loss, first_norm = (v.item() for v in step())  # compiled against eager: the same numbers within bf16
    first_step_s = time.perf_counter() - t0  # includes the compile of a compiled UNet
    for _ in range(warmup - 1):
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
    s = statistics.median(times)
    r = dict(
        median_step_s=s,
        frame_pairs_per_s=n / s,
        times_s=times,
        peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30,
        first_step_s=first_step_s,
        first_loss=first_loss,
        first_grad_norm=first_norm,
    )
    del pipe, unet, ref_unet, opt
    torch.cuda.empty_cache()
    return r


VARIANTS = {  # name: bench() arguments
    "ours_8": dict(naive=False, frames=8),
    "naive_8": dict(naive=True, frames=8),
    "ours_22": dict(naive=False, frames=22),
    "ours_22_passes_of_11": dict(naive=False, frames=22, frames_per_pass=11),
    "ours_22_passes_of_11_channels_last": dict(naive=False, frames=22, frames_per_pass=11, channels_last=True),
    "ours_22_channels_last": dict(naive=False, frames=22, channels_last=True),
    "ours_22_no_ckpt_passes_of_3": dict(naive=False, frames=22, frames_per_pass=3, checkpointing=False),
    "ours_22_no_ckpt_passes_of_4": dict(naive=False, frames=22, frames_per_pass=4, checkpointing=False),
    "ours_22_no_ckpt_passes_of_4_bf16_base": dict(
        naive=False, frames=22, frames_per_pass=4, checkpointing=False, base_bf16=True
    ),
    "ours_22_no_ckpt_passes_of_6_bf16_base": dict(
        naive=False, frames=22, frames_per_pass=6, checkpointing=False, base_bf16=True
    ),
    "ours_22_passes_of_11_bf16_base": dict(naive=False, frames=22, frames_per_pass=11, base_bf16=True),
    "ours_8_no_ckpt_bf16_base": dict(naive=False, frames=8, checkpointing=False, base_bf16=True),
    "ours_22_passes_of_11_bf16_base_compiled": dict(
        naive=False, frames=22, frames_per_pass=11, base_bf16=True, compile_unet=True
    ),
    "ours_22_no_ckpt_passes_of_4_bf16_base_compiled": dict(
        naive=False, frames=22, frames_per_pass=4, checkpointing=False, base_bf16=True, compile_unet=True
    ),
    "ours_8_bf16_base": dict(naive=False, frames=8, base_bf16=True),
    "ours_8_bf16_base_compiled": dict(naive=False, frames=8, base_bf16=True, compile_unet=True),
    "ours_22_passes_of_22_bf16_base_compiled": dict(
        naive=False, frames=22, frames_per_pass=22, base_bf16=True, compile_unet=True
    ),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/dpo_step.json")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args()
    res = dict(
        device=torch.cuda.get_device_name(),
        torch=torch.__version__,
        size=512,
        lora_rank=16,
        weights="random (SD2_PRESETS['full'])",
        naive="second fp32 UNet as reference, fp32, no checkpointing",
        ours="region_dpo_backward: adapter-disabled reference under no_grad and bf16 autocast like the model, "
        "gradient checkpointing, frames_per_pass pairs per pass",
    )
    for name in a.variants.split(","):
        try:
            res[name] = bench(**VARIANTS[name])

        except torch.cuda.OutOfMemoryError:
            res[name] = dict(error="CUDA out of memory")
            torch.cuda.empty_cache()
        except Exception:
            res[name] = dict(error=traceback.format_exc()[-1500:])
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(res, indent=1))
        print(name, res[name], flush=True)


if __name__ == "__main__":
    main()
