"""One-step restorer speed and memory: ours vs a HYPIR-style baseline, in one run.

Real SD2.1-base sizes (`sd2_base_random`: the SD2 UNet/VAE/text-encoder architecture, seeded random weights —
no real weights exist offline), fp16 inference, median of `repeats` after warm-up, peak allocated memory.

- baseline ("HYPIR-style"): peft LoRA r256 left unfused, eager UNet, HYPIR's tiling (512 px tiles, stride 256,
  one tile per call) when the image is larger than a tile;
- merged eager: the same LoRA merged into the weights (`fuse_lora`), eager: the strongest plain peer;
- ours: `optimize_restorer(compile=True)`: LoRA and QKV fused, UNet and both VAE halves compiled into CUDA graphs
  (static shapes); at 2048² the tiles / stride / tiles per call given by `--tiles-2048`.

Each end-to-end figure is encode + UNet + decode + wavelet colour fix (`restore_image`) at 512², 1024² and 2048².
Then one training step at 512², batch 6, r256, bf16 autocast, gradient checkpointing (UNet + VAE decoder), with
the VGG LPIPS loss and the VGG discriminator (G and D updates).

Run on the GPU machine:  python benchmarks/restorer.py --out benchmarks/results/restorer.json
"""

import argparse, json, platform, statistics, time, traceback
from pathlib import Path

import torch

from heritage_inpaint.restorer import RestorerConfig, fuse_lora, load_restorer, optimize_restorer, restore_image
from heritage_inpaint.tiling import seam_score, tile_boundaries


def sync():
    torch.cuda.synchronize()


def timed(fn, repeats):
    sync()
    t0 = time.perf_counter()
    out = fn()
    sync()
    first = time.perf_counter() - t0
    fn()  # CUDA graphs are recorded on the call after compilation
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return dict(
        first_call_s=first,
        median_s=statistics.median(times),
        times_s=times,
        peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30,
    ), out


def make(ours: bool, merged: bool = False, fuse_qkv: bool = False):
    "The baseline (unfused LoRA, eager), the merged eager peer, or ours (`optimize_restorer(compile=True)`)."
    r = load_restorer(RestorerConfig(model="sd2_base_random", rank=256), device="cuda", dtype=torch.float16)
    with torch.no_grad():  # a "trained" adapter: non-zero B so fused and unfused really compute the LoRA
        g = torch.Generator(device="cuda").manual_seed(0)
        for n, p in r.unet.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g, device="cuda", dtype=torch.float32).to(p.dtype) * 1e-3)
    if merged:
        fuse_lora(r)
    elif ours:
        optimize_restorer(r, compile=True, fuse_qkv=fuse_qkv)
    return r


def seams(img, tile, stride):
    "Seam score of a restored `[3,H,W]` image at the tile borders of its own tiling (1.0: no seam)."
    h, w = img.shape[-2:]
    return seam_score(img, tile_boundaries(h, tile, stride), tile_boundaries(w, tile, stride))


