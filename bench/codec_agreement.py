"""Does the engine's SSIM after a codec agree with the reference? ``moss_engine.run.codec_ssim`` against
``../shared/tools/codec_survival.py`` (else ``tests/tools``'s copy) on a real run folder, point by point and codec by
codec, with the engine's time per point and codec; and each codec's low-pass, measured on white noise.

usage: python bench/codec_agreement.py RUN_DIR --image IMG [--json OUT]
       python bench/codec_agreement.py --cutoffs [--json OUT]

The agreement must be within 0.02 per point (issue 24). Times: "one thread" is one ffmpeg job at a time, each codec
alone (seconds of one core per point); "all" is every point through every codec with the engine's default threads
(wall seconds per point).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moss_engine.io.codec import CODECS, default_workers, round_trip  # noqa: E402
from moss_engine.run.codec_ssim import SeenPicture, codec_ssim  # noqa: E402

#: The white-noise test of the low-pass: seconds, rates, and the level (dB under the original's spectrum) that counts
#: as removed.
NOISE_S = 10.0
CUTOFF_RATES = (44100, 48000)
REMOVED_DB = -10.0


def reference_tool() -> Path:
    shared = ROOT.parent / "shared" / "tools" / "codec_survival.py"
    return shared if shared.exists() else ROOT / "tests" / "tools" / "codec_survival.py"


def measure_cutoffs() -> dict:
    """Each codec's low-pass by the run's rate and channels: the highest frequency where the decoded white noise's
    spectrum (Welch, 8192-point segments) is within ``REMOVED_DB`` of the original's."""
    from scipy.signal import welch

    rng = np.random.default_rng(0)
    out: dict = {}
    for rate in CUTOFF_RATES:
        for channels in (1, 2):
            noise = rng.uniform(-0.5, 0.5, (channels, int(NOISE_S * rate))).astype(np.float32)
            f, p_in = welch(noise.astype(np.float64), rate, nperseg=8192)
            for c in CODECS.values():
                _, p_out = welch(round_trip(noise, rate, c).astype(np.float64), rate, nperseg=8192)
                ratio_db = 10 * np.log10(p_out.mean(axis=0) / p_in.mean(axis=0))
                kept = f[ratio_db >= REMOVED_DB]
                out.setdefault(c.key, {}).setdefault(str(rate), {})[("mono", "stereo")[channels - 1]] = float(
                    kept.max()
                )
    return out


def agreement(run_dir: Path, image: Path) -> dict:
    import soundfile as sf

    manifest = json.loads((run_dir / "manifest.json").read_text())
    seen = SeenPicture(image, manifest["sample_rate"], manifest["view"], manifest["placement"])
    points = [sf.read(run_dir / p["wav"], dtype="float32", always_2d=True)[0].T for p in manifest["points"]]
    n = len(points)
    one_thread = {}
    for c in CODECS.values():
        start = time.perf_counter()
        codec_ssim(points, seen, [c], workers=1)
        one_thread[c.key] = (time.perf_counter() - start) / n
    start = time.perf_counter()
    ours = codec_ssim(points, seen)
    all_wall = (time.perf_counter() - start) / n
    start = time.perf_counter()
    wav = [seen.ssim(p) for p in points]
    wav_s = (time.perf_counter() - start) / n
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ref.json"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(reference_tool()), str(run_dir), "--image", str(image), "--json", str(out)],
            check=True,
            capture_output=True,
        )
        ref_s = (time.perf_counter() - start) / n
        theirs = json.loads(out.read_text())["points"]
    rows = []
    for i, row in enumerate(theirs):
        entry = {"wav": row["wav"], "wav_ssim": wav[i], "wav_ssim_reference": row["wav_ssim"]}
        for key in CODECS:
            entry[key] = ours[key][i]
            entry[key + "_reference"] = row[key]
        rows.append(entry)
    worst = {key: max(abs(r[key] - r[key + "_reference"]) for r in rows) for key in CODECS}
    worst["wav"] = max(abs(r["wav_ssim"] - r["wav_ssim_reference"]) for r in rows)
    return {
        "run": {
            "sample_rate": manifest["sample_rate"],
            "channels": manifest.get("channels"),
            "duration_s": manifest.get("input", {}).get("duration_s"),
            "points": n,
            "view": manifest["view"],
            "placement": manifest["placement"],
            "image": image.name,
            "audio": manifest.get("input", {}).get("audio"),
        },
        "points": rows,
        "max_abs_difference": worst,
        "seconds_per_point": {
            "one_thread_per_codec": one_thread,
            "all_codecs_threads": all_wall,
            "threads": default_workers(),
            "wav_ssim_only": wav_s,
            "reference_tool_all_codecs": ref_s,
        },
    }


