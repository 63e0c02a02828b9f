"""Patch-network strategy A/B: every configuration of `STRATEGIES` trained with the same seed, data and steps.

Trains on BSDS500 train, scores on BSDS500 val whole images (seeded thin/medium/thick holes): masked PSNR / SSIM /
LPIPS(alex) and seconds per image on the device. Writes one JSON row per configuration and hole kind.

Run on the GPU machine:  python benchmarks/patch_ab.py --train <bsds>/train --val <bsds>/val --out results/patch_ab.json
"""

import argparse, json, time
from pathlib import Path

import torch

from heritage_inpaint.patch_train import STRATEGIES, run_patch_ab


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs-dir", default="/tmp/patch_ab")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--val-images", type=int, default=50)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    a = ap.parse_args()
    res = dict(
        device=torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        steps=a.steps,
        batch=a.batch,
        patch_size=128,
        base_channels=32,
        val_images=a.val_images,
        rows=[],
        train_seconds={},
    )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in a.strategies.split(","):
        t0 = time.perf_counter()
        df = run_patch_ab(
            a.train,
            a.val,
            a.runs_dir,
            steps=a.steps,
            batch=a.batch,
            strategies=[name],
            max_val_images=a.val_images,
            workers=a.workers,
            mixed_precision="bf16" if torch.cuda.is_available() else "no",
        )
        res["train_seconds"][name] = time.perf_counter() - t0
        res["rows"] += df.to_dict(orient="records")
        out.write_text(json.dumps(res, indent=1))
        print(
            name,
            round(res["train_seconds"][name], 1),
            df[["kind", "psnr", "ssim", "lpips", "seconds"]].round(4).to_dict(orient="records"),
            flush=True,
        )


if __name__ == "__main__":
    main()
