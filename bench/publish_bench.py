"""``bench/quality.py --publish CODEC``: the front made for a codec against the lossless front, both after that codec.

For each pair, two default CPU fronts (``quality.PAIRS``, seed 0, the same 20 s segment), side by side and timed:
``--publish lossless`` (today's default) and ``--publish CODEC``. Every point of both is then scored with the
reference tools (never the engine's own figures): the point's WAV through the codec and back as
``../shared/tools/codec_survival.py`` does it (``through``), the SSIM a viewer shows of the decoded file (score_run's
``view`` and ``picture_ssim``), Zimtohrli's distance and MOS and the loudness of the decoded file against the song as
written (score_run's ``listen``), and the same of the WAV as written.

Figures per pair (issue 24's "Done when"):

- ``mos_visible_after``: the best MOS (of the decoded file) among the points a viewer still shows clearly after the
  codec (SSIM >= 0.5 on the decoded file), for the publish front and the lossless front; ``lossless_mos_visible_wav``:
  the lossless front's best MOS among points visible as WAV.
- ``hv_after``: HV on (1 - SSIM after the codec, Zimtohrli distance after the codec) of the publish front over the
  lossless front's (score_run's ``hv_ratio``: both normalised together, reference (1.1, 1.1)).
- ``hv_ceiling``: the same ratio for the lossless front as WAV (as if the codec took nothing) over the lossless
  front after the codec: what a front that survived the codec untouched would gain at most.
- ``proxy_max_error``: the largest difference between the SSIM the engine's proxy predicts of a publish point (at the
  run's calibrated offset, ``run.publish.predicted_ssim``) and the SSIM after the real codec.
- ``codec_ssim_max_diff``: the largest difference between the manifest's ``codec_ssim`` and codec_survival's figure.
- ``time_ratio``: the publish front's wall time over the lossless front's (measured one after the other, same
  machine; a kept run folder (``--keep``) is not computed again: its times are the manifest's).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

VISIBLE_SSIM = 0.5


def _front(settings, folder: Path):
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.listening import default_workers
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.run.plot import plot_front

    started = time.perf_counter()
    result = compute_front(settings, inputs=load_inputs(settings), listen_workers=default_workers())
    seconds = time.perf_counter() - started
    return write_run_folder(result, folder, overwrite=True, plot=plot_front), seconds


def score_after(score_run, codec_survival, run_dir: Path, image: Path, codec: str) -> dict:
    """Every point of a run folder, as WAV and after ``codec``, scored with the reference tools."""
    from moss_engine.io.codec import round_trip

    manifest = json.loads((run_dir / "manifest.json").read_text())
    sr, view, placement = manifest["sample_rate"], manifest["view"], manifest["placement"]
    gray, alpha = score_run.image_gray(str(image), (128, 256))
    ref_ch, _ = sf.read(run_dir / "reference.wav", dtype="float64", always_2d=True)
    ref = ref_ch.mean(axis=1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in manifest["points"]:
            x_ch, _ = sf.read(run_dir / p["wav"], dtype="float64", always_2d=True)
            x = x_ch.mean(axis=1)
            y = codec_survival.align(codec_survival.through(run_dir / p["wav"], codec, sr, tmp), len(x))
            # the loudness over the channels as the files have them (the mono mix's would count the picture, the
            # same in both channels, 3 dB louder than the stereo music): the decoded channels by the engine's round
            # trip, which gives codec_survival's signal (their SSIMs agree within 1e-4: codec_ssim_max_diff)
            y_ch = round_trip(x_ch.T.astype(np.float32), sr, codec).T.astype(np.float64)
            wav_listen, after_listen = score_run.listen(
                [x, y], ref, sr, points_ch=[x_ch, y_ch], ref_ch=ref_ch if ref_ch.shape[1] > 1 else None
            )
            rows.append(
                {
                    "wav_ssim": score_run.picture_ssim(score_run.view(x, sr, view, placement, (128, 256)), gray, alpha),
                    "after_ssim": score_run.picture_ssim(
                        score_run.view(y, sr, view, placement, (128, 256)), gray, alpha
                    ),
                    "wav_mos": wav_listen["mos"],
                    "wav_zimtohrli": wav_listen["zimtohrli"],
                    "after_mos": after_listen["mos"],
                    "after_zimtohrli": after_listen["zimtohrli"],
                    "after_lu": after_listen["lu"],
                    "manifest_codec_ssim": (p.get("codec_ssim") or {}).get(codec),
                    "manifest_codec_mos": (p.get("codec_mos") or {}).get(codec),
                }
            )
    return {"points": rows, "publish": manifest.get("publish")}


def best_mos(points: list[dict], ssim_key: str, mos_key: str) -> float | None:
    seen = [p[mos_key] for p in points if p[ssim_key] >= VISIBLE_SSIM]
    return max(seen) if seen else None


def proxy_predictions(run_dir: Path, image: Path, publish: dict | None) -> list[float]:
    """The SSIM the engine's proxy predicts of each point of a publish run (at the run's calibrated offset, its
    ``publish`` record); empty where the run has no proxy."""
    from moss_engine.dsp.viewer_ssim import viewer_spectrum
    from moss_engine.run.codec_ssim import SeenPicture, written_mono
    from moss_engine.run.publish import predicted_ssim

    if not publish or publish.get("proxy_offset_db") is None:
        return []
    manifest = json.loads((run_dir / "manifest.json").read_text())
    seen = SeenPicture(image, manifest["sample_rate"], manifest["view"], manifest["placement"])
    seed = int(manifest["settings"].get("seed", 0))
    out = []
    for p in manifest["points"]:
        x, _ = sf.read(run_dir / p["wav"], dtype="float32", always_2d=True)
        spectrum = viewer_spectrum(written_mono(x.T), manifest["sample_rate"], manifest["view"])
        out.append(predicted_ssim(seen, spectrum, float(publish["proxy_offset_db"]), seed))
    return out


def bench_publish_pair(
    name: str, codec: str, pairs: dict, segment_s: float, keep: Path | None, tools: dict, seed: int = 0
):
    """One pair: the lossless and the publish fronts, timed, and both scored after ``codec`` (``mp3-128``...).
    ``tools``: ``score_run`` and ``codec_survival`` (the reference tools as modules) and ``ready(audio)``, which makes
    a pair's song available (``quality.py`` passes them: this module imports nothing of it)."""
    from moss_engine.io.codec import codec as codec_of
    from moss_engine.settings import make_settings

    score_run, codec_survival = tools["score_run"], tools["codec_survival"]
    image, audio, extra = pairs[name]
    tools["ready"](audio)
    chosen = codec_of(codec)
    base = Path(tempfile.mkdtemp(prefix=f"moss-publish-{name}-")) if keep is None else keep
    runs, seconds = {}, {}
    for publish in ("lossless", chosen.name):
        folder = base / f"{name}-{publish}"
        if keep is not None and (folder / "manifest.json").exists():  # kept from an earlier run of the bench
            timings = json.loads((folder / "manifest.json").read_text())["run"]["seconds"]
            runs[publish], seconds[publish] = folder, sum(timings.values())
            continue
        settings = make_settings(
            image, audio, device_type="cpu", device="cpu", duration_s=segment_s, seed=seed, publish=publish, **extra
        )
        runs[publish], seconds[publish] = _front(settings, folder)
    lossless = score_after(score_run, codec_survival, runs["lossless"], image, chosen.key)
    published = score_after(score_run, codec_survival, runs[chosen.name], image, chosen.key)
    lp, pp = lossless["points"], published["points"]
    hv = score_run.hv_ratio(
        [(1 - p["after_ssim"], p["after_zimtohrli"]) for p in pp],
        [(1 - p["after_ssim"], p["after_zimtohrli"]) for p in lp],
    )
    # the most any front could gain: the lossless front as if the codec took nothing from it (its WAVs' figures)
    ceiling = score_run.hv_ratio(
        [(1 - p["wav_ssim"], p["wav_zimtohrli"]) for p in lp],
        [(1 - p["after_ssim"], p["after_zimtohrli"]) for p in lp],
    )
    predicted = proxy_predictions(runs[chosen.name], image, published["publish"])
    proxy_err = [q - p["after_ssim"] for q, p in zip(predicted, pp, strict=True)] if predicted else []
    agreement = [
        abs(p["manifest_codec_ssim"] - p["after_ssim"]) for p in lp + pp if p["manifest_codec_ssim"] is not None
    ]
    row = {
        "pair": name,
        "codec": chosen.key,
        "seed": seed,
        "lossless_s": round(seconds["lossless"], 1),
        "publish_s": round(seconds[chosen.name], 1),
        "time_ratio": seconds[chosen.name] / seconds["lossless"],
        "mos_visible_after": best_mos(pp, "after_ssim", "after_mos"),
        "lossless_mos_visible_after": best_mos(lp, "after_ssim", "after_mos"),
        "lossless_mos_visible_wav": best_mos(lp, "wav_ssim", "wav_mos"),
        "hv_after": hv,
        "hv_ceiling": ceiling,
        "proxy_offset_db": (published["publish"] or {}).get("proxy_offset_db"),
        "proxy_max_error": max((abs(e) for e in proxy_err), default=None),
        "proxy_errors": proxy_err,
        "codec_ssim_max_diff": max(agreement, default=None),
        "max_abs_lu_after": max(abs(p["after_lu"]) for p in pp),
        "lossless_points": lp,
        "publish_points": pp,
        "runs": {k: str(v) for k, v in runs.items()},
    }
    m, ml, mw = row["mos_visible_after"], row["lossless_mos_visible_after"], row["lossless_mos_visible_wav"]
    row["pass_mos"] = bool(m is not None and (ml is None or m >= ml - 1e-9) and (mw is None or m >= mw - 0.3))
    row["pass"] = bool(row["pass_mos"] and hv >= 1.15)
    return row


