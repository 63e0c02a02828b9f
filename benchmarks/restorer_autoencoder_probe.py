"""Issue 18 probe: does the frozen autoencoder cap the small restorer? TAEF2 against a lossless "autoencoder".

    python benchmarks/restorer_autoencoder_probe.py train --hq-dir /data/bsds500/train --seconds 420 --out-dir runs/ae
    python benchmarks/restorer_autoencoder_probe.py score --images ../shared/datasets/bsds500/val --runs runs/ae \
        --out benchmarks/results/restorer_autoencoder_probe.json

TAEF2 reconstructs the clean val photos at 28.5 dB, and `small` stays 1.1 / 0.4 dB short of the restorer issue's
PSNR goal. The probe trains two small UNets from scratch in the same loop, on the same batches, for the same steps:
one on TAEF2's latents (the shipped design) and one on `PixelUnshuffleAutoencoder` — space-to-depth by 8, a
"latent" of 3·8² = 192 channels at 1/8 resolution that decodes to the exact image. Everything else is the
restorer's own: `SMALL_UNET`'s blocks and widths, the one UNet call at t = 200 (`OneStepRestorer`), 1·MSE in
[-1, 1] (`generator_losses` with no LPIPS or GAN), Real-ESRGAN x4plus pairs at scales 1 / 2 / 4 from the pair
pool, Adam 3e-4, bf16, EMA 0.999. `train` runs until `--seconds` have passed and saves both EMA UNets; `score`
restores the val photos with both (and the shipped `small`) under `restorer_quality.py`'s two degradations.
"""

import argparse, json, math, sys, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from heritage_inpaint.degradations import DegradationConfig
from heritage_inpaint.io import list_images, load_image
from heritage_inpaint.metrics import whole_image_scores
from heritage_inpaint.restorer import OneStepRestorer, load_restorer, restore_image, small_restorer_components
from heritage_inpaint.restorer_train import (
    DegradedPairs,
    HQCrops,
    PairPool,
    RestorerTrainConfig,
    one_thread_worker,
    generator_losses,
)
from heritage_inpaint.tiny_autoencoder import load_tiny_autoencoder

sys.path.insert(0, str(Path(__file__).parent))
from restorer_quality import classical, degraded_inputs, mean_scores  # noqa: E402


class PixelUnshuffleAutoencoder(torch.nn.Module):
    "Space-to-depth by `factor` as an autoencoder with the interface the restorer reads (lossless, no weights)."

    def __init__(self, factor: int = 8, scaling_factor: float = 2.0):
        super().__init__()
        self.factor = factor
        levels = int(math.log2(factor)) + 1  # `latent_factor` reads 2 ** (len(block_out_channels) - 1)
        self.config = SimpleNamespace(
            latent_channels=3 * factor**2, scaling_factor=scaling_factor, block_out_channels=(0,) * levels
        )

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def encode(self, pixels: torch.Tensor):
        z = F.pixel_unshuffle(pixels, self.factor)
        return SimpleNamespace(latent_dist=SimpleNamespace(mode=lambda: z))

    def decode(self, latents: torch.Tensor):
        return SimpleNamespace(sample=F.pixel_shuffle(latents, self.factor))

    def enable_gradient_checkpointing(self):
        pass


def small_restorer(vae, seed: int = 0) -> OneStepRestorer:
    "A fresh small UNet (`SMALL_UNET`, seeded) on `vae`'s latents, in the restorer's one-step formulation."
    return OneStepRestorer(*small_restorer_components(seed, vae=vae))


AUTOENCODERS = {"taef2": load_tiny_autoencoder, "pixel_unshuffle": PixelUnshuffleAutoencoder}


