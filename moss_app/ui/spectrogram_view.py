"""The selected point's spectrogram as a spectrogram viewer shows it, with the picture's placement outlined."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from moss_engine.run.video import spectrogram_panel

from .plots import add_image, style_plot
from .theme import set_empty

#: The lowest frequency of spectrogram_panel's log axis.
LOG_AXIS_BOTTOM_HZ = 20.0


class SpectrogramView(pg.PlotWidget):
    """Time in seconds across, frequency up (kHz on a linear axis, a 0..1 position on a log one)."""

    #: What the view says while it shows nothing.
    HINT = "Pick a point of the front to see its spectrogram"

    def __init__(self, parent=None):
        super().__init__(parent)
        style_plot(self, "time (s)", "frequency (kHz)", title="spectrogram (as a viewer shows it)", still=True,
                   tip="The selected point's sound as a spectrogram viewer (Audacity, Sonic Visualiser, a phone app)"
                       "\nshows it: time across, frequency up, loudness as brightness. The outline is where the\n"
                       "picture was placed; the line is the playhead.")
        self.image = add_image(self, "inferno")
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pg.mkPen("#3fd0ff", width=2, cosmetic=True))
        self.outline.setZValue(10)
        self.outline.hide()
        self.addItem(self.outline)
        # Created once and moved by the player's clock; hidden while nothing plays.
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen("#ffffff", width=2))
        self.playhead.setZValue(20)
        self.playhead.hide()
        self.addItem(self.playhead, ignoreBounds=True)
        set_empty(self, self.HINT)

    def show_audio(self, samples: np.ndarray, sample_rate: int, n_fft: int, hop_length: int, db_range: float,
                   freq_scale: str, placement=None) -> np.ndarray:
        """Draw the spectrogram of ``samples`` (channels, n) and outline ``placement``; returns the panel drawn."""
        panel = spectrogram_panel(samples, sample_rate, n_fft, hop_length, db_range, freq_scale)
        self.show_panel(panel, samples.shape[-1] / sample_rate, sample_rate, freq_scale, placement)
        return panel

    def show_panel(self, panel: np.ndarray, duration_s: float, sample_rate: int, freq_scale: str,
                   placement=None) -> None:
        """Show a ``spectrogram_panel`` (row 0 = the top) spanning ``duration_s``."""
        set_empty(self, None)
        nyquist = sample_rate / 2
        self._scale = (freq_scale, nyquist)
        top = 1.0 if freq_scale == "log" else nyquist / 1000
        self.setLabel("left", "frequency (log scale)" if freq_scale == "log" else "frequency (kHz)")
        # Row 0 of the image item sits at y = 0 (the bottom), so the panel is flipped to put low frequencies there.
        self.image.setImage(np.ascontiguousarray(panel[::-1]), levels=(0, 255), autoLevels=False)
        self.image.setRect(QRectF(0, 0, duration_s, top))
        self.getViewBox().setRange(xRange=(0, duration_s), yRange=(0, top), padding=0)
        if placement is None:
            self.outline.hide()
            return
        y0, y1 = self._y(placement.f0_hz), self._y(placement.f1_hz)
        self.outline.setRect(QRectF(placement.t0_s, y0, placement.t1_s - placement.t0_s, y1 - y0))
        self.outline.show()

    def _y(self, hz: float) -> float:
        scale, nyquist = self._scale
        if scale == "log":
            hz = max(hz, LOG_AXIS_BOTTOM_HZ)
            return (math.log(hz) - math.log(LOG_AXIS_BOTTOM_HZ)) / (math.log(nyquist) - math.log(LOG_AXIS_BOTTOM_HZ))
        return hz / 1000

    def set_playhead(self, seconds: float | None) -> None:
        """Draw the playhead at ``seconds`` (None hides it)."""
        if seconds is None:
            self.playhead.hide()
            return
        self.playhead.setValue(seconds)
        self.playhead.show()

    def clear_view(self) -> None:
        self.image.clear()
        self.outline.hide()
        self.playhead.hide()
        set_empty(self, self.HINT)
