"""Coarse-to-fine against the plain path at equal time: the preview front of a 20 s clip, final hypervolume vs wall.

Run by hand (not in the tests), on an otherwise idle machine if you can; the variants run interleaved in one
process, so a change of load hits them alike:

    python bench/compare_coarse_to_fine.py --json bench/results/c2f.json --plot docs/coarse_to_fine.png
    python bench/compare_coarse_to_fine.py --variants plain:80 c2f:40:80 plain:60

A variant ``plain:S`` runs S steps; ``c2f:C:S`` runs C coarse steps, then the rest of S at full resolution. Each
line: wall seconds of ``compute_front`` (phase refinement and rendering included), steps, and the final front's
hypervolume (anchor-normalised by the full-resolution anchors, so plain and coarse-to-fine runs compare). Early
stopping is off, so every variant runs the steps it names. ``--plot`` draws final HV against seconds, one line per
kind and clip.
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

from moss_engine.run.pipeline import compute_front, load_inputs  # noqa: E402
from moss_engine.settings import make_settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
IMAGE = ROOT / "resources" / "sample" / "astronaut.png"
AUDIO = [ROOT / "resources" / "sample" / "metal_madness_sectoid.ogg", DATA / "music_orchestral_wesnoth_transience.ogg"]
VARIANTS = [
    "plain:30",
    "c2f:20:40",
    "plain:45",
    "c2f:30:60",
    "plain:60",
    "c2f:40:80",
    "plain:80",
    "c2f:50:100",
    "plain:100",
    "c2f:60:120",
]


def run_variant(base, inputs, spec: str) -> dict:
    kind, *numbers = spec.split(":")
    if kind == "plain":
        settings = dataclasses.replace(base, steps=int(numbers[0]), coarse_steps=0)
    else:
        settings = dataclasses.replace(base, coarse_steps=int(numbers[0]), steps=int(numbers[1]))
    started = time.perf_counter()
    result = compute_front(settings, inputs=inputs)
    return {
        "audio": base.audio.name,
        "variant": spec,
        "kind": kind,
        "seconds": round(time.perf_counter() - started, 1),
        "steps": result.optimisation.steps_done,
        "hypervolume": round(result.hypervolume, 4),
        "points": len(result.points),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    ax = fig.add_subplot()
    for audio in dict.fromkeys(r["audio"] for r in rows):
        for kind, style in (("plain", "o-"), ("c2f", "s--")):
            # the fastest of the repeats of each variant (the machine is shared), joined in order of steps
            best: dict[str, dict] = {}
            for r in rows:
                if (
                    r["audio"] == audio
                    and r["kind"] == kind
                    and (r["variant"] not in best or r["seconds"] < best[r["variant"]]["seconds"])
                ):
                    best[r["variant"]] = r
            pts = sorted(best.values(), key=lambda r: r["steps"])
            if pts:
                words = Path(audio).stem.split("_")
                name = words[1] if words[0] == "music" and len(words) > 1 else words[0]
                label = f"{name}: {'plain' if kind == 'plain' else 'coarse-to-fine (half the steps coarse)'}"
                ax.plot([r["seconds"] for r in pts], [r["hypervolume"] for r in pts], style, label=label)
                for r in pts:
                    ax.annotate(
                        str(r["steps"]),
                        (r["seconds"], r["hypervolume"]),
                        fontsize=7,
                        textcoords="offset points",
                        xytext=(3, 3),
                    )
    ax.set_xlabel("wall time of the whole preview front, s (2-core CPU)")
    ax.set_ylabel("final hypervolume (anchor-normalised)")
    ax.set_title("Preview front of a 20 s clip: coarse-to-fine vs plain at equal time (labels: steps)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=VARIANTS)
    parser.add_argument("--audio", type=Path, nargs="*", default=AUDIO)
    parser.add_argument("--image", type=Path, default=IMAGE)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="final HV against wall seconds (PNG)")
    parser.add_argument("--from-json", type=Path, default=None, help="only plot these earlier results")
    args = parser.parse_args()
    if args.from_json:
        plot(json.loads(args.from_json.read_text()), args.plot)
        return 0
    rows = []
    for audio in args.audio:
        base = make_settings(
            args.image, audio, quality="preview", device="cpu", duration_s=args.duration, points=8, patience=10**5
        )
        inputs = load_inputs(base)
        for _ in range(args.repeat):
            for spec in args.variants:
                row = run_variant(base, inputs, spec)
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
