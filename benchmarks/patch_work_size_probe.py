"""Probe: the quality of `patch` with the network at a smaller work size than the pipeline's, and a coarser search.

    python benchmarks/patch_work_size_probe.py <bsds>/val 30 benchmarks/results/patch_work_size_probe_h200.json

On the first N BSDS500 val photos upsampled 2x (a medium hole each, as in `patch_speed.py --val`): masked PSNR /
SSIM / LPIPS-alex of `GuidedPatchInpainter` at pipeline work size `side`, the network at `net_side` inside it (its
fill upsampled to the pipeline's size) and `guided_detail`'s candidate step `stride` (2 in the code it was run
with; `SEARCH_STRIDE` = 3 since round 6).
"""

import json, sys
import numpy as np, torch
from heritage_inpaint.metrics import image_metrics
from heritage_inpaint.patch_network import GuidedPatchInpainter
from patch_speed import upsampled_val_photos

torch.set_grad_enabled(False)
dev = "cuda" if torch.cuda.is_available() else "cpu"
photos = upsampled_val_photos(sys.argv[1], int(sys.argv[2]))


def run(name, side, net_side, stride):
    g = GuidedPatchInpainter(device=dev, max_work_side=side, search_stride=stride)
    g.model.cfg.max_work_side = net_side
    s = [image_metrics(g(p, h), p, h) for p, h in photos]
    r = dict(
        name=name,
        side=side,
        net_side=net_side,
        stride=stride,
        psnr=float(np.mean([x["psnr_masked"] for x in s])),
        ssim=float(np.mean([x["ssim_masked"] for x in s])),
        lpips=float(np.mean([x["lpips_masked"] for x in s])),
    )
    print(r, flush=True)
    return r


rows = [
    run("A default", 512, 512, 2),
    run("B net384", 512, 384, 2),
    run("D net384 stride3", 512, 384, 3),
    run("E stride3", 512, 512, 3),
    run("C all384", 384, 384, 2),
    run("F net320", 512, 320, 2),
]
json.dump(rows, open(sys.argv[3], "w"), indent=1)
