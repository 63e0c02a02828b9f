"""Issue 21: runs that succeed with a wrong result, or lose a user's files, are refused or fixed (each test failed on
the code before the fix)."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from heritage_inpaint.cli import main
from heritage_inpaint.io import InputError, save_image
from heritage_inpaint.sd2 import build_sd2_pipeline, load_lora
from heritage_inpaint.sd2_lora import LoraTrainConfig, train_lora


def _unet_probe(unet):
    "The UNet's output on a fixed random input (inpainting UNet: 9 channels)."
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, unet.config.in_channels, 8, 8, generator=g)
    emb = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
    with torch.no_grad():
        return unet(x, torch.tensor([500]), emb).sample


@pytest.fixture(scope="module")
def lora_alpha_4x(tmp_path_factory):
    "train-lora with rank 4 and alpha 16 (scale 4): the trained pipeline and the saved file."
    out = tmp_path_factory.mktemp("alpha")
    pipe = build_sd2_pipeline("tiny", seed=0)
    res = train_lora(
        LoraTrainConfig(out_dir=str(out), size=64, steps=3, accum=1, lr=3e-2, rank=4, alpha=16.0, checkpoint_every=10),
        pipe=pipe,
    )
    return pipe, res.weights


def test_reloaded_lora_acts_at_the_trained_strength_in_our_loader(lora_alpha_4x):
    trained, path = lora_alpha_4x
    want = _unet_probe(trained.unet)
    base = build_sd2_pipeline("tiny", seed=0)
    before = _unet_probe(base.unet)
    load_lora(base, path)
    got = _unet_probe(base.unet)
    assert (want - before).abs().max() > 1e-3  # the LoRA changes the output
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)  # ... by as much after reloading (scale 4, not 1)


def test_reloaded_lora_acts_at_the_trained_strength_in_plain_diffusers(lora_alpha_4x, tmp_path):
    from diffusers import StableDiffusionInpaintPipeline

    trained, path = lora_alpha_4x
    build_sd2_pipeline("tiny", seed=0).save_pretrained(tmp_path / "tiny")
    pipe = StableDiffusionInpaintPipeline.from_pretrained(
        str(tmp_path / "tiny"), safety_checker=None, requires_safety_checker=False
    )
    pipe.load_lora_weights(str(path.parent), weight_name=path.name)
    torch.testing.assert_close(_unet_probe(pipe.unet), _unet_probe(trained.unet), atol=1e-5, rtol=1e-4)


def test_restorer_lora_reloads_at_its_trained_strength(tmp_path):
    from heritage_inpaint.restorer import RestorerConfig, load_restorer
    from heritage_inpaint.restorer_train import RestorerTrainConfig, train_restorer

    r = load_restorer(RestorerConfig(rank=4, alpha=8.0), device="cpu")
    res = train_restorer(
        RestorerTrainConfig(
            out_dir=str(tmp_path),
            size=64,
            batch=1,
            steps=2,
            rank=4,
            alpha=8.0,
            lr_g=1e-2,
            pool_size=0,
            w_gan=0.0,
            ema_decay=0.0,
        ),
        restorer=r,
    )
    z = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        want = r.predict_clean_latent(z)  # ema_decay 0: the exported weights are the online ones
        r.unet.disable_adapters()
        base = r.predict_clean_latent(z)
        back = load_restorer(weights=res.weights, device="cpu")
        got = back.predict_clean_latent(z)
    assert (want - base).abs().max() > 1e-4
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def tiny_lora_run(out) -> list[str]:
    "A two-step train-lora command of the tiny preset, a checkpoint at every step."
    return "train-lora --model tiny --size 64 --steps 2 --accum 1 --rank 4 --checkpoint-every 1".split() + [
        "--out-dir",
        str(out),
    ]


def test_a_used_output_folder_is_not_taken_over(tmp_path, capsys):
    common = tiny_lora_run(tmp_path)
    assert main(common) == 0
    assert main([*common, "--seed", "7"]) == 2  # a new run refuses the old run's folder
    assert "not empty" in capsys.readouterr().err
    assert main([*common, "--rank", "8", "--resume"]) == 2  # a resume with other settings is refused, no traceback
    assert "rank=4 (now 8)" in capsys.readouterr().err
    assert main([*common, "--seed", "7", "--overwrite"]) == 0
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_0000001", "step_0000002"]


def test_every_checkpoint_corrupt_stops_the_resume(tmp_path, capsys):
    common = tiny_lora_run(tmp_path)
    assert main(common) == 0
    for ck in (tmp_path / "checkpoints").iterdir():
        f = ck / "trainable.safetensors"
        f.write_bytes(f.read_bytes()[:-16] + bytes(16))  # zeroed tensor bytes: still a valid file
    with pytest.warns(UserWarning, match="does not match its checksum"):
        assert main([*common, "--steps", "3", "--resume"]) == 2
    assert "none of the 2 checkpoints can be read" in capsys.readouterr().err


def test_restore_never_overwrites_its_inputs(tmp_path, capsys):
    save_image(torch.rand(3, 64, 80), tmp_path / "photo.png")
    before = (tmp_path / "photo.png").read_bytes()
    assert (
        main(
            ["restore", "--input", str(tmp_path), "--output-dir", str(tmp_path), "--model", "tiny", "--min-side", "64"]
        )
        == 2
    )
    assert "would overwrite" in capsys.readouterr().err
    assert (tmp_path / "photo.png").read_bytes() == before


def test_restore_refuses_weights_that_would_load_as_nothing(tmp_path, capsys, lora_alpha_4x):
    from heritage_inpaint.restorer import RestorerConfig, load_restorer
    from heritage_inpaint.lora_files import save_lora_file

    save_image(torch.rand(3, 64, 80), tmp_path / "in" / "photo.png")
    r = load_restorer(RestorerConfig(rank=4), device="cpu")
    good = save_lora_file(r.unet, tmp_path / "good.safetensors", "restorer")
    state = load_file(str(good))
    save_file({k.removeprefix("unet."): v for k, v in state.items()}, str(tmp_path / "no_prefix.safetensors"))
    save_file(
        {k.replace("down_blocks", "made_up_blocks"): v for k, v in state.items()}, str(tmp_path / "made_up.safetensors")
    )
    _, sd2_lora = lora_alpha_4x
    for name, needle in (
        ("no_prefix", "lack the model prefix"),
        ("made_up", "match a layer"),
        (sd2_lora, "SD2-inpainting LoRA"),
    ):
        path = name if isinstance(name, Path) else tmp_path / f"{name}.safetensors"
        assert (
            main(
                [
                    "restore",
                    "--input",
                    str(tmp_path / "in"),
                    "--out-dir",
                    str(tmp_path / "out"),
                    "--model",
                    "tiny",
                    "--weights",
                    str(path),
                    "--min-side",
                    "64",
                ]
            )
            == 2
        )
        assert needle in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_infer_refuses_a_restorer_lora_and_an_incomplete_one(tmp_path, capsys):
    from heritage_inpaint.restorer import RestorerConfig, load_restorer
    from heritage_inpaint.lora_files import save_lora_file

    r = load_restorer(RestorerConfig(rank=4), device="cpu")
    restorer_lora = save_lora_file(r.unet, tmp_path / "restorer_lora.safetensors", "restorer")
    pipe = build_sd2_pipeline("tiny")
    with pytest.raises(InputError, match="restorer LoRA"):
        load_lora(pipe, restorer_lora)
    save_file(
        {k: v for k, v in load_file(str(restorer_lora)).items() if "lora_A" in k}, str(tmp_path / "a_only.safetensors")
    )
    with pytest.raises(InputError, match="no lora_B partner"):
        load_lora(pipe, tmp_path / "a_only.safetensors")
    with pytest.raises(InputError, match="--lora-scale nan"):
        load_lora(pipe, restorer_lora, scale=float("nan"))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["infer", "--image", "a.png", "--mask", "m.png", "--out", "o.png", "--steps", "0"], "--steps 0"),
        (
            ["infer", "--image", "a.png", "--mask", "m.png", "--out", "o.png", "--lora-scale", "nan"],
            "'nan' is not a finite",
        ),
        (["restore", "--input", "x", "--out-dir", "y", "--upscale", "0"], "--upscale 0"),
        (["restore", "--input", "x", "--out-dir", "y", "--upscale", "nan"], "'nan' is not a finite"),
        (["restore", "--input", "x", "--out-dir", "y", "--tile", "abc"], "--tile abc"),
        (["train-restorer", "--size", "60", "--out-dir", "z"], "--size 60"),
        (
            ["infer", "--image", "missing.png", "--mask", "m.png", "--out", "o.png", "--model", "org/absent"],
            "missing.png",
        ),
    ],
)
def test_bad_values_are_one_line_and_exit_2(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_outputs_under_a_file_or_without_suffix_are_named(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["lightmap-render", "--time", "8", "--out", str(tmp_path / "file" / "f.png")]) == 2
    assert "file/f.png: cannot write there" in capsys.readouterr().err
    assert main(["lightmap-render", "--time", "8", "--out", str(tmp_path / "frame")]) == 2
    assert "unknown image format" in capsys.readouterr().err


def test_unknown_method_lists_the_learned_methods_too(capsys):
    assert main(["report", "--methods", "lama", "--out-dir", "unused"]) == 2
    err = capsys.readouterr().err
    assert "unknown method 'lama'" in err and "patch" in err and "sd2" in err


def test_weight_files_have_the_permissions_of_other_outputs(lora_alpha_4x, tmp_path):
    _, path = lora_alpha_4x
    (tmp_path / "plain").write_text("x")
    assert path.stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777
