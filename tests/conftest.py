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
