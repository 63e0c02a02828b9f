"""Not a benchmark: a module of the package as an earlier commit had it, to time it beside today's code.

git show 3287294:heritage_inpaint/patch_network.py > /tmp/patch_network_round5.py
previous = load_previous("/tmp/patch_network_round5.py", "patch_network")
"""

import importlib.util, sys
from types import ModuleType


def load_previous(path: str, module: str) -> ModuleType:
    "The file `path` (an earlier `heritage_inpaint/<module>.py`) as a module of today's package, whose imports it uses."
    spec = importlib.util.spec_from_file_location(f"heritage_inpaint._previous_{module}", path)
    previous = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = previous  # dataclasses look their module up while the file runs
    spec.loader.exec_module(previous)
    return previous
