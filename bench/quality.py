"""The benchmark that listens: MOSS's default CPU front on real pairs, scored as a user gets it.

Run by hand (not in the tests; about 3 minutes a pair on two cores):

    python bench/quality.py                       # every pair, table on stdout, JSON in bench/results/
    python bench/quality.py --pairs page metal    # some of them
    python bench/quality.py --markdown            # the table as Markdown, for docs/quality.md

For each pair the default CPU front (the Preview preset, a 20 s segment or the whole song where shorter) is computed
into a run folder and scored by ``../shared/tools/score_run.py --listen``, the reference definition of every quality
figure (DESIGN.md "How quality is measured"): SSIM of what a viewer shows of each WAV, Zimtohrli's distance and MOS,
loudness, and the seed's and the loudness-matched crossfades it renders itself. Added here: the wall time of the
front, and the SSIM of the first visible point (SSIM >= 0.5) after an MP3 192 kb/s encode and decode.

Two notes on ``score_run.py`` (read, not changed; it is shared):

- It draws the picture on a linear frequency axis whatever the run's ``view.freq_scale``. For a log-frequency
  placement this bench scores with the same functions, their frequency axis made logarithmic (the product's WAVs as a
  log-axis viewer shows them, the crossfades' picture placed on the log axis): ``log_axis_scoring``.
- It decodes the song with ffmpeg's ``-ac 2``, which turns a mono song down by 3 dB (ffmpeg's upmix), so every mono
  song reads 3 LU quieter than its own music end. The pairs here use stereo songs.
- It composites a picture's transparent parts over black and scores them as black, where MOSS (DESIGN.md "Alpha and
  transparency") leaves the music alone; a mostly transparent logo then reads as invisible however clearly it shows.
  The pairs here use opaque pictures.

Pass criteria: issue 12's (no point above +1 LU integrated or +3 LU short-term, the music end identical to the song
(Zimtohrli MOS 5, log-mel distance ~0), the image end's SSIM at least the crossfade's best, HV ratio on
(1 - SSIM, Zimtohrli) against the loudness-matched crossfade at least 1.0) and issue 13's (that HV ratio at least 1.3,
the MOS at the first visible point at least 0.3 above the loudness-matched crossfade's, and the neurogram distance's
order agreement with Zimtohrli at least 0.9). ``--audio-objective logmel`` runs the optimiser with the older log-mel
objective, for comparison; the "agree" column is always the neurogram distance's agreement (on that run's points),
"agree log-mel" score_run's own log-mel distance's.
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
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
SCORE_RUN = ROOT.parent / "shared" / "tools" / "score_run.py"
SAMPLE = ROOT / "resources" / "sample"

#: name -> (picture, song, settings beyond the default CPU front). Stereo songs (see the module's notes).
PAIRS = {
    "page": (DATA / "img_text_skimage_page.png", DATA / "music_orchestral_wesnoth_transience.ogg", {}),
    "metal": (SAMPLE / "astronaut.png", SAMPLE / "metal_madness_sectoid.ogg", {}),
    "horse": (DATA / "img_highcontrast_skimage_horse.png", DATA / "awkward_48k_stereo_etr_calmrace_30s.ogg", {}),
    "ambient": (DATA / "img_landscape_kde_eveningglow.jpg", DATA / "music_ambient_sonicpi_ambi_glass_hum.flac", {}),
    "shell-log": (DATA / "img_tall_kde_shell_720x1440.jpg", DATA / "music_orchestral_wesnoth_transience.ogg",
                  {"start_s": 24.0, "freq_scale": "log"}),
}
SEGMENT_S = 20.0
VISIBLE_SSIM = 0.5


def load_score_run():
    """``score_run.py`` as a module (its functions are the reference definitions)."""
    spec = importlib.util.spec_from_file_location("score_run", SCORE_RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def log_axis_scoring(score_run):
    """``score_run``'s view and crossfade on a log frequency axis, as a log-axis viewer shows a spectrogram: rows
    equally spaced in log frequency between the placement's f0 and f1 (each row the mean of the dB cells inside it,
    interpolated where a row is narrower than a bin), and the crossfades' picture placed by log frequency."""
    linear_region, linear_crossfade = score_run.region, score_run.crossfade_baseline

    def log_rows(S_db, freqs, fi, rows):
        edges = np.exp(np.linspace(math.log(freqs[fi[0]]), math.log(freqs[fi[-1]]), rows + 1))
        f = freqs[fi]
        out = np.empty((rows, S_db.shape[1]))
        for r in range(rows):
            inside = fi[(f >= edges[r]) & (f < edges[r + 1])]
            if len(inside):
                out[r] = S_db[inside].mean(axis=0)
            else:  # a row narrower than a bin: between its two nearest bins
                centre = math.sqrt(edges[r] * edges[r + 1])
                j = int(np.clip(np.searchsorted(f, centre) - 1, 0, len(f) - 2))
                w = (centre - f[j]) / (f[j + 1] - f[j])
                out[r] = (1 - w) * S_db[fi[j]] + w * S_db[fi[j + 1]]
        return out

    def region(S_db, st, n, sr, pl):
        R, (fi, ti) = linear_region(S_db, st, n, sr, pl)
        logged = log_rows(S_db[:, ti[0]:ti[-1] + 1], st.f, fi, 4 * len(fi))
        return logged[::-1], (fi, ti)

    def crossfade_baseline(ref, sr, v, pl, img_path, cs, offset_db=0.0):
        st = score_run.stft_obj(v["n_fft"], v["hop_length"], sr)
        S = st.stft(ref)
        A_db = 20 * np.log10(np.abs(S) + 1e-10)
        phase = np.angle(S)
        _, (fi, ti) = linear_region(A_db, st, len(ref), sr, pl)
        picture = score_run.image_gray(img_path, (512, len(ti)))[::-1]  # row 0 = f0
        position = (np.log(st.f[fi]) - math.log(pl["f0_hz"])) / (math.log(pl["f1_hz"]) - math.log(pl["f0_hz"]))
        rows = np.clip(np.round(position * (picture.shape[0] - 1)).astype(int), 0, picture.shape[0] - 1)
        img = picture[rows]
        sub = A_db[fi[0]:fi[-1] + 1, ti[0]:ti[-1] + 1]
        I_db = sub.max() - v["db_range"] * (1 - img) + offset_db
        outs = []
        for c in cs:
            R = A_db.copy()
            R[fi[0]:fi[-1] + 1, ti[0]:ti[-1] + 1] = c * I_db + (1 - c) * sub
            outs.append(st.istft(10 ** (R / 20) * np.exp(1j * phase), k1=len(ref)))
        peak = max(np.abs(y).max() for y in outs)
        gain = 10 ** (-1 / 20) / peak if peak > 1 else 1.0
        return [y * gain for y in outs], gain

    score_run.region, score_run.crossfade_baseline = region, crossfade_baseline
    try:
        yield
    finally:
        score_run.region, score_run.crossfade_baseline = linear_region, linear_crossfade


