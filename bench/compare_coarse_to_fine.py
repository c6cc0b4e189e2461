"""Coarse-to-fine against the plain path at equal time: the preview front of a 20 s clip, final hypervolume vs wall.

Run by hand (not in the tests), on an otherwise idle machine if you can; the variants run interleaved in one
process, so a change of load hits them alike:

    python bench/compare_coarse_to_fine.py --json c2f.json
    python bench/compare_coarse_to_fine.py --variants plain:80 c2f:40:80 plain:60

A variant ``plain:S`` runs S steps; ``c2f:C:S`` runs C coarse steps, then the rest of S at full resolution. Each
line: wall seconds of ``compute_front`` (phase refinement included), steps, and the final front's hypervolume.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moss_engine.pipeline import compute_front, load_inputs  # noqa: E402
from moss_engine.settings import make_settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
IMAGE = DATA / "img_portrait_skimage_astronaut.png"
MUSIC = DATA / "music_orchestral_wesnoth_transience.ogg"


def run_variant(base, inputs, spec: str) -> dict:
    kind, *numbers = spec.split(":")
    if kind == "plain":
        settings = dataclasses.replace(base, steps=int(numbers[0]), coarse_steps=0)
    else:
        settings = dataclasses.replace(base, coarse_steps=int(numbers[0]), steps=int(numbers[1]))
    started = time.perf_counter()
    result = compute_front(settings, inputs=inputs)
    return {"variant": spec, "seconds": round(time.perf_counter() - started, 1),
            "steps": result.optimisation.steps_done, "stopped_early": result.optimisation.stopped_early,
            "hypervolume": round(result.hypervolume, 4), "points": len(result.points),
            "load_1min": round(os.getloadavg()[0], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=["plain:80", "c2f:40:80", "plain:60", "c2f:50:80"])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    base = make_settings(IMAGE, MUSIC, quality="preview", device="cpu", duration_s=args.duration, points=8)
    inputs = load_inputs(base)
    rows = []
    for _ in range(args.repeat):
        for spec in args.variants:
            row = run_variant(base, inputs, spec)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
