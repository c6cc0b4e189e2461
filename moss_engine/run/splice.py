"""The whole song with a point's picture in the run's segment (``moss render --full``, the app's whole-song export).

The point's mask logits and picture level are re-gridded to an STFT of the song at its own rate (the run's
time-frequency resolution, so the picture looks the same), rendered over the segment plus one window of the song on
each side, faded in and out over ``TAPER_S`` at the picture's edges, and added to the song inside the segment only.
Outside the segment the file is the song itself, sample for sample, always: if the segment would clip, the segment
alone is turned down, with ``TAPER_S`` fades inside it (``levels.segment_gain``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moss_engine.dsp.levels import peak, segment_gain
from moss_engine.errors import MossInputError
from moss_engine.io.audio import soundfile_name
from moss_engine.run.folder import find_input, load_logits, picture_level_db, point_file

if TYPE_CHECKING:
    import numpy as np

#: The picture fades in and out over this long at edges that lie inside the song (``--full``), so no seam is heard;
#: a segment turned down against clipping fades to its gain over as long.
TAPER_S = 0.1
#: Where a faded segment gain alone would still let a sample clip (a loud song next to the picture's first
#: milliseconds), the gain follows the samples' need, smoothed over this long (a brick-wall limiter's release).
LIMIT_SMOOTHING_S = 0.005


def full_song(run_dir: Path, manifest: dict[str, Any], index: int, notices: list[str]
              ) -> tuple[np.ndarray, int, str | None, float]:
    """The whole song with point ``index``'s picture in the run's segment.

    Returns (channels, frames) float32 at the song's rate, that rate, the song's sample format (soundfile's subtype,
    None when ffmpeg decoded it) and the segment's gain against clipping, in dB (0: none).
    """
    import numpy as np
    import soundfile as sf

    from moss_engine.io.audio import load_audio

    audio = find_input(run_dir, manifest, "audio", "--full")
    image = find_input(run_dir, manifest, "image", "--full")
    song = load_audio(audio, sample_rate=None, start_s=0.0, duration_s=None)
    notices.extend(song.notices)
    try:
        source_subtype: str | None = sf.info(soundfile_name(audio)).subtype
    except (sf.LibsndfileError, RuntimeError):
        source_subtype = None
    samples = song.samples
    delta, (s0, s1) = segment_delta(run_dir, manifest, index, samples, song.sample_rate, audio, image, notices)
    out = samples.copy()
    segment = out[:, s0:s1] + delta
    # the song's own peaks (a lossy decode can pass full scale) are the song's: only what the picture adds beyond them
    # calls for a gain, and only the segment gets it
    gain = segment_gain(segment, peak(samples), round(TAPER_S * song.sample_rate),
                        round(LIMIT_SMOOTHING_S * song.sample_rate), fade_in=s0 > 0, fade_out=s1 < samples.shape[1])
    gain_db = 0.0
    if gain is not None:
        segment *= gain
        gain_db = float(20 * np.log10(np.min(gain)))
        notices.append(f"the segment turned down by {-gain_db:.1f} dB (with {TAPER_S * 1000:.0f} ms fades) so that it "
                       "does not clip; the rest of the song is as it was")
    out[:, s0:s1] = segment
    return out, song.sample_rate, source_subtype, gain_db


def work_settings(manifest: dict[str, Any], image: Path, audio: Path, rate: int, window_start_s: float,
                  window_s: float, offset_s: float) -> Any:
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
        record, image=image, audio=audio, sample_rate=rate, n_fft=n_fft, hop_length=hop, start_s=window_start_s,
        duration_s=window_s, time=(place["t0_s"] + offset_s, place["t1_s"] + offset_s),
        freq=(place["f0_hz"], place["f1_hz"]), device="cpu",
        mask_shape=record.get("mask_shape", manifest.get("mask_shape", (64, 128))))


def segment_delta(run_dir: Path, manifest: dict[str, Any], index: int, song: np.ndarray, song_rate: int,
                  audio_path: Path, image_path: Path, notices: list[str]) -> tuple[np.ndarray, tuple[int, int]]:
    """What point ``index`` adds to the song's segment: (channels, s1 - s0) float32 for the song's samples
    ``s0:s1``, the run's segment.

    The segment plus one window of the song on each side is rendered twice with the same STFT, with the point's mask
    at its picture level (tapered in time at edges inside the song, phase-refined as the point was) and with none;
    their difference is what the picture adds. Only the segment's part is kept, faded in and out over one window at
    ends that lie inside the song (where the tapered picture has all but vanished already), so the song outside the
    segment stays sample-exact.
    """
    import numpy as np
    import soxr
    import torch

    from moss_engine.dsp.problem import HidingProblem
    from moss_engine.io.audio import AudioClip
    from moss_engine.io.image import load_image

    entry = manifest["points"][index]
    logits_path = point_file(run_dir, entry, "mask")
    level_db = picture_level_db(entry)
    n = song.shape[1]
    run_rate = int(manifest["sample_rate"])
    rate = _render_rate(manifest, song_rate, notices)
    scale = rate / run_rate
    n_fft_run = int(manifest["settings"].get("n_fft", manifest.get("view", {}).get("n_fft", 1024)))
    margin = math.ceil(min(16384, max(64, 2 * round(n_fft_run * scale / 2))) * song_rate / rate)
    s0 = round(float(manifest["input"]["start_s"]) * song_rate)
    s1 = min(n, s0 + round(float(manifest["input"]["duration_s"]) * song_rate))
    if s0 >= n or s1 - s0 < 1:
        raise MossInputError(f"the run's segment ({manifest['input']['start_s']} s) lies past the end of the song",
                             audio_path)
    w0, w1 = max(0, s0 - margin), min(n, s1 + margin)  # the rendered window: the segment and a margin, in samples
    window = song[:, w0:w1]
    if rate != song_rate:
        window = np.ascontiguousarray(soxr.resample(window.T, song_rate, rate, quality="HQ").T)
    settings = work_settings(manifest, image_path, audio_path, rate,
                             w0 / song_rate, window.shape[1] / rate, (s0 - w0) / song_rate)
    clip = AudioClip(np.ascontiguousarray(window, dtype=np.float32), rate, song_rate, song.shape[0], w0 / song_rate)
    problem = HidingProblem(clip, load_image(image_path), settings)
    logits = load_logits(logits_path, settings.mask_shape)
    song_s = n / song_rate
    taper = _time_taper(problem, rate, fade_in=w0 / song_rate + problem.placement.t0_s > 0.5 / song_rate,
                        fade_out=w0 / song_rate + problem.placement.t1_s < song_s - 0.5 / song_rate)
    with torch.no_grad():
        mask = problem.point_mask(logits) * torch.from_numpy(taper)[None, :]
        iterations = int(entry.get("phase_iterations", 0) or 0)
        picture = problem.stft.inverse(problem.point_spectrogram(mask, level_db, iterations), problem.n_samples)
        delta = picture.cpu().numpy().astype(np.float32) - problem.render(torch.zeros_like(mask), None, level_db)
    if rate != song_rate:
        delta = soxr.resample(np.ascontiguousarray(delta.T), rate, song_rate, quality="HQ").T
        delta = np.pad(delta, ((0, 0), (0, max(0, (w1 - w0) - delta.shape[1]))))[:, : w1 - w0]
    delta = np.asarray(delta[:, s0 - w0:s1 - w0], dtype=np.float32)
    _fade_ends(delta, max(1, min(margin, (s1 - s0) // 2)), fade_in=s0 > 0, fade_out=s1 < n)
    return delta, (s0, s1)


def _fade_ends(delta: np.ndarray, fade: int, fade_in: bool, fade_out: bool) -> None:
    """Fade (channels, samples) ``delta`` in place over ``fade`` samples (raised cosine) at the asked ends."""
    import numpy as np

    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(np.float32)
    if fade_in:
        delta[:, :fade] *= ramp
    if fade_out:
        delta[:, delta.shape[1] - fade:] *= ramp[::-1]


def _render_rate(manifest: dict[str, Any], song_rate: int, notices: list[str]) -> int:
    """The song's own rate, unless it cannot hold the whole picture: then the run's (what fits is kept)."""
    f1 = float(manifest["placement"]["f1_hz"])
    if f1 <= song_rate / 2:
        return song_rate
    notices.append(f"the picture reaches {f1:.0f} Hz, above what {song_rate} Hz audio holds "
                   f"({song_rate / 2:.0f} Hz): the part above is lost")
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
