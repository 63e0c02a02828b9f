"""Train the shipped patch network, score it on BSDS500 val, and time it (GPU fp16 and eager fp32).

python benchmarks/patch_final.py --train <bsds>/train --val <bsds>/val --out-dir <dir> --steps 6000
Writes <dir>/patch_net.safetensors + patch_net.json (EMA weights, fp16), <dir>/validation.json (training-time
validation), <dir>/patch_final.json (per-image val metrics for thin/medium/thick holes and the 1024² timing).
"""

import argparse, json, statistics, time
from pathlib import Path

import torch

from heritage_inpaint.masks import random_mask
from heritage_inpaint.patch_network import PatchNetConfig
from heritage_inpaint.patch_network import load_patch_model
from heritage_inpaint.patch_train import STRATEGIES, PatchTrainConfig, evaluate_inpainter, train_patch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--config", default="s3_region_attention,s5_log_cap_kl")
    ap.add_argument("--workers", type=int, default=12)
    a = ap.parse_args()
    kw = {}
    for name in a.config.split(","):
        kw.update(STRATEGIES[name])
    net = PatchNetConfig(patch_size=128, base_channels=32, **kw)
    out = Path(a.out_dir)
    t0 = time.perf_counter()
    res = train_patch(
        PatchTrainConfig(
            train_dir=a.train,
            val_dir=a.val,
            out_dir=str(out),
            net=net,
            steps=a.steps,
            batch=a.batch,
            workers=a.workers,
            mixed_precision="bf16",
            val_every=1000,
            checkpoint_every=2000,
        )
    )
    train_s = time.perf_counter() - t0
    model = load_patch_model(res.weights, "cuda")
    rows = evaluate_inpainter(lambda im, mk: model.inpaint(im, mk).clamp(0, 1), a.val)
    g = torch.Generator().manual_seed(0)
    img = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 1024, 1024, generator=g), 5, 1, 2)[0]
    mask = random_mask(1024, 1024, "medium", seed=0)
    timing = {}
    for name, ctx in (
        ("fp32", torch.autocast("cuda", enabled=False)),
        ("fp16_autocast", torch.autocast("cuda", dtype=torch.float16)),
    ):
        with ctx:
            for _ in range(3):
                model.inpaint(img, mask)
            ts = []
            for _ in range(10):
                torch.cuda.synchronize()
                t = time.perf_counter()
                model.inpaint(img, mask)
                torch.cuda.synchronize()
                ts.append(time.perf_counter() - t)
        timing[name + "_ms"] = statistics.median(ts) * 1e3
    summary = dict(
        device=torch.cuda.get_device_name(),
        config=a.config,
        steps=a.steps,
        batch=a.batch,
        train_seconds=train_s,
        params=sum(p.numel() for p in model.parameters()),
        timing_1024_medium=timing,
        rows=rows,
        validation=res["validation"],
    )
    (out / "patch_final.json").write_text(json.dumps(summary, indent=1))
    import pandas as pd

    print(
        pd.DataFrame(rows).groupby("kind", sort=False)[["psnr", "ssim", "lpips", "seconds"]].mean().round(4),
        timing,
        round(train_s),
        flush=True,
    )


if __name__ == "__main__":
    main()
