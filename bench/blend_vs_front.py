"""`moss blend` against `moss front` on the same picture, song and duration: wall seconds, their ratio, and the blend's
MOS against the front's at the same alpha.

Run by hand (not in the tests), on an otherwise idle machine if you can. Every run is the `moss` command in a fresh
process (imports, decoding and the listening processes counted, as a user waits for them), and the runs alternate
(front, blend, front, blend, ...; with several trees, tree after tree, the order reversed every other round), so a
change of load hits them alike; the 1-minute load average before each run is recorded.

    python bench/blend_vs_front.py                      # the bundled sample, 20 s, preview, 2 rounds
    python bench/blend_vs_front.py --rounds 3 --json bench/results/blend-vs-front-cpu2.json
    python bench/blend_vs_front.py --tree before=/tmp/moss-old --tree after=.   # a checkout of another commit too

The ratio is the median blend's seconds over the median front's, per tree (issue 22 asks at most 0.4). The quality
line compares the blend's MOS (Zimtohrli, heard on its file) with the front's at the blend's alpha, read off the line
between the front's two points either side of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "resources" / "sample" / "astronaut.png"
AUDIO = ROOT / "resources" / "sample" / "metal_madness_sectoid.ogg"


def run_moss(tree: Path, command: str, out: Path, args: argparse.Namespace) -> dict:
    """One `moss front` or `moss blend` in a fresh process with ``tree`` first on the path: its wall seconds, the
    load before it, and what its manifest says."""
    cmd = [
        sys.executable,
        "-m",
        "moss_engine.cli",
        command,
        "--image",
        str(args.image),
        "--audio",
        str(args.audio),
        "--duration",
        str(args.duration),
        "--quality",
        args.quality,
        "--out",
        str(out),
        "--quiet",
    ]
    if command == "blend":
        cmd += ["--alpha", str(args.alpha)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tree)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    manifest = json.loads((out / "manifest.json").read_text())
    points = [{"alpha": p["alpha"], "mos": p.get("mos"), "kind": p.get("kind")} for p in manifest["points"]]
    return {
        "command": command,
        "seconds": round(seconds, 1),
        "load_1min_before": round(load, 2),
        "stages_s": manifest.get("run", {}).get("seconds", {}),
        "steps": manifest.get("run", {}).get("steps"),
        "points": points,
    }


def mos_at(points: list[dict], alpha: float) -> float | None:
    """The front's MOS at ``alpha``: linear between its two points either side."""
    heard = sorted((p["alpha"], p["mos"]) for p in points if p["mos"] is not None)
    if not heard:
        return None
    a, m = np.array(heard).T
    return float(np.interp(alpha, a, m))


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def summarise(runs: list[dict], labels: list[str]) -> dict:
    out = {}
    for label in labels:
        fronts = [r for r in runs if r["tree"] == label and r["command"] == "front"]
        blends = [r for r in runs if r["tree"] == label and r["command"] == "blend"]
        front_s = statistics.median(r["seconds"] for r in fronts)
        blend_s = statistics.median(r["seconds"] for r in blends)
        quality = []
        for front, blend in zip(fronts, blends, strict=True):
            point = next(p for p in blend["points"] if p["kind"] == "blend")
            quality.append(
                {
                    "alpha": round(point["alpha"], 3),
                    "blend_mos": point["mos"],
                    "front_mos_at_alpha": mos_at(front["points"], point["alpha"]),
                }
            )
        out[label] = {
            "front_s": front_s,
            "blend_s": blend_s,
            "ratio": round(blend_s / front_s, 3),
            "ratios_by_round": [round(b["seconds"] / f["seconds"], 3) for f, b in zip(fronts, blends, strict=True)],
            "quality": quality,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of front + blend per tree (default 2)")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="a checkout to run (repeatable; default: this one, as 'this')",
    )
    parser.add_argument("--image", type=Path, default=IMAGE)
    parser.add_argument("--audio", type=Path, default=AUDIO)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--quality", default="preview")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="write the runs and the summary as JSON (to FILE, or to stdout without one)",
    )
    args = parser.parse_args(argv)
    trees = [(spec.split("=", 1)[0], Path(spec.split("=", 1)[1]).resolve()) for spec in args.tree] or [("this", ROOT)]
    args.image, args.audio = args.image.resolve(), args.audio.resolve()
    quiet = args.json == "-"
    runs = []
    with tempfile.TemporaryDirectory(prefix="blend-vs-front-") as tmp:
        for n in range(args.rounds):
            for label, tree in trees if n % 2 == 0 else trees[::-1]:
                for command in ("front", "blend") if n % 2 == 0 else ("blend", "front"):
                    run = {
                        "tree": label,
                        "round": n + 1,
                        **run_moss(tree, command, Path(tmp) / f"{label}-{command}-{n}", args),
                    }
                    runs.append(run)
                    if not quiet:
                        print(
                            f"round {n + 1} {label:>8} {command:5} {run['seconds']:7.1f} s  "
                            f"(load {run['load_1min_before']:.2f} before)  {run['stages_s']}",
                            flush=True,
                        )
    summary = summarise(runs, [label for label, _ in trees])
    record = {
        "machine": {"cpus": os.cpu_count(), "platform": sys.platform},
        "image": str(args.image),
        "audio": str(args.audio),
        "duration_s": args.duration,
        "alpha": args.alpha,
        "quality": args.quality,
        "rounds": args.rounds,
        "runs": runs,
        "summary": summary,
    }
    if not quiet:
        for label, s in summary.items():
            print(
                f"{label}: front {s['front_s']:.1f} s, blend {s['blend_s']:.1f} s, ratio {s['ratio']:.2f} "
                f"(by round {s['ratios_by_round']}); blend MOS vs front's at its alpha: "
                + ", ".join(
                    f"{_num(q['blend_mos'])} vs {_num(q['front_mos_at_alpha'])} at {q['alpha']:.2f}"
                    for q in s["quality"]
                )
            )
    if args.json == "-":
        print(json.dumps(record, indent=1))
    elif args.json:
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
