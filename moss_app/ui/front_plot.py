"""The live Pareto front: audio loss against visual loss, the uniform crossfade for comparison, clickable points."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from moss_engine.reporting import FrontSnapshot

from .theme import apply_palette

FRONT_COLOUR = "#4e9be6"
SELECTED_COLOUR = "#f0a020"
CROSSFADE_COLOUR = "#9a9a9a"


class FrontPlot(pg.PlotWidget):
    """The front so far (during a run) or the finished front (after it), with the crossfade line.

    Points are clickable only on a finished front, where each one is a result with a mask and audio.

    Signals:
        point_selected(int): the index (into the finished front's points) of a clicked point.
    """

    point_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        apply_palette(self)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setLabel("bottom", "audio loss (dB, log-mel distance to the song)")
        self.setLabel("left", "visual loss (lower = clearer picture)")
        self.setToolTip("The Pareto front: each dot is one result that no other beats on both counts.\n"
                        "Left = closer to the song, down = clearer picture. The dashed line is a plain crossfade\n"
                        "of song and picture for comparison: MOSS's dots usually lie below it.\n"
                        "Click a dot to see and hear it.")
        self.getAxis("left").enableAutoSIPrefix(False)  # a loss is a plain number: no "(x0.001)"
        self.addLegend(offset=(-10, 10))
        # Items are created once; runs only change their data.
        dashed = pg.mkPen(CROSSFADE_COLOUR, width=1.5, style=Qt.PenStyle.DashLine)
        self.crossfade = self.plot([], [], pen=dashed, name="uniform crossfade")
        self.line = self.plot([], [], pen=pg.mkPen(FRONT_COLOUR, width=2), name="MOSS front")
        self.scatter = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1), brush=pg.mkBrush(FRONT_COLOUR),
                                          hoverable=True, hoverSize=14, tip=None)
        self.addItem(self.scatter)
        self.marker = pg.ScatterPlotItem(size=18, pen=pg.mkPen(SELECTED_COLOUR, width=3), brush=None)
        self.addItem(self.marker)
        apply_palette(self, follow=False)  # again, now that the legend has its entries (its text was a pale grey)
        self.scatter.sigClicked.connect(self._clicked)
        self._selectable = False
        self._selected: int | None = None

    def clear_front(self) -> None:
        """Forget any front (a new run starts)."""
        self._selectable = False
        for item in (self.crossfade, self.line, self.scatter, self.marker):
            item.setData([], [])

    def _show(self, visual: np.ndarray, audio: np.ndarray, cross_v: np.ndarray, cross_a: np.ndarray) -> None:
        order = np.argsort(audio, kind="stable")
        self.line.setData(audio[order], visual[order])
        self.scatter.setData(x=np.asarray(audio, dtype=float), y=np.asarray(visual, dtype=float),
                             data=np.arange(len(audio)))
        self.crossfade.setData(np.asarray(cross_a, dtype=float), np.asarray(cross_v, dtype=float))

    def show_snapshot(self, snapshot: FrontSnapshot) -> None:
        """The front so far (not selectable)."""
        self._selectable = False
        self.marker.setData([], [])
        self._show(snapshot.visual, snapshot.audio, snapshot.crossfade_visual, snapshot.crossfade_audio)

    def show_result(self, result) -> None:
        """The finished front of a ``RunResult``; its points become clickable."""
        visual = np.array([p.visual for p in result.points])
        audio = np.array([p.audio for p in result.points])
        self._show(visual, audio, result.crossfade_visual, result.crossfade_audio)
        self._selectable = True

    def set_selected(self, index: int | None) -> None:
        """Ring the point ``index`` (None: no ring)."""
        self._selected = index
        if index is None:
            self.marker.setData([], [])
            return
        x, y = self.scatter.getData()
        self.marker.setData([x[index]], [y[index]])

    def points_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(audio, visual) arrays the scatter holds now."""
        x, y = self.scatter.getData()
        return np.asarray(x), np.asarray(y)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Left/Up step to the neighbouring point towards the music (up-left on the plot), Right/Down towards the
        picture, Home/End to the two ends."""
        count = len(self.scatter.data) if self._selectable else 0
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1}.get(event.key())
        if count and (step is not None or event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End)):
            if event.key() == Qt.Key.Key_Home:
                index = 0
            elif event.key() == Qt.Key.Key_End:
                index = count - 1
            else:
                index = min(count - 1, max(0, (self._selected if self._selected is not None else -step) + step))
            self.point_selected.emit(index)
            event.accept()
            return
        super().keyPressEvent(event)

    def _clicked(self, _item, points, _event=None) -> None:
        if self._selectable and len(points):
            self.point_selected.emit(int(points[0].data()))
