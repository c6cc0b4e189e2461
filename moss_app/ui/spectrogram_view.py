"""The selected point's spectrogram as a spectrogram viewer shows it, with the picture's placement outlined; zoom,
pan, a cursor readout (time, frequency, dB) and a dB colour bar, as in Sonic Visualiser or Audacity. Time is the
song's (the segment drawn from its start in the song), as in the music view."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem

from moss_engine.freq_axis import FreqAxis
from moss_engine.run.video import spectrogram_db, spectrogram_panel

from .image_plot import ImagePlot
from .readout import FrequencyScale, SpectrogramLevels, spectrogram_readout
from .theme import set_empty
from .view_tools import Readout, set_bar_range, show_colour_bar


class SpectrogramView(ImagePlot):
    """Time in seconds across, frequency up (kHz on a linear axis; Hz / kHz at their places on a log one).

    The wheel zooms about the pointer, a drag pans, a double-click or the "A" button shows all again. The view takes
    no keyboard focus: there is nothing to type here.
    """

    #: What the view says while it shows nothing.
    HINT = "Pick a point of the front to see its spectrogram"

    def __init__(self, parent=None):
        super().__init__(
            "spectrogram (as a viewer shows it)",
            "The selected point's sound as a spectrogram viewer (Audacity, Sonic Visualiser, a phone app)"
            "\nshows it: time across, frequency up, loudness as brightness. The outline is where the\n"
            "picture was placed; the line is the playhead. Wheel: zoom; drag: pan; double-click: all.",
            (-80.0, 0.0),
            "dB below the loudest",
            parent=parent,
        )
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pg.mkPen("#3fd0ff", width=2, cosmetic=True))
        self.outline.setZValue(10)
        self.outline.hide()
        self.addItem(self.outline, ignoreBounds=True)
        # Created once and moved by the player's clock; hidden while nothing plays.
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen("#ffffff", width=2))
        self.playhead.setZValue(20)
        self.playhead.hide()
        self.addItem(self.playhead, ignoreBounds=True)
        self.readout = Readout(self, self.readout_text)
        self._panel: np.ndarray | None = None
        self._levels: SpectrogramLevels | None = None  # the real dB the readout says
        self._duration = 1.0
        self._start = 0.0  # where the audio shown starts in the song (s)
        self._scale = FrequencyScale(FreqAxis.viewer("linear", 16000))
        self._db_range = 80.0
        self._show_empty()

    def show_audio(
        self,
        samples: np.ndarray,
        sample_rate: int,
        n_fft: int,
        hop_length: int,
        db_range: float,
        axis: FreqAxis,
        placement=None,
        start_s: float = 0.0,
    ) -> np.ndarray:
        """Draw the spectrogram of ``samples`` (channels, n), which start ``start_s`` into the song, on the viewer's
        frequency ``axis`` (``FreqAxis.viewer``), and outline ``placement`` (seconds from the start of ``samples``);
        returns the panel drawn. The readout says the real level of each cell (``SpectrogramLevels``), not the 8-bit
        panel's."""
        db = spectrogram_db(samples, n_fft, hop_length)
        panel = spectrogram_panel(samples, sample_rate, n_fft, hop_length, db_range, axis, db=db)
        self.show_panel(
            panel,
            samples.shape[-1] / sample_rate,
            axis,
            placement,
            db_range,
            start_s,
            SpectrogramLevels.of(db, sample_rate, hop_length),
        )
        return panel

    def show_panel(
        self,
        panel: np.ndarray,
        duration_s: float,
        axis: FreqAxis,
        placement=None,
        db_range: float = 80.0,
        start_s: float = 0.0,
        levels: SpectrogramLevels | None = None,
    ) -> None:
        """Show a ``spectrogram_panel`` (row 0 = the top, levels over ``db_range``, rows over ``axis``) spanning
        ``duration_s`` from ``start_s`` in the song's time; ``levels``: its real dB for the readout (None: read off the
        panel).

        A zoom the user made stays while the same span is shown (stepping through the points compares the same
        detail); a different span shows all of it.
        """
        scale = FrequencyScale(axis)
        same_span = self._panel is not None and (duration_s, scale, start_s) == (
            self._duration,
            self._scale,
            self._start,
        )
        set_empty(self, None)
        self.setMouseEnabled(x=True, y=True)
        show_colour_bar(self, self.colour_bar, True)
        self._panel, self._duration, self._scale, self._db_range = panel, duration_s, scale, db_range
        self._start, self._levels = start_s, levels
        self.frequency_axis.set_scale(scale)
        self.setLabel("left", "frequency (Hz, log scale)" if scale.kind == "log" else "frequency (kHz)")
        set_bar_range(self.colour_bar, (-db_range, 0.0))
        # Row 0 of the image item sits at y = 0 (the bottom), so the panel is flipped to put low frequencies there.
        self.image.setImage(np.ascontiguousarray(panel[::-1]), levels=(0, 255), autoLevels=False)
        self.image.setRect(QRectF(start_s, 0, duration_s, scale.top))
        vb = self.getViewBox()
        if not same_span or vb.extent is None:
            vb.fit(start_s, start_s + duration_s, 0.0, scale.top)
        if placement is None:
            self.outline.hide()
            return
        y0, y1 = self._y(placement.f0_hz), self._y(placement.f1_hz)
        self.outline.setRect(QRectF(start_s + placement.t0_s, y0, placement.t1_s - placement.t0_s, y1 - y0))
        self.outline.show()

    def _y(self, hz: float) -> float:
        return self._scale.to_y(hz)

    def readout_text(self, x: float, y: float) -> str | None:
        """What the readout says at view coordinates (x, y): the song's time, frequency and the real dB below the
        loudest cell there."""
        if self._panel is None:
            return None
        return spectrogram_readout(
            x - self._start, y, self._panel, self._duration, self._scale, self._db_range, self._start, self._levels
        )

    def set_playhead(self, seconds: float | None) -> None:
        """Draw the playhead ``seconds`` into the audio shown (at its time in the song; None hides it)."""
        if seconds is None:
            self.playhead.hide()
            return
        self.playhead.setValue(self._start + seconds)
        self.playhead.show()

    def _show_empty(self) -> None:
        self._panel = None
        self._show_hint()

    def clear_view(self) -> None:
        self.image.clear()
        self.outline.hide()
        self.playhead.hide()
        self._show_empty()
