"""Reconstruction quality of the restorer's autoencoders on photographs they were not trained on.

    python benchmarks/autoencoder_quality.py --images ../shared/datasets/bsds500/val \
        --small-vae runs/vae/autoencoder --out benchmarks/results/autoencoder_quality.json

Rows: TAEF2 (the shipped pretrained tiny autoencoder, 1/8 resolution, 32 channels) and a small VAE trained by
`train-vae` (1/4 resolution, 16 channels by default). Each image is cropped to a multiple of 8, encoded (posterior
mode), decoded, and scored against itself: PSNR / SSIM / LPIPS (AlexNet), mean and worst over the images. A
restorer's output can be no more faithful than its autoencoder's reconstruction of the clean image.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from heritage_inpaint.io import list_images, load_image
from heritage_inpaint.metrics import whole_image_scores
from heritage_inpaint.small_vae import load_small_vae
from heritage_inpaint.tiny_autoencoder import load_tiny_autoencoder


@torch.no_grad()
def reconstruct(ae, x: torch.Tensor) -> torch.Tensor:
    "`[3,H,W]` in [0,1] → the autoencoder's reconstruction, in [0,1]."
    return (ae.decode(ae.encode(x[None] * 2 - 1).latent_dist.mode()).sample[0] / 2 + 0.5).clamp(0, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--small-vae", required=True, help="a folder train-vae wrote (autoencoder/)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--note", default="", help="how the small VAE was trained (kept in the JSON)")
    a = ap.parse_args()
    models = {"taef2": load_tiny_autoencoder(), "small_vae": load_small_vae(a.small_vae)}
    rows = []
    for stem, path in list(list_images(a.images).items())[: a.max_images]:
        x = load_image(path)
        x = x[:, : x.shape[1] // 8 * 8, : x.shape[2] // 8 * 8]
        for name, ae in models.items():
            t0 = time.perf_counter()
            y = reconstruct(ae, x)
            secs = time.perf_counter() - t0
            rows.append(dict(image=stem, model=name, **whole_image_scores(y, x), seconds=secs))
    summary = {}
    for name in models:
        sel = [r for r in rows if r["model"] == name]
        summary[name] = {
            **{k: float(np.mean([r[k] for r in sel])) for k in ("psnr", "ssim", "lpips", "seconds")},
            "worst_psnr": float(min(r["psnr"] for r in sel)),
        }
    res = dict(
        images=str(a.images),
        n_images=len(rows) // len(models),
        small_vae=str(a.small_vae),
        small_vae_config={k: v for k, v in dict(models["small_vae"].config).items() if not k.startswith("_")},
        note=a.note,
        device="CPU (2 cores)",
        means=summary,
        per_image=rows,
    )
    Path(a.out).write_text(json.dumps(res, indent=1, default=list))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
