"""The benchmark that listens: MOSS's default CPU front on real pairs, scored as a user gets it.

Run by hand (not in the tests; about 3 minutes a pair on two cores):

    python bench/quality.py                       # every pair, table on stdout, JSON in bench/results/
    python bench/quality.py --pairs page loud     # some of them
    python bench/quality.py --seeds 0 1 2         # each pair three times: the run-to-run noise (DESIGN.md)
    python bench/quality.py --markdown            # the table as Markdown, for docs/quality.md
    python bench/quality.py --publish mp3-128     # the front made for MP3 128 against the lossless one, both
                                                  # after the codec (bench/publish_bench.py; twice the time)

For each pair the default CPU front (the Preview preset, a 20 s segment or the whole song where shorter) is computed
into a run folder and scored by ``../shared/tools/score_run.py --listen``, the reference definition of every quality
figure (DESIGN.md "How quality is measured"): SSIM of what a viewer shows of each WAV (over the picture's opaque
part, on the run's frequency axis), Zimtohrli's distance and MOS, loudness both ways, and the seed's and the
loudness-matched crossfades it renders itself. ``../shared/tools/check_run.py`` checks the folder against the
contract (for moss-run/3 it measures every file's loudness and true peak). Added here: the wall time of the front,
every point's true peak against the contract's bound, the deepest ``limiter_db``, and the SSIM of the first visible
point (SSIM >= 0.5) after an MP3 192 kb/s encode and decode.

The pairs: page = a printed page in a quiet, sparse orchestral piece (-17 LUFS); metal = the bundled sample; horse = a
high-contrast silhouette in a 48 kHz race theme; ambient = an evening landscape in a quiet ambient piece (glass hum);
shell-log = a tall picture in the orchestral piece on a log-frequency axis; loud = the landscape in a loud, modern
master (none of ../shared/data is one, so it is made: ``loud_master``); logo = a cut-out line drawing on a transparent
background (a crawfish, alpha channel) in the ambient piece.

Pass criteria: issue 21's (every point within +-1 LU of the song, no 3 s window above +3 LU, true peak within the
bound, check_run.py passes), issue 12's (the music end identical to the song, the image end's SSIM at least the
crossfade's best, HV ratio on (1 - SSIM, Zimtohrli) against the loudness-matched crossfade at least 1.0) and issue
13's (that HV ratio at least 1.3, the MOS at the first visible point at least 0.3 above the loudness-matched
crossfade's, the neurogram distance's order agreement with Zimtohrli at least 0.9). ``--audio-objective logmel``
runs the optimiser with the older log-mel objective, for comparison; the "agree" column is always the neurogram
distance's agreement (on that run's points), "agree log-mel" score_run's own log-mel distance's.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import math
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
DATA = ROOT.parent / "shared" / "data"
TOOLS = ROOT.parent / "shared" / "tools"
SAMPLE = ROOT / "resources" / "sample"
#: Where the made loud master is kept between runs (made again when missing: it is deterministic).
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "moss-bench"
LOUD_MASTER = CACHE / "metal_madness_loud_master.mp3"

#: name -> (picture, song, settings beyond the default CPU front).
PAIRS = {
    "page": (DATA / "img_text_skimage_page.png", DATA / "music_orchestral_wesnoth_transience.ogg", {}),
    "metal": (SAMPLE / "astronaut.png", SAMPLE / "metal_madness_sectoid.ogg", {}),
    "horse": (DATA / "img_highcontrast_skimage_horse.png", DATA / "awkward_48k_stereo_etr_calmrace_30s.ogg", {}),
    "ambient": (DATA / "img_landscape_kde_eveningglow.jpg", DATA / "music_ambient_sonicpi_ambi_glass_hum.flac", {}),
    "shell-log": (
        DATA / "img_tall_kde_shell_720x1440.jpg",
        DATA / "music_orchestral_wesnoth_transience.ogg",
        {"start_s": 24.0, "freq_scale": "log"},
    ),
    "loud": (DATA / "img_landscape_kde_eveningglow.jpg", LOUD_MASTER, {}),
    "logo": (
        DATA / "img_linedrawing_openclipart_crawfish_graya.png",
        DATA / "music_ambient_sonicpi_ambi_glass_hum.flac",
        {},
    ),
}
SEGMENT_S = 20.0
VISIBLE_SSIM = 0.5
#: The loud master: the metal piece pushed through a brick-wall limiter to this integrated loudness, its samples held
#: at this ceiling, then encoded as an MP3 at 320 kb/s (whose decode passes full scale, as real loud masters' do).
LOUD_LUFS = -8.0
LOUD_CEILING_DBFS = -0.1


def loud_master(path: Path = LOUD_MASTER) -> Path:
    """Make (once) a loud, modern master from the metal piece, as a mastering engineer's brick-wall limiter would: a
    gain, then a look-ahead limiter (the gain each sample needs to stay under ``LOUD_CEILING_DBFS``, its running
    minimum over 2 ms, smoothed over 2 ms, so that no sample passes the ceiling), the gain found by bisection so that
    the result measures ``LOUD_LUFS`` (pyloudnorm); encoded with the bundled ffmpeg as MP3 320 kb/s. Independent of
    the engine's own limiter, so that the bench does not grade the engine with its own tools."""
    if path.is_file():
        return path
    import imageio_ffmpeg
    import pyloudnorm
    import soundfile as sf

    song, rate = sf.read(str(SAMPLE / "metal_madness_sectoid.ogg"), dtype="float64", always_2d=True)
    meter, ceiling = pyloudnorm.Meter(rate), 10 ** (LOUD_CEILING_DBFS / 20)
    width = int(0.002 * rate) | 1

    def limited(gain_db: float) -> np.ndarray:
        x = song * 10 ** (gain_db / 20)
        need = np.minimum(1.0, ceiling / np.maximum(np.abs(x).max(axis=1), 1e-12))
        padded = np.pad(need, width // 2, mode="edge")
        low = np.lib.stride_tricks.sliding_window_view(padded, width).min(axis=1)
        padded = np.pad(low, width // 2, mode="edge")
        smooth = np.convolve(padded, np.ones(width) / width, mode="valid")
        return x * np.minimum(smooth, need)[:, None]

    lo, hi = 0.0, 20.0
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if meter.integrated_loudness(limited(mid)) < LOUD_LUFS else (lo, mid)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "master.wav"
        sf.write(str(wav), limited(0.5 * (lo + hi)), rate, subtype="FLOAT")
        partial = path.with_suffix(".part.mp3")
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-i",
                str(wav),
                "-c:a",
                "libmp3lame",
                "-b:a",
                "320k",
                str(partial),
            ],
            check=True,
        )
        partial.replace(path)
    return path


