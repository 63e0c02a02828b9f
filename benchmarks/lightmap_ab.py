"""Lightmap A/B on rendered days: sun-aware time and keyframes against the blends of stored frames.

Two phases, so the GPU only trains and times:
python benchmarks/lightmap_ab.py train --data-dir <day> --val-hours 3,7,10,15,18,21 --keyframes 0,6,12,19 \
    --select-hours 7,10,15,18 --runs-dir <dir> --weights-out <dir> --out <train.json> --epochs 300
python benchmarks/lightmap_ab.py train --timing-only ... (the same day, hours and --weights-out): quiet 1080p timings
python benchmarks/lightmap_ab.py train --skip-timing ... : the same without the 1080p timings (untrained rows on a CPU)
python benchmarks/lightmap_ab.py evaluate --data-dir <day> --train-json <train.json> --weights-dir <dir> \
    --out benchmarks/results/lightmap_ab.json --day <name>
`--ab light` (issue 15, round 7): every stored hour a keyframe shipped as WebP (`--keyframe-codec webp`), the
configurations of `light_blend_ab` (the light-matched blend alone, and with a leave-one-out correction; the clock's
blend with the same correction); write `--out` of `evaluate` to its own JSON (`lightmap_light_blend.json`).
`train`: every configuration of `sun_keyframe_ab` (the encoder + FiLM model, each sun / keyframe / gain switch alone
on it, all together) with the same day, epochs, seed and held-out hours; training seconds, the 1920x1080 frame time
(eager fp32 `render_frame` vs `LightmapRenderer`, fused Triton kernel on CUDA) and its max difference, and each
configuration's best weights. `evaluate` (any device): PSNR / SSIM / LPIPS per held-out hour at full resolution and
area-downsampled by 2, means over the daylight + twilight hours and over the night hours apart (night: the sun below
-6 degrees), the stored bytes of every model, the full-storage blend and a blend compressed to each model's bytes,
and the issue's goals for the best configuration.
"""

import argparse, json, shutil, statistics, time
from dataclasses import asdict
from pathlib import Path

import torch

from heritage_inpaint.lightmap_model import load_lightmap, read_sun_table, render_frame
from heritage_inpaint.lightmap_render import LightmapRenderer
from heritage_inpaint.lightmap_train import (
    DayData,
    LightmapTrainConfig,
    ab_config,
    blend_metrics,
    encoded_keyframes,
    equal_bytes_blend_metrics,
    held_out_metrics,
    mean_metrics,
    png_bytes,
    light_blend_ab,
    storage_bytes,
    sun_keyframe_ab,
    train_lightmap,
)
from lightmap_render import timed_ms  # benchmarks/ is the script's directory

METRICS = ("psnr", "ssim", "lpips")


def hours(text: str) -> tuple:
    return tuple(int(h) for h in text.split(","))


TIMES = ("render_1080p_eager_fp32_ms", "render_1080p_fast_ms", "fast_backend", "fast_max_abs_err")


def frame_times(m, stored, cuda: bool, reps: int) -> tuple[dict, LightmapRenderer]:
    "The `TIMES` of a 1920x1080 frame at 18:30 (eager fp32 against the renderer, `reps` calls) + the renderer."
    rend = LightmapRenderer(m, stored, 1080, 1920)
    times = {
        "render_1080p_eager_fp32_ms": timed_ms(lambda: render_frame(m, 18.5, 1080, 1920, stored), reps=5, cuda=cuda),
        "render_1080p_fast_ms": timed_ms(lambda: rend.render(18.5, copy=False), reps=reps, cuda=cuda),
        "fast_backend": rend.backend,
        "fast_max_abs_err": max(
            (rend.render(h).float() - render_frame(m, h, 1080, 1920, stored)).abs().max().item() for h in (7.5, 18.5)
        ),
    }
    return times, rend


