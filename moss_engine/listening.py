"""How like the song a point sounds, by an independent model of hearing: Zimtohrli's distance, as a MOS from 1 to 5.

Zimtohrli (Google; pip ``zimtohrli``, no model weights) compares two signals as a listener's cochlea and auditory
nerve would represent them and maps the distance to a mean opinion score (5: no difference heard, 1: very annoying).
It is not what the optimiser minimises: it is the ear MOSS is judged by, and what the user is shown as "sounds like
the song" (``points[].mos``).

Measured on the picture's time span of the point's audio as written (its mix, the mean of its channels), against the
song's segment, both resampled to Zimtohrli's 48 kHz, in pieces of at most ``PIECE_S`` (the length the reference
benchmark scores; Zimtohrli's cost grows faster than the length), the distance averaged over the pieces by length.
Where no wheel of zimtohrli exists for the platform, ``available()`` is False and the MOS is None.
"""

from __future__ import annotations

import math
from importlib import metadata

import numpy as np

#: The rate Zimtohrli works at.
ZIMTOHRLI_RATE = 48000
#: The longest piece scored at once, seconds (as ``score_run.py --listen`` scores the first 20 s).
PIECE_S = 20.0
#: The MOS of a point that is the song itself.
SAME_AS_SONG_MOS = 5.0


def _zimtohrli():
    try:
        import zimtohrli
    except ImportError:
        return None
    return zimtohrli


def available() -> bool:
    """Whether the perceptual model is installed on this platform."""
    return _zimtohrli() is not None


def model_name() -> str:
    """The model and its version, for the run folder's ``audio_objective`` ("Zimtohrli 0.2.1", or why none)."""
    if not available():
        return "none (zimtohrli is not installed for this platform)"
    try:
        return f"Zimtohrli {metadata.version('zimtohrli')}"
    except metadata.PackageNotFoundError:
        return "Zimtohrli"


def _mono_48k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import soxr

    mix = np.asarray(samples, dtype=np.float32).reshape(-1, np.shape(samples)[-1]).mean(axis=0)
    if sample_rate != ZIMTOHRLI_RATE:
        mix = soxr.resample(mix, sample_rate, ZIMTOHRLI_RATE, quality="HQ")
    return np.ascontiguousarray(mix, dtype=np.float32)


class Listener:
    """Scores points against one song segment (its 48 kHz mix is computed once).

    Args:
        reference: (channels, samples) the song's segment as the run used it.
        sample_rate: its rate.
        span_s: (start, end) seconds of the segment the picture covers: only there can a point differ from the song.
    """

    def __init__(self, reference: np.ndarray, sample_rate: int, span_s: tuple[float, float]):
        self.sample_rate = sample_rate
        first = max(0, int(math.floor(span_s[0] * sample_rate)))
        last = min(reference.shape[-1], int(math.ceil(span_s[1] * sample_rate)))
        self.span = slice(first, max(last, first + 1))
        self.reference = _mono_48k(reference[..., self.span], sample_rate)
        count = max(1, math.ceil(len(self.reference) / (PIECE_S * ZIMTOHRLI_RATE) - 1e-9))
        self.edges = np.linspace(0, len(self.reference), count + 1).round().astype(int)
        zimtohrli = _zimtohrli()
        self._model = zimtohrli.Pyohrli() if zimtohrli is not None else None

    def distance(self, point: np.ndarray) -> float | None:
        """Zimtohrli's distance of a (channels, samples) point to the song (0: the same), or None without the model."""
        if self._model is None:
            return None
        heard = _mono_48k(point[..., self.span], self.sample_rate)[:len(self.reference)]
        heard = np.pad(heard, (0, len(self.reference) - len(heard)))
        total = 0.0
        for a, b in zip(self.edges[:-1], self.edges[1:], strict=True):
            total += (b - a) * float(self._model.distance(self.reference[a:b], heard[a:b]))
        return total / max(1, self.edges[-1])

    def mos(self, point: np.ndarray) -> float | None:
        """The MOS (1-5) of a (channels, samples) point against the song, or None without the model."""
        d = self.distance(point)
        return None if d is None else float(_zimtohrli().mos_from_zimtohrli(d))
