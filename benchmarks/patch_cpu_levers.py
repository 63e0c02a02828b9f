"""The CPU levers of `patch`, timed interleaved in one process (a 1024² image, a medium hole).

    git show fdb9b75:heritage_inpaint/patch_network.py > /tmp/patch_network_round6.py
    python benchmarks/patch_cpu_levers.py --rounds 8 --previous /tmp/patch_network_round6.py \
        --out benchmarks/results/patch_cpu_levers_round7_cpu2.json

Shared CPU cores drift by ±20 % between runs, so the settings are timed in turns (one call each per round, after a
warm-up call) and compared by their medians. Round 7's levers, which keep the fill to the bit: the network's windows
go through it 4 at a time on a CPU (`window_batch`; 16 before, the row that isolates it), and the detail fusion runs
on one box per group of holes (`hole_groups`) instead of one box around all of them. `--previous` adds the
`GuidedPatchInpainter` of an earlier commit's `patch_network.py` as the first row (the plain way: round 6's code).
Each row has its fill's masked PSNR against the default's and its speed-up over the first row. Round 6's levers
(channels-last weights, search step 3) were timed by this script at fdb9b75 (`patch_cpu_levers_cpu2.json`).
"""

import argparse, json, os, statistics, time
from pathlib import Path

import torch

from heritage_inpaint.metrics import psnr
from heritage_inpaint.patch_network import GuidedPatchInpainter
from patch_speed import medium_hole_1024
from previous_code import load_previous


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--previous", default=None, help="an earlier commit's patch_network.py, timed as the first row")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    img, mask = medium_hole_1024()
    if device == "cpu":  # the CPU's defaults: 4 windows a call, a fusion box per group of holes
        default = "default: 4 windows a call, fusion by hole groups, work size 512"
        settings = {  # name: (windows per network call, work size)
            "16 windows a call (round 6), fusion by hole groups, work size 512": (16, 512),
            default: (None, 512),
            "default at work size 384": (None, 384),
        }
    else:  # a GPU's defaults are 16 windows a call and one fusion box already: no row isolates them there
        default = "default: 16 windows a call, one fusion box, work size 512"
        settings = {default: (None, 512), "default at work size 384": (None, 384)}
    fills = {}
    if a.previous:
        previous = load_previous(a.previous, "patch_network")
        fills["previous code (--previous), its defaults"] = previous.GuidedPatchInpainter(device=device)
    for name, (window_batch, side) in settings.items():
        fills[name] = GuidedPatchInpainter(device=device, max_work_side=side, window_batch=window_batch)
    outs = {name: g(img, mask) for name, g in fills.items()}  # the warm-up calls
    times = {name: [] for name in fills}
    for _ in range(a.rounds):
        for name, g in fills.items():
            sync()
            t = time.perf_counter()
            g(img, mask)
            sync()
            times[name].append(time.perf_counter() - t)
    base = list(fills)[0]
    rows = [
        dict(
            setting=name,
            median_seconds=statistics.median(ts),
            seconds=ts,
            speedup_vs_first_row=statistics.median(times[base]) / statistics.median(ts),
            psnr_vs_default_db=psnr(outs[name], outs[default], mask).item() if name != default else None,
        )
        for name, ts in times.items()
    ]
    for r in rows:
        print(r["setting"], round(r["median_seconds"], 3), round(r["speedup_vs_first_row"], 2), flush=True)
    res = dict(
        image="1024x1024, random_mask('medium', seed=0)",
        device=torch.cuda.get_device_name() if device == "cuda" else f"cpu, {torch.get_num_threads()} threads",
        cpu_count=os.cpu_count(),
        rounds=a.rounds,
        previous=a.previous,
        rows=rows,
    )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
