import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from heritage_inpaint.dpo_data import PreferenceDataConfig, load_preference_clips, make_preference_data, verify_clip
from heritage_inpaint.dpo_train import DPOTrainConfig, reference_prediction, temporal_inconsistency, train_region_dpo
from heritage_inpaint.sd2 import build_sd2_pipeline
from heritage_inpaint.sd2_lora import LoraTrainConfig, prepare_trainable_unet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def prefs(tmp_path_factory):
    d = tmp_path_factory.mktemp("prefs")
    make_preference_data(PreferenceDataConfig(out_dir=str(d), n_clips=3, clip_len=3, size=64, steps=2))
    return d


def test_reference_is_the_frozen_base_model():
    base = build_sd2_pipeline("tiny", seed=0).unet
    tuned = build_sd2_pipeline("tiny", seed=0).unet
    prepare_trainable_unet(tuned, LoraTrainConfig(rank=4, alpha=8))
    with torch.no_grad():
        for n, p in tuned.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)  # the adapter now changes the output
    x, t, e = torch.randn(2, 9, 8, 8), torch.tensor([10, 500]), torch.randn(2, 77, 32)
    ref = reference_prediction(tuned, x, t, e)
    with torch.no_grad():
        torch.testing.assert_close(ref, base(x, t, e).sample)
        assert (tuned(x, t, e).sample - ref).abs().max() > 1e-3  # adapter re-enabled afterwards
    assert not ref.requires_grad
    names = [n for n, p in tuned.named_parameters() if p.requires_grad]
    assert names and all(any(f".{m}." in n for m in ("to_q", "to_k", "to_v", "to_out.0")) for n in names)
    assert not any("conv" in n for n in names)


def test_preference_pairs_differ_only_in_the_hole_and_resume(prefs):
    clips = load_preference_clips(prefs)
    kinds = [json.loads((c / "meta.json").read_text())["kind"] for c in clips]
    assert kinds == ["hallucination", "blur", "flicker"]
    (prefs / "clips" / ".tmp_clip_0009").mkdir(exist_ok=True)  # a partial clip left by a crash
    assert len(load_preference_clips(prefs)) == 3
    meta = json.loads((clips[0] / "meta.json").read_text())
    meta["files"].popitem()
    (clips[0] / "meta.json").write_text(json.dumps(meta))
    assert verify_clip(clips[0]) == "file list incomplete"
    with pytest.warns(UserWarning, match="clip_0000: skipped"):
        assert len(load_preference_clips(prefs)) == 2
    make_preference_data(PreferenceDataConfig(out_dir=str(prefs), n_clips=3, clip_len=3, size=64, steps=2))
    assert len(load_preference_clips(prefs)) == 3


def test_dpo_training_resumes_on_the_same_curve(prefs, tmp_path):
    kw = dict(data_dir=str(prefs), steps=4, lr=1e-3, beta=50.0, rho=(1.0, 2.0, 0.0), checkpoint_every=1)
    full = train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "a"), **kw))
    train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "b"), **{**kw, "steps": 2}))
    resumed = train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "b"), resume=True, **kw))
    np.testing.assert_allclose(
        [h["loss"] for h in resumed.history[2:]], [h["loss"] for h in full.history[2:]], rtol=1e-5
    )
    first = full.history[0]
    assert first["dgr"] == pytest.approx(50.0 / 2, rel=1e-3)  # s_region = 0 at step 1: DGR = β′/2
    assert len((tmp_path / "b" / "metrics.csv").read_text().splitlines()) == 5


def test_resume_after_a_crash_logs_each_step_once(prefs, tmp_path):
    import csv, shutil

    kw = dict(data_dir=str(prefs), out_dir=str(tmp_path), steps=3, lr=1e-3, beta=50.0, checkpoint_every=2)
    train_region_dpo(DPOTrainConfig(**kw))
    shutil.rmtree(tmp_path / "checkpoints" / "step_0000003")  # crash after step 3 was logged, before its checkpoint
    train_region_dpo(DPOTrainConfig(resume=True, **kw))  # resumes from step 2
    assert [int(r["step"]) for r in csv.DictReader((tmp_path / "metrics.csv").open())] == [1, 2, 3]


def test_temporal_inconsistency_sees_flicker():
    g = torch.rand(1, 3, 16, 16).repeat(5, 1, 1, 1)
    m = torch.zeros(5, 1, 16, 16)
    m[..., 4:12, 4:12] = 1
    steady = g.clone()
    steady[:, :, 4:12, 4:12] = 0.5
    flicker = steady.clone()
    flicker[1::2, :, 4:12, 4:12] = 0.9
    assert temporal_inconsistency(steady, g, m) == pytest.approx(0.0, abs=1e-7)
    assert temporal_inconsistency(flicker, g, m) == pytest.approx(0.4, rel=1e-5)


