"""The frequency axis of a spectrogram viewer, linear or log: where a frequency sits on it and back, in one place for
the picture's placement (``dsp/target.py``), the spectrogram pictures (``run/video.py``) and the app's views."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: The frequency axes a viewer offers (``RunSettings.freq_scale``).
FREQ_SCALES = ("linear", "log")
#: Where a log axis starts, Hz: a log axis cannot start at 0 Hz. The viewer's log axis (the spectrogram pictures and
#: the app's views) and the default band of a picture drawn for it (``settings.default_band``) both start here, so
#: that the default picture fills a log view from its bottom.
LOG_BOTTOM_HZ = 40.0


@dataclass(frozen=True)
class FreqAxis:
    """A frequency axis from ``bottom_hz`` (position 0) to ``top_hz`` (position 1), equally spaced in Hz
    (``"linear"``) or in log Hz (``"log"``).

    The picture's rows span its band on the axis the run draws it for (``Placement.axis``); a viewer's axis spans
    ``axis_bottom(scale)`` to Nyquist (``FreqAxis.viewer``). On a log axis, a picture whose rows are equally spaced
    between its band's ends on one log axis is equally spaced on any other log axis that holds the band: undistorted.
    """

    scale: str
    bottom_hz: float
    top_hz: float

    def __post_init__(self) -> None:
        if self.scale not in FREQ_SCALES:
            raise ValueError(f"frequency scale {self.scale!r}: expected one of {', '.join(FREQ_SCALES)}")
        if not 0 <= self.bottom_hz < self.top_hz:
            raise ValueError(f"frequency axis {self.bottom_hz!r}..{self.top_hz!r} Hz: expected 0 <= bottom < top")
        if self.scale == "log" and self.bottom_hz <= 0:
            raise ValueError(f"log frequency axis from {self.bottom_hz!r} Hz: a log axis starts above 0 Hz")

    @classmethod
    def viewer(cls, scale: str, sample_rate: float) -> FreqAxis:
        """The axis a viewer draws audio sampled at ``sample_rate`` on: from ``axis_bottom(scale)`` to Nyquist."""
        return cls(scale, axis_bottom(scale), sample_rate / 2)

    def to_position(self, hz: ArrayLike) -> np.ndarray:
        """The position of ``hz`` on the axis: 0 at the bottom, 1 at the top (frequencies below the bottom sit at 0;
        above the top, past 1)."""
        hz = np.maximum(np.asarray(hz, dtype=np.float64), self.bottom_hz)
        if self.scale == "log":
            low = math.log(self.bottom_hz)
            return (np.log(hz) - low) / (math.log(self.top_hz) - low)
        return (hz - self.bottom_hz) / (self.top_hz - self.bottom_hz)

    def to_hz(self, position: ArrayLike) -> np.ndarray:
        """The frequency at ``position`` on the axis (the inverse of ``to_position``)."""
        position = np.asarray(position, dtype=np.float64)
        if self.scale == "log":
            low = np.log(self.bottom_hz)
            return np.exp(low + position * (np.log(self.top_hz) - low))
        return self.bottom_hz + position * (self.top_hz - self.bottom_hz)


def axis_bottom(scale: str) -> float:
    """Where a viewer's axis of ``scale`` starts: 0 Hz on a linear axis, ``LOG_BOTTOM_HZ`` on a log one."""
    return LOG_BOTTOM_HZ if scale == "log" else 0.0