def load_tool(name: str, folder: Path | None = None):
    """``../shared/tools/NAME.py`` (or ``folder``'s) as a module (score_run's functions are the reference
    definitions)."""
    spec = importlib.util.spec_from_file_location(name, (folder or TOOLS) / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_score_run(folder: Path | None = None):
    return load_tool("score_run", folder)


def score(score_run, run_dir: Path, image: Path, audio: Path) -> dict:
    """``score_run.py RUN --image --audio --listen --json`` in this process; returns its JSON."""
    out = run_dir / "score.json"
    argv = sys.argv
    sys.argv = [
        "score_run.py",
        str(run_dir),
        "--image",
        str(image),
        "--audio",
        str(audio),
        "--listen",
        "--json",
        str(out),
    ]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            score_run.main()
    finally:
        sys.argv = argv
    return json.loads(out.read_text())


def objective_agreement(score_run, run_dir: Path, image: Path, audio: Path, scored: dict) -> float | None:
    """``order_agreement`` (score_run's) of MOSS's perceptual audio objective (``hearing.NeurogramDistance``, as the
    engine computes it, on the mono mix of each WAV) with Zimtohrli, over every pair of a MOSS point and a crossfade
    point (seed's and loudness-matched) whose SSIM differ by at most 0.05."""
    return score_run.order_agreement(*objective_triples(score_run, run_dir, image, audio, scored))


def objective_triples(score_run, run_dir: Path, image: Path, audio: Path, scored: dict) -> tuple[list, list]:
    """(MOSS's points, the crossfades' points: the seed's then the loudness-matched), each ``(1 - SSIM, neurogram
    distance, Zimtohrli distance)`` as ``order_agreement`` takes them. The crossfades are rendered again exactly as
    score_run renders them (its functions, its gains, its loudness-matched offset); each is compared with the song at
    the gain score_run listened to it at."""
    import torch

    from moss_engine.dsp.hearing import NeurogramDistance

    manifest = json.loads((run_dir / "manifest.json").read_text())
    sr, v, pl, inp = manifest["sample_rate"], manifest["view"], manifest["placement"], manifest["input"]
    ref = score_run.decode(str(audio), sr, inp["start_s"], inp["duration_s"])
    seed, gain = score_run.crossfade_baseline(ref, sr, v, pl, str(image), np.linspace(0, 1, 9))
    matched, gain_m = score_run.crossfade_baseline(
        ref, sr, v, pl, str(image), np.linspace(0, 1, 9), scored["matched_offset_db"]
    )
    product = [score_run.load_wav_mono(run_dir / p["wav"])[0] for p in manifest["points"]]

    def heard(waves, song_gain):
        model = NeurogramDistance(
            torch.from_numpy(np.asarray(ref * song_gain, dtype=np.float32)), sr, v["n_fft"], v["hop_length"]
        )
        n = len(ref)
        with torch.no_grad():
            return [float(model(torch.from_numpy(np.asarray(w[:n], dtype=np.float32))[None])[0]) for w in waves]

    z = lambda listened: [d["zimtohrli"] for d in listened]  # noqa: E731
    points = [
        (1 - s, a, d)
        for (s, _), a, d in zip(scored["product"], heard(product, 1.0), z(scored["listen_product"]), strict=True)
    ]
    base = [
        (1 - s, a, d)
        for (s, _), a, d in zip(scored["baseline"], heard(seed, gain), z(scored["listen_baseline"]), strict=True)
    ]
    base += [
        (1 - s, a, d)
        for (s, _), a, d in zip(
            scored["baseline_matched"], heard(matched, gain_m), z(scored["listen_baseline_matched"]), strict=True
        )
    ]
    return points, base


def mp3_ssim(score_run, run_dir: Path, index: int, image: Path) -> float:
    """SSIM (score_run's) of point ``index`` after ``moss render --format mp3`` (192 kb/s) and an ffmpeg decode."""
    from moss_engine.run.export import render_point

    manifest = json.loads((run_dir / "manifest.json").read_text())
    rendered = render_point(run_dir, index, fmt="mp3", out=run_dir / f"bench_point_{index:03d}.mp3", overwrite=True)
    sr, v, pl = manifest["sample_rate"], manifest["view"], manifest["placement"]
    decoded = score_run.decode(rendered.path, sr, 0.0, manifest["input"]["duration_s"] + 1.0)
    wav, _ = score_run.load_wav_mono(run_dir / manifest["points"][index]["wav"])
    decoded = aligned(decoded, wav)
    img, alpha = score_run.image_gray(image, (128, 256))
    return score_run.picture_ssim(score_run.view(decoded, sr, v, pl, (128, 256)), img, alpha)


def true_peaks(check_run, run_dir: Path) -> tuple[list[float], float]:
    """Every point's true peak (check_run's definition, dBTP) and the contract's bound: the larger of -1 dBTP and
    reference.wav's own true peak."""
    import soundfile as sf

    manifest = json.loads((run_dir / "manifest.json").read_text())
    ref, _ = sf.read(str(run_dir / "reference.wav"), dtype="float64", always_2d=True)
    peaks = [
        check_run.true_peak_db(sf.read(str(run_dir / p["wav"]), dtype="float64", always_2d=True)[0])
        for p in manifest["points"]
    ]
    return peaks, max(-1.0, check_run.true_peak_db(ref))


def limiter_depths(manifest: dict) -> list[float]:
    """Each point's deepest gain reduction in dB (moss-run/3's ``limiter_db``; moss-run/2's whole-point ``gain_db``,
    which turned a whole point down)."""
    return [float(p.get("limiter_db", p.get("gain_db", 0.0)) or 0.0) for p in manifest["points"]]


def aligned(decoded: np.ndarray, original: np.ndarray, most: int = 4096) -> np.ndarray:
    """``decoded`` shifted by the encoder's and decoder's delay (up to ``most`` samples, found by cross-correlation)
    and cut to ``original``'s length: a viewer does not care where a file starts, a frame-by-frame SSIM does."""
    n = min(len(original), len(decoded) - most)
    size = 1 << int(math.ceil(math.log2(n + most)))
    corr = np.fft.irfft(np.fft.rfft(decoded[: n + most], size) * np.conj(np.fft.rfft(original[:n], size)), size)
    lag = int(np.argmax(corr[:most]))
    out = decoded[lag : lag + len(original)]
    return np.pad(out, (0, len(original) - len(out)))


def bench_pair(
    name: str, score_run, check_run, keep: Path | None, audio_objective: str = "neurogram", seed: int = 0
) -> dict:
    """One pair: the front, timed, written, checked and scored. (The engine is imported here, not at the top: the
    worker processes that hear the points import this script again, and should find it as light as ``moss``.)"""
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.listening import default_workers
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.run.plot import plot_front
    from moss_engine.settings import make_settings

    image, audio, extra = PAIRS[name]
    if audio == LOUD_MASTER:
        loud_master()
    settings = make_settings(
        image,
        audio,
        device_type="cpu",
        device="cpu",
        duration_s=SEGMENT_S,
        audio_objective=audio_objective,
        seed=seed,
        **extra,
    )
    started = time.perf_counter()
    result = compute_front(settings, inputs=load_inputs(settings), listen_workers=default_workers())  # as `moss`
    front_s = time.perf_counter() - started
    folder = (
        Path(tempfile.mkdtemp(prefix=f"moss-quality-{name}-")) / "run" if keep is None else keep / f"{name}-seed{seed}"
    )
    run_dir = write_run_folder(result, folder, overwrite=True, plot=plot_front)
    problems = check_run.check(run_dir)
    scored = score(score_run, run_dir, image, audio)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    ssim = [s for s, _ in scored["product"]]
    first_visible = next((i for i, s in enumerate(ssim) if s >= VISIBLE_SSIM), None)
    lp, lm = scored["listen_product"], scored["listen_baseline_matched"]
    music = int(np.argmin([d for _, d in scored["product"]]))
    image_end = int(np.argmax(ssim))
    peaks, peak_bound = true_peaks(check_run, run_dir)
    row = {
        "pair": name,
        "seed": seed,
        "image": image.name,
        "audio": audio.name,
        "format": manifest["format"],
        "segment": f"{result.start_s:g}+{result.duration_s:g} s",
        "freq_scale": settings.freq_scale,
        "front_s": round(front_s, 1),
        "points": len(result.points),
        "steps": result.optimisation.steps_done,
        "hv_zimtohrli_vs_seed": scored["hv_ratio_zimtohrli"],
        "hv_zimtohrli_vs_matched": scored["hv_ratio_zimtohrli_matched"],
        "mos_visible": scored["mos_where_visible"],
        "mos_visible_seed": scored["baseline_mos_where_visible"],
        "mos_visible_matched": scored["matched_mos_where_visible"],
        "max_lu": scored["max_lu_product"],
        "min_lu": scored["min_lu_product"],
        "max_short_term_lu": scored["max_short_term_lu_product"],
        "max_short_term_dip": scored["max_short_term_dip_product"],
        "true_peak_dbtp": max(peaks),
        "true_peak_bound_dbtp": peak_bound,
        "deepest_limiter_db": min(limiter_depths(manifest)),
        "music_end_mos": lp[music]["mos"],
        "music_end_logmel_db": scored["product"][music][1],
        "image_end_ssim": ssim[image_end],
        "crossfade_best_ssim": scored["baseline_best_ssim"],
        "first_visible_point": first_visible,
        "first_visible_ssim": None if first_visible is None else ssim[first_visible],
        "first_visible_mp3_ssim": (
            None if first_visible is None else mp3_ssim(score_run, run_dir, first_visible, image)
        ),
        "matched_crossfade_max_short_term_lu": max(d["short_term_lu"] for d in lm),
        "logmel_order_agreement": scored["logmel_order_agreement"],
        "objective_order_agreement": objective_agreement(score_run, run_dir, image, audio, scored),
        "audio_objective": settings.audio_objective,
        "check_run": problems,
        "engine_mos": [p.mos for p in result.points],
        "score_run_mos": [d["mos"] for d in lp],
        "points_lu": [d["lu"] for d in lp],
        "points_ssim": ssim,
        "points_true_peak_dbtp": peaks,
        "points_limiter_db": limiter_depths(manifest),
        "points_short_term_dip": [d["short_term_dip_lu"] for d in lp],
        "run_dir": str(run_dir),
    }
    row["mos_gain_visible"] = (
        None
        if row["mos_visible"] is None or row["mos_visible_matched"] is None
        else row["mos_visible"] - row["mos_visible_matched"]
    )
    row["pass_levels"] = (
        row["max_lu"] <= 1.0 + 1e-3
        and row["min_lu"] >= -1.0 - 1e-3
        and row["max_short_term_lu"] <= 3.0 + 1e-3
        and row["true_peak_dbtp"] <= row["true_peak_bound_dbtp"] + 0.1
        and not problems
    )
    row["pass_issue_12"] = (
        row["music_end_mos"] >= 4.999
        and row["music_end_logmel_db"] < 0.01
        and row["image_end_ssim"] >= row["crossfade_best_ssim"]
        and row["hv_zimtohrli_vs_matched"] >= 1.0
    )
    agreement = row["objective_order_agreement"]
    row["pass"] = (
        row["pass_levels"]
        and row["pass_issue_12"]
        and row["hv_zimtohrli_vs_matched"] >= 1.3
        and (row["mos_gain_visible"] or 0.0) >= 0.3
        and (agreement is None or agreement >= 0.9)
    )
    return row


COLUMNS = [
    ("pair", "pair", "{}"),
    ("seed", "seed", "{}"),
    ("front_s", "front s", "{:.0f}"),
    ("points", "pts", "{}"),
    ("hv_zimtohrli_vs_matched", "HV/matched", "{:.2f}"),
    ("hv_zimtohrli_vs_seed", "HV/seed", "{:.2f}"),
    ("mos_visible", "MOS vis", "{:.2f}"),
    ("mos_visible_matched", "matched", "{:.2f}"),
    ("mos_gain_visible", "MOS gain", "{:+.2f}"),
    ("objective_order_agreement", "agree", "{:.2f}"),
    ("min_lu", "min LU", "{:+.1f}"),
    ("max_lu", "max LU", "{:+.1f}"),
    ("max_short_term_lu", "max ST LU", "{:+.1f}"),
    ("max_short_term_dip", "max ST dip", "{:.1f}"),
    ("true_peak_dbtp", "TP dBTP", "{:+.1f}"),
    ("true_peak_bound_dbtp", "TP bound", "{:+.1f}"),
    ("deepest_limiter_db", "limiter dB", "{:+.1f}"),
    ("music_end_mos", "music end MOS", "{:.2f}"),
    ("image_end_ssim", "image end SSIM", "{:.3f}"),
    ("crossfade_best_ssim", "xfade best", "{:.3f}"),
    ("first_visible_ssim", "vis SSIM", "{:.2f}"),
    ("first_visible_mp3_ssim", "MP3", "{:.2f}"),
    ("pass_levels", "levels", "{}"),
    ("pass", "pass", "{}"),
]


def table(rows: list[dict], markdown: bool, columns: list[tuple[str, str, str]] = COLUMNS) -> str:
    """``rows`` as a table of ``columns`` ((key, title, format) each), plain or Markdown."""

    def cell(row, key, fmt):
        value = row.get(key)
        return "-" if value is None else fmt.format(value)

    head = [title for _, title, _ in columns]
    body = [[cell(r, key, fmt) for key, _, fmt in columns] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(b) + " |" for b in body])
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    fmt_row = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([fmt_row(head), *(fmt_row(b) for b in body)])