def train(a):
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = dev == "cuda"
    base = LightmapTrainConfig(
        data_dir=a.data_dir,
        out_dir=a.runs_dir,
        epochs=a.epochs,
        val_every=a.val_every,
        val_hours=hours(a.val_hours),
        val_select_hours=hours(a.select_hours) if a.select_hours else (),
        overwrite=True,
        keyframe_codec=a.keyframe_codec,
        keyframe_quality=a.keyframe_quality,
    )
    ab = light_blend_ab(hours(a.keyframes)) if a.ab == "light" else sun_keyframe_ab(hours(a.keyframes))
    day = DayData(a.data_dir, base.val_hours)
    rows = []
    out = Path(a.weights_out)
    out.mkdir(parents=True, exist_ok=True)
    for name in a.configs.split(",") if a.configs else ab:
        cfg = ab_config(base, name, ab[name])
        t0 = time.perf_counter()
        r = train_lightmap(cfg)
        train_s = time.perf_counter() - t0
        m = load_lightmap(r.weights, dev)
        stored = day.frames_at(m.cfg.key_hours).to(dev)
        times = dict.fromkeys(TIMES) if a.skip_timing else frame_times(m, stored, cuda, reps=50)[0]
        for suf in (".safetensors", ".json"):
            shutil.copy(Path(r.weights).with_suffix(suf), out / f"{name}{suf}")
        row = {
            "config": name,
            "best_epoch": json.loads(Path(r.weights).with_suffix(".json").read_text())["epoch"],
            "train_seconds": round(train_s, 1),
            "params": sum(p.numel() for p in m.parameters()),
            **times,
            "train": {k: v for k, v in asdict(cfg).items() if k != "model"},
            "model": {k: v for k, v in asdict(m.cfg).items() if k != "sun_table"},
        }
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("train", "model")}), flush=True)
        Path(a.out).write_text(
            json.dumps(
                {
                    "device": torch.cuda.get_device_name() if cuda else "cpu",
                    "torch": torch.__version__,
                    "data_dir": a.data_dir,
                    "epochs": a.epochs,
                    "keyframes": hours(a.keyframes),
                    "rows": rows,
                },
                indent=1,
            )
        )


def timing(a):
    "1080p frame times of every model in --weights-out, one process alone on its GPU (the training runs share it)."
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = dev == "cuda"
    rows = {}
    day = DayData(a.data_dir, hours(a.val_hours))
    for w in sorted(Path(a.weights_out).glob("*.safetensors")):
        m = load_lightmap(w, dev)
        stored = day.frames_at(m.cfg.key_hours).to(dev)
        rows[w.stem], rend = frame_times(m, stored, cuda, reps=100)
        # a time not rendered before pays its folding (and, with light_blend, its blend of two keyframes) once
        fresh = [
            timed_ms(lambda h=h: rend.render(h, copy=False), reps=1, warmup=0, cuda=cuda)  # one call: a new time
            for h in (0.25 + 0.5 * i for i in range(24))
        ]
        rows[w.stem]["render_1080p_new_hour_ms"] = statistics.median(fresh)
        print(w.stem, json.dumps(rows[w.stem]), flush=True)
    Path(a.out).write_text(
        json.dumps({"device": torch.cuda.get_device_name() if cuda else "cpu", "rows": rows}, indent=1)
    )


def grouped(m: dict, night: list) -> dict:
    "Means over the daylight + twilight hours and over the night hours, beside the per-hour values."
    per = m["per_hour"]
    day = [per[h] for h in per if h not in night]
    return {
        "day_twilight": mean_metrics([{k: r[k] for k in METRICS} for r in day]),
        "night": mean_metrics([{k: per[h][k] for k in METRICS} for h in night]) if night else None,
        "per_hour": {str(h): {k: per[h][k] for k in METRICS} for h in per},
    }


