"""Every command in the README runs as written: its flags exist and parse into a valid config (commands that need the
user's data or a GPU are checked that far), and the blocks marked `sh runnable` are run on a fresh clone."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from heritage_inpaint.cli import COMMANDS, build_parser, config_from_args

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def blocks() -> list[tuple[str, list[str]]]:
    "(info string, commands) of every fenced shell block, continuation lines joined, comments dropped."
    out = []
    for info, body in re.findall(r"```(sh[^\n]*)\n(.*?)```", (ROOT / "README.md").read_text(), re.S):
        text = body.replace("\\\n", " ")
        cmds = [re.split(r"\s+#\s", line)[0].strip() for line in text.splitlines()]
        out.append((info.strip(), [c for c in cmds if c]))
    return out


COMMAND_LINES = [c for _, cmds in blocks() for c in cmds]
RUNNABLE = [c for info, cmds in blocks() if "runnable" in info for c in cmds]


def notebook_parameters(path: Path) -> set[str]:
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    return {line.split(":")[0].strip() for line in "".join(cell["source"]).splitlines() if ":" in line.split("=")[0]}


def check_line(line: str) -> None:
    tokens = shlex.split(line.replace("[", " ").replace("]", " ").replace("|", " "))
    exe = Path(tokens[0]).name
    if exe == "make":
        targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M)
        assert tokens[1] in targets, line
        return
    if tokens[0].startswith(".venv/bin/"):
        assert (BIN / exe).exists(), f"{exe} is not installed in the project's environment: {line}"
    if exe == "papermill":
        assert (ROOT / tokens[1]).is_file(), line
        params = notebook_parameters(ROOT / tokens[1])
        names = [tokens[i + 1] for i, t in enumerate(tokens) if t == "-p"]
        assert set(names) <= params, f"{line}: {set(names) - params} are not parameters of {tokens[1]}"
        return
    if exe == "heritage-inpaint":
        args = tokens[1:]
    elif "heritage_inpaint" in tokens:  # accelerate launch / torchrun … -m heritage_inpaint <command> …
        args = tokens[tokens.index("heritage_inpaint") + 1 :]
    else:
        return  # jupyter nbconvert and the like
    command = args[0]
    assert command in COMMANDS, line
    parser, subs = build_parser(command)
    a = parser.parse_args(args)
    cls = {
        "report": "ReportConfig",
        "infer": "InferConfig",
        "train-lora": "LoraTrainConfig",
        "restore": "RestoreConfig",
        "train-restorer": "RestorerTrainConfig",
        "train-patch": "PatchTrainConfig",
        "train-dpo": "DPOTrainConfig",
        "lightmap-train": "LightmapTrainConfig",
        "lightmap-render": "LightmapRenderConfig",
    }.get(command)
    if cls:  # the flags build a valid config (its own checks run)
        import importlib

        module = {
            "ReportConfig": "report",
            "InferConfig": "sd2",
            "LoraTrainConfig": "sd2_lora",
            "RestoreConfig": "restorer",
            "RestorerTrainConfig": "restorer_train",
            "PatchTrainConfig": "patch_train",
            "DPOTrainConfig": "dpo_train",
            "LightmapTrainConfig": "lightmap_train",
            "LightmapRenderConfig": "lightmap_render",
        }[cls]
        config_from_args(getattr(importlib.import_module(f"heritage_inpaint.{module}"), cls), a)


@pytest.mark.parametrize("line", COMMAND_LINES)
def test_readme_command_parses(line):
    check_line(line)


@pytest.mark.parametrize("line", RUNNABLE)
def test_readme_runnable_command_runs(line):
    r = subprocess.run(line, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]


def test_there_are_runnable_commands():
    assert len(RUNNABLE) >= 3 and len(COMMAND_LINES) >= 20
