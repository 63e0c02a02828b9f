"""Time the patch inpainter on a 1024² image with a medium hole: full size against `max_work_side`, per model.

    python benchmarks/patch_speed.py --weights a.safetensors,b.safetensors --work-sides 0,512,384 --out results/x.json
    python benchmarks/patch_speed.py --weights patch_net.safetensors --detail --work-sides 512,384 --out results/y.json

With `--detail`, `patch_detail` (the first weights' network, PatchMatch and the shipped fusion) is timed as well at
full size and at each work size, beside PatchMatch alone at full size (the plain way it adds to); `--guided` does
the same for the default `patch` (`GuidedPatchInpainter`: the network, `guided_detail` and its fusion; no
PatchMatch; rows named `patch_guided` in the files of round 4), at each of `--search-strides` (`guided_detail`'s step
between candidate windows). `--contiguous` adds rows of the network alone with its weights in the contiguous layout
(round 5's; the loader has made them channels-last since round 6).

Median of `--reps` calls after 2 warm-up calls, on CUDA when it is there (else the CPU, with its thread count).
Each row also gives the masked PSNR of its fill against the full-size fill of the same model (the reference path),
so a faster setting states what it changes. With `--val`, each setting is also scored against the truth on the
first `--quality-images` BSDS500 val photos upsampled 2× (962×642, a medium hole drawn at that size): masked PSNR
and LPIPS-alex of the full-size and the work-size fill.
"""

import argparse, json, os, statistics, time
from pathlib import Path

import torch

from heritage_inpaint.inpainters import PatchMatchInpainter
from heritage_inpaint.io import list_images, load_image
from heritage_inpaint.masks import random_mask
from heritage_inpaint.metrics import image_metrics, psnr
from heritage_inpaint.patch_network import (
    SEARCH_STRIDE,
    DetailTransferPatchInpainter,
    GuidedPatchInpainter,
    load_patch_model,
)


def medium_hole_1024() -> tuple[torch.Tensor, torch.Tensor]:
    "The timing input of the patch benchmarks: a seeded smooth 1024² image and a medium hole."
    g = torch.Generator().manual_seed(0)
    img = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 1024, 1024, generator=g), 5, 1, 2)[0]
    return img, random_mask(1024, 1024, "medium", seed=0)


def upsampled_val_photos(val: str | None, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    "The first `n` BSDS500 val photos upsampled 2× (bicubic, 962×642), each with a medium hole seeded by its index."
    photos = []
    for i, path in enumerate(list(list_images(val).values())[:n] if val else []):
        big = torch.nn.functional.interpolate(load_image(path)[None], scale_factor=2, mode="bicubic")[0]
        photos.append((big.clamp(0, 1), random_mask(*big.shape[-2:], "medium", seed=i)))
    return photos


def median_seconds(fn, reps: int, warmup: int = 2) -> float:
    "Median wall time of `fn()` over `reps` calls after `warmup` calls (CUDA synchronised around each)."
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="comma-separated .safetensors files (config .json beside)")
    ap.add_argument("--work-sides", default="0,512")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", required=True)
    ap.add_argument("--val", default=None, help="BSDS500 val folder: also score each setting on upsampled photos")
    ap.add_argument("--quality-images", type=int, default=10)
    ap.add_argument("--detail", action="store_true", help="also time patch_detail and PatchMatch alone")
    ap.add_argument("--guided", action="store_true", help="also time patch, the default (guided detail, no PatchMatch)")
    ap.add_argument("--search-strides", default=str(SEARCH_STRIDE), help="--guided: guided_detail's steps to time")
    ap.add_argument("--contiguous", action="store_true", help="also the network with contiguous (round 5) weights")
    a = ap.parse_args()
    photos = upsampled_val_photos(a.val, a.quality_images)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    img, mask = medium_hole_1024()
    rows = []

    for w in a.weights.split(","):
        with_side = {}
        for side in (0, *(int(s) for s in a.work_sides.split(","))):
            with_side[side] = load_patch_model(w, device)  # channels-last weights, as the inpainters load them
            with_side[side].cfg.max_work_side = side
        ref = with_side[0].inpaint(img, mask).clamp(0, 1)  # the full-size fill
        layouts = [False, True] if a.contiguous else [False]
        for side, contiguous in ((int(s), c) for s in a.work_sides.split(",") for c in layouts):
            m = with_side[side]
            if contiguous:
                m = with_side[side] = m.to(memory_format=torch.contiguous_format)
            out = m.inpaint(img, mask).clamp(0, 1)
            rows.append(
                dict(
                    weights=Path(w).name,
                    max_work_side=side,
                    layout="contiguous" if contiguous else "channels_last",
                    seconds=median_seconds(lambda: m.inpaint(img, mask), a.reps),
                    psnr_vs_full_size_db=psnr(out, ref, mask).item() if side else None,
                )
            )
            if photos and not contiguous:  # the layout changes no fill (1e-5): the photos are scored once a side
                scores = [image_metrics(m.inpaint(p, h).clamp(0, 1), p, h) for p, h in photos]
                rows[-1]["upsampled_val_psnr_masked"] = sum(s["psnr_masked"] for s in scores) / len(scores)
                rows[-1]["upsampled_val_lpips_masked"] = sum(s["lpips_masked"] for s in scores) / len(scores)

            print(rows[-1], flush=True)
    if a.detail:
        rows += detail_rows(a.weights.split(",")[0], a.work_sides, img, mask, photos, a.reps, device)
    if a.guided:
        for stride in (int(s) for s in a.search_strides.split(",")):
            rows += detail_rows(
                a.weights.split(",")[0], a.work_sides, img, mask, photos, a.reps, device, guided=True, stride=stride
            )
    res = dict(
        image="1024x1024, random_mask('medium', seed=0)",
        device=torch.cuda.get_device_name() if device == "cuda" else f"cpu, {torch.get_num_threads()} threads",
        cpu_count=os.cpu_count(),
        rows=rows,
    )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))


def detail_rows(weights, work_sides, img, mask, photos, reps, device, guided=False, stride=SEARCH_STRIDE) -> list[dict]:
    "Rows for `patch_detail` (`guided`: `patch`, search step `stride`) at full size and each work size, PatchMatch."
    methods = {} if guided else {"patchmatch": (None, PatchMatchInpainter())}
    name, cls = ("patch", GuidedPatchInpainter) if guided else ("patch_detail", DetailTransferPatchInpainter)
    extra = dict(search_stride=stride) if guided else {}
    for side in (0, *(int(s) for s in work_sides.split(","))):
        methods[f"{name}@{side}"] = (side, cls(weights, device, max_work_side=side, **extra))
    ref = methods[f"{name}@0"][1](img, mask, 0)
    rows = []
    for name, (side, fill) in methods.items():
        out = fill(img, mask, 0)
        row = dict(
            method=name.split("@")[0],
            weights=Path(weights).name if side is not None else None,
            max_work_side=side,
            seconds=median_seconds(lambda: fill(img, mask, 0), reps),
            psnr_vs_full_size_db=psnr(out, ref, mask).item() if side else None,
            **extra,
        )
        if photos:
            scores = [image_metrics(fill(p, h, 0), p, h) for p, h in photos]
            row["upsampled_val_psnr_masked"] = sum(s["psnr_masked"] for s in scores) / len(scores)
            row["upsampled_val_lpips_masked"] = sum(s["lpips_masked"] for s in scores) / len(scores)
        print(row, flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
