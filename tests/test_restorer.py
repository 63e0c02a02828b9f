"The one-step restorer: it learns, its weights load in plain diffusers, EMA lags, tiling is seam-free, colour is kept."

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from heritage_inpaint.cli import main
from heritage_inpaint.colorfix import wavelet_decompose
from heritage_inpaint.io import InputError, load_image
from heritage_inpaint.restorer import (
    RestorerConfig,
    fuse_lora,
    load_restorer,
    restore_image,
    restore_path,
)
from heritage_inpaint.restorer_train import RestorerTrainConfig, train_restorer
from heritage_inpaint.tiling import seam_score, tile_boundaries, tiled_apply


SMALL_RUN = dict(
    size=64, batch=2, steps=6, rank=4, lr_g=1e-3, lr_d=1e-3, pool_size=4, checkpoint_every=3, image_every=3
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("restorer")
    res = train_restorer(RestorerTrainConfig(out_dir=str(out), **SMALL_RUN))
    return out, res


def test_lora_alone_fits_the_target_latent_tenfold():
    "(1) tiny preset, one batch, LoRA only: |z0_pred - z_target| falls at least 10x within 300 steps."
    torch.manual_seed(0)
    r = load_restorer(RestorerConfig(rank=16), device="cpu")
    params = [p for n, p in r.unet.named_parameters() if p.requires_grad]
    assert params and all("lora_" in n for n, p in r.unet.named_parameters() if p.requires_grad)
    hq = torch.nn.functional.avg_pool2d(torch.rand(2, 3, 64, 64), 5, 1, 2)
    lq = torch.nn.functional.avg_pool2d(hq, 9, 1, 4)
    with torch.no_grad():
        z_lq, z_hq = r.encode(lq * 2 - 1), r.encode(hq * 2 - 1)
    opt = torch.optim.Adam(params, lr=2e-3)
    err = lambda: (r.predict_clean_latent(z_lq) - z_hq).pow(2).mean()
    with torch.no_grad():
        first = err().item()
    for step in range(300):
        loss = err()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if loss.item() < first / 10:
            break
    with torch.no_grad():
        last = err().item()
    assert last < first / 10, (first, last, step)
    assert not any(p.requires_grad for n, p in r.vae.named_parameters())


def test_saved_lora_loads_in_plain_diffusers_and_changes_output(trained, tmp_path, recwarn):
    "(2) restorer_lora.safetensors on a plain UNet2DConditionModel, none of our code."
    out, res = trained
    r = load_restorer(RestorerConfig(rank=0), device="cpu")
    r.unet.save_pretrained(tmp_path / "unet")
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(tmp_path / "unet")
    z, t, emb = torch.randn(1, 4, 8, 8), torch.tensor([200]), torch.randn(1, 77, 32)
    with torch.no_grad():
        before = unet(z, t, encoder_hidden_states=emb).sample
    unet.load_lora_adapter(str(out), weight_name="restorer_lora.safetensors", prefix="unet", adapter_name="restorer")
    with torch.no_grad():
        after = unet(z, t, encoder_hidden_states=emb).sample
    assert (after - before).abs().max() > 1e-4
    # every HYPIR target kind got an adapter
    names = {n.split(".lora_A")[0].rsplit(".", 1)[-1] for n, _ in unet.named_parameters() if "lora_A" in n}
    assert {
        "to_k",
        "to_q",
        "to_v",
        "0",
        "conv1",
        "conv2",
        "conv",
        "proj_in",
        "proj_out",
        "conv_out",
        "proj",
        "2",
    } <= names, names
    assert not [w for w in recwarn if "inconsistency" in str(w.message)]  # nothing in the file was dropped
    assert json.loads((out / "restorer_config.json").read_text())["timestep"] == 200


def test_ema_lags_online_weights(trained):
    "(3) after training, EMA LoRA weights sit between the initial (B=0) and the online weights."
    out, res = trained
    ema = res.extra["ema"]
    r = load_restorer(RestorerConfig(rank=4), device="cpu")
    names = [n for n, p in r.unet.named_parameters() if "lora_" in n]
    ckpt = sorted((out / "checkpoints").glob("step_*"))[-1]
    from safetensors.torch import load_file

    online = load_file(str(ckpt / "trainable.safetensors"))
    b_names = [n for n in names if "lora_B" in n]
    shadow = dict(zip(names, ema.shadow_params))
    on = torch.cat([online[n].flatten() for n in b_names])
    em = torch.cat([shadow[n].flatten().cpu() for n in b_names])
    assert on.norm() > 0 and 0 < em.norm() < on.norm()
    assert (on - em).norm() > 1e-6


def test_tiling_small_image_identical_and_large_image_seam_free():
    "(4) one tile: tiled == untiled exactly; many tiles: seam score at the interior level (hard tiles show seams)."
    torch.manual_seed(0)
    r = load_restorer(RestorerConfig(rank=0), device="cpu")
    img = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 96, 120), 5, 1, 2)[0]
    assert torch.equal(restore_image(r, img, tile=512, min_side=0), restore_image(r, img, tile=None, min_side=0))
    # a large latent decoded in 8x8-latent tiles (64 px), stride 4 latents (32 px)
    z = torch.nn.functional.avg_pool2d(torch.randn(1, 4, 40, 40), 3, 1, 1) * 3
    with torch.no_grad():
        tiled = tiled_apply(r.decode, z, 8, 4, scale=8)
        hard = torch.cat(
            [torch.cat([r.decode(z[..., y : y + 8, x : x + 8]) for x in range(0, 40, 8)], -1) for y in range(0, 40, 8)],
            -2,
        )
    b = tile_boundaries(320, 64, 32)
    smooth, seams = seam_score(tiled, b, b), seam_score(hard, list(range(64, 320, 64)), list(range(64, 320, 64)))
    # the random tiny decoder's output is noise-like, which hides seams partly; measured 0.96 vs 1.22
    assert smooth < 1.05 and seams > 1.15, (smooth, seams)