def breakdown(r, size, repeats):
    "Median ms of each stage of restore_image at `size` (untiled)."
    x = torch.rand(1, 3, size, size, device="cuda") * 2 - 1
    from heritage_inpaint.colorfix import wavelet_color_fix

    with torch.no_grad():
        emb = r.text_embedding("", 1)
        z = r.encode(x)
        z0 = r.predict_clean_latent(z, emb)
        y = r.decode(z0)
        stages = dict(
            encode=lambda: r.encode(x),
            unet=lambda: r.predict_clean_latent(z, emb),
            decode=lambda: r.decode(z0),
            color_fix=lambda: wavelet_color_fix(y.float() / 2 + 0.5, x / 2 + 0.5),
        )
        return {k: timed(f, repeats)[0]["median_s"] * 1e3 for k, f in stages.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/restorer.json")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--parts", default="train,infer")
    ap.add_argument("--tiles-2048", default="512,384,5", help="tile, stride, tiles per call of ours at 2048²")
    a = ap.parse_args()
    res = dict(
        device=torch.cuda.get_device_name(), torch=torch.__version__, python=platform.python_version(), results={}
    )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save = lambda: out.write_text(json.dumps(res, indent=1))
    parts = a.parts.split(",")
    if "train" in parts:
        for ckpt in (True, False):
            key = f"train_step_512_b6_r256_bf16_{'gradckpt' if ckpt else 'no_gradckpt'}"
            try:
                res["results"][key] = train_step(ckpt)
                print(key, res["results"][key], flush=True)
            except Exception as e:
                res["results"][key] = dict(error=f"{type(e).__name__}: {str(e)[:300]}")
                traceback.print_exc()
            torch.cuda.empty_cache()
            save()
    if "infer" in parts:
        g = torch.Generator().manual_seed(0)
        imgs = {
            s: torch.nn.functional.avg_pool2d(torch.rand(1, 3, s, s, generator=g), 3, 1, 1)[0]
            for s in (512, 1024, 2048)
        }
        base = make(False)
        outs = {}
        for s in (512, 1024, 2048):
            key = f"baseline_{s}"
            try:
                res["results"][key], outs[s] = timed(
                    lambda: restore_image(base, imgs[s], tile=512, tile_stride=256, min_side=0),
                    a.repeats if s < 2048 else 2,
                )
                if s == 2048:
                    res["results"][key]["seam_score"] = seams(outs[s], 512, 256)
                print(key, res["results"][key], flush=True)
            except Exception as e:
                res["results"][key] = dict(error=f"{type(e).__name__}: {str(e)[:300]}")
                traceback.print_exc()
            save()
        del base
        torch.cuda.empty_cache()
        merged = make(False, merged=True)
        res["results"]["merged_eager_512"] = timed(
            lambda: restore_image(merged, imgs[512], tile=512, min_side=0), a.repeats
        )[0]
        print("merged_eager_512", res["results"]["merged_eager_512"], flush=True)
        del merged
        torch.cuda.empty_cache()
        ours = make(True)
        t2048, s2048, k2048 = (int(v) for v in a.tiles_2048.split(","))
        for s, kw in [
            (512, dict(tile=512)),
            (1024, dict(tile=1024)),
            (2048, dict(tile=t2048, tile_stride=s2048, tiles_per_call=k2048)),
        ]:
            key = f"ours_{s}_" + "_".join(f"{k}{v}" for k, v in kw.items())
            try:
                res["results"][key], o = timed(
                    lambda: restore_image(ours, imgs[s], min_side=0, **kw), a.repeats if s < 2048 else 3
                )
                if s in outs:
                    res["results"][key]["max_abs_diff_vs_baseline"] = (o - outs[s]).abs().max().item()
                    res["results"][key]["mean_abs_diff_vs_baseline"] = (o - outs[s]).abs().mean().item()
                if s == 2048:
                    res["results"][key]["seam_score"] = seams(o, t2048, s2048)
                print(key, res["results"][key], flush=True)
            except Exception as e:
                res["results"][key] = dict(error=f"{type(e).__name__}: {str(e)[:300]}")
                traceback.print_exc()
            save()
        try:
            res["results"]["ours_breakdown_512_ms"] = breakdown(ours, 512, a.repeats)
            print("ours_breakdown_512_ms", res["results"]["ours_breakdown_512_ms"], flush=True)
        except Exception as e:
            res["results"]["ours_breakdown_512_ms"] = dict(error=f"{type(e).__name__}: {str(e)[:300]}")
        save()
    if "qkv" in parts:
        g = torch.Generator().manual_seed(0)
        img512 = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 512, 512, generator=g), 3, 1, 1)[0]
        for fuse in (False, True):
            name = f"ours_graphs_{'fused' if fuse else 'unfused'}_qkv"
            try:
                r = make(True, fuse_qkv=fuse)
                res["results"][f"{name}_512"] = timed(lambda: restore_image(r, img512, tile=512, min_side=0), 9)[0]
                res["results"][f"{name}_breakdown_512_ms"] = breakdown(r, 512, 9)
                print(name, res["results"][f"{name}_512"]["median_s"], res["results"][f"{name}_breakdown_512_ms"])
                del r
                torch.cuda.empty_cache()
            except Exception as e:
                res["results"][name] = dict(error=f"{type(e).__name__}: {str(e)[:300]}")
                traceback.print_exc()
            save()
    save()


def train_step(grad_ckpt: bool, batch: int = 6, size: int = 512, steps: int = 5, warmup: int = 2):
    from heritage_inpaint.discriminator import MultiLevelDiscriminator, hinge_d_loss
    from heritage_inpaint.lpips import LPIPS
    from heritage_inpaint.restorer_train import RestorerTrainConfig, generator_losses

    cfg = RestorerTrainConfig(model="sd2_base_random", batch=batch, size=size)
    r = load_restorer(cfg.restorer_config(), device="cuda", dtype=torch.float32)
    r.vae.to(dtype=torch.bfloat16)
    r.text_encoder.to(dtype=torch.bfloat16)
    if grad_ckpt:
        r.unet.enable_gradient_checkpointing()
        r.vae.enable_gradient_checkpointing()
    params = [p for n, p in r.unet.named_parameters() if "lora_" in n]
    disc, lp = MultiLevelDiscriminator().cuda(), LPIPS("vgg").cuda()
    opt_g, opt_d = torch.optim.Adam(params, 1e-5), torch.optim.Adam(disc.trainable_parameters(), 1e-5)
    emb = r.text_embedding("", batch=batch)
    lq, hq = torch.rand(batch, 3, size, size, device="cuda"), torch.rand(batch, 3, size, size, device="cuda")
    r.unet.train()

    def step():
        disc.heads.requires_grad_(False)
        with torch.autocast("cuda", torch.bfloat16):
            x, loss, _ = generator_losses(r, r.unet, disc, lp, lq, hq, emb, cfg)
        loss.backward()
        opt_g.step()
        opt_g.zero_grad(set_to_none=True)
        disc.heads.requires_grad_(True)
        with torch.autocast("cuda", torch.bfloat16):
            d = disc(torch.cat([hq, x.detach()]))
            ld = hinge_d_loss([o[:batch] for o in d], [o[batch:] for o in d])
        ld.backward()
        opt_d.step()
        opt_d.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    sync()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    n_lora = sum(p.numel() for p in params)
    return dict(
        it_per_s=1 / statistics.median(times),
        median_s=statistics.median(times),
        peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30,
        lora_params_M=n_lora / 1e6,
        batch=batch,
        size=size,
    )


if __name__ == "__main__":
    main()
