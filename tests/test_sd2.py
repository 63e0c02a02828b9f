import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from heritage_inpaint.cli import main
from heritage_inpaint.io import InputError, load_image, load_mask, save_image, save_mask
from heritage_inpaint.masks import random_mask
from heritage_inpaint.sd2 import SD2Inpainter, SD2Settings, build_sd2_pipeline, load_inpaint_pipeline, load_lora
from heritage_inpaint import sd2_lora
from heritage_inpaint.sd2_lora import LoraTrainConfig, inpaint_diffusion_loss, train_lora
from heritage_inpaint.training import TrainingDiverged


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny_sd2")
    build_sd2_pipeline("tiny", seed=0).save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def trained(tiny_dir, tmp_path_factory):
    "A LoRA and a partial fine-tune of the saved tiny pipeline, a few steps at a high lr so they change outputs."
    out = tmp_path_factory.mktemp("train")
    kw = dict(model=str(tiny_dir), size=64, batch=2, accum=1, steps=3, lr=3e-2, rank=4, checkpoint_every=10)
    lora = train_lora(LoraTrainConfig(out_dir=str(out / "lora"), **kw)).weights
    partial = train_lora(LoraTrainConfig(out_dir=str(out / "partial"), mode="partial", **{**kw, "lr": 1e-3})).weights
    return lora, partial


