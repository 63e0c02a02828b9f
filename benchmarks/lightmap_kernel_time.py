"""1080p frame time of the fused lightmap kernel per model and tile setting, in interleaved rounds (GPU).

    python benchmarks/lightmap_kernel_time.py --weights SunFiLM.safetensors,SunFiLMGain.safetensors \
        --frame day/tod_12.png --out results/x.json

Every (model, BLOCK, num_warps) setting renders hour 18.5 at 1920x1080 `--reps` times per round (median), for
`--rounds` rounds taken in turn, so a busy host slows every setting alike; the row is the median over the rounds.
Beside it: eager fp32 `render_frame` per model (the plain way) and each setting's max |difference| to it.
`--previous old.py` (`git show REV:heritage_inpaint/lightmap_render.py > old.py`) times that commit's kernel beside,
on the same models, at the first tile setting (rows named `model@previous`).
Merged into `results/lightmap_ab.json` (`summary.render_1080p_h200_interleaved`).
"""

import argparse, json, statistics
from pathlib import Path

import torch

from heritage_inpaint.io import load_image
from heritage_inpaint.lightmap_model import load_lightmap, render_frame
from heritage_inpaint.lightmap_render import LightmapRenderer
from lightmap_render import timed_ms  # benchmarks/ is the script's directory
from previous_code import load_previous


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="comma-separated .safetensors (config .json beside)")
    ap.add_argument("--frame", required=True, help="the stored 12:00 frame the models take")
    ap.add_argument("--tiles", default="128x4,128x8,64x4", help="BLOCKxnum_warps settings")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--previous", default=None, help="an earlier commit's lightmap_render.py, timed beside")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    previous = None
    if a.previous:
        previous = load_previous(a.previous, "lightmap_render")
    base = load_image(a.frame).cuda()
    settings, rend, eager, err = [], {}, {}, {}
    for w in a.weights.split(","):
        m = load_lightmap(w, "cuda")
        ref = render_frame(m, 18.5, 1080, 1920, base)
        eager[Path(w).stem] = timed_ms(lambda: render_frame(m, 18.5, 1080, 1920, base), reps=10)
        for tile in a.tiles.split(","):
            block, warps = (int(x) for x in tile.split("x"))
            s = (Path(w).stem, block, warps)
            rend[s] = LightmapRenderer(m, base, 1080, 1920, block=block, num_warps=warps)
            err[s] = (rend[s].render(18.5).float() - ref).abs().max().item()
            settings.append(s)
        if previous is not None:
            block, warps = (int(x) for x in a.tiles.split(",")[0].split("x"))
            s = (Path(w).stem + "@previous", block, warps)
            rend[s] = previous.LightmapRenderer(m, base, 1080, 1920, block=block, num_warps=warps)
            err[s] = (rend[s].render(18.5).float() - ref).abs().max().item()
            settings.append(s)
    times = {s: [] for s in settings}
    for _ in range(a.rounds):
        for s in settings:
            times[s].append(timed_ms(lambda: rend[s].render(18.5, copy=False), reps=a.reps))
    rows = [
        dict(model=s[0], block=s[1], num_warps=s[2], median_ms=statistics.median(t), rounds_ms=t, max_abs_err=err[s])
        for s, t in times.items()
    ]
    for r in rows:
        print(json.dumps({k: v for k, v in r.items() if k != "rounds_ms"}))
    doc = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, rows=rows, eager_fp32_ms=eager)
    Path(a.out).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
