"""Run a frozen MOSS's ``--self-test``, time its start, and fail when it fails (Linux, Windows, macOS).

    python packaging/smoke_frozen.py dist/MOSS/moss-app --report dist/self-test.json [--evict dist/MOSS]
        [--env MOSS_PORTAUDIO=bundled] [--expect portaudio_bundled=true] [--label "first start"]

Prints one line of figures (and ``--json`` writes them): the time from launch to the main window shown (measured by
the app from its own process start time, and from outside, from just before this script starts it), the whole
self-test's wall time, the engine run's. ``--evict FOLDER`` first asks the kernel to drop FOLDER's files from the page
cache (``posix_fadvise(DONTNEED)``, Linux only, no root needed), so that the start reads the bundle from disk: a
cold start as far as the bundle goes (the system's own libraries and the disk's cache are not evicted). The exit
status is the self-test's, or 3 when an ``--expect`` does not hold, or 4 when the app gave no report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: What ``--expect NAME=VALUE`` can check in the report.
EXPECTATIONS = {
    "portaudio_bundled": lambda r: r["checks"]["audio_devices"].get("bundled"),
    "ffmpeg_bundled": lambda r: r["checks"]["ffmpeg"].get("bundled"),
    "frozen": lambda r: r["checks"]["environment"].get("frozen"),
    "qt_platform": lambda r: r["checks"]["environment"].get("qt_platform"),
    "variant": lambda r: (r["checks"]["environment"].get("build") or {}).get("variant"),
}


def evict(folder: Path) -> tuple[int, int]:
    """Drop ``folder``'s files from the page cache; (files, bytes) asked for. Not on systems without fadvise."""
    if not hasattr(os, "posix_fadvise"):
        raise OSError("posix_fadvise is not available on this system: no eviction")
    files = size = 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        files += 1
        size += path.stat().st_size
    return files, size


def _value(text: str):
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def run(exe: Path, report: Path, env: dict[str, str], timeout_s: float) -> tuple[int, float, float]:
    """Start ``exe --self-test report``; (exit status, launch time as Unix time, wall seconds)."""
    report.unlink(missing_ok=True)
    launched = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        [str(exe), "--self-test", str(report)], env={**os.environ, **env}, timeout=timeout_s, stdin=subprocess.DEVNULL
    )
    return done.returncode, launched, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exe", type=Path, help="the frozen app's executable (dist/MOSS/moss-app, MOSS.exe, ...)")
    parser.add_argument("--report", type=Path, required=True, help="where the self-test writes its JSON report")
    parser.add_argument("--evict", type=Path, help="drop this folder's files from the page cache first (Linux)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="set for the app")
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"fail unless the report says so; NAME is one of {', '.join(EXPECTATIONS)}",
    )
    parser.add_argument("--label", default="start", help="what this start is, for the printed line")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before the app is killed")
    args = parser.parse_args(argv)

    env = dict(item.split("=", 1) for item in args.env)
    evicted = evict(args.evict) if args.evict else None
    status, launched, wall_s = run(args.exe, args.report, env, args.timeout)
    if not args.report.is_file():
        print(f"{args.label}: no report at {args.report} (exit status {status})", file=sys.stderr)
        return 4
    report = json.loads(args.report.read_text(encoding="utf-8"))
    window = report["checks"].get("window", {})
    engine = report["checks"].get("engine_run", {})
    shown_at = window.get("shown_at_unix")
    figures = {
        "label": args.label,
        "status": status,
        "ok": report["ok"],
        "failures": report["failures"],
        "window_shown_s": window.get("shown_after_launch_s"),
        "window_shown_source": window.get("launch_time_source"),
        "window_shown_outside_s": None if shown_at is None else round(shown_at - launched, 3),
        "self_test_wall_s": round(wall_s, 3),
        "engine_run_s": engine.get("seconds"),
        "device": engine.get("device"),
        "evicted_files": evicted[0] if evicted else 0,
        "evicted_mb": round(evicted[1] / 1e6, 1) if evicted else 0.0,
    }
    wrong = []
    for item in args.expect:
        name, wanted = item.split("=", 1)
        got = EXPECTATIONS[name](report)
        if got != _value(wanted):
            wrong.append(f"{name} is {got!r}, expected {wanted}")
    figures["unmet_expectations"] = wrong
    print(
        f"{args.label}: self-test {'passed' if status == 0 else f'FAILED (status {status})'}; window shown "
        f"{figures['window_shown_s']} s after launch (from outside: {figures['window_shown_outside_s']} s); "
        f"self-test {figures['self_test_wall_s']} s in all, its run {figures['engine_run_s']} s on "
        f"{figures['device']}" + (f"; {figures['evicted_mb']} MB evicted from the page cache first" if evicted else "")
    )
    for line in report["failures"] + wrong:
        print(f"  {line}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return status if status != 0 else (3 if wrong else 0)


if __name__ == "__main__":
    raise SystemExit(main())
