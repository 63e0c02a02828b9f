"""Speed of the `small` restorer: 512² and 2048² (tiled) end to end, on the machine it runs on.

    python benchmarks/restorer_small_speed.py \
        --weights heritage_inpaint/data/weights/restorer_small/restorer_unet.safetensors \
        --out benchmarks/results/restorer_small_speed_<machine>.json

End to end is `restore_image` on an image already in memory: encode, UNet, decode, colour fix (tiles of 512 with
stride 256 at 2048²). Median of repeated runs after warm-up; on CUDA with synchronisation and fp16.
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from heritage_inpaint.restorer import load_restorer, optimize_restorer, restore_image


def timed(fn, reps: int, cuda: bool) -> float:
    fn()
    fn()
    times = []
    for _ in range(reps):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    r = optimize_restorer(
        load_restorer(weights=a.weights, device=device, dtype=torch.float16 if cuda else torch.float32)
    )
    g = torch.Generator().manual_seed(0)
    res = {
        "device": torch.cuda.get_device_name() if cuda else f"{platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    for side, kw, reps in (
        (512, dict(tile=None), a.reps),
        (2048, dict(tile=512, tile_stride=256), max(2, a.reps // 5)),
    ):
        img = torch.rand(3, side, side, generator=g)
        res[f"{side}_s"] = timed(lambda: restore_image(r, img, min_side=0, **kw), reps, cuda)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
            restore_image(r, img, min_side=0, **kw)
            res[f"{side}_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        print(side, res, flush=True)
    Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
