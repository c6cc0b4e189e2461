"""The whole song with a point's picture in the run's segment (``moss render --full``, the app's whole-song export).

The point's mask logits and picture level are rendered at the run's own rate and STFT (the point as the run made
it) over the segment plus one window of the song on each side, faded in and out over ``TAPER_S`` at the picture's
edges inside the song; what the picture adds is resampled to the song's rate and added to the song inside the
segment only (the song's own content above the run's band stays as it is).
Outside the segment the file is the song itself, sample for sample, always. Inside it, the peaks the picture adds
above the song's own go through the run's limiter (its ceiling lowered where the format needs it:
``limiter.format_ceiling_dbtp``), whose gain reduction fades to nothing over ``TAPER_S`` at edges inside the song: the
segment meets the song without a step, and is never turned down as a whole. The song's own overs (a lossy decode
past full scale) are the song's, inside the segment as outside it: an integer format clips them, as any player
would, and ``io.encode`` says how many samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moss_engine.errors import MossInputError
from moss_engine.io.audio import soundfile_name
from moss_engine.run.folder import find_input, load_logits, makeup_db, picture_level_db, point_file

if TYPE_CHECKING:
    import numpy as np

#: The picture's mask fades in and out over this long at edges that lie inside the song (``--full``), so no seam is
#: heard; the limiter's gain reduction fades out over as long.
TAPER_S = 0.1
#: What the picture adds fades in and out over the shortest of these (s) that keeps the loudness step at each edge
#: within ``EDGE_STEP_LU`` of the song's own (400 ms on either side, DESIGN.md "The whole song").
EDGE_FADES_S = (TAPER_S, 0.25, 0.5, 1.0, 2.0)
EDGE_STEP_LU = 0.8
#: The whole-song segment is brought within the song's loudness with this margin (LU), in at most this many renders,
#: its level moving at most this far at once (dB).
FULL_FIT_MARGIN_LU = 0.15
FULL_FIT_TRIES = 4
FULL_FIT_STEP_DB = 12.0


def full_song(
    run_dir: Path, manifest: dict[str, Any], index: int, fmt: str, notices: list[str]
) -> tuple[np.ndarray, int, str | None, float]:
    """The whole song with point ``index``'s picture in the run's segment, for a file of format ``fmt``.

    The segment keeps the song's loudness (its own segment's, +-``INTEGRATED_LIMIT_LU``): the point's loudness was
    fitted at the run's rate, and the song's own content above the run's band (or a gating block tipped over the
    relative gate) can move it, so the segment is measured as it will be written and, if it is outside, the point's
    level curve is moved as the run's fit moves it (``FULL_FIT_TRIES`` renders at most; a notice says by how much).
    Where the picture meets the song, it fades in and out over the shortest of ``EDGE_FADES_S`` that keeps the
    loudness step of the 400 ms on either side of the edge within 1 LU of the song's own step there.

    Returns (channels, frames) float32 at the song's rate, that rate, the song's sample format (soundfile's subtype,
    None when ffmpeg decoded it) and the limiter's deepest gain change in the segment, in dB (0: none).
    """
    import numpy as np
    import soundfile as sf

    from moss_engine.dsp.limiter import peak_envelope
    from moss_engine.dsp.loudness import INTEGRATED_LIMIT_LU
    from moss_engine.io.audio import load_audio
    from moss_engine.io.encode import full_pcm_subtype

    audio = find_input(run_dir, manifest, "audio", "--full")
    image = find_input(run_dir, manifest, "image", "--full")
    song = load_audio(audio, sample_rate=None, start_s=0.0, duration_s=None)
    notices.extend(song.notices)
    try:
        source_subtype: str | None = sf.info(soundfile_name(audio)).subtype
    except (sf.LibsndfileError, RuntimeError):
        source_subtype = None
    samples, rate = song.samples, song.sample_rate
    render, (s0, s1) = segment_renderer(run_dir, manifest, index, samples, rate, audio, image, notices)
    subtype = full_pcm_subtype(source_subtype, fmt) if fmt in ("wav", "flac") else None
    limiter = segment_limiter(manifest, samples[:, s0:s1], fmt, subtype)
    # the song's own peaks are the song's, inside the segment as outside it: a float file keeps a lossy decode's
    # overs, an integer one clips them as any player would (``io.encode`` counts them); only what the picture adds
    # above them and above the ceiling is limited
    own = peak_envelope(samples[:, s0:s1])
    edges = (s0 > 0, s1 < samples.shape[1])
    song_lufs = _loudness(samples[:, s0:s1], rate)

    def written(delta: np.ndarray) -> tuple[np.ndarray, float, float]:
        """The segment as it will be written with ``delta`` in it: faded in and limited (``_faded_in``); its
        loudness change and the limiter's deepest gain change."""
        segment, limiter_db = _faded_in(samples, delta, (s0, s1), rate, edges, limiter, own)
        return segment, _loudness(segment, rate) - song_lufs, limiter_db

    offset, history = 0.0, []
    segment, lu, limiter_db = written(render(offset))
    for _ in range(FULL_FIT_TRIES):
        if not np.isfinite(lu) or abs(lu) <= INTEGRATED_LIMIT_LU - FULL_FIT_MARGIN_LU:
            break
        history.append((offset, lu))
        slope = 1.0
        if len(history) >= 2 and abs(history[-1][0] - history[-2][0]) > 1e-6:
            slope = max(0.05, min(1.5, (history[-1][1] - history[-2][1]) / (history[-1][0] - history[-2][0])))
        offset += float(np.clip(-lu / slope, -FULL_FIT_STEP_DB, FULL_FIT_STEP_DB))
        segment, lu, limiter_db = written(render(offset))
    if offset:
        notices.append(
            f"the picture's level moved by {offset:+.1f} dB so that the segment keeps the song's loudness "
            f"({lu:+.1f} LU) with the song's own sound above the run's band around it"
        )
    if limiter_db < 0:
        notices.append(
            f"the picture's peaks limited by up to {-limiter_db:.1f} dB to {limiter.ceiling_dbtp:g} dBTP "
            "inside the segment; the rest of the song is as it was"
        )
    out = samples.copy()
    out[:, s0:s1] = segment
    return out, rate, source_subtype, limiter_db


