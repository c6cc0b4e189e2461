"""Benchmark the engine: ms per optimiser step and peak memory for population x duration x rate x device.

Run by hand (not in the tests); the JSON goes under bench/results/, named after the machine:

    python bench/bench_engine.py --json bench/results/engine-cpu2.json           # the whole matrix, CPU and CUDA
    python bench/bench_engine.py --devices cuda --front                          # GPU only, plus a default front
    python bench/bench_engine.py --devices cpu --populations 64 --durations 180 --rates 44100 \\
        --memory-limits 3 1.5 0.75                                              # the memory budget at work

The matrix is population 8/16/64 x clip 10/30/180 s x 22.05/44.1 kHz (22.05 kHz with the preview preset's STFT and
mask grid, 44.1 kHz with the standard preset's). A device that is not there (no CUDA) is reported as skipped, with
the reason. Each case runs in a subprocess of its own: it builds the problem and the optimiser (the crossfade
baseline included), runs one warm-up step, then times ``--steps`` steps (default 5 on a GPU; on the CPU 3, or 1 for
the large cases). Memory: on a GPU ``torch.cuda.max_memory_allocated`` over the timed steps; on the CPU the process's
peak RSS over the timed steps (``/proc/self/clear_refs`` resets the high-water mark first). ``base`` is what was held
before the first pass (the music's tensors, and on the CPU Python and torch themselves): the run's memory
budget (``--memory-limits``, else the device's default) bounds peak - base. The CPU's figure is the resident memory the
system sees, glibc's retained heap included, so it is an upper bound of what the engine allocates.

``--front`` also times whole fronts with the device's default preset, end to end (``compute_front``, early stopping
on): on the CPU the preview of a 20 s clip, on a GPU the standard preset on a 30 s clip.

The music is the bundled sample (resources/sample, looped when a case asks for more than its 30 s), the picture
the bundled portrait, so the benchmark runs from a bare checkout (the GPU machine has no ../shared).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample"
IMAGE = SAMPLE / "astronaut.png"
MUSIC = SAMPLE / "metal_madness_sectoid.ogg"
#: CPU cases bigger than this (masks x samples) time one step instead of three.
CPU_BIG_WORK = 16 * 30 * 44100
GB = 1024**3


def machine() -> dict:
    """What the figures were measured on."""
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    out = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


def _rss_gb() -> tuple[float, float]:
    """(current, peak since the last reset) resident set size of this process, GB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024 / GB
    if not fields:  # not Linux: the lifetime peak, no current
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        return peak, peak
    return fields["VmRSS"], fields["VmHWM"]


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def torch_sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def run_case(
    device: str,
    population: int,
    duration: float,
    rate: int,
    steps: int,
    memory_limit_gb: float | None = None,
    audio_objective: str = "neurogram",
) -> dict:
    """One case, in this process: build the problem and optimiser, one warm-up step, then time ``steps`` steps."""
    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT))
    from moss_engine.device import resolve_device
    from moss_engine.dsp.problem import HidingProblem, ProblemSettings
    from moss_engine.io.audio import AudioClip, load_audio
    from moss_engine.io.image import load_image
    from moss_engine.optimise.memory import mask_bytes, memory_budget
    from moss_engine.optimise.stch import StchOptimiser
    from moss_engine.settings import make_settings

    dev = resolve_device(device)
    quality = "preview" if rate <= 22050 else "standard"
    settings = make_settings(
        IMAGE,
        MUSIC,
        quality=quality,
        device=device,
        sample_rate=rate,
        points=population + 2,
        steps=steps + 1,
        duration_s=duration,
        patience=10**5,
        memory_limit_gb=memory_limit_gb,
        coarse_steps=0,
        audio_objective=audio_objective,
    )
    clip = load_audio(MUSIC, sample_rate=rate)
    need = int(round(duration * rate))
    reps = -(-need // clip.samples.shape[1])
    samples = np.tile(clip.samples, (1, reps))[:, :need]
    clip = AudioClip(
        samples=samples,
        sample_rate=rate,
        source_rate=clip.source_rate,
        source_channels=clip.source_channels,
        start_s=0.0,
        notices=(),
    )
    problem = HidingProblem(clip, load_image(IMAGE), ProblemSettings.from_run(settings)).to(dev)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    sync()
    # the base: everything held before the first pass (on the CPU Python, torch and the music's tensors)
    base = torch.cuda.memory_allocated(dev) / GB if dev.type == "cuda" else _rss_gb()[0]
    opt = StchOptimiser(problem, settings)
    opt.next()  # warm-up: allocator, FFT plans, window envelopes
    sync()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    else:
        _reset_peak_rss()  # the high-water mark restarts from the current RSS
    started = time.perf_counter()
    for _ in range(steps):
        opt.next()
    sync()
    ms = (time.perf_counter() - started) / steps * 1000
    if dev.type == "cuda":
        peak, peak_kind = torch.cuda.max_memory_allocated(dev) / GB, "cuda max_memory_allocated"
    else:
        peak, peak_kind = _rss_gb()[1], "peak RSS"
    budget = memory_budget(dev, memory_limit_gb) / GB
    return {
        "device": str(dev),
        "objective": audio_objective,
        "population": population,
        "duration_s": duration,
        "sample_rate": rate,
        "n_fft": settings.n_fft,
        "hop": settings.hop_length,
        "mask_shape": list(settings.mask_shape),
        "chunk": opt.chunk_size,
        "chunks": -(-population // opt.chunk_size),
        "checkpointing": opt.checkpointing,
        "memory_limit_gb": memory_limit_gb,
        "budget_gb": round(budget, 3),
        "steps_timed": steps,
        "ms_per_step": round(ms, 1),
        "ms_per_mask_step": round(ms / population, 2),
        "base_gb": round(base, 3),
        "peak_gb": round(peak, 3),
        "peak_minus_base_gb": round(peak - base, 3),
        "peak_kind": peak_kind,
        "estimate_gb_per_chunk": round(opt.chunk_size * mask_bytes(problem, opt.checkpointing) / GB, 3),
    }


def run_front(device: str, duration: float) -> dict:
    """Time to a finished front with the device's default preset (what ``moss front`` does, minus the writing)."""
    sys.path.insert(0, str(ROOT))
    from moss_engine.device import resolve_device
    from moss_engine.optimise.front import hypervolume
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.settings import make_settings

    dev = resolve_device(device)
    settings = make_settings(IMAGE, MUSIC, quality=None, device_type=dev.type, device=device, duration_s=duration)
    if dev.type == "cuda":  # a short untimed run first: CUDA context, cuFFT plans, allocator
        compute_front(dataclasses.replace(settings, steps=3, phase_iterations=1), inputs=load_inputs(settings))
        torch_sync(dev)
    started = time.perf_counter()
    result = compute_front(settings, inputs=load_inputs(settings))
    seconds = time.perf_counter() - started
    crossfade = hypervolume(result.anchors.normalise(result.crossfade_visual, result.crossfade_audio))
    return {
        "device": str(dev),
        "case": "front",
        "quality": settings.quality,
        "duration_s": duration,
        "sample_rate": settings.sample_rate,
        "points": len(result.points),
        "steps": result.optimisation.steps_done,
        "coarse_steps": settings.coarse_steps,
        "stopped_early": result.optimisation.stopped_early,
        "seconds": round(seconds, 2),
        "timings": {k: round(v, 2) for k, v in result.timings.items()},
        "hypervolume": round(result.hypervolume, 4),
        "crossfade_hypervolume": round(crossfade, 4),
    }


def in_subprocess(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail, "args": args}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cuda_missing() -> str | None:
    """Why CUDA cases cannot run here, or None."""
    import torch

    if not torch.cuda.is_available():
        return (
            f"no CUDA device on this machine (torch {torch.__version__}: torch.cuda.is_available() is False); "
            "run bench/gpu_run.sh on a GPU machine"
        )
    return None


def print_row(row: dict) -> None:
    if "error" in row:
        print(f"  failed {row['args']}: {row['error']}", flush=True)
        return
    ckpt = "yes" if row["checkpointing"] else "no"
    limit = "-" if row["memory_limit_gb"] is None else f"{row['memory_limit_gb']:g}"
    print(
        f"{row['device']:>6} {row.get('objective', '-'):>9} {row['population']:>5} {row['duration_s']:>5.0f} "
        f"{row['sample_rate']:>6} "
        f"{row['chunk']:>5} {ckpt:>4} {limit:>6} {row['budget_gb']:>6.2f} {row['ms_per_step']:>9.1f} "
        f"{row['ms_per_mask_step']:>8.2f} {row['base_gb']:>7.2f} {row['peak_gb']:>7.2f} "
        f"{row['peak_minus_base_gb']:>7.2f} {row['steps_timed']:>3}",
        flush=True,
    )


def markdown(results: dict) -> str:
    """The matrix rows of a ``--json`` file as a Markdown table (docs/performance.md)."""
    lines = [
        "| device | objective | masks | clip | rate | chunk | ckpt | budget GB | ms/step | ms/mask | base GB | "
        "peak GB | peak - base GB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        if "ms_per_step" not in r:
            continue
        lines.append(
            f"| {r['device']} | {r.get('objective', 'logmel')} | {r['population']} | {r['duration_s']:g} s "
            f"| {r['sample_rate'] / 1000:g} kHz "
            f"| {r['chunk']} | {'yes' if r['checkpointing'] else 'no'} | {r['budget_gb']:g} "
            f"| {r['ms_per_step']:,.0f} | {r['ms_per_mask_step']:,.1f} | {r['base_gb']:.2f} "
            f"| {r['peak_gb']:.2f} | {r['peak_minus_base_gb']:.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--devices", "--device", nargs="*", default=["cpu", "cuda"])
    parser.add_argument("--full", action="store_true", help="(the whole matrix is the default; kept for old commands)")
    parser.add_argument("--populations", type=int, nargs="*", default=[8, 16, 64])
    parser.add_argument("--durations", type=float, nargs="*", default=[10.0, 30.0, 180.0])
    parser.add_argument("--rates", type=int, nargs="*", default=[22050, 44100])
    parser.add_argument("--steps", type=int, default=None, help="timed steps per case (default: see above)")
    parser.add_argument(
        "--memory-limits",
        type=float,
        nargs="*",
        default=None,
        help="GB one chunk may take; each value is a case of its own (default: by device)",
    )
    parser.add_argument("--front", action="store_true", help="also time whole fronts with the default preset")
    parser.add_argument("--no-matrix", action="store_true", help="only the fronts")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--markdown", type=Path, default=None, help="only print this JSON's rows as a Markdown table")
    parser.add_argument(
        "--objectives",
        nargs="*",
        default=["neurogram", "logmel"],
        help="audio objectives to time, each case with each, side by side (default: both)",
    )
    parser.add_argument("--one", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return 0
    if args.one is not None:
        kind, *rest = args.one
        if kind == "front":
            out = run_front(rest[0], float(rest[1]))
        else:
            device, pop, dur, rate, steps, limit, objective = rest
            out = run_case(
                device, int(pop), float(dur), int(rate), int(steps), None if limit == "-" else float(limit), objective
            )
        print(json.dumps(out))
        return 0

    info = machine()
    print(f"# {info}")
    rows: list[dict] = []
    limits = args.memory_limits or [None]
    for device in args.devices:
        missing = cuda_missing() if device.startswith("cuda") else None
        if missing:
            print(f"# {device}: skipped: {missing}", flush=True)
            rows.append({"device": device, "skipped": missing})
            continue
        cpu = device == "cpu"
        if not args.no_matrix:
            print(
                f"{'device':>6} {'objective':>9} {'masks':>5} {'dur s':>5} {'rate':>6} {'chunk':>5} {'ckpt':>4} "
                f"{'limit':>6} "
                f"{'budget':>6} {'ms/step':>9} {'ms/mask':>8} {'base GB':>7} {'peak GB':>7} {'p-b GB':>7} "
                f"{'n':>3}"
            )
            for rate in args.rates:
                for dur in args.durations:
                    for pop in args.populations:
                        for limit in limits:
                            big = pop * dur * rate > CPU_BIG_WORK
                            steps = args.steps or ((1 if big else 3) if cpu else 5)
                            for objective in args.objectives:  # side by side, one after the other
                                row = in_subprocess(
                                    [
                                        "case",
                                        device,
                                        str(pop),
                                        str(dur),
                                        str(rate),
                                        str(steps),
                                        "-" if limit is None else str(limit),
                                        objective,
                                    ]
                                )
                                rows.append(row)
                                print_row(row)
        if args.front:
            for duration in [20.0] if cpu else [30.0]:
                row = in_subprocess(["front", device, str(duration)])
                rows.append(row)
                print(f"# front, {device}: {json.dumps(row)}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": info, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