def score(score_run, run_dir: Path, image: Path, audio: Path, log_axis: bool) -> dict:
    """``score_run.py RUN --image --audio --listen --json`` in this process (with ``log_axis_scoring`` for a log
    placement); returns its JSON."""
    out = run_dir / "score.json"
    argv = sys.argv
    sys.argv = ["score_run.py", str(run_dir), "--image", str(image), "--audio", str(audio), "--listen", "--json",
                str(out)]
    try:
        with log_axis_scoring(score_run) if log_axis else contextlib.nullcontext(), \
                contextlib.redirect_stdout(io.StringIO()):
            score_run.main()
    finally:
        sys.argv = argv
    return json.loads(out.read_text())


def objective_agreement(score_run, run_dir: Path, image: Path, audio: Path, scored: dict,
                        log_axis: bool) -> float | None:
    """``order_agreement`` (score_run's) of MOSS's perceptual audio objective (``hearing.NeurogramDistance``, as the
    engine computes it, on the mono mix of each WAV) with Zimtohrli, over every pair of a MOSS point and a crossfade
    point (seed's and loudness-matched) whose SSIM differ by at most 0.05. The crossfades are rendered again exactly
    as score_run renders them (its functions, its gains, its loudness-matched offset); each is compared with the song
    at the gain score_run listened to it at."""
    import torch

    from moss_engine.dsp.hearing import NeurogramDistance

    manifest = json.loads((run_dir / "manifest.json").read_text())
    sr, v, pl, inp = manifest["sample_rate"], manifest["view"], manifest["placement"], manifest["input"]
    ref = score_run.decode(str(audio), sr, inp["start_s"], inp["duration_s"])
    with log_axis_scoring(score_run) if log_axis else contextlib.nullcontext():
        seed, gain = score_run.crossfade_baseline(ref, sr, v, pl, str(image), np.linspace(0, 1, 9))
        matched, gain_m = score_run.crossfade_baseline(ref, sr, v, pl, str(image), np.linspace(0, 1, 9),
                                                       scored["matched_offset_db"])
    product = [score_run.load_wav_mono(run_dir / p["wav"])[0] for p in manifest["points"]]

    def heard(waves, song_gain):
        model = NeurogramDistance(torch.from_numpy(np.asarray(ref * song_gain, dtype=np.float32)), sr,
                                  v["n_fft"], v["hop_length"])
        n = len(ref)
        with torch.no_grad():
            return [float(model(torch.from_numpy(np.asarray(w[:n], dtype=np.float32))[None])[0]) for w in waves]

    z = lambda listened: [d["zimtohrli"] for d in listened]  # noqa: E731
    points = [(1 - s, a, d) for (s, _), a, d in zip(scored["product"], heard(product, 1.0),
                                                    z(scored["listen_product"]), strict=True)]
    base = [(1 - s, a, d) for (s, _), a, d in zip(scored["baseline"], heard(seed, gain),
                                                  z(scored["listen_baseline"]), strict=True)]
    base += [(1 - s, a, d) for (s, _), a, d in zip(scored["baseline_matched"], heard(matched, gain_m),
                                                   z(scored["listen_baseline_matched"]), strict=True)]
    return score_run.order_agreement(points, base)


