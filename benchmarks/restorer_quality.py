"""Restoration quality of the `small` restorer against the plain ways, on photographs it was not trained on.

    python benchmarks/restorer_quality.py --images ../shared/datasets/bsds500/val \
        --weights heritage_inpaint/data/weights/restorer_small/restorer_unet.safetensors \
        --out benchmarks/results/restorer_quality.json

Two degradations, each at a fixed seed per image:
- `x4plus`: Real-ESRGAN's second-order pipeline with the x4plus options (what the restorer was trained on),
  resized back to the HQ size with bicubic interpolation — so its `lq` row is also the bicubic baseline;
- `simple`: an independent one through OpenCV — Gaussian blur (σ 1.5), Gaussian noise (σ 10/255), JPEG quality 40.
Methods: `lq` (the degraded input), `classical` (OpenCV's fastNlMeansDenoisingColored, h = 10, then an unsharp
mask, σ 1.5, amount 0.6), `small` (the shipped restorer, whole image, colour fix on) and, with `--self-ensemble 8`,
`small_x8` (the mean of its restorations of the 8 flipped and turned copies). PSNR / SSIM / LPIPS (AlexNet) against
the HQ image, mean over the images. `--device cuda` runs the restorer on the GPU in fp32 with TF32 off (the CPU's
numbers to about 1e-3 dB); the degradations and the classical pipeline stay on the CPU.
"""

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from heritage_inpaint.degradations import degrade
from heritage_inpaint.io import list_images, load_image, to_uint8
from heritage_inpaint.metrics import whole_image_scores
from heritage_inpaint.restorer import load_restorer, optimize_restorer, restore_image


def simple_degradation(hq: torch.Tensor, seed: int) -> torch.Tensor:
    "Gaussian blur σ 1.5, Gaussian noise σ 10/255, JPEG quality 40 (OpenCV, seeded)."
    rng = np.random.default_rng(seed)
    x = cv2.GaussianBlur(to_uint8(hq).astype(np.float32) / 255, (0, 0), 1.5)
    x = np.clip(x + rng.normal(0, 10 / 255, x.shape).astype(np.float32), 0, 1)
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor((x * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 40]
    )
    out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return torch.from_numpy(out).permute(2, 0, 1).float() / 255


def classical(lq: torch.Tensor) -> torch.Tensor:
    "Non-local-means denoising, then an unsharp mask."
    bgr = cv2.cvtColor(to_uint8(lq), cv2.COLOR_RGB2BGR)
    den = cv2.fastNlMeansDenoisingColored(bgr, None, 10, 10, 7, 21).astype(np.float32) / 255
    sharp = np.clip(den + 0.6 * (den - cv2.GaussianBlur(den, (0, 0), 1.5)), 0, 1)
    return torch.from_numpy(cv2.cvtColor(sharp, cv2.COLOR_BGR2RGB)).permute(2, 0, 1).float()


def degraded_inputs(hq: torch.Tensor, index: int) -> tuple[tuple[str, torch.Tensor], ...]:
    "The two degraded inputs of the `index`-th image, each at its fixed seed: (`x4plus`, LQ), (`simple`, LQ)."
    return ("x4plus", degrade(hq[None], seed=1000 + index)[0]), ("simple", simple_degradation(hq, 1000 + index))


def mean_scores(rows: list[dict], methods) -> dict:
    "Mean PSNR / SSIM / LPIPS per degradation and method of the per-image `rows`."
    return {
        deg: {
            m: {
                k: float(np.mean([x[k] for x in rows if x["degradation"] == deg and x["method"] == m]))
                for k in ("psnr", "ssim", "lpips")
            }
            for m in methods
        }
        for deg in ("x4plus", "simple")
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--color-fix", action=argparse.BooleanOptionalAction, default=True, help="the wavelet colour fix")
    ap.add_argument("--self-ensemble", default="", help="comma-separated pass counts (2, 8) for extra small_xN rows")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    r = optimize_restorer(load_restorer(weights=a.weights, device=a.device))
    ensembles = [int(n) for n in a.self_ensemble.split(",") if n]
    methods = ("lq", "classical", "small", *(f"small_x{n}" for n in ensembles))
    paths = list(list_images(a.images).items())[: a.max_images]
    rows = []
    t_start = time.time()
    for i, (stem, path) in enumerate(paths):
        hq = load_image(path)
        hq = hq[:, : hq.shape[1] // 8 * 8, : hq.shape[2] // 8 * 8]
        for name, lq in degraded_inputs(hq, i):
            outs = {"lq": lq, "classical": classical(lq)}
            t0 = time.perf_counter()
            outs["small"] = restore_image(r, lq, tile=512, min_side=0, color_fix=a.color_fix)
            secs = {"small": time.perf_counter() - t0}
            for n in ensembles:
                t0 = time.perf_counter()
                outs[f"small_x{n}"] = restore_image(r, lq, tile=512, min_side=0, color_fix=a.color_fix, self_ensemble=n)
                secs[f"small_x{n}"] = time.perf_counter() - t0
            for method, img in outs.items():
                seconds = secs.get(method)
                rows.append(
                    dict(image=stem, degradation=name, method=method, **whole_image_scores(img, hq), seconds=seconds)
                )
        print(f"{i + 1}/{len(paths)} {time.time() - t_start:.0f} s", flush=True)
    means = mean_scores(rows, methods)
    res = dict(
        images=str(a.images),
        n_images=len(paths),
        weights=str(a.weights),
        device="CPU (2 cores)" if a.device == "cpu" else f"{torch.cuda.get_device_name()} (fp32, TF32 off)",
        color_fix=a.color_fix,
        means=means,
        per_image=rows,
    )
    out = Path(a.out)
    kept = json.loads(out.read_text()) if out.is_file() else {}  # e.g. `previous_models`: keys this run does not write
    out.write_text(json.dumps({**{k: v for k, v in kept.items() if k not in res}, **res}, indent=1))
    print(json.dumps(means, indent=1))


if __name__ == "__main__":
    main()