def test_color_fix_keeps_the_input_low_band():
    "(5) low-frequency band of the output == the (upscaled) input's; without the fix it is not."
    r = load_restorer(RestorerConfig(rank=0), device="cpu")
    img = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 128, 128), 9, 1, 4)[0] * 0.6 + 0.2
    fixed, raw = restore_image(r, img, min_side=0), restore_image(r, img, min_side=0, color_fix=False)
    low = lambda x: wavelet_decompose(x[None], 5)[1]
    assert (low(fixed) - low(img)).abs().mean() < 0.01 < (low(raw) - low(img)).abs().mean()


def test_fused_lora_equals_unfused_and_bad_weights_are_named(trained, tmp_path):
    out, _ = trained
    img = torch.rand(3, 64, 64)
    r = load_restorer(RestorerConfig(rank=0), device="cpu", weights=out / "restorer_lora.safetensors")
    unfused = restore_image(r, img, min_side=0)
    assert (restore_image(fuse_lora(r), img, min_side=0) - unfused).abs().max() < 1e-3
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError, match="bad.safetensors"):
        load_restorer(RestorerConfig(rank=0), device="cpu", weights=bad)
    with pytest.raises(InputError, match="not found"):
        load_restorer(RestorerConfig(rank=0), device="cpu", weights=tmp_path / "x.safetensors")


