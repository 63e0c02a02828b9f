"""Issue 17: the library reads one way. Each module is exported from a numbered notebook; a module imports (at the
top or inside a function) only modules of its own or lower-numbered notebooks, so the data flow of the book is the
import graph and there is no circle."""

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "heritage_inpaint"


def chapters() -> dict[str, str]:
    "module name → its notebook's number (`00`, `01a`, `31a`, …)."
    out = {}
    for py in PKG.glob("*.py"):
        m = re.search(r"File to edit: \.\./nbs/(\d+[a-z]?)_", py.read_text()[:600])
        if m:
            out[py.stem] = m.group(1)
    return out


def imported(py: Path) -> set[str]:
    "The package modules `py` imports anywhere (relative or absolute)."
    names = set()
    for node in ast.walk(ast.parse(py.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1:
                names.add(mod.split(".")[0])
            elif mod.startswith("heritage_inpaint."):
                names.add(mod.split(".")[1])
            elif mod == "heritage_inpaint" or (node.level == 1 and not mod):
                names.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("heritage_inpaint."))
    return names


def test_every_import_points_down_the_book():
    number = chapters()
    assert {"io", "clips", "propagation", "dpo_data", "report", "cli"} <= set(number)
    upward = [
        f"{src} ({number[src]}) imports {dst} ({number[dst]})"
        for src in number
        for dst in imported(PKG / f"{src}.py")
        if dst in number and number[dst] > number[src]
    ]
    assert not upward, upward