def test_papermill_train_dpo_with_integer_beta(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run(
        [
            str(Path(sys.executable).parent / "papermill"),
            str(ROOT / "nbs" / "train_dpo.ipynb"),
            str(tmp_path / "o.ipynb"),
            "--cwd",
            str(ROOT / "nbs"),
            "-p",
            "beta",
            "500",
            "-p",
            "out_dir",
            str(out),
            "-p",
            "steps",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    for f in ("run/lora_unet.safetensors", "run/metrics.csv", "curves.png", "before_after.png", "evaluation.csv"):
        assert (out / f).exists(), f


def test_dpo_two_processes_equal_one_process_with_the_same_global_batch(prefs, tmp_path):
    import socket
    from safetensors.torch import load_file

    script = tmp_path / "run.py"
    script.write_text(
        "import gc, sys\nimport accelerate\nfrom torch.nn.parallel import DistributedDataParallel as DDP\n"
        "from heritage_inpaint.dpo_train import DPOTrainConfig, train_region_dpo\n"
        "out, k, seed, fpp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\n"
        # how many DDP wrappers are alive when the process group is destroyed (must be 0: see finish_training)
        "_end = accelerate.Accelerator.end_training\n"
        "def end_training(self):\n"
        "    alive = sum(isinstance(o, DDP) for o in gc.get_objects())\n"
        "    open(f'{out}/ddp_alive.{self.process_index}', 'w').write(str(alive))\n"
        "    _end(self)\n"
        "accelerate.Accelerator.end_training = end_training\n"
        f"train_region_dpo(DPOTrainConfig(data_dir={str(prefs)!r}, out_dir=out, steps=3, lr=1e-3, beta=50.0, "
        "rho=(1.0, 2.0, 0.0), clips_per_step=k, seed=seed, checkpoint_every=10, frames_per_pass=fpp))\n"
    )

    def run(nproc, k, out, seed=0, frames_per_pass=0):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = subprocess.run(
            [
                str(Path(sys.executable).parent / "torchrun"),
                "--nproc_per_node",
                str(nproc),
                "--master_port",
                str(port),
                str(script),
                str(tmp_path / out),
                str(k),
                str(seed),
                str(frames_per_pass),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr[-3000:]
        return load_file(str(tmp_path / out / "lora_unet.safetensors"))

    # the two processes run their 3-frame clips in passes of 2 + 1 frames: gradients all-reduced after the last pass
    w2, w1, w3 = run(2, 1, "two", frames_per_pass=2), run(1, 2, "one"), run(1, 2, "other", seed=1)
    flat = lambda w: torch.cat([w[k].flatten() for k in sorted(w)])
    same, other = (flat(w1) - flat(w2)).norm().item(), (flat(w1) - flat(w3)).norm().item()
    assert same < 0.02 * other, (same, other)
    assert len((tmp_path / "two" / "metrics.csv").read_text().splitlines()) == 4  # written once, by the main process
    assert [(tmp_path / "two" / f"ddp_alive.{r}").read_text() for r in (0, 1)] == [
        "0",
        "0",
    ]  # no DDP left to free the group


def test_frames_in_passes_train_the_same_adapter(prefs, tmp_path):
    "Passes of one frame pair add up to the one-pass gradient: the same losses and the same LoRA after 3 steps."
    from safetensors.torch import load_file

    kw = dict(data_dir=str(prefs), steps=3, lr=1e-3, beta=50.0, rho=(1.0, 2.0, 0.0), checkpoint_every=3)
    whole = train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "whole"), **kw))
    passes = train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "passes"), frames_per_pass=1, **kw))
    np.testing.assert_allclose([h["loss"] for h in passes.history], [h["loss"] for h in whole.history], rtol=1e-5)
    a, b = load_file(str(whole.weights)), load_file(str(passes.weights))
    assert a.keys() == b.keys()
    # float32 sums in another order, which Adam turns into sign noise on the near-zero gradients: compare all at once
    wa, wb = (torch.cat([w[k].flatten() for k in sorted(a)]) for w in (a, b))
    assert (wb - wa).norm() <= 1e-2 * wa.norm()
    with pytest.raises(Exception, match="--frames-per-pass -1"):
        DPOTrainConfig(frames_per_pass=-1)


def test_frozen_weights_in_bf16_train_like_float32_frozen_weights(prefs, tmp_path):
    "cast_frozen_weights: the frozen UNet in bf16, the adapter in float32; under bf16 autocast the same curve."
    kw = dict(data_dir=str(prefs), steps=3, lr=1e-3, beta=50.0, rho=(1.0, 2.0, 0.0), mixed_precision="bf16")
    pipe = build_sd2_pipeline("tiny", seed=0)
    cast = train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "cast"), cast_frozen_weights=True, **kw), pipe=pipe)
    assert {p.dtype for p in pipe.unet.parameters() if p.requires_grad} == {torch.float32}
    assert {p.dtype for p in pipe.unet.parameters() if not p.requires_grad} == {torch.bfloat16}
    plain = train_region_dpo(DPOTrainConfig(out_dir=str(tmp_path / "plain"), **kw))
    np.testing.assert_allclose([h["loss"] for h in cast.history], [h["loss"] for h in plain.history], rtol=2e-2)
