"""Train and score `patch_detail`'s learned fusion (the network's fill + per-pixel shares of PatchMatch's detail
and structure) against the fixed rule, the network alone and PatchMatch, on stored fills.

    python benchmarks/patch_detail_fusion.py fills --images <bsds>/train --to /tmp/fills/train --procs 16
    python benchmarks/patch_detail_fusion.py fills --images <bsds>/train --seed0 20000 --to /tmp/fills/b --procs 16
    python benchmarks/patch_detail_fusion.py fills --images <bsds>/train --seed0 30000 --to /tmp/fills/c --procs 16
    python benchmarks/patch_detail_fusion.py fills --images <bsds>/val --seed0 0 --to /tmp/fills/val --procs 2
    python benchmarks/patch_detail_fusion.py train --fills-dir /tmp/fills/train,/tmp/fills/b,/tmp/fills/c \
        --out-dir /tmp/fusion_a
    python benchmarks/patch_detail_fusion.py score --fills /tmp/fills/val --fusions /tmp/fusion_a,/tmp/fusion_b \
        --out benchmarks/results/patch_detail_fusion.json
    python benchmarks/patch_detail_fusion.py demo --fusions shipped,/tmp/fusion_a --out /tmp/demo_photos.json

`--texture guided` stores `guided_texture` of the network's fill in place of PatchMatch's fill (the fusion of method
`patch` (`GuidedPatchInpainter`); `--device cuda` runs the network and the search on the GPU in each process):

    python benchmarks/patch_detail_fusion.py fills --images <bsds>/train --to /tmp/g/a --texture guided --device cuda

Train fills use holes seeded from 10000 on BSDS500 *train*; val fills use `random_mask(kind, seed=index)` on
BSDS500 val, the holes of `patch_quality.py`, so the rows compare with its table (the network's and PatchMatch's
fills are the same calls, seed 0). `demo` scores fusions on the five embedded photographs of `make demo` (never
used for a choice) with the report's masks and PatchMatch seed: the `demo_photos` block of the JSON; `shipped` names
the packaged fusion. `train` takes every field of `DetailFusionTrainConfig` as a flag; its defaults
are the shipped round-4 recipe (three train folders, 4000 steps, crops turned and flipped).
"""

import argparse, json, time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from heritage_inpaint.cli import add_config_flags, config_from_args
from heritage_inpaint.inpainters import PatchMatchInpainter, blend_known
from heritage_inpaint.io import load_image, load_mask, pair_images_masks
from heritage_inpaint.metrics import image_metrics
from heritage_inpaint.patch_network import PatchInpainter, default_fusion_weights, fuse_detail, load_detail_fusion
from heritage_inpaint.report import ReportConfig
from heritage_inpaint.samples import sample_dir
from heritage_inpaint.patch_train import (
    HOLE_KINDS,
    DetailFusionTrainConfig,
    fusion_fill_files,
    make_detail_fusion_fills,
    read_fusion_fill,
    train_detail_fusion,
)


def _fills_part(job):
    images, to, seed0, part, parts, texture, device = job
    torch.set_num_threads(1)
    patch = PatchInpainter(device=device)
    return len(make_detail_fusion_fills(images, to, seed0, part=part, parts=parts, patch=patch, texture=texture))


def make_fills(a) -> None:
    t0 = time.time()
    with Pool(a.procs) as pool:
        jobs = [(a.images, a.to, a.seed0, k, a.procs, a.texture, a.device) for k in range(a.procs)]
        n = sum(pool.map(_fills_part, jobs))
    print(f"{n} fills in {time.time() - t0:.0f} s", flush=True)


def _score_files(job):
    files, fusions = job
    torch.set_num_threads(1)
    nets = {name: load_detail_fusion(Path(d) / "patch_detail_fusion.safetensors") for name, d in fusions.items()}
    rows = []
    for p in files:
        img, mask, patch, pm, detail = read_fusion_fill(p, 3.0)
        outs = {"patch (network alone)": patch, "patchmatch": pm}
        outs["patch_detail fixed (amount 0.5)"] = patch + mask * 0.5 * detail
        outs.update({name: fuse_detail(net, patch, pm, mask) for name, net in nets.items()})
        kind = p.stem.split("_")[1]
        for name, out in outs.items():
            s = image_metrics(out.clamp(0, 1), img, mask)
            rows.append(dict(method=name, image=int(p.stem.split("_")[0]), kind=kind, psnr=s["psnr_masked"],
                             ssim=s["ssim_masked"], lpips=s["lpips_masked"]))  # fmt: skip
    return rows


