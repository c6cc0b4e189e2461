"""The output level rule (DESIGN.md "Output level (moss-run/2)"): audio stays at the song's level, and a file gets a
gain of its own only against clipping."""

from __future__ import annotations

import math

import numpy as np

#: Peak a file is brought down to when it would clip.
OUTPUT_PEAK_DBFS = -1.0


def peak(samples: np.ndarray) -> float:
    """The largest absolute sample value (0 for no samples)."""
    return float(np.max(np.abs(samples))) if np.size(samples) else 0.0


def peak_gain(samples: np.ndarray, allowed_peak: float = 1.0) -> float:
    """The gain in dB (0 or negative) a file needs against clipping: 0 unless it peaks above both full scale and
    ``allowed_peak`` (the song's own peak: a lossy decode's overs above 1.0 are the song's, not the picture's), else
    what brings its peak to ``OUTPUT_PEAK_DBFS``."""
    top = peak(samples)
    if top <= max(1.0, allowed_peak):
        return 0.0
    return OUTPUT_PEAK_DBFS - 20 * math.log10(top)


def segment_gain(segment: np.ndarray, allowed_peak: float, fade: int, smoothing: int, fade_in: bool = True,
                 fade_out: bool = True) -> np.ndarray | None:
    """(samples,) gain for a (channels, samples) segment of a song that would clip, or None when it would not.

    The segment peaks above both full scale and ``allowed_peak`` (the song's own peak): it gets the gain that brings
    its peak to ``OUTPUT_PEAK_DBFS``, reached over ``fade`` samples (raised cosine) from 1 at the segment's ends that
    lie inside the song (``fade_in``/``fade_out``), so it meets the untouched song without a step. Should a sample in
    a fade still clip, the gain there also follows what each sample needs, smoothed over ``smoothing`` samples (as a
    limiter would), never more than 1 and never letting a sample clip.
    """
    import numpy as np

    top = peak(segment)
    allowed = max(1.0, allowed_peak)
    if top <= allowed:
        return None
    n = segment.shape[-1]
    gain = 10 ** (OUTPUT_PEAK_DBFS / 20) / top
    envelope = np.full(n, gain)
    fade = max(1, min(fade, n // 2))
    ramp = 1.0 - (1.0 - gain) * (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade))
    if fade_in:
        envelope[:fade] = ramp
    if fade_out:
        envelope[n - fade:] = ramp[::-1]
    level = np.max(np.abs(segment), axis=0)
    if np.any(level * envelope > allowed):
        need = np.minimum(1.0, allowed * 10 ** (-0.01 / 20) / np.maximum(level, 1e-12))
        envelope = np.minimum(envelope, _smoothed_minimum(need, 2 * max(1, smoothing // 2) + 1))
    return envelope.astype(np.float32)


def _smoothed_minimum(values: np.ndarray, width: int) -> np.ndarray:
    """A smooth curve never above ``values``: the running minimum over ``width`` samples, then the running mean over
    ``width`` (each mean's window lies inside the minimum's window of every sample it covers)."""
    import numpy as np

    half = width // 2
    padded = np.pad(values, half, mode="edge")
    minimum = np.lib.stride_tricks.sliding_window_view(padded, width).min(axis=1)
    padded = np.pad(minimum, half, mode="edge")
    total = np.concatenate([[0.0], np.cumsum(padded)])
    return (total[width:] - total[:-width]) / width


def keep_from_clipping(samples: np.ndarray, notices: list[str], allowed_peak: float = 1.0) -> float:
    """Turn ``samples`` down in place, if they peak above ``allowed_peak`` (full scale, or the song's own peak where
    that is higher), to peak at ``OUTPUT_PEAK_DBFS``; the gain in dB (0: none).

    One gain for the whole file (never a limiter: the picture's levels stay as they are), said in ``notices``.
    """
    import numpy as np

    gain_db = peak_gain(samples, allowed_peak)
    if gain_db == 0.0:
        return 0.0
    samples *= np.float32(10 ** (gain_db / 20))
    notices.append(f"the whole file turned down by {-gain_db:.1f} dB so that it does not clip "
                   f"(peak {OUTPUT_PEAK_DBFS:g} dBFS)")
    return gain_db


def at_song_level(samples: np.ndarray, run_gain_db: float) -> np.ndarray:
    """A moss-run/1 folder's audio (its ``output_gain_db`` applied) back at the song's own level: a copy, the run's one
    gain undone (0 dB: a moss-run/2 folder's audio already is at the song's level)."""
    import numpy as np

    return (samples * np.float32(10 ** (-run_gain_db / 20))).astype(np.float32)
