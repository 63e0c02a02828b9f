"""Probe: the patch network's fill plus a share of PatchMatch's high-frequency detail, on the first BSDS500 val photos.

    python benchmarks/patch_detail_transfer.py --val <bsds>/val --images 12 \
        --out benchmarks/results/patch_detail_transfer.json

The network's fill is the smoothest of the methods and PatchMatch's copied texture wins LPIPS. Here the fill inside
the hole is `patch + a · (pm − G_σ * pm)`: PatchMatch's detail above a Gaussian of σ pixels, at weight a. Masked PSNR
and LPIPS-alex (the seeded holes of `evaluate_inpainter`) for Telea, PatchMatch, `patch_net` (the network
alone; `patch` in the committed JSON of round 1) and each (σ, a). A probe on
a few photos: it chose the σ and amount of the `patch_detail` inpainter (`DetailTransferPatchInpainter`), which
`patch_quality.py` scores on all 100.
"""

import argparse, json
from pathlib import Path

import numpy as np
import torch

import heritage_inpaint.report  # noqa: F401  (registers the patch inpainters)
from heritage_inpaint.inpainters import get_inpainter
from heritage_inpaint.io import list_images, load_image
from heritage_inpaint.masks import random_mask
from heritage_inpaint.metrics import image_metrics
from heritage_inpaint.patch_network import texture_detail
from heritage_inpaint.patch_train import HOLE_KINDS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--val", required=True)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--sigmas", default="1,2,3")
    ap.add_argument("--weights", default="0.5,1")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    methods = {name: get_inpainter(name) for name in ("telea", "patchmatch", "patch_net")}
    scores = {}
    for i, (stem, path) in enumerate(list(list_images(a.val).items())[: a.images]):
        img = load_image(path)
        for kind in HOLE_KINDS:
            mask = random_mask(*img.shape[-2:], kind, seed=i)
            outs = {name: m(img, mask, 0) for name, m in methods.items()}
            for s in map(float, a.sigmas.split(",")):
                detail = texture_detail(outs["patchmatch"], s)  # PatchMatch runs once for every (σ, a)
                for w in map(float, a.weights.split(",")):
                    fill = (outs["patch_net"] + w * detail).clamp(0, 1)
                    outs[f"patch+pm_detail(sigma={s:g},a={w:g})"] = fill * mask + img * (1 - mask)
            for name, out in outs.items():
                m = image_metrics(out, img, mask)
                scores.setdefault(kind, {}).setdefault(name, []).append((m["psnr_masked"], m["lpips_masked"]))
    table = {
        kind: {name: dict(zip(("psnr", "lpips"), np.mean(v, 0).tolist())) for name, v in rows.items()}
        for kind, rows in scores.items()
    }
    res = dict(data=f"first {a.images} BSDS500 val photos, seeded masks random_mask(kind, seed=index)", table=table)
    Path(a.out).write_text(json.dumps(res, indent=1))
    for kind, rows in table.items():
        for name, r in rows.items():
            print(f"{kind:7s} {name:36s} {r['psnr']:.2f} {r['lpips']:.3f}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
