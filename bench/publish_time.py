"""What ``--publish`` costs: the preview front with and without it, side by side, in wall time and CPU time.

Run by hand (not in the tests):

    python bench/publish_time.py                       # the bundled sample, 20 s, mp3-128 against lossless
    python bench/publish_time.py --codec opus-96 --repeats 2

Each front runs as ``moss front`` would (``compute_front`` with the listening workers), one after the other in this
process, alternating lossless and publish ``--repeats`` times. Printed per front: the wall time and the CPU time of
this process and its children (the listening workers and ffmpeg, counted once they have ended), the latter being what
the front costs however loaded the machine is; the ratios publish / lossless of both. JSON in
``bench/results/publish-time-CODEC-cpu2.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    from moss_engine.resources import sample_paths
    from moss_engine.run.listening import default_workers
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.settings import make_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codec", default="mp3-128", choices=("mp3-128", "aac-128", "opus-96"))
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    image, audio = sample_paths()
    rows = []
    for _ in range(args.repeats):
        for publish in ("lossless", args.codec):
            settings = make_settings(
                image, audio, device_type="cpu", device="cpu", duration_s=args.duration, publish=publish
            )
            inputs = load_inputs(settings)
            wall, cpu = time.perf_counter(), cpu_seconds()
            result = compute_front(settings, inputs=inputs, listen_workers=default_workers())
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            rows.append({"publish": publish, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **result.timings})
            print(json.dumps(rows[-1]), flush=True)
    mean = {
        p: {k: sum(r[k] for r in rows if r["publish"] == p) / args.repeats for k in ("wall_s", "cpu_s")}
        for p in ("lossless", args.codec)
    }
    ratios = {k: mean[args.codec][k] / mean["lossless"][k] for k in ("wall_s", "cpu_s")}
    print(f"lossless: {mean['lossless']}  {args.codec}: {mean[args.codec]}  ratio: {ratios}")
    out = ROOT / "bench" / "results" / f"publish-time-{args.codec}-cpu2.json"
    out.write_text(
        json.dumps(
            {"machine": platform.machine(), "cpus": os.cpu_count(), "rows": rows, "mean": mean, "ratio": ratios},
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
