"""Benchmark the engine: ms per optimiser step and peak memory for population x duration x rate x device.

Run by hand (not in the tests):

    python bench/bench_engine.py                       # the CPU matrix that fits minutes on a laptop
    python bench/bench_engine.py --device cuda --full  # 8/16/64 masks x 10/30/180 s x 22.05/44.1 kHz
    python bench/bench_engine.py --front               # also: time to a finished default front (20 s CPU, 30 s GPU)
    python bench/bench_engine.py --device cuda --populations 64 --durations 180 --rates 44100 --memory-limit 16

Each case runs in a subprocess of its own so that its peak memory (CUDA max_memory_allocated, or the process's peak
RSS on the CPU) is its own. The music is a real piece from ../shared/data (looped when a case asks for more than it
has), the picture a real portrait. Prints a table and writes the figures as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
IMAGE = DATA / "img_portrait_skimage_astronaut.png"
MUSIC = DATA / "music_orchestral_wesnoth_transience.ogg"


def run_case(device: str, population: int, duration: float, rate: int, steps: int,
             memory_limit_gb: float | None = None) -> dict:
    """One case, in this process: build the problem, one warm-up step, then time ``steps`` steps."""
    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT))
    from moss_engine.audio_io import AudioClip, load_audio
    from moss_engine.device import resolve_device
    from moss_engine.image_io import load_image
    from moss_engine.optimizer import StchOptimizer
    from moss_engine.problem import Problem
    from moss_engine.settings import make_settings

    dev = resolve_device(device)
    quality = "preview" if rate <= 22050 else "standard"
    settings = make_settings(IMAGE, MUSIC, quality=quality, device=device, sample_rate=rate, points=population + 2,
                             steps=steps + 1, duration_s=duration, patience=10_000, memory_limit_gb=memory_limit_gb,
                             coarse_steps=0)
    clip = load_audio(MUSIC, sample_rate=rate)
    need = int(round(duration * rate))
    reps = -(-need // clip.samples.shape[1])
    samples = np.tile(clip.samples, (1, reps))[:, :need]
    clip = AudioClip(samples=samples, sample_rate=rate, source_rate=clip.source_rate,
                     source_channels=clip.source_channels, start_s=0.0, notices=())
    problem = Problem(clip, load_image(IMAGE), settings).to(dev)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    opt = StchOptimizer(problem, settings)
    opt.next()  # warm-up
    sync()
    started = time.perf_counter()
    for _ in range(steps):
        opt.next()
    sync()
    ms = (time.perf_counter() - started) / steps * 1000
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev) / 1024 ** 3
        peak_kind = "cuda max_memory_allocated"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        peak_kind = "peak RSS"
    return {"device": str(dev), "population": population, "duration_s": duration, "sample_rate": rate,
            "n_fft": settings.n_fft, "hop": settings.hop_length, "chunk": opt.chunk_size,
            "checkpointing": problem.checkpointing, "memory_limit_gb": memory_limit_gb, "steps_timed": steps,
            "ms_per_step": round(ms, 1), "ms_per_mask_step": round(ms / population, 1), "peak_gb": round(peak, 3),
            "peak_kind": peak_kind}


def run_front(device: str, duration: float) -> dict:
    """Time to a finished front with the device's default preset (what ``moss front`` does, minus the writing)."""
    sys.path.insert(0, str(ROOT))
    from moss_engine.device import resolve_device
    from moss_engine.pipeline import compute_front, load_inputs
    from moss_engine.settings import make_settings

    dev = resolve_device(device)
    settings = make_settings(IMAGE, MUSIC, quality=None, device_type=dev.type, device=device, duration_s=duration)
    started = time.perf_counter()
    inputs = load_inputs(settings)
    result = compute_front(settings, inputs=inputs)
    return {"device": str(dev), "case": "front", "quality": settings.quality, "duration_s": duration,
            "points": len(result.points), "steps": result.optimisation.steps_done,
            "coarse_steps": settings.coarse_steps, "stopped_early": result.optimisation.stopped_early,
            "seconds": round(time.perf_counter() - started, 1), "timings": {k: round(v, 2) for k, v in
                                                                            result.timings.items()},
            "hypervolume": round(result.hypervolume, 4)}


def in_subprocess(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail, "args": args}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--full", action="store_true", help="8/16/64 masks x 10/30/180 s x 22.05/44.1 kHz")
    parser.add_argument("--populations", type=int, nargs="*")
    parser.add_argument("--durations", type=float, nargs="*")
    parser.add_argument("--rates", type=int, nargs="*")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per case (default 3, 1 for big CPU ones)")
    parser.add_argument("--front", action="store_true", help="also time a whole front of a 20 s clip")
    parser.add_argument("--front-duration", type=float, default=None, help="default 20 s on the CPU, 30 s on a GPU")
    parser.add_argument("--memory-limit", type=float, default=None, help="GB one chunk may take (default: by device)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--one", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:
        kind, *rest = args.one
        if kind == "front":
            out = run_front(rest[0], float(rest[1]))
        else:
            device, pop, dur, rate, steps, limit = rest
            out = run_case(device, int(pop), float(dur), int(rate), int(steps), None if limit == "-" else float(limit))
        print(json.dumps(out))
        return 0

    cpu = args.device == "cpu"
    pops = args.populations or ([8, 16, 64] if args.full or not cpu else [8, 16])
    durs = args.durations or ([10.0, 30.0, 180.0] if args.full or not cpu else [10.0, 30.0])
    rates = args.rates or [22050, 44100]
    rows = []
    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, device {args.device}")
    print(f"{'masks':>5} {'dur s':>6} {'rate':>6} {'chunk':>5} {'ckpt':>4} {'ms/step':>9} {'ms/mask':>8} "
          f"{'peak GB':>8}")
    for rate in rates:
        for dur in durs:
            for pop in pops:
                work = pop * dur * rate
                steps = args.steps or (1 if cpu and work > 16 * 30 * 44100 else 3)
                limit = "-" if args.memory_limit is None else str(args.memory_limit)
                row = in_subprocess(["case", args.device, str(pop), str(dur), str(rate), str(steps), limit])
                rows.append(row)
                if "error" in row:
                    print(f"{pop:>5} {dur:>6.0f} {rate:>6} failed: {row['error']}")
                else:
                    ckpt = "yes" if row["checkpointing"] else "no"
                    print(f"{pop:>5} {dur:>6.0f} {rate:>6} {row['chunk']:>5} {ckpt:>4} {row['ms_per_step']:>9.1f} "
                          f"{row['ms_per_mask_step']:>8.1f} {row['peak_gb']:>8.2f}", flush=True)
    if args.front:
        duration = args.front_duration or (20.0 if cpu else 30.0)
        row = in_subprocess(["front", args.device, str(duration)])
        rows.append(row)
        print(f"front: {row}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
