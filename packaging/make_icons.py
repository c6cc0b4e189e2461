"""Draw MOSS's app icon with Pillow: a spectrogram whose bright cells form a leaf, the picture hidden in the music.

Writes ``resources/icons/moss-<size>.png`` (16 to 1024 px), ``moss.ico`` (Windows) and ``moss.icns`` (macOS).
The drawing is deterministic (fixed seed), so running it again gives the same files:
``python packaging/make_icons.py``.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
MASTER = 1024
SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
#: The spectrogram's colour map, quiet to loud: night blue, teal, moss green, pale spring yellow.
STOPS = ((0.0, (14, 22, 38)), (0.35, (18, 78, 88)), (0.7, (76, 160, 74)), (1.0, (226, 240, 150)))
COLUMNS, ROWS = 24, 24


def colour(level: float) -> tuple[int, int, int]:
    """The colour map at ``level`` in [0, 1]."""
    level = min(1.0, max(0.0, level))
    for (a, ca), (b, cb) in zip(STOPS, STOPS[1:], strict=False):
        if level <= b:
            t = (level - a) / (b - a)
            return tuple(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True))
    return STOPS[-1][1]


def leaf_coordinates(x: float, y: float) -> tuple[float, float]:
    """(along, across) the leaf's axis for (x, y) in [0, 1]^2 (y down); the leaf points to the upper right."""
    cx, cy, angle = 0.54, 0.45, math.radians(40)
    return (
        (x - cx) * math.cos(angle) - (y - cy) * math.sin(angle),
        (x - cx) * math.sin(angle) + (y - cy) * math.cos(angle),
    )


def leaf_part(x: float, y: float) -> str:
    """``blade``, ``rib`` (the midrib), ``stem`` or ``""`` for a point (x, y) in [0, 1]^2."""
    u, v = leaf_coordinates(x, y)
    half_length, half_width = 0.33, 0.18
    if -half_length - 0.17 <= u < -half_length + 0.02 and abs(v) < 0.03:
        return "stem"
    if abs(u) > half_length:
        return ""
    # a pointed leaf: the width follows a sine from end to end, fuller towards the stem
    t = (u + half_length) / (2 * half_length)
    width = half_width * math.sin(math.pi * t) ** 0.75 * (1.1 - 0.25 * t)
    if abs(v) > width:
        return ""
    return "rib" if abs(v) < 0.025 and t < 0.9 else "blade"


def draw_master() -> Image.Image:
    rng = random.Random(5)
    image = Image.new("RGBA", (MASTER, MASTER), (0, 0, 0, 0))
    # the rounded square the cells sit on
    margin, radius = 56, 200
    plate = Image.new("L", (MASTER, MASTER), 0)
    ImageDraw.Draw(plate).rounded_rectangle((margin, margin, MASTER - margin, MASTER - margin), radius, fill=255)
    cells = Image.new("RGB", (MASTER, MASTER), colour(0.0))
    draw = ImageDraw.Draw(cells)
    inner = MASTER - 2 * margin
    cell_w, cell_h = inner / COLUMNS, inner / ROWS
    gap = max(2, round(cell_w * 0.12))
    beats = [0.55 + 0.45 * rng.random() for _ in range(COLUMNS)]
    for col in range(COLUMNS):
        for row in range(ROWS):
            freq = 1.0 - (row + 0.5) / ROWS  # top row = high frequencies
            x, y = (col + 0.5) / COLUMNS, (row + 0.5) / ROWS
            # music: loud at the bottom, a harmonic ridge every few rows, louder on the beats
            music = 0.62 * (1.0 - freq) ** 1.6 * beats[col] + 0.16 * (row % 4 == 1) * beats[col]
            music += 0.08 * rng.random()
            part = leaf_part(x, y)
            level = {"blade": 0.9 + 0.1 * rng.random(), "rib": 0.66, "stem": 0.8}.get(part, min(0.55, music))
            x0 = margin + col * cell_w + gap / 2
            y0 = margin + row * cell_h + gap / 2
            draw.rounded_rectangle((x0, y0, x0 + cell_w - gap, y0 + cell_h - gap), radius=gap, fill=colour(level))
    image.paste(cells, (0, 0), plate)
    # a soft glow of the leaf over the cells, so it still reads at 16 px
    glow = Image.new("L", (MASTER, MASTER), 0)
    glow_draw = ImageDraw.Draw(glow)
    step = 8
    for px in range(0, MASTER, step):
        for py in range(0, MASTER, step):
            if leaf_part((px - margin) / inner, (py - margin) / inner):
                glow_draw.rectangle((px, py, px + step, py + step), fill=70)
    glow = glow.filter(ImageFilter.GaussianBlur(28))
    light = Image.new("RGBA", (MASTER, MASTER), (*colour(1.0), 0))
    light.putalpha(Image.composite(glow, Image.new("L", (MASTER, MASTER), 0), plate))
    return Image.alpha_composite(image, light)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    master = draw_master()
    for size in SIZES:
        icon = master if size == MASTER else master.resize((size, size), Image.Resampling.LANCZOS)
        icon.save(ICONS / f"moss-{size}.png", optimize=True)
    master.save(ICONS / "moss.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    master.save(ICONS / "moss.icns")
    print(f"wrote {len(SIZES)} PNGs, moss.ico and moss.icns to {ICONS}")


if __name__ == "__main__":
    main()
