"""Score inpainting methods on BSDS500 val with the seeded thin / medium / thick holes of `evaluate_inpainter`.

    python benchmarks/patch_quality.py --val <bsds>/val --methods telea,ns,patchmatch,patch_net,patch,patch_detail \
        --reuse old_patch_quality.json --out benchmarks/results/patch_quality.json

Masked PSNR / SSIM / LPIPS-alex inside the hole (the metrics of the report) on every image, and masked LPIPS-VGG on
the first `--vgg-images`: the patch network trains on LPIPS-alex, so a perceptual metric it never saw keeps the
comparison honest (VGG takes about 3 s an image on 2 CPU cores, hence the subset). `--reuse` keeps a previous
result's rows of a method (deterministic methods, unchanged weights) after recomputing its first `--check-images`
images and finding them equal. `--recompute` scores a method anew whose weights changed, and `--keep-previous
patch:patch_round1` keeps the old weights' rows under another name. `--options '{"search_stride": 3}' --suffix
@stride3` builds every method with those keyword arguments and names its rows `patch@stride3` (a setting measured
beside the default). The committed file (round 3):

    python benchmarks/patch_quality.py --val <bsds>/val --reuse <round 2 file> --recompute patch \
        --keep-previous patch:patch_round1 --out benchmarks/results/patch_quality.json
"""

import argparse, json, time
from pathlib import Path

import pandas as pd
import torch

from heritage_inpaint.io import list_images, load_image
from heritage_inpaint.masks import random_mask
from heritage_inpaint.metrics import image_metrics, lpips
from heritage_inpaint.patch_train import HOLE_KINDS
from heritage_inpaint.report import get_inpainter


def previous_rows(path) -> dict[str, dict]:
    "{(method, image, kind): row} of an earlier result file (both layouts)."
    old = json.loads(Path(path).read_text())
    rows = old.get("rows") or [dict(r, method=m) for m, lst in old["per_image"].items() for r in lst]
    return {(r["method"], r["image"], r["kind"]): r for r in rows}


def score(inpaint, img, mask, vgg: bool) -> dict:
    t0 = time.perf_counter()
    out = inpaint(img, mask, seed=0)
    secs = time.perf_counter() - t0
    m = image_metrics(out, img, mask)
    return dict(
        psnr=m["psnr_masked"],
        ssim=m["ssim_masked"],
        lpips=m["lpips_masked"],
        lpips_vgg=lpips(out, img, mask, net="vgg").item() if vgg else None,
        seconds=secs,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--val", required=True)
    ap.add_argument("--methods", default="telea,ns,patchmatch,patch_net,patch,patch_detail")

    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--vgg-images", type=int, default=20)
    ap.add_argument("--reuse", default=None)
    ap.add_argument("--check-images", type=int, default=3)
    ap.add_argument("--recompute", default="", help="methods scored anew although --reuse has their rows (new weights)")
    ap.add_argument(
        "--keep-previous", default="", help="old:new,...: the --reuse file's rows of `old` kept as method `new`"
    )
    ap.add_argument("--options", default="{}", help="JSON keyword arguments of every method's inpainter")
    ap.add_argument("--suffix", default="", help="appended to the method names of the rows (with --options)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    options = json.loads(a.options)
    if options and not a.suffix:
        ap.error("--options needs --suffix: the rows of a setting must not carry the default method's name")
    paths = list(list_images(a.val).items())[: a.max_images]
    old = previous_rows(a.reuse) if a.reuse else {}
    rows, checked = [], {}
    for name in a.methods.split(","):
        inpaint = get_inpainter(name, **options)
        label = name + a.suffix  # the rows' method name, and the one whose earlier rows --reuse may keep
        fresh = name in a.recompute.split(",")
        reuse = not fresh and all((label, stem, k) in old for stem, _ in paths for k in HOLE_KINDS)
        for i, (stem, path) in enumerate(paths):
            img = load_image(path)
            for kind in HOLE_KINDS:
                mask = random_mask(*img.shape[-2:], kind, seed=i)
                vgg = i < a.vgg_images
                if reuse and not vgg and i >= a.check_images:
                    r = dict(old[(label, stem, kind)], lpips_vgg=None, reused=True)
                else:
                    r = score(inpaint, img, mask, vgg)
                    if reuse:  # recomputed rows of a reused method must match the previous file
                        prev = old[(label, stem, kind)]
                        diff = max(abs(r[k] - prev[k]) for k in ("psnr", "ssim", "lpips"))
                        checked[label] = max(checked.get(label, 0.0), diff)
                        if diff > 1e-3:
                            raise SystemExit(f"{label} {stem} {kind}: differs from {a.reuse} by {diff}")
                rows.append(dict(r, method=label, image=stem, kind=kind))
        print(label, "reused" if reuse else "computed", flush=True)
    for spec in filter(None, a.keep_previous.split(",")):  # weights since replaced: their rows as they were
        was, now = spec.split(":")
        rows += [dict(old[(was, stem, k)], method=now, reused=True) for stem, _ in paths for k in HOLE_KINDS]
    df = pd.DataFrame(rows)
    cols = ["psnr", "ssim", "lpips", "seconds"]
    table = df.groupby(["method", "kind"], sort=False)[cols].mean()
    table["lpips_vgg_subset"] = df.dropna(subset=["lpips_vgg"]).groupby(["method", "kind"], sort=False).lpips_vgg.mean()
    table = table.reset_index()
    res = dict(
        data=f"BSDS500 val ({len(paths)} images), seeded masks random_mask(kind, seed=image index)",
        metrics="masked PSNR / SSIM / LPIPS-alex (inside the hole) on every image; masked LPIPS-VGG on the first "
        f"{a.vgg_images} images (lpips_vgg_subset)",
        device=f"cpu, {torch.get_num_threads()} threads (seconds of reused rows: as recorded in {a.reuse})",
        reused_methods_max_difference_on_recomputed_rows=checked,
        table=table.to_dict(orient="records"),
        rows=rows,
    )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
