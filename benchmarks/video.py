"""Clip inpainting on generated clips with ground truth: per-frame Telea and the patch network against flow
propagation (`propagate`), on BSDS500 val photographs filmed along a seeded camera path (pan, zoom, rotation).

    python benchmarks/video.py --images ../shared/datasets/bsds500/val --out benchmarks/results/video.json

Each (seed, mask kind) is one clip: 24 frames of 854×480 at 24 fps over the photograph `seed` picks, with moving
masks — `thin` (three small shapes, 6–12 % of the short side each) or `thick` (one large shape, 30–45 %). Masked
PSNR / SSIM / LPIPS are means over the frames inside the holes; the warping error (flow of the ground-truth clip,
result of frame t+1 warped onto t, inside the holes) and seconds per frame are per clip. Times are wall clock on
the machine it runs on (`device` in the JSON), the whole method call including its flows.
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from heritage_inpaint.clips import camera_clip
from heritage_inpaint.io import list_images, load_image
from heritage_inpaint.masks import moving_shape_masks
from heritage_inpaint.propagation import get_clip_inpainter
from heritage_inpaint.sd2 import SD2Inpainter
from heritage_inpaint.video_report import clip_scores
from heritage_inpaint.video_sd2 import SD2VideoInpainter

MASK_KINDS = {"thin": dict(shapes=3, size_frac=(0.06, 0.12)), "thick": dict(shapes=1, size_frac=(0.3, 0.45))}


def masks_for(kind: str, n: int, h: int, w: int, seed: int) -> torch.Tensor:
    spec = MASK_KINDS[kind]
    masks = torch.zeros(n, 1, h, w)
    for k in range(spec["shapes"]):
        masks = torch.maximum(masks, moving_shape_masks(h, w, n, seed=seed * 100 + k, size_frac=spec["size_frac"]))
    return masks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--methods", default="telea,propagate,patch")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=854)
    ap.add_argument("--sd2-model", default="tiny", help="sd2_prior / sd2_noprior: preset (tiny, full) or a pipeline")
    ap.add_argument("--sd2-steps", type=int, default=30)
    ap.add_argument("--sd2-size", type=int, default=512)
    a = ap.parse_args()
    photos = sorted(list_images(a.images).values())
    names = a.methods.split(",")
    sd2 = None
    if any(n.startswith("sd2_") for n in names):  # one pipeline for both SD2 rows
        dev = "cuda" if torch.cuda.is_available() else "cpu"
        sd2 = SD2Inpainter(model=a.sd2_model, device=dev, steps=a.sd2_steps, size=a.sd2_size)
    methods = {
        m: SD2VideoInpainter(sd2, prior=None if m == "sd2_noprior" else "propagate")
        if m.startswith("sd2_")
        else get_clip_inpainter(m)
        for m in names
    }
    rows = []
    for seed in range(a.seeds):
        photo = load_image(photos[(seed * 37) % len(photos)])
        clip, _ = camera_clip(photo, a.frames, (a.height, a.width), seed=seed, fps=24.0)
        for kind in MASK_KINDS:
            masks = masks_for(kind, a.frames, a.height, a.width, seed)
            for name, method in methods.items():
                t0 = time.perf_counter()
                result = method(clip, masks, seed)
                secs = (time.perf_counter() - t0) / a.frames
                frames, whole = clip_scores(result.frames, clip.frames, masks)
                row = dict(seed=seed, masks=kind, method=name, photo=Path(photos[(seed * 37) % len(photos)]).name)
                row.update({k: statistics.mean(f[k] for f in frames) for k in ("psnr", "ssim", "lpips")}, **whole)
                row.update(seconds_per_frame=secs, hole_fraction=float(masks.mean()))
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {}
    for kind in MASK_KINDS:
        for name in methods:
            sel = [r for r in rows if r["masks"] == kind and r["method"] == name]
            summary[f"{kind}/{name}"] = {
                k: statistics.mean(r[k] for r in sel)
                for k in ("psnr", "ssim", "lpips", "warping_error", "temporal_inconsistency", "seconds_per_frame")
            }
    cuda = torch.cuda.is_available()
    res = dict(
        device=torch.cuda.get_device_name() if cuda else f"{platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        clip=dict(frames=a.frames, height=a.height, width=a.width, fps=24.0, images=str(a.images)),
        sd2=dict(model=a.sd2_model, steps=a.sd2_steps, size=a.sd2_size) if sd2 is not None else None,
        mask_kinds=MASK_KINDS,
        mean=summary,
        per_clip=rows,
    )
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
