"""The preview front's time next to the code before a change and to a plain reimplementation of the seed's method.

Run by hand, on an otherwise idle machine (each round is about four minutes on two cores):

    git worktree add ../before <commit>                 # the code before the change
    python bench/side_by_side.py --before ../before --rounds 3

Each round runs ``bench/preview_front.py`` (the Preview preset, end to end, on the same 20 s pair) from the checkout
before the change and from this one, alternating which goes first, and ``../shared/tools/reference_stch.py IMG AUD OUT
60 cpu 8`` (the seed's method, 60 steps, 8 points), each in a fresh process. Prints every run and the medians: this
front's time against the one before (issue 21: at most +10 %) and against the reference's wall time (at most the
0.40 it was). JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "tools" / "reference_stch.py"
SAMPLE = ROOT / "resources" / "sample"


def preview_front(checkout: Path, image: Path, audio: Path) -> dict:
    """One ``preview_front.py`` run of ``checkout``'s engine, in a fresh process: its JSON row."""
    out = subprocess.run(
        [sys.executable, str(checkout / "bench" / "preview_front.py"), "--image", str(image), "--audio", str(audio)],
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
    )
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


def reference(image: Path, audio: Path) -> dict:
    """One run of the seed's method (60 steps, 8 points, CPU): its wall time and its optimisation loop's time."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(REFERENCE), str(image), str(audio), str(Path(tmp) / "ref"), "60", "cpu", "8"],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
    loop = next(float(line.split()[-1].rstrip("s")) for line in out.stdout.splitlines() if " steps P=" in line)
    return {"seconds": round(wall, 1), "loop_s": loop}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before the change")
    parser.add_argument("--image", type=Path, default=SAMPLE / "astronaut.png")
    parser.add_argument("--audio", type=Path, default=SAMPLE / "metal_madness_sectoid.ogg")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    runs: dict[str, list[dict]] = {"before": [], "after": [], "reference": []}
    for r in range(args.rounds):
        order = [("before", args.before.resolve()), ("after", ROOT)]
        for name, checkout in order if r % 2 == 0 else order[::-1]:
            runs[name].append(preview_front(checkout, args.image, args.audio))
            print(json.dumps({"round": r, "code": name, **runs[name][-1]}), flush=True)
        runs["reference"].append(reference(args.image, args.audio))
        print(json.dumps({"round": r, "code": "reference", **runs["reference"][-1]}), flush=True)
    median = {name: statistics.median(row["seconds"] for row in rows) for name, rows in runs.items()}
    summary = {
        "median_s": median,
        "after_over_before": median["after"] / median["before"],
        "after_over_reference": median["after"] / median["reference"],
        "before_over_reference": median["before"] / median["reference"],
    }
    print(json.dumps(summary), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": platform.machine(), "cpus": os.cpu_count(), "runs": runs, "summary": summary}, indent=1
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
