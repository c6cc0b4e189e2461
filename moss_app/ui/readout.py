"""What the cursor readout of the spectrogram, mask and music views says: time, frequency and the value under the
pointer, as plain text computed from view coordinates (no Qt here, so each rule is tested on its own)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moss_engine.freq_axis import FreqAxis

#: The readout's separator between its figures.
SEP = "  ·  "


@dataclass(frozen=True)
class FrequencyScale:
    """The vertical axis of a spectrogram view in view coordinates, over a viewer's ``axis`` (``FreqAxis.viewer``:
    ``spectrogram_panel``'s rows): kHz on a linear axis (0 to Nyquist), the axis's position on a log one (0 at its
    bottom, 1 at Nyquist; frequencies below the bottom sit at 0)."""

    axis: FreqAxis

    @property
    def kind(self) -> str:
        """``"linear"`` or ``"log"``."""
        return self.axis.scale

    @property
    def top(self) -> float:
        """The view coordinate of Nyquist."""
        return 1.0 if self.kind == "log" else self.axis.top_hz / 1000

    def to_y(self, hz: float) -> float:
        """The view coordinate of ``hz``."""
        return float(self.axis.to_position(hz)) if self.kind == "log" else hz / 1000

    def to_hz(self, y: float) -> float:
        """The frequency at view coordinate ``y`` (the inverse of ``to_y``)."""
        return float(self.axis.to_hz(y)) if self.kind == "log" else y * 1000


def format_time(seconds: float) -> str:
    """``1.234 s`` under a minute, ``2:05.300`` (m:ss.sss) from a minute on, as Audacity's time readout."""
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:06.3f}"


def format_frequency(hz: float) -> str:
    """``440 Hz`` below 1 kHz, ``3.42 kHz`` from there on (``12.3 kHz`` from 10 kHz)."""
    if hz < 1000:
        return f"{hz:.0f} Hz"
    return f"{hz / 1000:.2f} kHz" if hz < 10000 else f"{hz / 1000:.1f} kHz"


def panel_db(value: float, db_range: float) -> float:
    """A panel level (0..255 over ``db_range``) as dB below the loudest cell: 255 -> 0 dB, 0 -> ``-db_range``."""
    return float(value) / 255.0 * db_range - db_range


def format_db(value: float, db_range: float) -> str:
    """``-23 dB``; the panel's floor (0) reads ``<= -80 dB``, since everything quieter is drawn black too."""
    if value <= 0:
        return f"\u2264 -{db_range:.0f} dB"
    return f"{panel_db(value, db_range):.0f} dB"


@dataclass(frozen=True)
class SpectrogramLevels:
    """A spectrogram's real levels, for the readout (the panel drawn is 8-bit: up to ``db_range`` / 510 dB off, more
    where it interpolates between bins and frames).

    Attributes:
        db: (freq, frames) float dB, bins from 0 Hz to Nyquist, frame k centred at ``k * frame_s`` seconds.
        frame_s: seconds between frames (hop / sample rate).
        top_db: the loudest cell's level: the readout says dB below it, as the panel and the colour bar do.
    """

    db: np.ndarray
    frame_s: float
    nyquist_hz: float
    top_db: float

    @classmethod
    def of(cls, db: np.ndarray, sample_rate: int, hop_length: int) -> SpectrogramLevels:
        return cls(db, hop_length / sample_rate, sample_rate / 2, float(np.max(db)))

    def cell(self, t_s: float, hz: float) -> tuple[int, int]:
        """The (bin, frame) nearest to time ``t_s`` (from the start of the audio) and frequency ``hz``."""
        bins, frames = self.db.shape
        row = min(bins - 1, max(0, round(hz / self.nyquist_hz * (bins - 1))))
        col = min(frames - 1, max(0, round(t_s / self.frame_s)))
        return int(row), int(col)

    def below_top(self, t_s: float, hz: float) -> float:
        """dB below the loudest cell at the cell nearest to (``t_s``, ``hz``)."""
        row, col = self.cell(t_s, hz)
        return float(self.db[row, col]) - self.top_db


def cell_at(
    x: float, y: float, extent: tuple[float, float, float, float], shape: tuple[int, int]
) -> tuple[int, int] | None:
    """The (row from the bottom, column) of a (rows, cols) grid spread over ``extent`` = (x0, x1, y0, y1) that holds
    the point (x, y), or None outside it."""
    x0, x1, y0, y1 = extent
    if not (x0 <= x <= x1 and y0 <= y <= y1) or x1 <= x0 or y1 <= y0:
        return None
    rows, cols = shape
    col = min(cols - 1, int((x - x0) / (x1 - x0) * cols))
    row = min(rows - 1, int((y - y0) / (y1 - y0) * rows))
    return row, col


def spectrogram_readout(
    x: float,
    y: float,
    panel: np.ndarray,
    duration_s: float,
    scale: FrequencyScale,
    db_range: float,
    time_offset_s: float = 0.0,
    levels: SpectrogramLevels | None = None,
) -> str | None:
    """The readout over a ``spectrogram_panel`` (row 0 = the top) drawn over 0..``duration_s`` and 0..``scale.top``:
    ``"1.250 s · 3.42 kHz · -23 dB"``, or None outside the panel. ``time_offset_s`` is added to the time shown (the
    song's time where the panel shows a segment of it). With ``levels``, the dB is the real level of the nearest
    spectrogram cell to a tenth of a dB (``-23.4 dB``), not the 8-bit panel's."""
    cell = cell_at(x, y, (0.0, duration_s, 0.0, scale.top), panel.shape)
    if cell is None:
        return None
    hz = scale.to_hz(y)
    if levels is not None:
        level = f"{levels.below_top(x, hz):.1f} dB"
    else:
        row, col = cell
        level = format_db(panel[panel.shape[0] - 1 - row, col], db_range)
    return SEP.join((format_time(x + time_offset_s), format_frequency(hz), level))


def mask_readout(
    x: float,
    y: float,
    mask: np.ndarray,
    extent: tuple[float, float, float, float],
    scale: FrequencyScale,
    view: tuple[float, float, float, float] | None = None,
) -> str | None:
    """The readout over a (rows, cols) mask in display space (row 0 = the top, the highest frequency) spread over
    ``extent`` = (t0, t1, y0, y1) in view coordinates: ``"1.250 s · 3.42 kHz · mask 0.73 (73 % picture)"``, or
    None outside it. Within a larger ``view`` (the segment, as the spectrogram beside it shows it) a point outside
    the mask's extent reads as the music itself: ``"… · outside the picture: the music (mask 0)"``."""
    cell = cell_at(x, y, extent, mask.shape)
    if cell is None:
        if view is None or cell_at(x, y, view, (1, 1)) is None:
            return None
        return SEP.join((format_time(x), format_frequency(scale.to_hz(y)), "outside the picture: the music (mask 0)"))
    row, col = cell
    value = float(mask[mask.shape[0] - 1 - row, col])
    mask_text = f"mask {value:.2f} ({100 * value:.0f} % picture)"
    return SEP.join((format_time(x), format_frequency(scale.to_hz(y)), mask_text))