def mp3_ssim(score_run, run_dir: Path, index: int, image: Path, log_axis: bool) -> float:
    """SSIM (score_run's) of point ``index`` after ``moss render --format mp3`` (192 kb/s) and an ffmpeg decode."""
    from moss_engine.run.export import render_point

    manifest = json.loads((run_dir / "manifest.json").read_text())
    rendered = render_point(run_dir, index, fmt="mp3", out=run_dir / f"bench_point_{index:03d}.mp3", overwrite=True)
    sr, v, pl = manifest["sample_rate"], manifest["view"], manifest["placement"]
    decoded = score_run.decode(rendered.path, sr, 0.0, manifest["input"]["duration_s"] + 1.0)
    wav, _ = score_run.load_wav_mono(run_dir / manifest["points"][index]["wav"])
    decoded = aligned(decoded, wav)
    img = score_run.image_gray(image, (128, 256))
    with log_axis_scoring(score_run) if log_axis else contextlib.nullcontext():
        seen = score_run.view(decoded, sr, v, pl, (128, 256))
    from skimage.metrics import structural_similarity

    return float(structural_similarity(seen, img, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def aligned(decoded: np.ndarray, original: np.ndarray, most: int = 4096) -> np.ndarray:
    """``decoded`` shifted by the encoder's and decoder's delay (up to ``most`` samples, found by cross-correlation)
    and cut to ``original``'s length: a viewer does not care where a file starts, a frame-by-frame SSIM does."""
    n = min(len(original), len(decoded) - most)
    size = 1 << int(math.ceil(math.log2(n + most)))
    corr = np.fft.irfft(np.fft.rfft(decoded[:n + most], size) * np.conj(np.fft.rfft(original[:n], size)), size)
    lag = int(np.argmax(corr[:most]))
    out = decoded[lag:lag + len(original)]
    return np.pad(out, (0, len(original) - len(out)))


def bench_pair(name: str, score_run, keep: Path | None, audio_objective: str = "neurogram") -> dict:
    """One pair: the front, timed, written and scored. (The engine is imported here, not at the top: the worker
    processes that hear the points import this script again, and should find it as light as the ``moss`` command.)"""
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.listening import default_workers
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.run.plot import plot_front
    from moss_engine.settings import make_settings

    image, audio, extra = PAIRS[name]
    settings = make_settings(image, audio, device_type="cpu", device="cpu", duration_s=SEGMENT_S,
                             audio_objective=audio_objective, **extra)
    started = time.perf_counter()
    result = compute_front(settings, inputs=load_inputs(settings), listen_workers=default_workers())  # as `moss`
    front_s = time.perf_counter() - started
    folder = Path(tempfile.mkdtemp(prefix=f"moss-quality-{name}-")) if keep is None else keep / name
    run_dir = write_run_folder(result, folder / "run" if keep is None else folder, overwrite=True, plot=plot_front)
    log_axis = settings.freq_scale == "log"
    scored = score(score_run, run_dir, image, audio, log_axis)
    ssim = [s for s, _ in scored["product"]]
    first_visible = next((i for i, s in enumerate(ssim) if s >= VISIBLE_SSIM), None)
    lp, lm = scored["listen_product"], scored["listen_baseline_matched"]
    music = int(np.argmin([d for _, d in scored["product"]]))
    image_end = int(np.argmax(ssim))
    row = {
        "pair": name, "image": image.name, "audio": audio.name,
        "segment": f"{result.start_s:g}+{result.duration_s:g} s",
        "freq_scale": settings.freq_scale, "front_s": round(front_s, 1), "points": len(result.points),
        "steps": result.optimisation.steps_done,
        "hv_zimtohrli_vs_seed": scored["hv_ratio_zimtohrli"],
        "hv_zimtohrli_vs_matched": scored["hv_ratio_zimtohrli_matched"],
        "mos_visible": scored["mos_where_visible"], "mos_visible_seed": scored["baseline_mos_where_visible"],
        "mos_visible_matched": scored["matched_mos_where_visible"],
        "max_lu": scored["max_lu_product"], "max_short_term_lu": scored["max_short_term_lu_product"],
        "music_end_mos": lp[music]["mos"], "music_end_logmel_db": scored["product"][music][1],
        "image_end_ssim": ssim[image_end], "crossfade_best_ssim": scored["baseline_best_ssim"],
        "first_visible_point": first_visible,
        "first_visible_ssim": None if first_visible is None else ssim[first_visible],
        "first_visible_mp3_ssim": (None if first_visible is None
                                   else mp3_ssim(score_run, run_dir, first_visible, image, log_axis)),
        "matched_crossfade_max_short_term_lu": max(d["short_term_lu"] for d in lm),
        "logmel_order_agreement": scored["logmel_order_agreement"],
        "objective_order_agreement": objective_agreement(score_run, run_dir, image, audio, scored, log_axis),
        "audio_objective": settings.audio_objective,
        "engine_mos": [p.mos for p in result.points], "score_run_mos": [d["mos"] for d in lp],
        "run_dir": str(run_dir),
    }
    row["mos_gain_visible"] = (None if row["mos_visible"] is None or row["mos_visible_matched"] is None
                               else row["mos_visible"] - row["mos_visible_matched"])
    row["pass_issue_12"] = (row["max_lu"] <= 1.0 + 1e-6 and row["max_short_term_lu"] <= 3.0 + 1e-6
                            and row["music_end_mos"] >= 4.999 and row["music_end_logmel_db"] < 0.01
                            and row["image_end_ssim"] >= row["crossfade_best_ssim"]
                            and row["hv_zimtohrli_vs_matched"] >= 1.0)
    agreement = row["objective_order_agreement"]
    row["pass"] = (row["pass_issue_12"] and row["hv_zimtohrli_vs_matched"] >= 1.3
                   and (row["mos_gain_visible"] or 0.0) >= 0.3 and (agreement is None or agreement >= 0.9))
    return row


COLUMNS = [("pair", "pair", "{}"), ("front_s", "front s", "{:.0f}"), ("points", "pts", "{}"),
           ("hv_zimtohrli_vs_matched", "HV/matched", "{:.2f}"), ("hv_zimtohrli_vs_seed", "HV/seed", "{:.2f}"),
           ("mos_visible", "MOS vis", "{:.2f}"), ("mos_visible_matched", "matched", "{:.2f}"),
           ("mos_visible_seed", "seed", "{:.2f}"), ("mos_gain_visible", "MOS gain", "{:+.2f}"),
           ("objective_order_agreement", "agree", "{:.2f}"), ("logmel_order_agreement", "agree log-mel", "{:.2f}"),
           ("max_lu", "max LU", "{:+.1f}"),
           ("max_short_term_lu", "max ST LU", "{:+.1f}"), ("music_end_mos", "music end MOS", "{:.2f}"),
           ("image_end_ssim", "image end SSIM", "{:.3f}"), ("crossfade_best_ssim", "xfade best", "{:.3f}"),
           ("first_visible_ssim", "vis SSIM", "{:.2f}"), ("first_visible_mp3_ssim", "MP3", "{:.2f}"),
           ("pass", "pass", "{}")]


def table(rows: list[dict], markdown: bool) -> str:
    def cell(row, key, fmt):
        value = row.get(key)
        return "-" if value is None else fmt.format(value)

    head = [title for _, title, _ in COLUMNS]
    body = [[cell(r, key, fmt) for key, _, fmt in COLUMNS] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(b) + " |" for b in body])
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    fmt_row = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([fmt_row(head), *(fmt_row(b) for b in body)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=list(PAIRS))
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "quality-cpu2.json")
    parser.add_argument("--keep", type=Path, help="write the run folders here (default: temporary folders)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--audio-objective", choices=("neurogram", "logmel"), default="neurogram",
                        help="the optimiser's audio objective (logmel: the one before issue 13, for comparison)")
    args = parser.parse_args()
    score_run = load_score_run()
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    rows = []
    for name in args.pairs:
        rows.append(bench_pair(name, score_run, args.keep, args.audio_objective))
        print(json.dumps({k: v for k, v in rows[-1].items() if k not in ("engine_mos", "score_run_mos")}),
              flush=True)
    print(table(rows, args.markdown))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": platform.machine(), "cpus": os.cpu_count(), "rows": rows},
                                    indent=1) + "\n")
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
