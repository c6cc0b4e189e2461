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
