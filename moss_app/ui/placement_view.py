"""The music's spectrogram, the whole song, with the rectangle the picture goes into.

The rectangle's time span is the run's segment (Advanced "Segment start" / "Segment length") and its height the band
(F0 / F1): the picture fills the segment from its first to its last frame, so the part of the song the user marks is
the part the run works on. Drag the rectangle to move it, drag a corner to resize it, drag on the spectrogram outside
it to draw a new one, double-click to go back to the preset's segment and band. The Advanced fields and the
rectangle are two views of the same four numbers; the main window keeps them in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from moss_engine.io.audio import load_audio
from moss_engine.run.video import spectrogram_panel

from .plots import style_plot
from .theme import set_empty

#: The song is decoded at this rate for the view (or its own, if lower): 16 kHz at the top covers the default band.
VIEW_RATE = 32000
#: About this many STFT frames for the whole song, whatever its length (the panel has 1280 columns).
VIEW_FRAMES = 2400
#: The smallest rectangle a drag draws (s, kHz); smaller drags are clicks.
MIN_DRAG = (0.2, 0.2)


@dataclass(frozen=True)
class DrawnPlacement:
    """Where the picture goes: ``start_s`` .. ``start_s + duration_s`` of the song, ``f0_hz`` .. ``f1_hz``."""

    start_s: float
    duration_s: float
    f0_hz: float
    f1_hz: float


@dataclass(frozen=True)
class SongOverview:
    """The whole song's spectrogram as the view shows it (``panel``: uint8, low frequencies at the bottom row)."""

    panel: np.ndarray
    length_s: float
    nyquist_hz: float


def song_overview(path: Path) -> SongOverview:
    """Decode the whole song at a view rate and make its spectrogram; ``MossInputError`` if it cannot be read."""
    from moss_engine.io.audio import probe_audio

    rate = min(VIEW_RATE, probe_audio(path).sample_rate)
    clip = load_audio(path, sample_rate=rate)
    samples = clip.samples.shape[-1]
    n_fft = 1024 if samples // VIEW_FRAMES <= 512 else 2048
    hop = int(np.clip(samples // VIEW_FRAMES, 64, n_fft // 2))
    panel = spectrogram_panel(clip.samples, rate, n_fft, hop, 80.0, "linear")
    return SongOverview(panel, samples / rate, rate / 2)


class _DrawingViewBox(pg.ViewBox):
    """A ViewBox whose left-button drag draws a rectangle (reported to ``on_draw(x0, y0, x1, y1, finished)``)."""

    def __init__(self, on_draw, on_double_click):
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=False, y=False)
        self._on_draw = on_draw
        self._on_double_click = on_double_click

    def mouseClickEvent(self, ev):  # noqa: N802 (pyqtgraph override)
        if ev.button() == Qt.MouseButton.LeftButton and ev.double():
            ev.accept()
            self._on_double_click()
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph override)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        start = self.mapSceneToView(ev.buttonDownScenePos())
        end = self.mapSceneToView(ev.scenePos())
        self._on_draw(start.x(), start.y(), end.x(), end.y(), ev.isFinish())


