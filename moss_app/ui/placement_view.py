"""Where the picture goes: a rectangle drawn on the spectrogram of the chosen music segment.

The rectangle is in seconds from the segment's start and Hz, as ``RunSettings.time`` / ``RunSettings.freq`` take
them. ``None`` means "no rectangle chosen": the whole segment and the default band (``moss_engine.settings``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from moss_engine.audio_io import load_audio
from moss_engine.errors import MossInputError
from moss_engine.video import spectrogram_panel

#: The rate the segment is decoded at for the view (the run's own rate may be higher: the view then stops at 11 kHz).
VIEW_RATE = 22050
Placement = tuple[tuple[float, float], tuple[float, float]]


class PlacementView(QWidget):
    """A small spectrogram of the segment with a draggable, resizable rectangle: the picture's placement.

    Signals:
        placement_changed(object): ``((t0, t1), (f0, f1))`` (s from the segment's start, Hz) after the user (or
            ``set_placement``) moved the rectangle, or None after Reset (whole segment, default band).
    """

    placement_changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._placement: Placement | None = None
        self._default_band: tuple[float, float] = (0.0, VIEW_RATE / 2)
        self._length = 1.0  # the segment's length, s
        self._nyquist = VIEW_RATE / 2
        self._loading = False

        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setLabel("left", "kHz")
        self.plot.setMinimumHeight(120)
        self.plot.setMaximumHeight(170)
        self.image = pg.ImageItem()
        self.image.setLookupTable(pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.roi = pg.RectROI([0, 0], [1, 1], pen=pg.mkPen("#39c0ff", width=2), removable=False)
        self.roi.addScaleHandle([0, 0], [1, 1])
        self.roi.addScaleHandle([1, 0], [0, 1])
        self.roi.addScaleHandle([0, 1], [1, 0])
        self.roi.sigRegionChangeFinished.connect(self._on_roi)
        self.plot.addItem(self.roi)

        self.label = QLabel("Placement: whole segment, default band")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the whole segment and the default band")
        self.reset_button.clicked.connect(self.reset)
        row = QHBoxLayout()
        row.addWidget(self.label, 1)
        row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        layout.addLayout(row)
        self.setToolTip("Drag or resize the rectangle: where the picture goes in the music's spectrogram")
        self._place_roi()

    # --- the segment ------------------------------------------------------------------------------------------------

    def set_segment(self, path: Path | None, start_s: float, duration_s: float | None, sample_rate: int,
                    default_band: tuple[float, float]) -> None:
        """Show the segment ``start_s`` .. ``start_s + duration_s`` of ``path`` (None or inf: to the end)."""
        self._nyquist = min(sample_rate, VIEW_RATE) / 2
        self._default_band = (float(default_band[0]), float(default_band[1]))
        if duration_s is not None and not np.isfinite(duration_s):
            duration_s = None
        self.image.clear()
        if path is not None:
            try:
                clip = load_audio(path, sample_rate=VIEW_RATE, start_s=start_s, duration_s=duration_s)
            except MossInputError:
                clip = None
            if clip is not None:
                self._length = clip.samples.shape[-1] / clip.sample_rate
                panel = spectrogram_panel(clip.samples, clip.sample_rate, 1024, 256, 80.0, "linear")
                self.image.setImage(panel[::-1].T, levels=(0, 255))  # ImageItem: [x, y], y up
                self.image.setRect(QRectF(0, 0, self._length, VIEW_RATE / 2000))
        if self._placement is not None:  # keep the rectangle inside the new segment
            (t0, t1), (f0, f1) = self._placement
            t1 = min(t1, self._length)
            f1 = min(f1, self._nyquist)
            self._placement = None if t0 >= t1 or f0 >= f1 else ((t0, t1), (f0, f1))
        self.plot.setRange(xRange=(0, self._length), yRange=(0, self._nyquist / 1000), padding=0)
        self._place_roi()

    @property
    def segment_length(self) -> float:
        return self._length

    # --- the rectangle ---------------------------------------------------------------------------------------------

    def placement(self) -> Placement | None:
        """``((t0, t1), (f0, f1))``, or None for the whole segment and the default band."""
        return self._placement

    def set_placement(self, placement: Placement | None, notify: bool = True) -> None:
        self._placement = None if placement is None else (tuple(map(float, placement[0])),
                                                          tuple(map(float, placement[1])))
        self._place_roi()
        if notify:
            self.placement_changed.emit(self._placement)

    def set_band(self, band: tuple[float, float] | None) -> None:
        """Move the rectangle's band (the Advanced F0/F1 fields), keeping its time span; emits nothing."""
        if band is None:
            if self._placement is not None and self._placement[0] == (0.0, self._length):
                self._placement = None
        else:
            span = self._placement[0] if self._placement is not None else (0.0, self._length)
            self._placement = (span, (float(band[0]), float(band[1])))
        self._place_roi()

    def reset(self) -> None:
        self.set_placement(None)

    def _place_roi(self) -> None:
        (t0, t1), (f0, f1) = self._placement or ((0.0, self._length), self._default_band)
        f1 = min(f1, self._nyquist)
        self._loading = True
        try:
            self.roi.maxBounds = QRectF(0, 0, self._length, self._nyquist / 1000)
            self.roi.setPos((t0, f0 / 1000), update=False, finish=False)
            self.roi.setSize((t1 - t0, max(f1 - f0, 1.0) / 1000), finish=False)
        finally:
            self._loading = False
        if self._placement is None:
            self.label.setText("Placement: whole segment, default band")
        else:
            self.label.setText(f"Placement: {t0:.2f}-{t1:.2f} s, {f0 / 1000:.2f}-{f1 / 1000:.2f} kHz")

    def _on_roi(self, _roi=None) -> None:
        if self._loading:
            return
        x, y = self.roi.pos()
        w, h = self.roi.size()
        t0, t1 = max(0.0, float(x)), min(self._length, float(x + w))
        f0, f1 = max(0.0, float(y) * 1000), min(self._nyquist, float(y + h) * 1000)
        if t1 <= t0 or f1 <= f0:
            return
        self.set_placement(((t0, t1), (f0, f1)))
