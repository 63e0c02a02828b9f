"""Lightmap A/B: seed 003's configurations (Baseline, BaselineEncoder, PatchSSIM, Hybrid) + FiLM + HashGrid.

python benchmarks/lightmap_ab.py --data-dir <day 960x540> --runs-dir <dir> \
    --out benchmarks/results/lightmap_ab.json --epochs 200
Same day, epochs, seed and held-out hours (3, 8, 15, 20) for every configuration; reports the best validation
PSNR / SSIM / LPIPS, the neighbour-hour blend, training seconds and the 1920x1080 render time of each trained model
(eager fp32 `render_frame` vs `LightmapRenderer`), and the seed's acceptance test against Baseline.
"""

import argparse, json, shutil, time
from dataclasses import asdict
from pathlib import Path

import torch

from heritage_inpaint.lightmap_model import load_lightmap, render_frame
from heritage_inpaint.lightmap_render import LightmapRenderer
from heritage_inpaint.lightmap_train import LIGHTMAP_AB, DayData, LightmapTrainConfig, ab_config, train_lightmap
from lightmap_render import timed_ms  # benchmarks/ is the script's directory


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--runs-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--val-every", type=int, default=20)
    ap.add_argument("--configs", default=",".join(LIGHTMAP_AB))
    ap.add_argument("--amp", action="store_true")
    ap.add_argument(
        "--extra",
        default="{}",
        help='JSON {name: overrides} of further configurations, e.g. {"E-T8": {"model": {"time_harmonics": 8}}}',
    )
    ap.add_argument(
        "--copy-best-to", default="", help="copy each configuration's best.safetensors/.json here as <name>.*"
    )
    a = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    base = LightmapTrainConfig(
        data_dir=a.data_dir, out_dir=a.runs_dir, epochs=a.epochs, val_every=a.val_every, amp=a.amp
    )
    baseline = DayData(a.data_dir).baseline.to(dev)
    rows, blend = [], None
    extra = json.loads(a.extra)
    cuda = dev == "cuda"

    def write():
        Path(a.out).write_text(
            json.dumps(
                {
                    "device": torch.cuda.get_device_name() if cuda else "cpu",
                    "torch": torch.__version__,
                    "data_dir": a.data_dir,
                    "epochs": a.epochs,
                    "rows": rows,
                    "neighbour_blend": blend,
                },
                indent=1,
            )
        )

    for name in a.configs.split(","):
        cfg = ab_config(base, name, extra.get(name))
        t0 = time.perf_counter()
        r = train_lightmap(cfg)
        train_s = time.perf_counter() - t0
        blend = r["blend"]
        m = load_lightmap(r["best"], dev)
        eager = timed_ms(lambda: render_frame(m, 18.5, 1080, 1920, baseline), reps=5, cuda=cuda)
        rend = LightmapRenderer(m, baseline, 1080, 1920)
        fast = timed_ms(lambda: rend.render(18.5, copy=False), reps=50, cuda=cuda)
        err = (rend.render(18.5).float() - render_frame(m, 18.5, 1080, 1920, baseline)).abs().max().item()
        best = r["best_metrics"]
        if a.copy_best_to:
            Path(a.copy_best_to).mkdir(parents=True, exist_ok=True)
            for suf in (".safetensors", ".json"):
                shutil.copy(Path(r["best"]).with_suffix(suf), Path(a.copy_best_to) / f"{name}{suf}")
        row = {
            "config": name,
            "psnr": best["psnr"],
            "ssim": best["ssim"],
            "lpips": best["lpips"],
            "per_hour": best["per_hour"],
            "best_epoch": json.loads(Path(r["best"]).with_suffix(".json").read_text())["epoch"],
            "train_seconds": round(train_s, 1),
            "params": sum(p.numel() for p in m.parameters()),
            "render_1080p_eager_fp32_ms": eager,
            "render_1080p_fast_ms": fast,
            "fast_backend": rend.backend,
            "fast_max_abs_err": err,
            "train": {k: v for k, v in asdict(cfg).items() if k not in ("model",)},
            "model": asdict(cfg.model),
        }
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("per_hour", "train", "model")}), flush=True)
        write()
    b = next((r for r in rows if r["config"] == "Baseline"), None)
    if b:
        for r in rows:
            r["accepted_vs_baseline"] = bool(
                (r["ssim"] - b["ssim"] >= 0.02 or b["lpips"] - r["lpips"] >= 0.02) and b["psnr"] - r["psnr"] <= 0.3
            )
            r["beats_blend"] = {
                k: (r[k] > blend[k]) if k != "lpips" else (r[k] < blend[k]) for k in ("psnr", "ssim", "lpips")
            }
    write()


if __name__ == "__main__":
    main()
