"Fail loudly if the environment holds packages that break this project on a CPU machine (torchvision, CUDA wheels)."

import sys
from importlib.metadata import distributions

names = sorted({(d.metadata["Name"] or "").lower() for d in distributions()})
bad = [n for n in names if n == "torchvision" or n.startswith("nvidia-") or n in ("lpips", "piq", "pyiqa")]
if bad:
    sys.exit(
        "error: these packages must not be installed (torchvision breaks the diffusers/transformers/torchmetrics "
        "imports on the CPU torch; nvidia-* means a CUDA torch was resolved — install with -c constraints.txt): "
        + ", ".join(bad)
    )
import torch

if torch.version.cuda is not None and not torch.cuda.is_available():
    print(f"warning: torch {torch.__version__} is a CUDA build on a machine without a GPU", file=sys.stderr)
print(f"environment ok: torch {torch.__version__}, no torchvision, no nvidia-* packages")
