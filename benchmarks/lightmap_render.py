"""One 1920x1080 lightmap frame, model forward only: plain eager PyTorch vs the folded renderer.

python benchmarks/lightmap_render.py --out benchmarks/results/lightmap_render_h100.json [--weights-dir runs/]
python benchmarks/lightmap_render.py --device cpu --threads 2 --out benchmarks/results/lightmap_render_cpu2.json
For every A/B configuration (trained weights from <weights-dir>/<name>/best.safetensors when given, else seeded random
weights of the same architecture): eager fp32 `render_frame` (the reference), `LightmapRenderer` with the torch backend
(fp16 on CUDA, fp32 on CPU), the same in a CUDA graph, and the fused Triton kernel. Median of `--reps` after warm-up;
max |difference| to the eager frame. The baseline frame and pixel caches are built once (outside the timing).
"""

import argparse, json, statistics, time
from pathlib import Path

import torch

from heritage_inpaint.lightmap_model import LightmapModel, load_lightmap, render_frame
from heritage_inpaint.lightmap_render import LightmapRenderer, default_lightmap_weights, triton_available
from heritage_inpaint.lightmap_train import LIGHTMAP_AB, LightmapTrainConfig, ab_config


def timed_ms(fn, reps, warmup=3, cuda=True):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        if cuda:
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--weights-dir", default="")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--configs", default=",".join(["Shipped"] + list(LIGHTMAP_AB)))
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    g = torch.Generator().manual_seed(0)
    baseline = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 540, 960, generator=g), 5, 1, 2)[0].to(dev)
    rows = []
    for name in a.configs.split(","):
        if name == "Shipped":
            if not default_lightmap_weights().exists():
                continue
            m, src = load_lightmap(default_lightmap_weights(), dev), "shipped weights"
        elif a.weights_dir and (Path(a.weights_dir) / name / "best.safetensors").exists():
            m, src = load_lightmap(Path(a.weights_dir) / name / "best.safetensors", dev), "trained"
        else:
            torch.manual_seed(0)
            m = LightmapModel(ab_config(LightmapTrainConfig(), name).model)
            with torch.no_grad():
                for p in m.parameters():
                    p.add_(0.05 * torch.randn_like(p))
            m, src = m.to(dev).eval(), "random"
        ref = render_frame(m, 18.5, 1080, 1920, baseline)
        row = {"config": name, "weights": src, "params": sum(p.numel() for p in m.parameters())}
        row["eager_fp32_ms"] = timed_ms(
            lambda: render_frame(m, 18.5, 1080, 1920, baseline), max(3, a.reps // 10), cuda=cuda
        )
        backends = ["torch"] + (["triton"] if triton_available(dev) and not m.cfg.hash_grid else [])
        for be in backends:
            r = LightmapRenderer(m, baseline, 1080, 1920, backend=be)
            row[f"{be}_ms"] = timed_ms(lambda: r.render(18.5, copy=False), a.reps, cuda=cuda)
            if be == "triton":  # tile size / warps sweep; folding cost of a new hour
                sweep = {}
                for blk, nw in ((64, 4), (128, 4), (128, 8), (256, 8)):
                    r.block, r.num_warps = blk, nw
                    sweep[f"block{blk}_warps{nw}"] = timed_ms(lambda: r.render(18.5, copy=False), a.reps, cuda=cuda)
                row["triton_sweep_ms"] = sweep
                blk, nw = (int(x) for x in min(sweep, key=sweep.get).replace("block", "").split("_warps"))
                r.block, r.num_warps = blk, nw
                row["triton_ms"] = sweep[min(sweep, key=sweep.get)]
                row["triton_new_hour_ms"] = timed_ms(
                    lambda: (r._packed.clear(), r.render(18.5, copy=False)), a.reps, cuda=cuda
                )
            row[f"{be}_max_abs_err"] = (r.render(18.5).float() - ref).abs().max().item()
            row[f"{be}_per_hour_ms"] = timed_ms(lambda: r.frame_params(18.5), a.reps, cuda=cuda) if r.folded else None
            if cuda and be == "torch" and r.folded:  # the whole frame as one CUDA graph replay
                params = r.frame_params(18.5)
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(3):
                        r._render_torch(params)
                torch.cuda.current_stream().wait_stream(s)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    r._render_torch(params)
                row["torch_cudagraph_ms"] = timed_ms(graph.replay, a.reps, cuda=cuda)
        if cuda:
            row["cache_MiB"] = round((r.pre.numel() * r.pre.element_size() if r.folded else 0) / 2**20, 1)
        best = min(
            v
            for k, v in row.items()
            if k.endswith("_ms")
            and k not in ("eager_fp32_ms", "triton_new_hour_ms")
            and "per_hour" not in k
            and isinstance(v, float)
        )
        row["best_ms"] = best
        row["speedup_vs_eager"] = row["eager_fp32_ms"] / best
        rows.append(row)
        print(json.dumps(row), flush=True)
    info = {
        "device": torch.cuda.get_device_name() if cuda else f"cpu, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "frame": "1920x1080, t = 18.5 h, baseline 960x540",
        "rows": rows,
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
