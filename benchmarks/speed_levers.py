"""Issue 19's levers, each measured alone on the GPU machine: where the time of an SD2 UNet call, a VAE pass and a
Region-Reg-DPO step goes, and what CUDA graphs, compilation, a bf16 reference and frame micro-batches change.

Parts (`--parts`, comma separated):
- `ceil`: the card's two ceilings (fp16 matrix product, device-to-device copy), to read the others against;
- `unet`: the full SD2 UNet (fp16, random weights) per call at batch 1 / 2, 64² / 96² latents: eager, eager replayed
  from a captured CUDA graph, `torch.compile` default and `reduce-overhead`; the eager kernel profile at batch 1;
- `vae`: the SD2 VAE encoder / decoder at 512²: eager, CUDA graph, compiled;
- `sdpa`: the SD2 UNet per call (fp16, in a CUDA graph) with each SDPA backend forced (cuDNN, flash, memory-efficient)
  and with channels-last weights, at `--sdpa-shapes`; each backend's attention time from the profiler and its output
  against the default backend's;
- `dpo`: one Region-Reg-DPO step (full architecture, LoRA r16, 512²) on 8- and 22-frame clips with the reference in
  fp32 (today) or bf16, gradient checkpointing on / off, frames in micro-batches.

Every figure is a median of CUDA-event timings after warm-up; FLOP counts come from `torch.utils.flop_counter`.
Run:  python benchmarks/speed_levers.py --parts ceil,unet,vae --out results/speed_levers_h200.json
"""

import argparse, json, statistics, time, traceback
from pathlib import Path

import torch

from heritage_inpaint.sd2 import build_sd2_pipeline


def cuda_ms(fn, repeats=20, warmup=3):
    "Median milliseconds of `fn` over `repeats` CUDA-event timings."
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def flops(fn):
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        fn()
    return fc.get_total_flops()


def graphed(fn):
    "Capture `fn()` (static inputs inside) into a CUDA graph; returns a replay function and the static output."
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        out = fn()
    return g.replay, out


def ceilings():
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
    ms = cuda_ms(lambda: a @ b, 10)
    x = torch.randn(2**28, device="cuda")
    ms_copy = cuda_ms(lambda: x.clone(), 10)
    return dict(fp16_matmul_tflops=2 * 8192**3 / ms / 1e9, copy_gbps=2 * x.numel() * 4 / ms_copy / 1e6)


def profile_top(fn, n=12):
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        fn()
        torch.cuda.synchronize()
    rows = []
    for e in sorted(prof.key_averages(), key=lambda e: -e.device_time_total)[:n]:
        rows.append(dict(name=e.key[:90], cuda_ms=e.device_time_total / 1e3, calls=e.count))
    kernels = sum(e.count for e in prof.key_averages() if e.device_type.name == "CUDA")
    return dict(top=rows, cuda_kernels=kernels)


def unet_part(res, save, compile_shapes):
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda")
    unet = pipe.unet
    out = res.setdefault("unet", {})
    for b, h in ((1, 64), (2, 64), (2, 96)):
        key = f"b{b}_{h}"
        row = out.setdefault(key, {})
        x = torch.randn(b, 9, h, h, device="cuda", dtype=torch.float16)
        t = torch.full((b,), 500, device="cuda")
        e = torch.randn(b, 77, 1024, device="cuda", dtype=torch.float16)
        with torch.no_grad():
            f = lambda: unet(x, t, e).sample
            row["tflop"] = flops(f) / 1e12
            row["eager_ms"] = cuda_ms(f)
            ref = f().float()
            replay, static = graphed(f)
            row["graph_ms"] = cuda_ms(replay)
            x.copy_(torch.randn_like(x))
            replay()
            row["graph_rel_l2_vs_eager"] = ((static.float() - f().float()).norm() / f().float().norm()).item()
            if key == "b1_64":
                row["eager_profile"] = profile_top(f)
        for k in ("eager_ms", "graph_ms"):
            row[k.replace("_ms", "_tflops")] = row["tflop"] / row[k] * 1e3
        print(key, {k: v for k, v in row.items() if k != "eager_profile"}, flush=True)
        save()
        del ref
    for mode in ("reduce-overhead", "default"):
        cu = torch.compile(unet, mode=mode, fullgraph=True, dynamic=False)
        for key in compile_shapes:
            b, h = (int(v) for v in key[1:].split("_"))
            row = out[key]
            x = torch.randn(b, 9, h, h, device="cuda", dtype=torch.float16)
            t = torch.full((b,), 500, device="cuda")
            e = torch.randn(b, 77, 1024, device="cuda", dtype=torch.float16)
            try:
                with torch.no_grad():
                    t0 = time.perf_counter()
                    cu(x, t, e)
                    torch.cuda.synchronize()
                    row[f"compile_{mode}_first_s"] = time.perf_counter() - t0
                    row[f"compile_{mode}_ms"] = cuda_ms(lambda: cu(x, t, e).sample)
                    u0, u1 = unet(x, t, e).sample.float(), cu(x, t, e).sample.float()
                    row[f"compile_{mode}_rel_l2_vs_eager"] = ((u1 - u0).norm() / u0.norm()).item()
            except Exception:
                row[f"compile_{mode}_error"] = traceback.format_exc()[-1500:]
            print(key, mode, {k: v for k, v in row.items() if k.startswith("compile")}, flush=True)
            save()