def evaluate(a):
    meta = json.loads(Path(a.train_json).read_text())
    rows = meta["rows"]
    val_hours = tuple(rows[0]["train"]["val_hours"])
    sun = read_sun_table(a.data_dir)
    night = [h for h in val_hours if sun[h][0] < -6]
    twilight = min((h for h in val_hours if h not in night), key=lambda h: abs(sun[h][0]))
    data = DayData(a.data_dir, val_hours)
    full_blend = {f"ds{d}": grouped(blend_metrics(data, d), night) for d in (1, 2)}
    blend_bytes = png_bytes(data, data.train_hours)
    out_rows = []
    for row in rows:
        m = load_lightmap(Path(a.weights_dir) / f"{row['config']}.safetensors")
        codec = (row["train"].get("keyframe_codec", "png"), row["train"].get("keyframe_quality", 90))
        stored, stored_bytes = encoded_keyframes(data, m.cfg.key_hours, *codec)  # the frames as the model ships them
        res = {}
        for ds in (1, 2):
            with torch.no_grad():
                res[f"ds{ds}"] = grouped(
                    held_out_metrics(lambda h: render_frame(m, h, data.height, data.width, stored), data, ds), night
                )
        b = storage_bytes(m, data, stored_bytes)
        eq = equal_bytes_blend_metrics(data, b["model"], 1)
        res["equal_bytes_blend_ds1"] = {
            **grouped(eq, night),
            **{k: eq[k] for k in ("codec", "quality", "bytes", "fits", "psnr_vs_png")},
        }
        res["bytes"] = b
        out_rows.append({**row, **res})
        print(row["config"], json.dumps(res["ds1"]["day_twilight"]), b["model"], flush=True)

    def goals(r):
        m, fb, eb = r["ds1"], full_blend["ds1"], r["equal_bytes_blend_ds1"]
        tw = str(twilight)
        return {
            "day_twilight_psnr_above_full_blend": m["day_twilight"]["psnr"] - fb["day_twilight"]["psnr"],
            "day_twilight_lpips_below_full_blend": fb["day_twilight"]["lpips"] - m["day_twilight"]["lpips"],
            "twilight_hour_psnr_above_full_blend (goal >= 2)": m["per_hour"][tw]["psnr"] - fb["per_hour"][tw]["psnr"],
            "bytes_over_full_blend (goal <= 1/3)": r["bytes"]["model_over_blend"],
            "day_twilight_psnr_above_equal_bytes_blend (goal >= 3)": m["day_twilight"]["psnr"]
            - eb["day_twilight"]["psnr"],
        }

    for r in out_rows:
        r["goals"] = goals(r)
    best = max(out_rows, key=lambda r: r["ds1"]["day_twilight"]["psnr"])
    out = Path(a.out)
    doc = json.loads(out.read_text()) if out.exists() else {}
    doc.setdefault("days", {})[a.day] = {
        "train_device": meta["device"],
        "torch": meta["torch"],
        "data_dir": a.data_dir,
        "frames_sha256": json.loads((Path(a.data_dir) / "meta.json").read_text()).get("frames_sha256"),
        "epochs": meta["epochs"],
        "val_hours": val_hours,
        "night_hours": night,
        "twilight_hour": twilight,
        "keyframes": meta["keyframes"],
        "metrics": "ds1: full resolution; ds2: both frames area-downsampled by 2; LPIPS AlexNet",
        "full_blend": {**full_blend, "bytes": blend_bytes},
        "rows": out_rows,
        "best_by_day_twilight_psnr": best["config"],
    }
    out.write_text(json.dumps(doc, indent=1))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="phase", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data-dir", required=True)
    t.add_argument("--val-hours", required=True)
    t.add_argument("--keyframes", required=True)
    t.add_argument("--runs-dir", required=True)
    t.add_argument("--weights-out", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=300)
    t.add_argument("--val-every", type=int, default=50)
    t.add_argument("--configs", default="")
    t.add_argument("--select-hours", default="", help="held-out hours whose mean PSNR picks the best checkpoint")
    t.add_argument("--timing-only", action="store_true", help="only time the weights already in --weights-out")
    t.add_argument("--skip-timing", action="store_true", help="no 1080p timings (a CPU run: setup and weights only)")
    t.add_argument("--ab", choices=("sun_keyframe", "light"), default="sun_keyframe", help="which configurations")
    t.add_argument("--keyframe-codec", default="png", help="png, webp or jpeg: how the models ship their keyframes")
    t.add_argument("--keyframe-quality", type=int, default=90)

    e = sub.add_parser("evaluate")
    e.add_argument("--data-dir", required=True)
    e.add_argument("--train-json", required=True)
    e.add_argument("--weights-dir", required=True)
    e.add_argument("--out", required=True, help="JSON that gains days[<day>] (other keys are kept)")
    e.add_argument("--day", required=True, help="name of the day in the JSON, e.g. beijing_equinox")

    a = ap.parse_args()
    if a.phase == "evaluate":
        evaluate(a)
    elif a.timing_only:
        timing(a)
    else:
        train(a)


if __name__ == "__main__":
    main()
