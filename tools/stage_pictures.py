"""Write docs/stages.jpg, the README's picture of what each stage does (re-run after a stage changes what it shows).

.venv/bin/python tools/stage_pictures.py
"""

from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from heritage_inpaint.collage import image_row, paint_fill_white
from heritage_inpaint.degradations import degrade
from heritage_inpaint.inpainters import get_inpainter
from heritage_inpaint.io import load_image, load_mask
from heritage_inpaint.lightmap_model import load_lightmap
from heritage_inpaint.lightmap_render import (
    LightmapRenderer,
    default_lightmap_frames,
    default_lightmap_weights,
    load_stored_frames,
)
from heritage_inpaint.lightmap_scene import embedded_day_dir
from heritage_inpaint.masks import decompose_regions
from heritage_inpaint.patch_network import PatchInpainter
from heritage_inpaint.restore_report import classical_restoration
from heritage_inpaint.restorer import default_small_restorer_weights, load_restorer, restore_image
from heritage_inpaint.samples import sample_dir

ROOT = Path(__file__).resolve().parents[1]


def titled(title: str, row: Image.Image) -> Image.Image:
    "A row with its title above it."
    out = Image.new("RGB", (row.width, row.height + 24), "white")
    out.paste(row, (0, 24))
    ImageDraw.Draw(out).text((4, 4), title, fill="black", font=ImageFont.load_default(size=15))
    return out


def main() -> None:
    s = sample_dir()
    cat, cat_mask = load_image(s / "images" / "chelsea.png"), load_mask(s / "masks" / "chelsea.png")
    cat, cat_mask = cat[:, :, 50:350], cat_mask[:, :, 50:350]
    fills = [get_inpainter(m)(cat, cat_mask, 0) for m in ("telea", "patchmatch")] + [
        PatchInpainter(device="cpu")(cat, cat_mask)
    ]
    regions = decompose_regions(cat_mask[None], band=9)
    hq = load_image(s / "images" / "astronaut.png")[:, 40:296, 120:376]
    lq = degrade(hq[None], seed=0)[0]
    small = load_restorer(weights=default_small_restorer_weights(), device="cpu")
    day = embedded_day_dir()
    model = load_lightmap(default_lightmap_weights())
    renderer = LightmapRenderer(model, load_stored_frames(model, default_lightmap_frames()), 180, 320)

    rows = [
        titled(
            "Inpainting (report): masks, classical fills and the project's patch network",
            image_row([paint_fill_white(cat, cat_mask), *fills], ["to fill", "telea", "patchmatch", "patch network"]),
        ),
        titled(
            "Region-Reg-DPO: hole, boundary band and context of a mask",
            image_row([regions.hole[0], regions.band[0], regions.context[0]], ["hole", "band", "context"]),
        ),
        titled(
            "Restoration: an x4plus-degraded crop, the classical pipeline and the shipped small restorer",
            image_row(
                [hq, lq, classical_restoration(lq), restore_image(small, lq, tile=None, min_side=0)],
                ["HQ", "LQ (x4plus)", "classical", "small restorer"],
            ),
        ),
        titled(
            "Lightmaps: the MLP's frames (left four) and the path tracer's at the same hours (right four)",
            image_row(
                [renderer.render(h).float() for h in (7, 8, 15, 18)]
                + [load_image(day / f"tod_{h:02d}.png") for h in (7, 8, 15, 18)],
                ["MLP 07:00", "MLP 08:00", "MLP 15:00", "MLP 18:00", "07:00", "08:00", "15:00", "18:00"],
                height=90,
            ),
        ),
    ]
    width = max(r.width for r in rows)
    sheet = Image.new("RGB", (width, sum(r.height + 10 for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 10
    if sheet.width > 900:
        sheet = sheet.resize((900, round(sheet.height * 900 / sheet.width)), Image.LANCZOS)
    out = ROOT / "docs" / "stages.jpg"
    sheet.save(out, quality=82, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