def points_table(rows: list[dict]) -> str:
    """Every point of every run as written: its loudness, deepest short-term dip, true peak, limiter and MOS."""
    lines = ["pair seed point: SSIM  LU  ST-dip  TP-dBTP  limiter-dB  MOS"]
    for r in rows:
        for i, values in enumerate(
            zip(
                r["points_ssim"],
                r["points_lu"],
                r["points_short_term_dip"],
                r["points_true_peak_dbtp"],
                r["points_limiter_db"],
                r["score_run_mos"],
                strict=True,
            )
        ):
            ssim, lu, dip, tp, lim, mos = values
            lines.append(f"{r['pair']} {r['seed']} {i}: {ssim:.3f} {lu:+.2f} {dip:.1f} {tp:+.2f} {lim:+.2f} {mos:.2f}")
    return "\n".join(lines)


def noise(rows: list[dict]) -> str:
    """Per pair over its seeds: the range (min..max) of the issue-13 figures (DESIGN.md's run-to-run noise)."""
    lines = []
    for name in dict.fromkeys(r["pair"] for r in rows):
        mine = [r for r in rows if r["pair"] == name]
        parts = []
        for key in ("hv_zimtohrli_vs_matched", "mos_visible", "image_end_ssim", "min_lu", "front_s"):
            values = [r[key] for r in mine if r.get(key) is not None]
            if values:
                parts.append(f"{key} {min(values):.3f}..{max(values):.3f}")
        lines.append(f"{name} ({len(mine)} seeds): " + ", ".join(parts))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=list(PAIRS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="run each pair with each of these seeds")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "quality-cpu2.json")
    parser.add_argument("--keep", type=Path, help="write the run folders here (default: temporary folders)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--audio-objective",
        choices=("neurogram", "logmel"),
        default="neurogram",
        help="the optimiser's audio objective (logmel: the one before issue 13, for comparison)",
    )
    parser.add_argument(
        "--publish",
        choices=("mp3-128", "aac-128", "opus-96"),
        help="instead: the front made for this codec against the lossless front, both scored after the codec "
        "(bench/publish_bench.py); JSON in bench/results/publish-CODEC-cpu2.json",
    )
    args = parser.parse_args()
    if args.publish:
        return publish_main(args)
    score_run, check_run = load_score_run(), load_tool("check_run")
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    rows = []
    for name in args.pairs:
        for seed in args.seeds:
            rows.append(bench_pair(name, score_run, check_run, args.keep, args.audio_objective, seed))
            brief = {k: v for k, v in rows[-1].items() if not k.startswith(("engine_", "score_run_", "points_"))}
            print(json.dumps(brief), flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps({"machine": platform.machine(), "cpus": os.cpu_count(), "rows": rows}, indent=1) + "\n"
            )
    print(table(rows, args.markdown))
    print(points_table(rows))
    if len(args.seeds) > 1:
        print(noise(rows))
    return 0 if all(r["pass"] for r in rows) else 1


