"""SD2-inpainting speed and memory: our pipeline (`optimize_pipeline`) vs the plain diffusers pipeline, same run.

Full SD2-inpainting architecture (`SD2_PRESETS["full"]`) with seeded random weights (no real weights exist offline),
fp16, 30 steps with classifier-free guidance (guidance 7.5), at 512² and 768²: median wall time of `repeats` runs
after warm-up (compilation is timed separately), peak allocated memory, and the output difference to the plain
pipeline. Then one LoRA training step (rank 16, bf16 autocast, VAE encode included) at 512², batch 1 and 4.

Run on the GPU machine:  python benchmarks/sd2_inpaint.py --out benchmarks/results/sd2_inpaint.json
"""

import argparse, json, platform, statistics, time, traceback
from pathlib import Path

import torch

from heritage_inpaint.sd2 import build_sd2_pipeline, optimize_pipeline
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


def time_pipe(pipe, size, steps, repeats):
    sync()
    t0 = time.perf_counter()
    run(pipe, size, steps)
    sync()
    warm = time.perf_counter() - t0
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
    ap.add_argument("--skip-train", action="store_true")
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
    fused = optimize_pipeline(
        build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda"), compile=False
    )  # fused QKV, eager
    ours = optimize_pipeline(build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda"))
    for size in map(int, a.sizes.split(",")):
        row = {}
        try:
            row["plain_diffusers"], ref = time_pipe(plain, size, a.steps, a.repeats)
            row["fused_qkv_eager"], out_f = time_pipe(fused, size, a.steps, a.repeats)
            row["ours_compiled"], out_o = time_pipe(ours, size, a.steps, a.repeats)
            for k, o in (("fused_qkv_eager", out_f), ("ours_compiled", out_o)):
                d = o.float() - ref.float()
                row[k]["max_abs_diff_vs_plain"] = d.abs().max().item()
                row[k]["rel_l2_vs_plain"] = (d.norm() / ref.float().norm()).item()
                row[k]["speedup_vs_plain"] = row["plain_diffusers"]["median_s"] / row[k]["median_s"]
            # one UNet call, same inputs: the numerical difference the optimisations introduce per step
            x = torch.randn(2, 9, size // 8, size // 8, device="cuda", dtype=torch.float16)
            e = torch.randn(2, 77, 1024, device="cuda", dtype=torch.float16)
            t = torch.tensor([500, 500], device="cuda")
            with torch.no_grad():
                u0 = plain.unet(x, t, e).sample.float()
                u1 = ours.unet(x.contiguous(memory_format=torch.channels_last), t, e).sample.float()
            row["unet_rel_l2_ours_vs_plain"] = ((u1 - u0).norm() / u0.norm()).item()
        except Exception:
            row["error"] = traceback.format_exc()[-2000:]
        res["inference"][str(size)] = row
        save()
        print(
            size,
            {k: (v.get("median_s"), v.get("peak_mem_gib")) for k, v in row.items() if isinstance(v, dict)},
            flush=True,
        )
    del plain, fused, ours
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