def print_agreement(res: dict) -> None:
    run = res["run"]
    print(
        f"run: {run['points']} points, {run['duration_s']} s at {run['sample_rate']} Hz, {run['channels']} channels,"
        f" band {run['placement']['f0_hz']:g}-{run['placement']['f1_hz']:g} Hz, {run['image']} in {run['audio']}"
    )
    head = f"{'point':<14}{'WAV':>7}" + "".join(f"{k + ' ours':>14}{'ref':>8}{'diff':>9}" for k in CODECS)
    print(head)
    for r in res["points"]:
        line = f"{r['wav']:<14}{r['wav_ssim']:>7.4f}"
        for k in CODECS:
            line += f"{r[k]:>14.4f}{r[k + '_reference']:>8.4f}{r[k] - r[k + '_reference']:>+9.1e}"
        print(line)
    print("max |ours - reference|: " + ", ".join(f"{k} {v:.1e}" for k, v in res["max_abs_difference"].items()))
    t = res["seconds_per_point"]
    print(
        "seconds per point: one thread "
        + ", ".join(f"{k} {v:.3f}" for k, v in t["one_thread_per_codec"].items())
        + f"; all three codecs with {t['threads']} threads {t['all_codecs_threads']:.3f} (wall); the WAV's SSIM alone"
        f" {t['wav_ssim_only']:.3f}; the reference tool, all three {t['reference_tool_all_codecs']:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", nargs="?", type=Path)
    ap.add_argument("--image", type=Path)
    ap.add_argument("--cutoffs", action="store_true", help="measure each codec's low-pass on white noise")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    if a.run_dir is None and not a.cutoffs:
        ap.error("give a RUN_DIR and --image, or --cutoffs")
    res: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_1min_before": os.getloadavg()[0],  # the 2 cores are shared: times are upper bounds
        },
        "ffmpeg": _ffmpeg_version(),
    }
    if a.run_dir is not None:
        if a.image is None:
            ap.error("--image is needed with a RUN_DIR")
        res["agreement"] = agreement(a.run_dir, a.image)
        print_agreement(res["agreement"])
    if a.cutoffs:
        res["cutoffs_hz"] = measure_cutoffs()
        res["cutoffs_method"] = (
            f"white noise, {NOISE_S:g} s, uniform +-0.5, independent channels; the highest frequency where the decoded"
            f" spectrum (Welch, 8192) is within {-REMOVED_DB:g} dB of the original's"
        )
        print("low-pass (Hz) by the run's rate (Opus always encodes at 48 kHz), mono / stereo:")
        for key, by_rate in res["cutoffs_hz"].items():
            print(f"  {key}: " + "; ".join(f"{r} Hz {v['mono']:.0f} / {v['stereo']:.0f}" for r, v in by_rate.items()))
    if a.json:
        a.json.write_text(json.dumps(res, indent=1) + "\n")


def _ffmpeg_version() -> str:
    import imageio_ffmpeg

    line = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout
    return f"imageio-ffmpeg {imageio_ffmpeg.__version__}: " + line.splitlines()[0]


if __name__ == "__main__":
    main()