def test_bad_inputs_are_named_and_converted(tmp_path, caplog):
    r = load_restorer(RestorerConfig(rank=0), device="cpu")
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray((np.random.rand(70, 90, 4) * 255).astype(np.uint8), "RGBA").save(src / "rgba.png")
    Image.fromarray((np.random.rand(70, 90) * 65535).astype(np.uint16)).save(src / "deep.png")
    Image.fromarray((np.random.rand(40, 90, 3) * 255).astype(np.uint8)).save(src / "tiny.png")
    (src / "corrupt.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with caplog.at_level("WARNING"), pytest.raises(InputError) as e:
        restore_path(r, src, tmp_path / "out", min_side=0)
    msg = str(e.value)
    assert "tiny.png" in msg and "64 px" in msg and "corrupt.jpg" in msg and "2 of 4" in msg
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["deep.png", "rgba.png"]
    assert "alpha composited" in caplog.text and "16-bit" in caplog.text


def test_nan_loss_skips_the_step(tmp_path, monkeypatch):
    from heritage_inpaint import restorer_train

    real = restorer_train.generator_losses
    calls = {"n": 0}

    def flaky(*a, **k):
        x, loss, parts = real(*a, **k)
        calls["n"] += 1
        return (x, loss * float("nan"), parts) if calls["n"] == 2 else (x, loss, parts)

    monkeypatch.setattr(restorer_train, "generator_losses", flaky)
    with pytest.warns(UserWarning, match="step 2: non-finite"):
        res = train_restorer(
            RestorerTrainConfig(
                out_dir=str(tmp_path), size=64, batch=1, steps=3, rank=4, pool_size=0, checkpoint_every=3, w_gan=0.0
            )
        )
    assert res.skipped == 1 and [h["step"] for h in res.history] == [1, 3]


def test_corrupt_last_checkpoint_falls_back(trained, tmp_path):
    import shutil

    out, _ = trained
    run = tmp_path / "run"
    shutil.copytree(out, run)
    ckpts = sorted((run / "checkpoints").glob("step_*"))
    (ckpts[-1] / "trainable.safetensors").write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="unreadable"):
        res = train_restorer(RestorerTrainConfig(out_dir=str(run), resume=True, **SMALL_RUN))
    assert res.start_step == 3 and [h["step"] for h in res.history] == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow
def test_restorer_two_processes_equal_one_process(tmp_path, torchrun):
    "2 processes x batch 1 == 1 process x batch 2 (pool off); one writer; resume with another process count (CPUs)."
    from safetensors.torch import load_file

    common = [
        "-m",
        "heritage_inpaint",
        "train-restorer",
        "--size",
        "64",
        "--steps",
        "3",
        "--rank",
        "4",
        "--lr-g",
        "1e-3",
        "--lr-d",
        "1e-3",
        "--pool-size",
        "0",
        "--checkpoint-every",
        "2",
    ]
    r2 = torchrun(2, [*common, "--batch", "1", "--out-dir", str(tmp_path / "two")])
    r1 = torchrun(1, [*common, "--batch", "2", "--out-dir", str(tmp_path / "one")])
    r3 = torchrun(1, [*common, "--batch", "2", "--seed", "1", "--out-dir", str(tmp_path / "other")])
    assert r1.returncode == 0 and r2.returncode == 0 and r3.returncode == 0, (
        r1.stderr[-2000:],
        r2.stderr[-2000:],
        r3.stderr[-2000:],
    )
    assert r2.stdout.count("wrote ") == 1
    w = {k: load_file(str(tmp_path / k / "restorer_lora.safetensors")) for k in ("one", "two", "other")}
    flat = lambda d: torch.cat([d[k].flatten() for k in sorted(d)])
    same, other = (flat(w["one"]) - flat(w["two"])).norm().item(), (flat(w["one"]) - flat(w["other"])).norm().item()
    assert same < 0.05 * other, (same, other)
    r = torchrun(
        1,
        [
            *common[:-2],
            "--checkpoint-every",
            "2",
            "--steps",
            "4",
            "--batch",
            "2",
            "--out-dir",
            str(tmp_path / "two"),
            "--resume",
        ],
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir())[-1] == "step_0000004"