def _loudness(samples: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness, or -inf where there is too little audio to measure."""
    from moss_engine.dsp.loudness import integrated_loudness

    try:
        return integrated_loudness(samples, rate)
    except ValueError:
        return float("-inf")


def _faded_in(
    song: np.ndarray,
    delta: np.ndarray,
    span: tuple[int, int],
    rate: int,
    edges: tuple[bool, bool],
    limiter: Any,
    own: np.ndarray,
) -> tuple[np.ndarray, float]:
    """The segment ``span`` of ``song`` with ``delta`` added and its peaks limited, and the limiter's deepest gain
    change: what the picture changes (``delta``, and the limiter's gain reduction with it) fades in and out at the
    segment's ``edges`` inside the song over the shortest of ``EDGE_FADES_S`` whose 400 ms loudness step at each edge
    is within ``EDGE_STEP_LU`` of the song's own step there (the longest when none is): no jump in level where the
    picture meets the song. ``own``: the song's own peak envelope there, which the limiter leaves as it is."""
    import numpy as np

    s0, s1 = span
    block = round(0.4 * rate)
    fades = [round(f * rate) for f in EDGE_FADES_S if round(f * rate) <= (s1 - s0) // 4] or [max(1, (s1 - s0) // 4)]
    for fade in fades:
        faded = delta.copy()
        _fade_ends(faded, max(1, fade), *edges)
        segment = song[:, s0:s1] + faded
        reduction = limiter.reduction_db(segment, rate, own)
        if reduction.any():
            _fade_ends(reduction[None], max(1, fade), *edges)
            segment = segment * (10 ** (-reduction / 20)).astype(np.float32)
        steps_ok = True
        for edge, inside in ((s0, edges[0]), (s1, edges[1])):
            if not inside or edge - block < 0 or edge + block > song.shape[1] or s1 - s0 < block:
                continue
            mine = song[:, edge - block : edge + block].copy()
            lo, hi = max(edge - block, s0), min(edge + block, s1)
            mine[:, lo - (edge - block) : hi - (edge - block)] = segment[:, lo - s0 : hi - s0]
            step = _loudness(mine[:, block:], rate) - _loudness(mine[:, :block], rate)
            theirs = _loudness(song[:, edge : edge + block], rate) - _loudness(song[:, edge - block : edge], rate)
            if np.isfinite(step) and np.isfinite(theirs) and abs(step - theirs) > EDGE_STEP_LU:
                steps_ok = False
        if steps_ok:
            break
    return segment, -float(reduction.max()) if reduction.any() else 0.0


def segment_limiter(manifest: dict[str, Any], song_segment: np.ndarray, fmt: str, subtype: str | None) -> Any:
    """The limiter of a whole-song file: the run's (a folder written before moss-run/3 gets one for the song's same
    segment, ``Limiter.for_song``), its ceiling at what ``fmt`` in sample format ``subtype`` needs
    (``format_ceiling_dbtp``)."""
    import dataclasses

    from moss_engine.dsp.limiter import Limiter, format_ceiling_dbtp

    run = Limiter.from_record(manifest.get("limiter")) or Limiter.for_song(song_segment)
    return dataclasses.replace(run, ceiling_dbtp=format_ceiling_dbtp(fmt, run.ceiling_dbtp, subtype))


def work_settings(
    manifest: dict[str, Any],
    image: Path,
    audio: Path,
    rate: int,
    window_start_s: float,
    window_s: float,
    offset_s: float,
) -> Any:
    """The run's ``RunSettings`` moved to a window of the song at ``rate``.

    The STFT keeps the run's time-frequency resolution (n_fft and hop scaled by ``rate`` / run rate), the picture
    keeps its band and its place in seconds (shifted by ``offset_s``, where the segment starts in the window).
    """
    from moss_engine.settings import RunSettings

    record = manifest["settings"]
    run_rate = int(manifest["sample_rate"])
    view = manifest.get("view", {})
    n_fft = int(record.get("n_fft", view.get("n_fft", 1024)))
    hop = int(record.get("hop_length", view.get("hop_length", n_fft // 4)))
    scale = rate / run_rate
    n_fft = min(16384, max(64, 2 * round(n_fft * scale / 2)))
    hop = min(n_fft // 2, max(1, round(hop * scale)))
    place = manifest["placement"]
    return RunSettings.from_record(
        record,
        image=image,
        audio=audio,
        sample_rate=rate,
        n_fft=n_fft,
        hop_length=hop,
        start_s=window_start_s,
        duration_s=window_s,
        time=(place["t0_s"] + offset_s, place["t1_s"] + offset_s),
        freq=(place["f0_hz"], place["f1_hz"]),
        device="cpu",
        mask_shape=record.get("mask_shape", manifest.get("mask_shape", (64, 128))),
    )


def segment_renderer(
    run_dir: Path,
    manifest: dict[str, Any],
    index: int,
    song: np.ndarray,
    song_rate: int,
    audio_path: Path,
    image_path: Path,
    notices: list[str],
) -> tuple[Callable[[float], np.ndarray], tuple[int, int]]:
    """What point ``index`` adds to the song's segment, as a function of a shift of its level curve (dB): it returns
    (channels, s1 - s0) float32 for the song's samples ``s0:s1``, the run's segment.

    The segment plus one window of the song on each side is rendered twice with the run's own STFT, with the point's
    mask at its picture level (tapered in time over ``TAPER_S`` at edges inside the song, phase-refined as the point
    was, brought up by its ``makeup_db``) and with none; their difference is what the point changes, resampled to the
    song's rate. Only the segment's
    part is kept (``full_song`` fades it in and out where it meets the song), so the song outside the segment stays
    sample-exact.
    """
    import numpy as np
    import soxr
    import torch

    from moss_engine.dsp.point_render import PointRenderer
    from moss_engine.dsp.problem import HidingProblem, ProblemSettings
    from moss_engine.io.audio import AudioClip
    from moss_engine.io.image import load_image

    entry = manifest["points"][index]
    logits_path = point_file(run_dir, entry, "mask")
    level_db = picture_level_db(entry)
    n = song.shape[1]
    rate = _render_rate(manifest, song_rate, notices)
    n_fft_run = int(manifest["settings"].get("n_fft", manifest.get("view", {}).get("n_fft", 1024)))
    margin = math.ceil(n_fft_run * song_rate / rate)
    s0 = round(float(manifest["input"]["start_s"]) * song_rate)
    s1 = min(n, s0 + round(float(manifest["input"]["duration_s"]) * song_rate))
    if s0 >= n or s1 - s0 < 1:
        raise MossInputError(
            f"the run's segment ({manifest['input']['start_s']} s) lies past the end of the song", audio_path
        )
    w0, w1 = max(0, s0 - margin), min(n, s1 + margin)  # the rendered window: the segment and a margin, in samples
    window = song[:, w0:w1]
    if rate != song_rate:
        window = np.ascontiguousarray(soxr.resample(window.T, song_rate, rate, quality="HQ").T)
    settings = work_settings(
        manifest, image_path, audio_path, rate, w0 / song_rate, window.shape[1] / rate, (s0 - w0) / song_rate
    )
    clip = AudioClip(np.ascontiguousarray(window, dtype=np.float32), rate, song_rate, song.shape[0], w0 / song_rate)
    problem = HidingProblem(clip, load_image(image_path), ProblemSettings.from_run(settings))
    renderer = PointRenderer(problem, should_stop=None)  # an export is not cancelled
    logits = load_logits(logits_path, settings.mask_shape)
    song_s = n / song_rate
    taper = _time_taper(
        problem,
        rate,
        fade_in=w0 / song_rate + problem.placement.t0_s > 0.5 / song_rate,
        fade_out=w0 / song_rate + problem.placement.t1_s < song_s - 0.5 / song_rate,
    )
    iterations = int(entry.get("phase_iterations", 0) or 0)
    # the point brought up to the song's loudness as in the run (its makeup curve, on this window's times)
    gain = renderer.makeup_gain(makeup_db(entry), np.arange(problem.n_samples) / rate)
    with torch.no_grad():
        mask = renderer.point_mask(logits) * torch.from_numpy(taper)[None, :]
        music = renderer.render(torch.zeros_like(mask), None, 0.0)

    def render(shift_db: float) -> np.ndarray:
        level = np.asarray(level_db, dtype=np.float64) + shift_db
        with torch.no_grad():
            picture = problem.stft.inverse(renderer.point_spectrogram(mask, level, iterations), problem.n_samples)
        delta = picture.cpu().numpy().astype(np.float32) * gain - music
        if rate != song_rate:
            delta = soxr.resample(np.ascontiguousarray(delta.T), rate, song_rate, quality="HQ").T
            delta = np.pad(delta, ((0, 0), (0, max(0, (w1 - w0) - delta.shape[1]))))[:, : w1 - w0]
        return np.asarray(delta[:, s0 - w0 : s1 - w0], dtype=np.float32)

    return render, (s0, s1)


def _fade_ends(delta: np.ndarray, fade: int, fade_in: bool, fade_out: bool) -> None:
    """Fade (channels, samples) ``delta`` in place over ``fade`` samples (raised cosine) at the asked ends."""
    import numpy as np

    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(delta.dtype)
    if fade_in:
        delta[:, :fade] *= ramp
    if fade_out:
        delta[:, delta.shape[1] - fade :] *= ramp[::-1]


def _render_rate(manifest: dict[str, Any], song_rate: int, notices: list[str]) -> int:
    """The rate the picture is rendered at: the run's own, so that the point is rebuilt as the run made it (its
    level curve, its phase refinement, its loudness at that resolution); what it adds is then resampled to the
    song's rate. A song whose rate cannot hold the whole picture loses the part above its Nyquist frequency."""
    f1 = float(manifest["placement"]["f1_hz"])
    if f1 > song_rate / 2:
        notices.append(
            f"the picture reaches {f1:.0f} Hz, above what {song_rate} Hz audio holds "
            f"({song_rate / 2:.0f} Hz): the part above is lost"
        )
    return int(manifest["sample_rate"])


def _time_taper(problem: Any, rate: int, fade_in: bool, fade_out: bool) -> np.ndarray:
    """(frames,) raised-cosine fades over ``TAPER_S`` at the placement's start and end (where asked), else 1."""
    import numpy as np

    place = problem.placement
    c0, c1 = place.frames
    times = np.arange(c0, c1) * problem.settings.hop_length / rate
    length = min(TAPER_S, (place.t1_s - place.t0_s) / 4)
    taper = np.ones(c1 - c0)
    if fade_in:
        taper *= 0.5 - 0.5 * np.cos(np.pi * np.clip((times - place.t0_s) / length, 0, 1))
    if fade_out:
        taper *= 0.5 - 0.5 * np.cos(np.pi * np.clip((place.t1_s - times) / length, 0, 1))
    return taper.astype(np.float32)
