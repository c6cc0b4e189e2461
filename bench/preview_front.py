"""Acceptance 2 of issue 6: the app's Preview preset on a 20 s clip, end to end on the CPU, timed, with its hypervolume.

Run by hand (not in the tests), on an otherwise idle machine:

    python bench/preview_front.py                          # the bundled sample (metal), 20 s, the Preview preset
    python bench/preview_front.py --audio ../shared/data/music_orchestral_wesnoth_transience.ogg
    python bench/preview_front.py --reference-steps 300    # also a long plain run: how close the preview gets

"End to end" is what the app does after Run is pressed: decode and resample the music, load the picture, optimise
(coarse-to-fine as the preset says), refine the phases, render every point and write the run folder (into a
temporary folder here). Python's and torch's import time is not counted (the app has them loaded already).

Prints one JSON line per run: wall seconds, the stages' timings, steps, the final front's hypervolume (anchor-
normalised, DESIGN.md) and the crossfade's hypervolume on the same anchors (the baseline every run must beat).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "resources" / "sample"


def run(image: Path, audio: Path, duration: float, **overrides) -> dict:
    """One front with the Preview preset (plus ``overrides``), timed from loading the inputs to the written folder.

    The engine is imported here, not at the top: the worker processes that hear the points import this script again
    (multiprocessing's "spawn"), and should find it as light as the ``moss`` command is."""
    from moss_engine.optimise.front import hypervolume
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.listening import default_workers
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.run.plot import plot_front
    from moss_engine.settings import make_settings

    settings = make_settings(image, audio, quality="preview", device="cpu", duration_s=duration, **overrides)
    started = time.perf_counter()
    result = compute_front(settings, inputs=load_inputs(settings), listen_workers=default_workers())  # as the app
    with tempfile.TemporaryDirectory() as tmp:
        write_run_folder(result, Path(tmp) / "run", plot=plot_front)
    seconds = time.perf_counter() - started
    crossfade = hypervolume(result.anchors.normalise(result.crossfade_visual, result.crossfade_audio))
    return {
        "audio": audio.name,
        "duration_s": round(result.duration_s, 2),
        "quality": settings.quality,
        "sample_rate": settings.sample_rate,
        "points_asked": settings.points,
        "points": len(result.points),
        "steps": result.optimisation.steps_done,
        "coarse_steps": settings.coarse_steps,
        "stopped_early": result.optimisation.stopped_early,
        "seconds": round(seconds, 1),
        "timings": {k: round(v, 2) for k, v in result.timings.items()},
        "hypervolume": round(result.hypervolume, 4),
        "crossfade_hypervolume": round(crossfade, 4),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=SAMPLE / "astronaut.png")
    parser.add_argument("--audio", type=Path, default=SAMPLE / "metal_madness_sectoid.ogg")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--reference-steps",
        type=int,
        default=0,
        help="also a plain (no coarse stage) run of this many steps, no early stop: the 'converged' HV",
    )
    parser.add_argument("--json", type=Path, default=None, help="append the rows to this JSON file")
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    rows = []
    for _ in range(args.repeat):
        rows.append(run(args.image, args.audio, args.duration))
        print(json.dumps(rows[-1]), flush=True)
    if args.reference_steps:
        row = run(args.image, args.audio, args.duration, steps=args.reference_steps, coarse_steps=0, patience=10**5)
        row["reference"] = True
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        old = json.loads(args.json.read_text()) if args.json.exists() else []
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(old + rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
