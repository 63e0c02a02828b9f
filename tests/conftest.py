import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def photo():
    "A real photograph (float [3,H,W]) from the embedded samples, cropped for speed."
    from heritage_inpaint.io import load_image
    from heritage_inpaint.samples import sample_dir

    return load_image(sample_dir() / "images" / "chelsea.png")[:, :128, 100:260].contiguous()


def run_torchrun(nproc: int, args: list[str], timeout: int = 600):
    "Run `torchrun --nproc_per_node nproc <args>` on a free port (CPU processes, gloo); returns the CompletedProcess."
    import socket, subprocess, sys
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torchrun = Path(sys.executable).parent / "torchrun"
    return subprocess.run(
        [str(torchrun), "--nproc_per_node", str(nproc), "--master_port", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def torchrun():
    return run_torchrun