def train(a) -> None:
    from diffusers.training_utils import EMAModel

    dev = a.device
    cfg = RestorerTrainConfig(
        model="small",
        hq_dir=a.hq_dir,
        size=256,
        batch=a.batch,
        steps=100000,
        w_lpips=0,
        w_gan=0,
        usm_target=False,
        workers=a.workers,
        degradation=DegradationConfig(scales=(1, 2, 4)),
        seed=0,
    )
    loader = iter(
        torch.utils.data.DataLoader(
            DegradedPairs(HQCrops(cfg.hq_dir, cfg.size), cfg, 0, 0, cfg.steps),
            batch_size=cfg.batch,
            num_workers=cfg.workers,
            worker_init_fn=one_thread_worker,
            persistent_workers=True,
        )
    )
    pool = PairPool(cfg.pool_size, seed=0)
    runs = {}
    for name, make in AUTOENCODERS.items():
        r = small_restorer(make()).to(dev)
        params = list(r.unet.parameters())
        runs[name] = dict(
            r=r, params=params, opt=torch.optim.Adam(params, lr=a.lr), ema=EMAModel(params, decay=0.999), mse=[]
        )
        runs[name]["ema"].to(dev)
    emb = runs["taef2"]["r"].text_embedding(batch=cfg.batch)
    start, step = time.time(), 0
    while time.time() - start < a.seconds:
        lq, target = (x.to(dev) for x in next(loader))
        lq, target = pool(lq, target)
        for run in runs.values():
            with torch.autocast("cuda", torch.bfloat16, enabled=dev == "cuda"):
                _, loss, parts = generator_losses(run["r"], run["r"].unet, None, None, lq, target, emb, cfg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(run["params"], 1.0)
            run["opt"].step()
            run["opt"].zero_grad(set_to_none=True)
            run["ema"].step(run["params"])
            run["mse"].append(parts["mse"].item())
        step += 1
        if step % 100 == 0:
            print(
                step,
                f"{time.time() - start:.0f} s",
                {n: round(float(np.mean(v["mse"][-100:])), 5) for n, v in runs.items()},
                flush=True,
            )
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, run in runs.items():
        run["ema"].copy_to(run["params"])
        save_file(
            {k: v.half().contiguous() for k, v in run["r"].unet.state_dict().items()},  # fp16: under $OUT's 16 MiB
            str(out / f"{name}_unet.safetensors"),
        )
    curves = {n: [float(np.mean(v["mse"][i : i + 100])) for i in range(0, len(v["mse"]), 100)] for n, v in runs.items()}
    info = dict(
        steps=step,
        seconds=time.time() - start,
        lr=a.lr,
        device=torch.cuda.get_device_name() if dev == "cuda" else dev,
        mse_per_100=curves,
    )
    (out / "train.json").write_text(json.dumps(info, indent=1))


def score(a) -> None:
    restorers = {"small (shipped)": load_restorer(weights=a.shipped)}
    for name, make in AUTOENCODERS.items():
        r = small_restorer(make())
        r.unet.load_state_dict(load_file(str(Path(a.runs) / f"{name}_unet.safetensors")))
        restorers[f"probe_{name}"] = r.eval()
    methods = ("lq", "classical", *restorers)
    rows = []
    paths = list(list_images(a.images).items())[: a.max_images]
    for i, (stem, path) in enumerate(paths):
        hq = load_image(path)
        hq = hq[:, : hq.shape[1] // 8 * 8, : hq.shape[2] // 8 * 8]
        for deg, lq in degraded_inputs(hq, i):
            outs = {"lq": lq, "classical": classical(lq)}
            with torch.no_grad():
                for name, r in restorers.items():
                    outs[name] = restore_image(r, lq, tile=512, min_side=0, color_fix=True)
            rows += [dict(image=stem, degradation=deg, method=m, **whole_image_scores(x, hq)) for m, x in outs.items()]
        print(f"{i + 1}/{len(paths)}", flush=True)
    means = mean_scores(rows, methods)
    train_info = json.loads((Path(a.runs) / "train.json").read_text())
    res = dict(images=a.images, n_images=len(paths), device="CPU (2 cores)", training=train_info, means=means)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(means, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--hq-dir", required=True)
    t.add_argument("--out-dir", required=True)
    t.add_argument("--seconds", type=float, default=420)
    t.add_argument("--workers", type=int, default=14)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--device", default="cuda")
    t.add_argument("--batch", type=int, default=32)
    s = sub.add_parser("score")
    s.add_argument("--images", required=True)
    s.add_argument("--runs", required=True)
    s.add_argument("--shipped", default="heritage_inpaint/data/weights/restorer_small/restorer_unet.safetensors")
    s.add_argument("--max-images", type=int, default=None)
    s.add_argument("--out", required=True)
    a = ap.parse_args()
    train(a) if a.cmd == "train" else score(a)


if __name__ == "__main__":
    main()
