"""Train the patch network with one recipe of `RECIPES` (strategy switches + training fields), score it, time it.

GPU machine (one recipe per process; several processes share one GPU for the A/B):
    python benchmarks/patch_recipe.py --recipe global_context --train <bsds>/train --val <bsds>/val \
        --steps 6000 --out-dir /tmp/final --json results/patch_recipe_global_context.json

The run is an ordinary `train_patch` run (`--resume` continues it). A run stopped by a time limit has checkpoints
but no exported weights: `--export-newest` writes them from the newest checkpoint's EMA weights and scores those.
Scores: masked PSNR / SSIM / LPIPS-alex on the first `--val-images` BSDS500 val photos with the seeded thin /
medium / thick holes of `evaluate_inpainter`; time: a 1024² image with a medium hole, median of 10 after warm-up.
"""

import argparse, json, time
from pathlib import Path

import pandas as pd
import torch
from diffusers.training_utils import EMAModel

from heritage_inpaint.patch_network import PatchBasedInpainting, PatchNetConfig, load_patch_model

from heritage_inpaint.patch_train import RECIPES, PatchTrainConfig, evaluate_inpainter, save_patch_weights, train_patch
from heritage_inpaint.training import RUN_FILE, checkpoint_dirs
from patch_speed import median_seconds, medium_hole_1024  # benchmarks/ is the script's folder, first on sys.path


def export_newest(run: Path) -> tuple[Path, int]:
    "Write `patch_net.safetensors` of a stopped run from its newest checkpoint's EMA weights; (path, step)."
    saved = json.loads((run / RUN_FILE).read_text())["config"]["net"]
    net = PatchNetConfig.from_dict(saved)

    model = PatchBasedInpainting(net)

    ck = checkpoint_dirs(run / "checkpoints")[-1]
    ema = EMAModel(list(model.parameters()))
    ema.load_state_dict(torch.load(ck / "extra.pt", map_location="cpu", weights_only=True)["ema"])
    ema.copy_to(model.parameters())
    return save_patch_weights(model, run), int(ck.name.split("_")[-1])


def time_1024(model) -> float:
    "Median seconds of `model.inpaint` on `patch_speed`'s 1024² medium-hole image (on a CPU: one call, no warm-up)."
    img, mask = medium_hole_1024()
    cuda = torch.cuda.is_available()
    return median_seconds(lambda: model.inpaint(img, mask), reps=10 if cuda else 1, warmup=3 if cuda else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", required=True, choices=list(RECIPES))
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--base-channels", type=int, default=32)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--val-images", type=int, default=40)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--adv-start", type=int, default=None, help="override the recipe's adversarial warm-up")
    ap.add_argument("--init-weights", default=None, help="start from these patch_net weights (a second chunk)")
    ap.add_argument("--export-newest", action="store_true", help="no training: score the newest checkpoint")
    a = ap.parse_args()
    switches, fields = RECIPES[a.recipe]
    if a.adv_start is not None and "adv_start" in fields:
        fields = dict(fields, adv_start=a.adv_start)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(a.out_dir)
    t0 = time.perf_counter()
    if a.export_newest:
        weights, reached = export_newest(out)
    else:
        res = train_patch(
            PatchTrainConfig(
                **fields,
                train_dir=a.train,
                val_dir=a.val,
                out_dir=str(out),
                net=PatchNetConfig(patch_size=128, base_channels=a.base_channels, **switches),
                steps=a.steps,
                batch=a.batch,
                workers=a.workers,
                mixed_precision="bf16" if device == "cuda" else "no",
                val_every=1000,
                checkpoint_every=a.checkpoint_every,
                resume=a.resume,
                init_weights=a.init_weights,
            )
        )
        weights, reached = res.weights, a.steps
    train_s = time.perf_counter() - t0
    model = load_patch_model(weights, device)
    if not a.val_images:  # training only: score elsewhere
        print(a.recipe, reached, round(train_s), weights, flush=True)
        return
    rows = evaluate_inpainter(lambda im, mk: model.inpaint(im, mk).clamp(0, 1), a.val, max_images=a.val_images)
    table = pd.DataFrame(rows).groupby("kind", sort=False)[["psnr", "ssim", "lpips", "seconds"]].mean()

    summary = dict(
        device=torch.cuda.get_device_name() if device == "cuda" else "cpu",
        recipe=a.recipe,
        switches=switches,
        fields=fields,
        steps=a.steps,
        steps_reached=reached,
        batch=a.batch,
        train_seconds=train_s,
        val_images=a.val_images,
        params=sum(p.numel() for p in model.parameters()),
        seconds_1024_medium=time_1024(model),
        table=table.reset_index().to_dict(orient="records"),
        rows=rows,
    )
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(summary, indent=1))
    print(a.recipe, reached, round(train_s), table.round(4).to_dict(orient="index"), flush=True)


if __name__ == "__main__":
    main()