def publish_main(args) -> int:
    """``--publish CODEC``: every pair's publish front against its lossless front (``publish_bench``)."""
    from publish_bench import COLUMNS as PUBLISH_COLUMNS
    from publish_bench import bench_publish_pair, summary

    if str(TOOLS) not in sys.path:  # codec_survival imports score_run as a module beside it
        sys.path.insert(0, str(TOOLS))
    tools = {
        "score_run": load_score_run(),
        "codec_survival": load_tool("codec_survival"),
        "ready": lambda audio: loud_master() if audio == LOUD_MASTER else None,
    }

    out = args.json if args.json != ROOT / "bench" / "results" / "quality-cpu2.json" else None
    out = out or ROOT / "bench" / "results" / f"publish-{args.publish}-cpu2.json"
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    rows = []
    for name in args.pairs:
        for seed in args.seeds:
            rows.append(bench_publish_pair(name, args.publish, PAIRS, SEGMENT_S, args.keep, tools, seed))
            brief = {k: v for k, v in rows[-1].items() if not k.endswith("_points")}
            print(json.dumps(brief), flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            record = {"machine": platform.machine(), "cpus": os.cpu_count(), "rows": rows}
            out.write_text(json.dumps(record, indent=1, default=float))
    print(table(rows, args.markdown, PUBLISH_COLUMNS))
    print(summary(rows))
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
