"""Probe: the lightmap model's stored frame in a lossy codec, against the blend squeezed into the same bytes.

    python benchmarks/lightmap_keyframe_codec.py --data-dir <day> --val-hours 3,7,10,15,18,21 \
        --weights best.safetensors --day beijing_equinox --out results/lightmap_keyframe_codec_h200.json

The A/B (`lightmap_ab.py`) counts the model's stored frame as the PNG it is shipped as (~600 KB of a ~714 KB
model), so the blend of the stored hours, squeezed into those bytes, keeps nearly all of its quality. Here the
model reads its stored frame(s) after JPEG or WebP at each `--codecs` quality (what it would ship), and the blend
gets the model's new byte count: per codec, the model's metrics at full resolution on the held-out hours (daylight
+ twilight mean, twilight hour, night apart), its bytes (fp16 weights + encoded frames), the equal-bytes blend's
metrics and codec, and the margin the issue asks ≥ 3 dB of.
"""

import argparse, json
from pathlib import Path

import torch

from heritage_inpaint.lightmap_model import load_lightmap, read_sun_table, render_frame
from heritage_inpaint.lightmap_train import (
    DayData,
    decode_frame,
    encode_frame,
    equal_bytes_blend_metrics,
    held_out_metrics,
    png_bytes,
    weights_bytes,
)
from lightmap_ab import grouped  # benchmarks/ is the script's directory


def decoded(frame: torch.Tensor, codec: str, quality: int) -> tuple[torch.Tensor, int]:
    "`frame` `[3,H,W]` after JPEG or WebP at `quality`, and the encoded bytes."
    data = encode_frame(frame, codec, quality)
    return decode_frame(data, frame.device), len(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--val-hours", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--day", required=True)
    ap.add_argument("--codecs", default="png:0,webp:100,webp:95,webp:90,webp:80,jpeg:95,jpeg:90")
    ap.add_argument("--out", required=True, help="JSON that gains days[<day>] (other keys are kept)")
    a = ap.parse_args()
    val_hours = tuple(int(h) for h in a.val_hours.split(","))
    sun = read_sun_table(a.data_dir)
    night = [h for h in val_hours if sun[h][0] < -6]
    twilight = min((h for h in val_hours if h not in night), key=lambda h: abs(sun[h][0]))
    data = DayData(a.data_dir, val_hours)
    m = load_lightmap(a.weights)  # on the CPU, as `lightmap_ab.py evaluate`
    stored = data.frames_at(m.cfg.key_hours)
    rows = []
    for spec in a.codecs.split(","):
        codec, quality = spec.split(":")
        if codec == "png":  # the frames as shipped: the day's PNG files
            keys, sizes = stored, [png_bytes(data, m.cfg.key_hours)]
        else:
            frames, sizes = zip(*(decoded(f, codec, int(quality)) for f in stored))
            keys = torch.stack(frames)
        with torch.no_grad():
            model = grouped(
                held_out_metrics(lambda h: render_frame(m, h, data.height, data.width, keys), data, 1), night
            )
        total = weights_bytes(m) + sum(sizes)
        eq = equal_bytes_blend_metrics(data, total, 1)
        blend = grouped(eq, night)
        row = dict(
            keyframe_codec=codec,
            quality=int(quality),
            keyframe_bytes=sum(sizes),
            model_bytes=total,
            model=model,
            equal_bytes_blend={**blend, **{k: eq[k] for k in ("codec", "quality", "bytes", "fits", "psnr_vs_png")}},
            margin_day_twilight_db=model["day_twilight"]["psnr"] - blend["day_twilight"]["psnr"],
            margin_twilight_hour_db=model["per_hour"][str(twilight)]["psnr"] - blend["per_hour"][str(twilight)]["psnr"],
        )
        rows.append(row)
        print(spec, total, round(row["margin_day_twilight_db"], 2), json.dumps(model["day_twilight"]), flush=True)
    out = Path(a.out)
    doc = json.loads(out.read_text()) if out.exists() else {}
    doc.setdefault("days", {})[a.day] = dict(
        weights=Path(a.weights).name,
        val_hours=val_hours,
        night_hours=night,
        twilight_hour=twilight,
        device="cpu (the GPU host's cores)" if torch.cuda.is_available() else "cpu",
        rows=rows,
    )
    out.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