def sdpa_ms(fn) -> float:
    "CUDA milliseconds spent inside `aten::scaled_dot_product_attention` during one call of `fn`."
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        fn()
        torch.cuda.synchronize()
    return sum(e.device_time_total for e in prof.key_averages() if e.key == "aten::scaled_dot_product_attention") / 1e3


def sdpa_part(res, save, shapes):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    unet = build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda").unet
    out = res.setdefault("sdpa", {})
    for key in shapes:
        b, h = (int(v) for v in key[1:].split("_"))
        row = out.setdefault(key, {})
        x = torch.randn(b, 9, h, h, device="cuda", dtype=torch.float16)
        t = torch.full((b,), 500, device="cuda")
        e = torch.randn(b, 77, 1024, device="cuda", dtype=torch.float16)
        f = lambda: unet(x, t, e).sample
        with torch.no_grad():
            ref = f().float()
            replay, _ = graphed(f)
            row["default"] = dict(graph_ms=cuda_ms(replay), attention_ms=sdpa_ms(f))
            for name in ("CUDNN_ATTENTION", "FLASH_ATTENTION", "EFFICIENT_ATTENTION"):
                try:
                    with sdpa_kernel(getattr(SDPBackend, name)):
                        y = f().float()
                        replay, _ = graphed(f)
                        row[name] = dict(
                            graph_ms=cuda_ms(replay),
                            attention_ms=sdpa_ms(f),
                            rel_l2_vs_default=((y - ref).norm() / ref.norm()).item(),
                        )
                except Exception:
                    row[name] = dict(error=traceback.format_exc()[-800:])
                print(key, name, row[name], flush=True)
                save()
            unet.to(memory_format=torch.channels_last)
            replay, _ = graphed(f)
            row["channels_last"] = dict(
                graph_ms=cuda_ms(replay), rel_l2_vs_default=((f().float() - ref).norm() / ref.norm()).item()
            )
            unet.to(memory_format=torch.contiguous_format)
        print(key, row, flush=True)
        save()


def vae_part(res, save):
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float16, device="cuda")
    vae = pipe.vae
    out = res.setdefault("vae", {})
    x = torch.rand(1, 3, 512, 512, device="cuda", dtype=torch.float16) * 2 - 1
    z = torch.randn(1, 4, 64, 64, device="cuda", dtype=torch.float16)
    with torch.no_grad():
        for name, f in (("encode", lambda: vae.encode(x).latent_dist.mode()), ("decode", lambda: vae.decode(z).sample)):
            row = out.setdefault(name, {})
            row["tflop"] = flops(f) / 1e12
            row["eager_ms"] = cuda_ms(f)
            replay, _ = graphed(f)
            row["graph_ms"] = cuda_ms(replay)
            print(name, row, flush=True)
            save()
        enc = torch.compile(vae.encoder, mode="reduce-overhead", dynamic=False)
        dec = torch.compile(vae.decoder, mode="reduce-overhead", dynamic=False)
        for name, f in (("encode", lambda: enc(x)), ("decode", lambda: dec(vae.post_quant_conv(z)))):
            row = out[name]
            try:
                t0 = time.perf_counter()
                f()
                torch.cuda.synchronize()
                row["compile_reduce-overhead_first_s"] = time.perf_counter() - t0
                row["compile_reduce-overhead_ms"] = cuda_ms(f)
            except Exception:
                row["compile_error"] = traceback.format_exc()[-1500:]
            print(name, row, flush=True)
            save()


