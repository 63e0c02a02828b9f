"""The papermill notebooks: each runs headless into a temporary folder (never into outputs/, which belongs to the
demo), and each parameter default is the default of the config field of the same name unless the notebook says
why it differs (a `smoke` comment: the notebooks default to a quick CPU run)."""

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {  # notebook: the config classes its parameters come from
    "report": ["heritage_inpaint.report:ReportConfig"],
    "restore_report": ["heritage_inpaint.restore_report:RestoreReportConfig"],
    "video_report": ["heritage_inpaint.video_report:VideoReportConfig"],
    "train_lora": ["heritage_inpaint.sd2_lora:LoraTrainConfig"],
    "train_dpo": ["heritage_inpaint.dpo_train:DPOTrainConfig"],
    "train_restorer": ["heritage_inpaint.restorer_train:RestorerTrainConfig"],
    "train_patch": ["heritage_inpaint.patch_train:PatchTrainConfig", "heritage_inpaint.patch_network:PatchNetConfig"],
    "train_lightmap": [
        "heritage_inpaint.lightmap_train:LightmapTrainConfig",
        "heritage_inpaint.lightmap_model:LightmapConfig",
    ],
    "ab_patch": [],
}


def parameters(name: str) -> dict[str, tuple[object, str]]:
    "name → (default, comment) of a notebook's `parameters` cell."
    nb = json.loads((ROOT / "nbs" / f"{name}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    out = {}
    for line in "".join(cell["source"]).splitlines():
        code, _, comment = line.partition("#")
        if "=" in code:
            node = ast.parse(code.strip()).body[0]
            out[node.target.id] = (ast.literal_eval(node.value), comment)
    return out


def config_defaults(specs: list[str]) -> dict[str, object]:
    import importlib

    out = {}
    for spec in specs:
        mod, cls = spec.split(":")
        for f in dataclasses.fields(getattr(importlib.import_module(mod), cls)):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            out.setdefault(f.name, default)
    return out


def same(notebook_value, config_value) -> bool:
    "Papermill takes literals: '' stands for None, 0 for None in counts, comma strings for tuples."
    if config_value is None:
        return notebook_value in ("", 0, None)
    if isinstance(config_value, str) and notebook_value == f"../{config_value}":
        return True  # the notebooks run in nbs/, the configs' paths are relative to the repository root
    if isinstance(config_value, tuple):
        text = ",".join(str(v) for v in config_value)
        return notebook_value == text or str(notebook_value).replace(" ", "") == text.replace(" ", "")
    return notebook_value == config_value


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_notebook_defaults_are_the_config_defaults(name):
    cfg = config_defaults(CONFIGS[name])
    wrong = [
        f"{k} = {v!r} (config: {cfg[k]!r})"
        for k, (v, comment) in parameters(name).items()
        if k in cfg and "smoke" not in comment and not same(v, cfg[k])
    ]
    assert not wrong, f"{name}.ipynb: " + "; ".join(wrong)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_notebook_runs_headless_into_its_own_folder(name, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run(
        [
            str(Path(sys.executable).parent / "papermill"),
            str(ROOT / "nbs" / f"{name}.ipynb"),
            str(tmp_path / "executed.ipynb"),
            "--cwd",
            str(ROOT / "nbs"),
            "-p",
            "out_dir",
            str(out),
            "--log-level",
            "WARNING",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.is_dir() and any(out.iterdir())
    if name == "report":  # the demo's page is this notebook's outputs as HTML: it stays within 3 MB (issue 20)
        assert (tmp_path / "executed.ipynb").stat().st_size < 3_000_000