def test_shipped_small_restorer_restores_a_degraded_sample():
    "Issue 18: the shipped `small` weights, offline, on an embedded photograph degraded with the x4plus chain."
    from heritage_inpaint.degradations import degrade
    from heritage_inpaint.metrics import lpips, psnr
    from heritage_inpaint.restorer import default_small_restorer_weights, optimize_restorer
    from heritage_inpaint.samples import sample_dir

    r = optimize_restorer(load_restorer(weights=default_small_restorer_weights(), device="cpu"))
    assert r.timestep == 200 and r.text_encoder is None  # the config beside the weights was read
    hq = load_image(sample_dir() / "images" / "coffee.png")[:, :256, :256]
    lq = degrade(hq[None], seed=0)[0]
    out = restore_image(r, lq, tile=None, min_side=0)
    # measured with the round-9 weights: LPIPS 0.696 → 0.526, PSNR 21.16 → 21.98 dB (round 8: 0.502, 22.00)

    assert lpips(out, hq).item() < lpips(lq, hq).item() - 0.15
    assert psnr(out, hq).item() > psnr(lq, hq).item() + 0.4


def test_restore_runs_offline_with_the_shipped_model_and_names_a_wrong_config(tmp_path, capsys):
    import shutil

    from heritage_inpaint.io import save_image
    from heritage_inpaint.restorer import default_small_restorer_weights

    save_image(
        load_image(Path(__file__).parents[1] / "heritage_inpaint/data/samples/images/coffee.png")[:, :96, :128],
        tmp_path / "in" / "cup.png",
    )
    assert main(["restore", "--input", str(tmp_path / "in"), "--out-dir", str(tmp_path / "out")]) == 0
    assert load_image(tmp_path / "out" / "cup.png").shape == (3, 96, 128)
    w = tmp_path / "w" / "restorer_unet.safetensors"
    w.parent.mkdir()
    shutil.copy(default_small_restorer_weights(), w)
    unet_config = {"layers_per_block": 1, "in_channels": 32, "out_channels": 32}
    (w.parent / "restorer_config.json").write_text(json.dumps({"model": "small", "unet_config": unet_config}))

    assert (
        main(["restore", "--input", str(tmp_path / "in"), "--out-dir", str(tmp_path / "o2"), "--weights", str(w)]) == 2
    )
    assert "weights do not match the UNet of its restorer_config.json" in capsys.readouterr().err
    (w.parent / "restorer_config.json").write_text(json.dumps({"model": "small", "unet_config": {"in_channels": 4}}))
    argv = ["restore", "--input", str(tmp_path / "in"), "--out-dir", str(tmp_path / "o3"), "--weights", str(w)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "restorer_config.json: the small UNet reads 4 latent channels, its autoencoder writes 32" in err


def test_fine_tuning_starts_from_the_shipped_small_weights(tmp_path):
    "With --init-weights and a zero learning rate the exported EMA weights are the shipped ones, bit for bit."
    from heritage_inpaint.lora_files import read_safetensors
    from heritage_inpaint.restorer import default_small_restorer_weights

    shipped = default_small_restorer_weights()
    kw = dict(model="small", size=64, batch=2, steps=2, lr_g=0.0, w_gan=0.0, lpips_net="alex", pool_size=0)
    res = train_restorer(RestorerTrainConfig(out_dir=str(tmp_path / "a"), init_weights=str(shipped), **kw))
    want, got = read_safetensors(shipped)[0], read_safetensors(res.weights)[0]
    assert want.keys() == got.keys()
    assert all(torch.equal(got[k].to(want[k].dtype), want[k]) for k in want)
    fresh = train_restorer(RestorerTrainConfig(out_dir=str(tmp_path / "b"), **kw))  # random init, same run otherwise
    assert not torch.equal(read_safetensors(fresh.weights)[0]["conv_in.weight"].half(), want["conv_in.weight"].half())
    with pytest.raises(InputError, match="missing.safetensors: --init-weights not found"):
        train_restorer(
            RestorerTrainConfig(out_dir=str(tmp_path / "c"), init_weights=str(tmp_path / "missing.safetensors"))
        )
    assert not (tmp_path / "c").exists()  # refused before the run takes its folder
