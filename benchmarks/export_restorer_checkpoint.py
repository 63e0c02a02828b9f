"""Export the newest checkpoint of a `small` restorer run as the shipped files (EMA weights, fp16).

    python benchmarks/export_restorer_checkpoint.py runs/small [--to DIR]

A run that is stopped (a GPU lease ends, a `timeout`) before its last step has checkpoints but no
`restorer_unet.safetensors`; this writes it from the newest readable checkpoint's EMA weights, with the run's
`restorer_config.json` beside it, so the result travels in one file of about 11 MB.
"""

import argparse
import shutil
from pathlib import Path

import torch
from diffusers.training_utils import EMAModel

from heritage_inpaint.restorer import load_restorer, saved_restorer_config
from heritage_inpaint.restorer_train import save_restorer_unet
from heritage_inpaint.training import checkpoint_dirs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--to", type=Path, default=None, help="output folder (default: the run folder)")
    a = ap.parse_args()
    to = a.to or a.run
    cfg = saved_restorer_config(a.run / "restorer_unet.safetensors")
    if cfg is None:
        raise SystemExit(f"{a.run}: no restorer_config.json (not a train-restorer run folder)")
    r = load_restorer(cfg, device="cpu")  # a small VAE of the run's own is found beside its config

    ck = checkpoint_dirs(a.run / "checkpoints")[-1]
    params = list(r.unet.parameters())
    ema = EMAModel(params)
    ema.load_state_dict(torch.load(ck / "extra.pt", map_location="cpu", weights_only=True)["ema"])
    ema.copy_to(params)
    out = save_restorer_unet(r.unet, to / "restorer_unet.safetensors")
    if to != a.run:
        shutil.copy(a.run / "restorer_config.json", to / "restorer_config.json")
        if cfg.autoencoder:
            shutil.copytree(cfg.autoencoder, to / "autoencoder", dirs_exist_ok=True)
    print(f"wrote {out} from {ck.name} (EMA weights)")


if __name__ == "__main__":
    main()