def dpo_part(res, save, variants):
    from heritage_inpaint.dpo_loss import RegionDPOConfig, region_reg_dpo_loss
    from heritage_inpaint.masks import latent_regions, moving_shape_masks
    from heritage_inpaint.sd2_lora import LoraTrainConfig, prepare_trainable_unet

    out = res.setdefault("dpo", {})
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float32, device="cuda")
    unet = pipe.unet
    params = prepare_trainable_unet(unet, LoraTrainConfig(rank=16, alpha=32))
    opt = torch.optim.AdamW(params, lr=1e-6)
    cfg = RegionDPOConfig(beta=500.0, rho=(100.0, 200.0, 0.0))
    for v in variants:  # frames:ref_dtype:ckpt:chunk
        frames, ref_dtype, ckpt, chunk = v.split(":")
        n, ckpt, chunk = int(frames), ckpt == "ckpt", int(chunk)
        if ckpt:
            unet.enable_gradient_checkpointing()
        else:
            unet.disable_gradient_checkpointing()
        g = torch.Generator("cuda").manual_seed(0)
        x = torch.randn(2 * n, 9, 64, 64, device="cuda", generator=g)
        tgt = torch.randn(2 * n, 4, 64, 64, device="cuda", generator=g)
        t = torch.full((2 * n,), 500, device="cuda")
        emb = torch.randn(2 * n, 77, 1024, device="cuda", generator=g)
        masks = moving_shape_masks(512, 512, n, seed=0).cuda()

        def step():
            for i in range(0, n, chunk):
                j = min(n, i + chunk)
                idx = torch.cat([torch.arange(i, j), torch.arange(n + i, n + j)]).cuda()
                xi, ti, ei, gi = x[idx], t[idx], emb[idx], tgt[idx]
                k = j - i
                with torch.no_grad():
                    unet.disable_adapters()
                    if ref_dtype == "bf16":
                        with torch.autocast("cuda", dtype=torch.bfloat16):
                            ref = unet(xi, ti, ei).sample
                    else:
                        ref = unet(xi, ti, ei).sample
                    unet.enable_adapters()
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    pred = unet(xi, ti, ei).sample
                regions = latent_regions(masks[i:j], band_px=9)
                o = region_reg_dpo_loss(pred[:k], pred[k:], ref[:k], ref[k:], gi[:k], gi[k:], regions, cfg)
                (o.loss * k / n).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)

        try:
            torch.cuda.empty_cache()
            step()
            torch.cuda.reset_peak_memory_stats()
            s = cuda_ms(step, repeats=4, warmup=1) / 1e3
            out[v] = dict(step_s=s, pairs_per_s=n / s, peak_gib=torch.cuda.max_memory_allocated() / 2**30)
        except torch.cuda.OutOfMemoryError:
            out[v] = dict(error="out of memory")
        except Exception:
            out[v] = dict(error=traceback.format_exc()[-1500:])
        print("dpo", v, out[v], flush=True)
        save()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/speed_levers.json")
    ap.add_argument("--parts", default="ceil,unet,vae")
    ap.add_argument("--compile-shapes", default="b2_64,b1_64")
    ap.add_argument("--sdpa-shapes", default="b2_64,b2_96", help="batch_latent-side shapes of the sdpa part")
    ap.add_argument("--dpo", default="8:fp32:ckpt:8,8:bf16:ckpt:8,22:bf16:ckpt:22,22:bf16:ckpt:11,22:bf16:none:4")
    a = ap.parse_args()
    res = dict(device=torch.cuda.get_device_name(), torch=torch.__version__)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save = lambda: out.write_text(json.dumps(res, indent=1))
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    parts = a.parts.split(",")
    if "ceil" in parts:
        res["ceilings"] = ceilings()
        print(res["ceilings"], flush=True)
        save()
    if "sdpa" in parts:
        sdpa_part(res, save, a.sdpa_shapes.split(","))
    if "dpo" in parts:
        dpo_part(res, save, a.dpo.split(","))
    if "vae" in parts:
        vae_part(res, save)
    if "unet" in parts:
        unet_part(res, save, a.compile_shapes.split(",") if a.compile_shapes else [])
    save()


if __name__ == "__main__":
    main()
