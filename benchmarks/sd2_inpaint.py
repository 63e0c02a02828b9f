"""SD2-inpainting speed and memory: our pipeline (`optimize_pipeline`) vs the plain diffusers pipeline, same run.

Full SD2-inpainting architecture (`SD2_PRESETS["full"]`) with seeded random weights (no real weights exist offline),
fp16, 30 steps with classifier-free guidance (guidance 7.5), at 512² and 768²: median wall time of `repeats` runs
after warm-up (the first call, which compiles, is timed apart), peak allocated memory, and the output difference to
the plain pipeline (max / mean absolute difference and PSNR, images in [0, 1]). `ours` is `optimize_pipeline()`
(UNet and VAE encoder / decoder compiled into CUDA graphs); each other variant changes one lever: `ours_unet_graphs`
(the UNet alone), `ours_fused_qkv`, `ours_channels_last`. Optional faster modes whose outputs differ (never the
default): `ours_step_cache` (`enable_step_cache` + `optimize_pipeline()`, DeepCache in CUDA graphs, one row per
`--cache-intervals` value) and `deepcache_eager` (the plain pipeline with the `DeepCache` package's
`DeepCacheSDHelper`, the plain way to get the same approximation); their rows add the LPIPS (alex) to the plain
fp16 output and the difference to the `DeepCache` package's output at the same interval. Then one LoRA training
step (rank 16, bf16 autocast, VAE encode included) at 512², batch 1 and 4 (`--skip-train` leaves it out).

Run on the GPU machine:  python benchmarks/sd2_inpaint.py --skip-train --out benchmarks/results/sd2_inpaint_h200.json
"""

import argparse, json, platform, statistics, time, traceback
from pathlib import Path

import torch

from heritage_inpaint.lpips import LPIPS
from heritage_inpaint.metrics import psnr
from heritage_inpaint.sd2 import build_sd2_pipeline, enable_step_cache, optimize_pipeline
from heritage_inpaint.sd2_lora import (
    LoraTrainConfig,
    encode_inpaint_batch,
    inpaint_diffusion_loss,
    prepare_trainable_unet,
)


def sync():
    torch.cuda.synchronize()