class PlacementView(QWidget):
    """The song's spectrogram (seconds, kHz) with the placement rectangle.

    Signals:
        placement_changed(DrawnPlacement): the user moved, resized or drew the rectangle (not emitted by
            ``set_placement``).
        reset_requested(): the user double-clicked the song: back to the preset's segment and band.
    """

    placement_changed = Signal(object)
    reset_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._length = 1.0
        self._nyquist = VIEW_RATE / 2
        self._placement = DrawnPlacement(0.0, 1.0, 0.0, VIEW_RATE / 2)
        self._loading = False

        self.view_box = _DrawingViewBox(self._on_draw, self.reset_requested.emit)
        self.plot = pg.PlotWidget(viewBox=self.view_box)
        style_plot(self.plot, "time (s)", "kHz", plain_axes=())
        self.plot.hideButtons()
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).setStyle(tickFont=self.font())
        self.plot.setMinimumHeight(130)
        self.image = pg.ImageItem()
        self.image.setLookupTable(pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.roi = pg.RectROI([0, 0], [1, 1], pen=pg.mkPen("#39c0ff", width=2), hoverPen=pg.mkPen("#9be0ff", width=2),
                              removable=False)
        for corner, anchor in (((0, 0), (1, 1)), ((1, 0), (0, 1)), ((0, 1), (1, 0))):
            self.roi.addScaleHandle(list(corner), list(anchor))
        self.roi.sigRegionChangeFinished.connect(self._on_roi)
        self.plot.addItem(self.roi)
        self.roi.setZValue(10)
        self.roi.hide()  # until there is a song to place the picture in
        set_empty(self.plot, "Drop a song here, or press Open...")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setToolTip("Where the picture goes: drag the rectangle, resize it by a corner, or draw a new one;\n"
                        "double-click for the preset's. Its width is the part of the song the run uses,\n"
                        "its height the band of frequencies the picture covers.")

    # --- the song --------------------------------------------------------------------------------------------------

    def inspect(self, path: Path) -> SongOverview:
        """The drop zone's check of a new song: its overview, or ``MossInputError`` (nothing shown changes)."""
        return song_overview(path)

    def present(self, overview: SongOverview) -> None:
        """Show the song ``inspect`` accepted."""
        self._length = overview.length_s
        self._nyquist = overview.nyquist_hz
        self.image.setImage(overview.panel[::-1].T, levels=(0, 255))  # ImageItem: [x, y], y up
        self.image.setRect(QRectF(0, 0, self._length, self._nyquist / 1000))
        # limits first: the previous song's would clamp the new range (a short song then a long one stayed zoomed)
        self.plot.setLimits(xMin=0, xMax=self._length, yMin=0, yMax=self._nyquist / 1000)
        self.plot.setRange(xRange=(0, self._length), yRange=(0, self._nyquist / 1000), padding=0)
        set_empty(self.plot, None)
        self.roi.show()
        self._place_roi()

    @property
    def song_length(self) -> float:
        return self._length

    @property
    def nyquist_hz(self) -> float:
        return self._nyquist

    # --- the rectangle ---------------------------------------------------------------------------------------------

    def placement(self) -> DrawnPlacement:
        return self._placement

    def set_placement(self, placement: DrawnPlacement) -> None:
        """Show ``placement`` (clipped to the song and the view's band where it reaches past them); emits nothing."""
        self._placement = placement
        self._place_roi()

    def _place_roi(self) -> None:
        p = self._placement
        t0 = min(max(0.0, p.start_s), self._length)
        t1 = self._length if not np.isfinite(p.duration_s) else min(self._length, p.start_s + p.duration_s)
        f0, f1 = min(p.f0_hz, self._nyquist), min(p.f1_hz, self._nyquist)
        self._loading = True
        try:
            self.roi.maxBounds = QRectF(0, 0, self._length, self._nyquist / 1000)
            self.roi.setPos((t0, f0 / 1000), update=False, finish=False)
            self.roi.setSize((max(t1 - t0, 1e-3), max(f1 - f0, 1.0) / 1000), finish=False)
        finally:
            self._loading = False

    def _emit(self, t0: float, t1: float, f0_khz: float, f1_khz: float) -> None:
        t0, t1 = sorted((min(max(t0, 0.0), self._length), min(max(t1, 0.0), self._length)))
        f0, f1 = sorted((min(max(f0_khz * 1000, 0.0), self._nyquist), min(max(f1_khz * 1000, 0.0), self._nyquist)))
        if t1 - t0 <= 0 or f1 - f0 <= 0:
            return
        self._placement = DrawnPlacement(round(t0, 2), round(t1 - t0, 2), round(f0), round(f1))
        self._place_roi()
        self.placement_changed.emit(self._placement)

    def _on_roi(self, _roi=None) -> None:
        if self._loading:
            return
        x, y = self.roi.pos()
        w, h = self.roi.size()
        self._emit(float(x), float(x + w), float(y), float(y + h))

    def _on_draw(self, x0: float, y0: float, x1: float, y1: float, finished: bool) -> None:
        if abs(x1 - x0) < MIN_DRAG[0] or abs(y1 - y0) < MIN_DRAG[1]:
            return
        if not finished:  # follow the mouse without telling anyone yet
            self._loading = True
            try:
                self.roi.setPos((min(x0, x1), min(y0, y1)), update=False, finish=False)
                self.roi.setSize((abs(x1 - x0), abs(y1 - y0)), finish=False)
            finally:
                self._loading = False
            return
        self._emit(x0, x1, y0, y1)