COLUMNS = [
    ("pair", "pair", "{}"),
    ("lossless_s", "lossless s", "{:.0f}"),
    ("publish_s", "publish s", "{:.0f}"),
    ("time_ratio", "time x", "{:.2f}"),
    ("mos_visible_after", "MOS vis after", "{:.2f}"),
    ("lossless_mos_visible_after", "lossless vis after", "{:.2f}"),
    ("lossless_mos_visible_wav", "lossless vis WAV", "{:.2f}"),
    ("hv_after", "HV after", "{:.3f}"),
    ("hv_ceiling", "HV ceiling", "{:.3f}"),
    ("proxy_offset_db", "proxy dB", "{:.1f}"),
    ("proxy_max_error", "proxy err", "{:.3f}"),
    ("codec_ssim_max_diff", "codec_ssim diff", "{:.4f}"),
    ("max_abs_lu_after", "max |LU| after", "{:.1f}"),
    ("pass_mos", "MOS ok", "{}"),
    ("pass", "pass", "{}"),
]


def summary(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        lines.append(
            f"{r['pair']}: publish points after the codec (SSIM, MOS): "
            + ", ".join(f"({p['after_ssim']:.2f}, {p['after_mos']:.2f})" for p in r["publish_points"])
        )
        lines.append(
            f"{r['pair']}: lossless points after the codec (SSIM, MOS): "
            + ", ".join(f"({p['after_ssim']:.2f}, {p['after_mos']:.2f})" for p in r["lossless_points"])
        )
    return "\n".join(lines)
