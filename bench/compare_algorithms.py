"""Compare the optimisers: hypervolume of the front against wall time, STCH against NSGA-II, on one device.

Run by hand (not in the tests):

    python bench/compare_algorithms.py                          # CPU, preview, 8 s clip, 8 points, seeds 0 1 2, 40 s
    python bench/compare_algorithms.py --device cuda --quality standard --duration 30 --budget 60
    python bench/compare_algorithms.py --json compare.json      # also write every curve as JSON

Both algorithms get the same problem (the same picture, song segment, settings and seed), the same number of front
points and the same wall-time budget; step caps and patience are set out of reach so that only the budget ends a run
(no step starts after it). The clock starts when the optimiser is created, so it counts the evaluation of the two
ends and the crossfade that both do first; building the problem (STFTs, filterbanks) is left out. After every step
the optimiser reports its front (at most ``--points`` points, both ends included, as the pipeline would keep them);
its hypervolume is measured in anchor-normalised units against (1.1, 1.1) with pymoo's HV (``front.hypervolume``),
so 1.0 is the square between the two ends. The baseline to beat is the uniform crossfade at as many evenly spaced
levels as there are points (``xfade HV``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from moss_engine.device import resolve_device  # noqa: E402
from moss_engine.dsp.problem import HidingProblem, ProblemSettings  # noqa: E402
from moss_engine.optimise.front import hypervolume  # noqa: E402
from moss_engine.optimise.nsga2 import Nsga2Optimiser  # noqa: E402
from moss_engine.optimise.stch import StchOptimiser  # noqa: E402
from moss_engine.reporting import FrontSnapshot  # noqa: E402
from moss_engine.run.pipeline import load_inputs  # noqa: E402
from moss_engine.settings import make_settings  # noqa: E402

ALGORITHMS = {"stch": StchOptimiser, "nsga2": Nsga2Optimiser}
#: Step caps and patience no run reaches within its budget.
UNREACHABLE = 100_000


@dataclass
class Recorder:
    """A reporter that keeps every partial front; it never asks to stop (the budget is checked between steps)."""

    snapshots: list[FrontSnapshot] = field(default_factory=list)

    def progress(self, fraction: float, message: str, status: object = None) -> None:
        pass

    def notice(self, kind: str, message: str) -> None:
        pass

    def partial(self, snapshot: FrontSnapshot) -> None:
        self.snapshots.append(snapshot)

    def should_stop(self) -> bool:
        return False


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def crossfade_hypervolume(problem: HidingProblem, points: int, anchors) -> float:
    """HV of the uniform crossfade at ``points`` evenly spaced levels, both ends included: the baseline."""
    with torch.no_grad():
        v, a, _ = problem.objectives(problem.constant_masks(torch.linspace(0.0, 1.0, points)))
    return hypervolume(anchors.normalise(v.double().cpu().numpy(), a.double().cpu().numpy()))


def run_one(name: str, problem: HidingProblem, settings, budget_s: float) -> dict:
    """One algorithm on one problem for ``budget_s`` seconds: its HV curve against time and its final front."""
    recorder = Recorder()
    device = problem.device
    sync(device)
    started = time.perf_counter()
    opt = ALGORITHMS[name](problem, settings, recorder)
    while opt.has_next() and time.perf_counter() - started < budget_s:
        opt.next()
        sync(device)
    wall = time.perf_counter() - started
    anchors = opt.anchors
    curve = [(s.elapsed_s, s.step, hypervolume(anchors.normalise(s.visual, s.audio))) for s in recorder.snapshots]
    last = recorder.snapshots[-1]
    cross = crossfade_hypervolume(problem, settings.points, anchors)
    out = {
        "algorithm": name,
        "seed": settings.seed,
        "steps": opt.step_count,
        "wall_s": round(wall, 3),
        "s_per_step": round(curve[-1][0] / max(opt.step_count, 1), 4),
        "final_hv": curve[-1][2],
        "crossfade_hv": cross,
        "points": len(last.visual),
        "chunk_size": opt.chunk_size,
        "curve": [{"t_s": round(t, 3), "step": k, "hv": hv} for t, k, hv in curve],
        "front": {"visual": last.visual.tolist(), "audio": last.audio.tolist()},
        "anchors": {
            "music": [anchors.music_visual, anchors.music_audio],
            "image": [anchors.image_visual, anchors.image_audio],
        },
    }
    if name == "nsga2":
        out["archive_size"] = len(opt.archive_visual)
        out["archive_hv"] = opt.archive_hypervolume_history[-1]
        out["evaluations"] = opt.evaluations
    return out


def hv_at(run: dict, mark: float) -> float:
    """HV of the last front reported at or before ``mark`` seconds (nan if none was)."""
    seen = [p["hv"] for p in run["curve"] if p["t_s"] <= mark]
    return seen[-1] if seen else float("nan")


def print_table(runs: list[dict], marks: list[float]) -> None:
    head = f"{'algorithm':<9} {'seed':>4} " + " ".join(f"{'HV@' + format(m, 'g') + 's':>8}" for m in marks)
    print(head + f" {'final HV':>8} {'steps':>6} {'s/step':>7} {'time s':>7} {'xfade HV':>8}")
    for name in dict.fromkeys(r["algorithm"] for r in runs):
        mine = [r for r in runs if r["algorithm"] == name]
        for r in mine:
            cells = " ".join(f"{hv_at(r, m):>8.4f}" for m in marks)
            print(
                f"{name:<9} {r['seed']:>4} {cells} {r['final_hv']:>8.4f} {r['steps']:>6} {r['s_per_step']:>7.3f} "
                f"{r['wall_s']:>7.1f} {r['crossfade_hv']:>8.4f}"
            )
        means = " ".join(f"{np.nanmean([hv_at(r, m) for r in mine]):>8.4f}" for m in marks)
        print(
            f"{name:<9} {'mean':>4} {means} {np.mean([r['final_hv'] for r in mine]):>8.4f} "
            f"{np.mean([r['steps'] for r in mine]):>6.1f} {np.mean([r['s_per_step'] for r in mine]):>7.3f} "
            f"{np.mean([r['wall_s'] for r in mine]):>7.1f} {np.mean([r['crossfade_hv'] for r in mine]):>8.4f}"
        )
    nsga = [r for r in runs if r["algorithm"] == "nsga2"]
    if nsga:
        print(
            "nsga2 archive (every non-dominated mask, not only the kept points): "
            + ", ".join(f"seed {r['seed']}: {r['archive_size']} masks, HV {r['archive_hv']:.4f}" for r in nsga)
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=DATA / "img_portrait_skimage_astronaut.png")
    parser.add_argument("--audio", type=Path, default=DATA / "music_orchestral_wesnoth_transience.ogg")
    parser.add_argument("--quality", default="preview")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--start", type=float, default=5.0, help="segment start, seconds")
    parser.add_argument("--duration", type=float, default=8.0, help="segment length, seconds")
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=40.0, help="wall-time budget of every run, seconds")
    parser.add_argument(
        "--marks",
        type=float,
        nargs="+",
        default=None,
        help="times to read the HV at (default: budget/8, /4, /2, budget)",
    )
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=list(ALGORITHMS))
    parser.add_argument("--json", type=Path, default=None, help="write every run's curve and front here")
    args = parser.parse_args()
    marks = args.marks or [args.budget / 8, args.budget / 4, args.budget / 2, args.budget]

    device = resolve_device(args.device)
    base = make_settings(
        args.image,
        args.audio,
        quality=args.quality,
        device=args.device,
        start_s=args.start,
        duration_s=args.duration,
        points=args.points,
        steps=UNREACHABLE,
        patience=UNREACHABLE,
    )
    inputs = load_inputs(base)
    print(
        f"# {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}, device {device}, "
        f"{args.quality}: {base.sample_rate} Hz, n_fft {base.n_fft}, mask {base.mask_shape}; "
        f"{args.image.name} + {args.audio.name} {args.start:g}..{args.start + args.duration:g} s; "
        f"{args.points} points, budget {args.budget:g} s, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    runs = []
    for n, seed in enumerate(args.seeds):
        settings = base.__class__(**{**base.__dict__, "seed": seed})
        problem = HidingProblem(*inputs, ProblemSettings.from_run(settings)).to(device)
        logits = torch.zeros(1, *settings.mask_shape, device=device, requires_grad=True)
        scores = problem.objectives(problem.masks(logits))
        (scores.visual + scores.audio).sum().backward()  # warm-up: first-call costs count for neither
        order = args.algorithms if n % 2 == 0 else args.algorithms[::-1]  # neither always runs first
        for name in order:
            run = run_one(name, problem, settings, args.budget)
            runs.append(run)
            print(
                f"  {name} seed {seed}: {run['steps']} steps in {run['wall_s']:.1f} s, HV {run['final_hv']:.4f}",
                flush=True,
            )
    runs.sort(key=lambda r: (args.algorithms.index(r["algorithm"]), r["seed"]))
    print()
    print_table(runs, marks)
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                    "marks": marks,
                    "runs": runs,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