def score(a) -> None:
    fusions = {Path(d).name: d for d in filter(None, a.fusions.split(","))}
    files = fusion_fill_files(a.fills)
    with Pool(a.procs) as pool:
        rows = sum(pool.map(_score_files, [(files[k :: a.procs], fusions) for k in range(a.procs)]), [])
    table = {}
    for name in dict.fromkeys(r["method"] for r in rows):
        for kind in HOLE_KINDS:
            sel = [r for r in rows if r["method"] == name and r["kind"] == kind]
            table.setdefault(name, {})[kind] = {
                k: float(np.mean([r[k] for r in sel])) for k in ("psnr", "ssim", "lpips")
            }
    configs = {name: json.loads((Path(d) / "run.json").read_text()) for name, d in fusions.items()}
    res = dict(
        fills=str(a.fills), n_images=len({r["image"] for r in rows}), fusion_runs=configs, table=table, rows=rows
    )
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    for name, kinds in table.items():
        print(name, {k: [round(v[m], 3) for m in ("psnr", "ssim", "lpips")] for k, v in kinds.items()})


def demo(a) -> None:
    "Masked PSNR / SSIM / LPIPS of each fusion on the five embedded photographs, as `make demo` fills them."
    weights = {
        ("shipped" if d == "shipped" else Path(d).name): (
            default_fusion_weights() if d == "shipped" else Path(d) / "patch_detail_fusion.safetensors"
        )
        for d in a.fusions.split(",")
    }
    nets = {name: load_detail_fusion(w) for name, w in weights.items()}
    pairs = pair_images_masks(sample_dir() / "images", sample_dir() / "masks").pairs
    network, patchmatch = PatchInpainter(device="cpu"), PatchMatchInpainter()
    per_photo = {}
    for stem, image_path, mask_path in pairs:
        img = load_image(image_path)
        mask = load_mask(mask_path, "black", size=tuple(img.shape[-2:]))
        fill, pm = network(img, mask), patchmatch(img, mask, ReportConfig.seed)  # the report's seed (one row)
        for name, net in nets.items():
            s = image_metrics(blend_known(fuse_detail(net, fill, pm, mask).clamp(0, 1), img, mask), img, mask)
            per_photo.setdefault(name, {})[stem] = [s["psnr_masked"], s["ssim_masked"], s["lpips_masked"]]
    mean = {name: [float(np.mean([v[i] for v in r.values()])) for i in range(3)] for name, r in per_photo.items()}
    what = "the five embedded photographs and masks of make demo; masked PSNR / SSIM / LPIPS-alex, mean over five"
    Path(a.out).write_text(json.dumps(dict(what=what, mean=mean, per_photo=per_photo), indent=1) + "\n")
    for name, m in mean.items():
        print(name, [round(x, 3) for x in m], flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fills", help="store the photographs, holes and both fills (make_detail_fusion_fills)")
    f.add_argument("--images", required=True)
    f.add_argument("--to", required=True)
    f.add_argument("--seed0", type=int, default=10_000, help="hole of photograph i: random_mask(kind, seed=seed0+i)")
    f.add_argument("--procs", type=int, default=2, help="processes (one thread each)")
    f.add_argument("--texture", default="patchmatch", help="the texture fill: patchmatch | guided (guided_texture)")
    f.add_argument("--device", default="cpu", help="the network's device in each process (cuda: guided fills)")
    t = sub.add_parser("train", help="train_detail_fusion")
    add_config_flags(t, DetailFusionTrainConfig)
    s = sub.add_parser("score", help="masked PSNR / SSIM / LPIPS of every method on stored fills")
    s.add_argument("--fills", required=True)
    s.add_argument("--fusions", default="", help="comma-separated training folders (their name labels the row)")
    s.add_argument("--procs", type=int, default=2)
    s.add_argument("--out", required=True)
    d = sub.add_parser("demo", help="masked metrics of each fusion on the five embedded demo photographs")
    d.add_argument("--fusions", default="shipped", help="comma-separated training folders, or `shipped`")
    d.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "train":
        print(train_detail_fusion(config_from_args(DetailFusionTrainConfig, a)).history[-1])
    else:
        {"fills": make_fills, "score": score, "demo": demo}[a.cmd](a)


if __name__ == "__main__":
    main()