def _run_plain(pipe, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    m = np.zeros((64, 64), np.uint8)
    m[16:48, 16:48] = 255
    return pipe(
        prompt="",
        image=img,
        mask_image=Image.fromarray(m),
        height=64,
        width=64,
        num_inference_steps=2,
        generator=g,
        output_type="np",
    ).images[0]


def test_lora_file_loads_in_plain_diffusers_and_changes_output(tiny_dir, trained):
    from diffusers import StableDiffusionInpaintPipeline  # plain diffusers, none of our code below

    lora, _ = trained
    assert lora.name == "lora_unet.safetensors"
    pipe = StableDiffusionInpaintPipeline.from_pretrained(
        str(tiny_dir), safety_checker=None, requires_safety_checker=False
    )
    before = _run_plain(pipe)
    pipe.load_lora_weights(str(lora.parent), weight_name=lora.name)
    after = _run_plain(pipe)
    assert np.abs(after - before).max() > 1e-3
    assert all(k.startswith("unet.") for k in load_file(str(lora)))


def test_our_cli_lora_flag_loads_the_same_file(tiny_dir, trained):
    lora, partial = trained
    img = torch.rand(3, 48, 64)
    mk = torch.zeros(1, 48, 64)
    mk[:, 10:30, 10:40] = 1
    st = SD2Settings(size=64, steps=2)
    base = SD2Inpainter(model=str(tiny_dir), settings=st, device="cpu")(img, mk, seed=3)
    with_lora = SD2Inpainter(model=str(tiny_dir), settings=st, lora=str(lora), device="cpu")(img, mk, seed=3)
    half = SD2Inpainter(model=str(tiny_dir), settings=st, lora=str(lora), lora_scale=0.0, device="cpu")(img, mk, seed=3)
    with_partial = SD2Inpainter(model=str(tiny_dir), settings=st, lora=str(partial), device="cpu")(img, mk, seed=3)
    assert (with_lora - base).abs().max() > 1e-3 and (with_partial - base).abs().max() > 1e-3
    torch.testing.assert_close(half, base, atol=2 / 255, rtol=0)  # scale 0 switches the adapter off
    for out in (base, with_lora, with_partial):
        assert torch.equal(out[:, mk[0] == 0], img[:, mk[0] == 0])  # known pixels untouched


def test_partial_mode_trains_attention_projections_only(trained):
    _, partial = trained
    keys = list(load_file(str(partial)))
    assert keys and all(any(f".{m}." in k for m in ("to_q", "to_k", "to_v", "to_out.0")) for k in keys)


def test_bad_lora_files_are_named(tiny_dir, trained, tmp_path):
    lora, _ = trained
    pipe = load_inpaint_pipeline(str(tiny_dir), device="cpu")
    with pytest.raises(InputError, match="not found"):
        load_lora(pipe, tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.safetensors: not a readable"):
        load_lora(pipe, tmp_path / "junk.safetensors")
    save_file({"foo.weight": torch.zeros(2, 2)}, str(tmp_path / "wrong_keys.safetensors"))
    with pytest.raises(InputError, match="wrong_keys.safetensors.*do not match this UNet"):
        load_lora(pipe, tmp_path / "wrong_keys.safetensors")
    sd = {
        k: torch.zeros(v.shape[0] + 3, *v.shape[1:]) if "lora_B" in k or "lora.up" in k else v
        for k, v in load_file(str(lora)).items()
    }
    save_file(sd, str(tmp_path / "other_arch.safetensors"))
    with pytest.raises(InputError, match="other_arch.safetensors"):
        load_lora(pipe, tmp_path / "other_arch.safetensors")


def test_loss_targets_epsilon_and_v_prediction():
    from diffusers import DDPMScheduler

    class Zero(torch.nn.Module):
        def forward(self, x, t, emb):
            return type("O", (), {"sample": torch.zeros(x.shape[0], 4, *x.shape[-2:])})()

    lat = torch.randn(2, 4, 8, 8)
    ml = torch.randn(2, 4, 8, 8)
    mk = torch.ones(2, 1, 8, 8)
    for pt in ("epsilon", "v_prediction"):
        sch = DDPMScheduler(prediction_type=pt)
        g = torch.Generator().manual_seed(0)
        noise = torch.randn(lat.shape, generator=g)
        t = torch.randint(0, 1000, (2,), generator=g)
        loss = inpaint_diffusion_loss(Zero(), sch, lat, ml, mk, None, noise, t)
        target = noise if pt == "epsilon" else sch.get_velocity(lat, noise, t)
        assert loss.item() == pytest.approx(target.pow(2).mean().item(), rel=1e-6)


def test_nan_loss_stops_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(
        sd2_lora, "inpaint_diffusion_loss", lambda *a, **k: torch.tensor(float("nan"), requires_grad=True)
    )
    with pytest.raises(TrainingDiverged, match="at step 1"):
        train_lora(LoraTrainConfig(out_dir=str(tmp_path), size=64, steps=2, accum=1))


def test_corrupt_last_checkpoint_falls_back_to_previous(tmp_path):
    base = dict(
        size=64, accum=1, steps=4, lr=1e-3, rank=4, checkpoint_every=1, keep_checkpoints=3, out_dir=str(tmp_path)
    )
    full = train_lora(LoraTrainConfig(**base))
    (tmp_path / "checkpoints" / "step_0000004" / "trainable.safetensors").write_bytes(b"broken")
    with pytest.warns(UserWarning, match="step_0000004: checkpoint unreadable"):
        resumed = train_lora(LoraTrainConfig(resume=True, **base))
    assert resumed.start_step == 3
    np.testing.assert_allclose([h["loss"] for h in resumed.history], [h["loss"] for h in full.history], atol=1e-5)


def test_infer_cli_single_batch_and_errors(tiny_dir, tmp_path, capsys):
    img = torch.rand(3, 40, 56)
    save_image(img, tmp_path / "imgs" / "sub" / "a.png")
    save_image(img, tmp_path / "imgs" / "b.png")
    m = random_mask(40, 56, "box", seed=1)
    save_mask(m, tmp_path / "masks_inverted" / "a.png", mask_mode="white")
    common = [
        "--model",
        str(tiny_dir),
        "--size",
        "64",
        "--steps",
        "2",
        "--rows",
        "3",
        "--seed",
        "1234",
        "--mask_mode",
        "white",
        "--collage_spacing_h",
        "5",
        "--collage_spacing_v",
        "7",
        "--scheduler",
        "euler_a",
        "--negative_prompt",
        "blurry",
    ]
    assert (
        main(
            [
                "infer",
                "--image",
                str(tmp_path / "imgs/sub/a.png"),
                "--mask",
                str(tmp_path / "masks_inverted/a.png"),
                "--output",
                str(tmp_path / "single.png"),
                *common,
            ]
        )
        == 0
    )
    assert load_image(tmp_path / "single.png").shape == (3, 3 * 40 + 2 * 7, 3 * 56 + 2 * 5)
    # batch: b.png has no mask -> refused with the list, unless --skip_unmatched
    batch = ["infer", "--batch_imgs_dir", str(tmp_path / "imgs"), "--batch_masks_dir", str(tmp_path / "masks_inverted")]
    batch += ["--output_dir", str(tmp_path / "out"), *common]
    assert main(batch) == 2
    assert "b.png" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="images without masks"):
        assert main([*batch, "--skip_unmatched"]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a_collage.png"]
    assert main(["infer", "--image", "x.png", "--mask", "y.png", "--out", "o.png", "--model", "org/absent-model"]) == 2
    assert "x.png: file not found" in capsys.readouterr().err  # the cheap check comes before the model
    a, m = str(tmp_path / "imgs/sub/a.png"), str(tmp_path / "masks_inverted/a.png")
    assert main(["infer", "--image", a, "--mask", m, "--out", "o.png", "--model", "org/absent-model"]) == 2
    err = capsys.readouterr().err
    assert "org/absent-model" in err and "--model tiny" in err


def test_mask_of_another_aspect_ratio_is_refused(tmp_path):
    m = np.zeros((40, 40), np.uint8)
    m[:, 20:] = 255
    Image.fromarray(m).save(tmp_path / "m.png")
    with pytest.raises(InputError, match="aspect ratios differ"):
        load_mask(tmp_path / "m.png", size=(40, 80))
    assert load_mask(tmp_path / "m.png", size=(80, 80)).shape == (1, 80, 80)  # same aspect: nearest resize


def test_report_compares_classical_and_sd2(tmp_path):
    from heritage_inpaint.report import ReportConfig, run_report

    res = run_report(ReportConfig(methods=("telea", "sd2"), out_dir=str(tmp_path), max_images=1))
    assert list(res.means.method) == ["telea", "sd2"] and (tmp_path / "results" / "sd2").is_dir()


def test_two_processes_equal_one_process_with_the_same_global_batch(tmp_path, torchrun):
    common = [
        "-m",
        "heritage_inpaint",
        "train-lora",
        "--model",
        "tiny",
        "--size",
        "64",
        "--steps",
        "3",
        "--accum",
        "1",
        "--lr",
        "1e-3",
        "--rank",
        "4",
        "--checkpoint_every",
        "2",
    ]
    r2 = torchrun(2, [*common, "--batch", "1", "--out", str(tmp_path / "two")])
    r1 = torchrun(1, [*common, "--batch", "2", "--out", str(tmp_path / "one")])
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr[-2000:], r2.stderr[-2000:])
    w1, w2 = (
        load_file(str(tmp_path / "one" / "lora_unet.safetensors")),
        load_file(str(tmp_path / "two" / "lora_unet.safetensors")),
    )
    assert w1.keys() == w2.keys()
    moved = max((w1[k] - torch.zeros_like(w1[k])).abs().max().item() for k in w1 if "lora_B" in k or "lora.up" in k)
    assert moved > 1e-4  # training did change the adapter
    r3 = torchrun(1, [*common, "--batch", "2", "--seed", "1", "--out", str(tmp_path / "other_seed")])
    assert r3.returncode == 0, r3.stderr[-2000:]
    w3 = load_file(str(tmp_path / "other_seed" / "lora_unet.safetensors"))
    flat = lambda w: torch.cat([w[k].flatten() for k in sorted(w)])
    same, other = (flat(w1) - flat(w2)).norm().item(), (flat(w1) - flat(w3)).norm().item()
    # Adam can flip the sign of a near-zero entry's update on float noise, so compare whole runs, not elements:
    # 1×2 vs 2×1 processes must be far closer than two runs with different seeds.
    assert same < 0.02 * other, (same, other)
    # resume the 2-process run with 1 process: it continues from step 3 (its last checkpoint) and runs to step 4
    r = torchrun(
        1,
        [
            *common[:-2],
            "--checkpoint_every",
            "2",
            "--steps",
            "4",
            "--batch",
            "2",
            "--out",
            str(tmp_path / "two"),
            "--resume",
        ],
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir())[-1] == "step_0000004"


def test_lora_trainer_runs_as_two_processes(tmp_path, torchrun):
    "torchrun with 2 CPU processes (gloo): one process group, one writer, loss averaged over processes."
    args = [
        "-m",
        "heritage_inpaint",
        "train-lora",
        "--model",
        "tiny",
        "--size",
        "64",
        "--steps",
        "2",
        "--accum",
        "1",
        "--checkpoint_every",
        "2",
    ]
    r = torchrun(2, [*args, "--out", str(tmp_path / "mp")], timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("wrote ") == 1 and (tmp_path / "mp" / "lora_unet.safetensors").exists()
    assert [p.name for p in (tmp_path / "mp" / "checkpoints").iterdir()] == ["step_0000002"]
    single = train_lora(
        LoraTrainConfig(model="tiny", size=64, steps=2, accum=1, checkpoint_every=2, out_dir=str(tmp_path / "sp"))
    )
    mp_loss = float(r.stdout.split("final loss ")[1].split(")")[0])
    assert abs(mp_loss - single.history[-1]["loss"]) > 1e-4  # the second process saw other batches