def inputs(size, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(1, 3, size, size, generator=g)
    mask = torch.zeros(1, 1, size, size)
    mask[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1
    return img.cuda(), mask.cuda()


def run(pipe, size, steps, seed=0):
    img, mask = inputs(size)
    return pipe(
        prompt="a stone gate",
        image=img,
        mask_image=mask,
        height=size,
        width=size,
        num_inference_steps=steps,
        guidance_scale=7.5,
        generator=torch.Generator("cuda").manual_seed(seed),
        output_type="pt",
    ).images


def time_pipe(pipe, size, steps, repeats, warm_calls=2):
    sync()
    t0 = time.perf_counter()
    run(pipe, size, steps)
    sync()
    warm = time.perf_counter() - t0
    for _ in range(warm_calls - 1):  # CUDA graphs are recorded on the call after compilation
        run(pipe, size, steps)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = run(pipe, size, steps)
        sync()
        times.append(time.perf_counter() - t0)
    return dict(
        first_call_s=warm,
        median_s=statistics.median(times),
        times_s=times,
        peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30,
    ), out


def lora_step_bench(batch, steps=10, warmup=3):
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float32, device="cuda")
    cfg = LoraTrainConfig(rank=16, batch=batch)
    params = prepare_trainable_unet(pipe.unet, cfg)
    opt = torch.optim.AdamW(params, lr=1e-4)
    pipe.vae.to(dtype=torch.bfloat16)
    pipe.text_encoder.to(dtype=torch.bfloat16)
    from diffusers import DDPMScheduler

    sch = DDPMScheduler.from_config(pipe.scheduler.config)
    ids = pipe.tokenizer([""] * batch, padding="max_length", max_length=77, return_tensors="pt").input_ids.cuda()
    with torch.no_grad():
        emb = pipe.text_encoder(ids)[0]
    img, mask = inputs(512)
    img, mask = (img.repeat(batch, 1, 1, 1) * 2 - 1).bfloat16(), mask.repeat(batch, 1, 1, 1).bfloat16()

    def step():
        with torch.no_grad():
            lat, mlat, mk = encode_inpaint_batch(pipe.vae, img, mask)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            noise = torch.randn_like(lat.float())
            t = torch.randint(0, 1000, (batch,), device="cuda")
            loss = inpaint_diffusion_loss(pipe.unet, sch, lat.float(), mlat.float(), mk.float(), emb, noise, t)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    torch.cuda.reset_peak_memory_stats()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / steps
    r = dict(
        batch=batch,
        it_per_s=1 / dt,
        s_per_it=dt,
        images_per_s=batch / dt,
        peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30,
    )
    del pipe, opt
    torch.cuda.empty_cache()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/sd2_inpaint.json")
    ap.add_argument("--sizes", default="512,768")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--variants", default="ours_unet_graphs,ours")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--cache-intervals", default="2,3,5", help="intervals of the step-cache rows")
    a = ap.parse_args()
    res = dict(
        device=torch.cuda.get_device_name(),
        torch=torch.__version__,
        python=platform.python_version(),
        steps=a.steps,
        guidance=7.5,
        dtype="float16",
        weights="random (SD2_PRESETS['full'], seed 0)",
        inference={},
        lora_train={},
    )
    save = lambda: (
        Path(a.out).parent.mkdir(parents=True, exist_ok=True) or Path(a.out).write_text(json.dumps(res, indent=1))
    )
    torch.backends.cuda.matmul.allow_tf32 = True
    plain = build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda")
    variants = dict(  # optimize_pipeline's arguments: each row one lever away from the shipped default (`ours`)
        ours_unet_graphs=dict(compile_vae=False),
        ours={},
        ours_fused_qkv=dict(fuse_qkv=True),
        ours_channels_last=dict(channels_last=True),
        ours_step_cache={},
    )
    sizes = list(map(int, a.sizes.split(",")))
    intervals = list(map(int, a.cache_intervals.split(",")))
    refs, deepcache_refs = {}, {}
    lpips = LPIPS("alex").cuda()

    def compare(row, name, out, size):
        ref = refs[size].float()
        d = out.float() - ref
        row[name]["max_abs_diff_vs_plain"] = d.abs().max().item()
        row[name]["mean_abs_diff_vs_plain"] = d.abs().mean().item()
        row[name]["psnr_vs_plain_db"] = psnr(out.float(), ref).item()
        row[name]["rel_l2_vs_plain"] = (d.norm() / ref.norm()).item()
        row[name]["speedup_vs_plain"] = row["plain_diffusers"]["median_s"] / row[name]["median_s"]
        if name.startswith(("ours_step_cache", "deepcache_eager")):
            row[name]["lpips_vs_plain"] = lpips(out.float().clamp(0, 1), ref.clamp(0, 1)).item()
        if name.startswith("ours_step_cache") and deepcache_refs.get((size, row[name]["interval"])) is not None:
            dc = deepcache_refs[size, row[name]["interval"]].float()
            row[name]["max_abs_diff_vs_deepcache"] = (out.float() - dc).abs().max().item()
            row[name]["psnr_vs_deepcache_db"] = psnr(out.float(), dc).item()

    def measure(pipe, size, key, interval=None):
        "Time `pipe` into the row `key` of `size` (its error there if it fails), compare it, save; its output."
        row, out = res["inference"][str(size)], None
        try:
            row[key], out = time_pipe(pipe, size, a.steps, a.repeats)
            if interval is not None:
                row[key]["interval"] = interval
            compare(row, key, out, size)
        except Exception:
            row[key] = dict(error=traceback.format_exc()[-2000:])
        save()
        print(size, key, {k: v for k, v in row[key].items() if k != "times_s"}, flush=True)
        return out

    for size in sizes:
        row = res["inference"].setdefault(str(size), {})
        try:
            row["plain_diffusers"], refs[size] = time_pipe(plain, size, a.steps, a.repeats)
        except Exception:
            row["error"] = traceback.format_exc()[-2000:]
        save()
    if "deepcache_eager" in a.variants.split(","):
        from DeepCache import DeepCacheSDHelper

        helper = DeepCacheSDHelper(pipe=plain)
        for interval in intervals:
            helper.set_params(cache_interval=interval, cache_branch_id=0)
            helper.enable()
            for size in sizes:
                deepcache_refs[size, interval] = measure(plain, size, f"deepcache_eager_{interval}", interval)
            helper.disable()
    for name in a.variants.split(","):
        if name == "deepcache_eager":
            continue
        pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda")
        cached = name == "ours_step_cache"
        if cached:
            enable_step_cache(pipe, intervals[0])
        pipe = optimize_pipeline(pipe, **variants.get(name, {}))
        for size in sizes:
            for interval in intervals if cached else [None]:
                if cached:
                    pipe.unet.interval = interval  # the same two CUDA graphs serve every interval
                measure(pipe, size, f"{name}_{interval}" if cached else name, interval)
        del pipe
        torch.cuda.empty_cache()
    del plain
    torch.cuda.empty_cache()
    if not a.skip_train:
        for b in (1, 4):
            try:
                res["lora_train"][str(b)] = lora_step_bench(b)
            except Exception:
                res["lora_train"][str(b)] = dict(error=traceback.format_exc()[-2000:])
            save()
            print("train batch", b, res["lora_train"][str(b)], flush=True)


if __name__ == "__main__":
    main()
