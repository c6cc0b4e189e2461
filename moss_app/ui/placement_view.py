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
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from moss_engine.freq_axis import FreqAxis
from moss_engine.io.audio import load_audio
from moss_engine.options import PRESETS
from moss_engine.run.video import spectrogram_panel

from . import colour_maps
from .plots import style_plot
from .readout import FrequencyScale, spectrogram_readout
from .theme import set_empty
from .view_tools import ExploringViewBox, Readout, show_reset_button

#: The song is decoded at this rate for the view (or its own, if lower): the highest rate of any preset, so the view
#: reaches every preset's limit (at 32 kHz it stopped at 16 kHz and Standard's 22.05 kHz could not be drawn).
VIEW_RATE = max(preset["sample_rate"] for preset in PRESETS.values())
#: About this many STFT frames for the whole song, whatever its length (the panel has 1280 columns).
VIEW_FRAMES = 2400
#: The smallest rectangle a drag draws (s, kHz); smaller drags are clicks.
MIN_DRAG = (0.2, 0.2)
#: The overview's dB range (``song_overview``'s panel spans this far below the song's loudest cell).
VIEW_DB_RANGE = 80.0
#: The line at the highest frequency the run's rate can hold, and the shade above it.
LIMIT_COLOUR = "#ff5a4e"
#: The line at the highest frequency the codec the result is published in keeps (its low-pass), and its lighter shade.
CODEC_COLOUR = "#ffb000"


@dataclass(frozen=True)
class DrawnPlacement:
    """Where the picture goes: ``start_s`` .. ``start_s + duration_s`` of the song, ``f0_hz`` .. ``f1_hz``."""

    start_s: float
    duration_s: float
    f0_hz: float
    f1_hz: float


@dataclass(frozen=True)
class SongOverview:
    """The whole song's spectrogram as the view shows it (``panel``: uint8, low frequencies at the bottom row), the
    song's own sample rate (``source_rate``, Hz: what bounds the band a run can use in it) and its channels as a run
    reads them (``channels``: what a codec's low-pass depends on, ``Codec.cutoff_hz``)."""

    panel: np.ndarray
    length_s: float
    nyquist_hz: float
    source_rate: int | None = None
    channels: int = 2


def song_overview(path: Path) -> SongOverview:
    """Decode the whole song at a view rate and make its spectrogram; ``MossInputError`` if it cannot be read."""
    from moss_engine.io.audio import probe_audio

    rate = min(VIEW_RATE, probe_audio(path).sample_rate)
    clip = load_audio(path, sample_rate=rate)
    samples = clip.samples.shape[-1]
    n_fft = 1024 if samples // VIEW_FRAMES <= 512 else 2048
    hop = int(np.clip(samples // VIEW_FRAMES, 64, n_fft // 2))
    panel = spectrogram_panel(clip.samples, rate, n_fft, hop, VIEW_DB_RANGE, FreqAxis.viewer("linear", rate))
    return SongOverview(panel, samples / rate, rate / 2, clip.source_rate, int(clip.samples.shape[0]))


class _DrawingViewBox(ExploringViewBox):
    """A ViewBox whose left-button drag draws a rectangle (reported to ``on_draw(x0, y0, x1, y1, finished)``).

    Drawing keeps the left button; the middle button pans, the right button zooms, Ctrl + wheel zooms about the
    pointer (the plain wheel scrolls the inputs column), the "A" button shows the whole song again, a double-click
    asks for the preset's placement (``on_double_click``).
    """

    def __init__(self, on_draw, on_double_click):
        super().__init__(on_double_click=on_double_click)
        self._on_draw = on_draw

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph override)
        if ev.button() != Qt.MouseButton.LeftButton or axis is not None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start = self.mapSceneToView(ev.buttonDownScenePos())
        end = self.mapSceneToView(ev.scenePos())
        self._on_draw(start.x(), start.y(), end.x(), end.y(), ev.isFinish())


class PlacementView(QWidget):
    """The song's spectrogram (seconds, kHz) with the placement rectangle, a cursor readout (time, frequency, dB),
    once ``set_limit_hz`` is given one, the highest frequency the run's rate can hold, and once ``set_codec_limit`` is
    given one, the highest frequency the codec the result is published in keeps.

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
        self._limit_hz: float | None = None
        self._codec_hz: float | None = None
        self._codec_label = ""
        self._source_rate: int | None = None
        self._channels = 2
        self._placement = DrawnPlacement(0.0, 1.0, 0.0, VIEW_RATE / 2)
        self._loading = False
        self._panel: np.ndarray | None = None

        self.view_box = _DrawingViewBox(self._on_draw, self.reset_requested.emit)
        self.view_box.setMouseEnabled(x=False, y=False)  # no song yet: nothing to pan or zoom
        self.plot = pg.PlotWidget(viewBox=self.view_box)
        style_plot(self.plot, "time (s)", "kHz", plain_axes=())
        show_reset_button(self.plot)
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).setStyle(tickFont=self.font())
        self.plot.setMinimumHeight(130)
        self.image = pg.ImageItem()
        colour_maps.follow(self, self.image)
        self.plot.addItem(self.image)
        self._build_limit()
        self.roi = pg.RectROI(
            [0, 0], [1, 1], pen=pg.mkPen("#39c0ff", width=2), hoverPen=pg.mkPen("#9be0ff", width=2), removable=False
        )
        for corner, anchor in (((0, 0), (1, 1)), ((1, 0), (0, 1)), ((0, 1), (1, 0))):
            self.roi.addScaleHandle(list(corner), list(anchor))
        self.roi.sigRegionChangeFinished.connect(self._on_roi)
        self.plot.addItem(self.roi)
        self.roi.setZValue(10)
        self.roi.hide()  # until there is a song to place the picture in
        self.readout = Readout(self.plot, self.readout_text)
        set_empty(self.plot, "Drop a song here, or press Open...")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setToolTip(
            "Where the picture goes: drag the rectangle, resize it by a corner, or draw a new one;\n"
            "double-click for the preset's. Its width is the part of the song the run uses,\n"
            "its height the band of frequencies the picture covers. Ctrl + wheel zooms, the middle\n"
            "button pans; the red line is the highest frequency the chosen quality can hold,\n"
            'the amber line the highest one the codec you publish in keeps ("Publish as").'
        )

    def _build_limit(self) -> None:
        """The rate's limit (hidden until ``set_limit_hz``) and the codec's (until ``set_codec_limit``): each a line
        with the band above it shaded; they take no mouse. The rate's label sits at the right, the codec's at the
        left, so that both read when the two lines are near."""
        self.limit_line, self.limit_shade = self._limit_items(LIMIT_COLOUR, 0.98, (1, 1), 140)
        self.codec_line, self.codec_shade = self._limit_items(CODEC_COLOUR, 0.02, (0, 1), 90)
        for item, z in ((self.codec_shade, 4), (self.limit_shade, 5), (self.codec_line, 6), (self.limit_line, 7)):
            item.setZValue(z)
            item.hide()
            self.plot.addItem(item, ignoreBounds=True)

    @staticmethod
    def _limit_items(colour: str, position: float, anchor: tuple[int, int], shade: int):
        """A dashed horizontal line of ``colour`` labelled at ``position`` (0 left, 1 right) of the view, and the
        shade above it (``shade``: its opacity, 0-255)."""
        line = pg.InfiniteLine(
            pos=0.0,
            angle=0,
            movable=False,
            pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
            label="",
            labelOpts={
                "position": position,
                "color": "#ffffff",
                "fill": pg.mkBrush(0, 0, 0, 170),
                "anchors": [anchor, anchor],
            },
        )
        rect = QGraphicsRectItem()
        rect.setBrush(pg.mkBrush(0, 0, 0, shade))
        rect.setPen(pg.mkPen(None))
        rect.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        return line, rect

    # --- the song --------------------------------------------------------------------------------------------------

    def inspect(self, path: Path) -> SongOverview:
        """The drop zone's check of a new song: its overview, or ``MossInputError`` (nothing shown changes)."""
        return song_overview(path)

    def present(self, overview: SongOverview) -> None:
        """Show the song ``inspect`` accepted."""
        self._length = overview.length_s
        self._nyquist = overview.nyquist_hz
        self._source_rate = overview.source_rate
        self._channels = overview.channels
        self._panel = overview.panel
        self.image.setImage(overview.panel[::-1].T, levels=(0, 255))  # ImageItem: [x, y], y up
        self.image.setRect(QRectF(0, 0, self._length, self._nyquist / 1000))
        # the new song's extent replaces the old one's limits (a short song then a long one stayed zoomed)
        self.view_box.fit(0.0, self._length, 0.0, self._nyquist / 1000)
        self.view_box.setMouseEnabled(x=True, y=True)
        set_empty(self.plot, None)
        self.roi.show()
        self._show_limit()
        self._place_roi()

    @property
    def song_length(self) -> float:
        return self._length

    @property
    def nyquist_hz(self) -> float:
        return self._nyquist

    @property
    def song_rate(self) -> int | None:
        """The song's own sample rate, Hz (None before a song is shown)."""
        return self._source_rate

    @property
    def song_channels(self) -> int:
        """The song's channels as a run reads them (2 before a song is shown)."""
        return self._channels

    def readout_text(self, x: float, y: float) -> str | None:
        """What the readout says at (x s, y kHz): the song's time, the frequency and the level there in dB."""
        if self._panel is None:
            return None
        return spectrogram_readout(
            x, y, self._panel, self._length, FrequencyScale(FreqAxis("linear", 0.0, self._nyquist)), VIEW_DB_RANGE
        )

    # --- the rate's limit ------------------------------------------------------------------------------------------

    def set_limit_hz(self, hz: float | None) -> None:
        """Show ``hz`` (the chosen quality's Nyquist frequency) as a line with the band above it shaded, and keep the
        rectangles the user draws or drags below it; None: no limit but the view's top.

        A placement set by ``set_placement`` (the Advanced fields) is shown as it is, even above the line: the two
        stay views of the same numbers, and the line shows at once why such a band is refused.
        """
        self._limit_hz = None if hz is None else float(hz)
        self._limits_changed()

    def _limits_changed(self) -> None:
        """Draw the limits again and keep the rectangle's drag bounds under the lower of them."""
        self._show_limit()
        self._loading = True
        try:
            self.roi.maxBounds = QRectF(0, 0, self._length, self._top_hz() / 1000)
        finally:
            self._loading = False

    @property
    def limit_hz(self) -> float | None:
        return self._limit_hz

    def set_codec_limit(self, hz: float | None, label: str = "") -> None:
        """Show ``hz`` (the low-pass of the codec the result is published in, ``Codec.cutoff_hz``; ``label``: the
        codec in words, "MP3 128 kb/s") as a line with the band above it shaded, where it is below the rate's limit
        and the view's top; None (lossless): no line. The rectangles the user draws or drags stay under it, as under
        the rate's limit; a band set above it in the Advanced fields is shown, and refused by the inputs panel."""
        self._codec_hz = None if hz is None else float(hz)
        self._codec_label = label
        self._limits_changed()

    @property
    def codec_limit_hz(self) -> float | None:
        """The codec's limit given to ``set_codec_limit`` (None: lossless)."""
        return self._codec_hz

    def _rate_top_hz(self) -> float:
        """The highest frequency the run's rate holds in this view."""
        return self._nyquist if self._limit_hz is None else min(self._limit_hz, self._nyquist)

    def _top_hz(self) -> float:
        """The highest frequency a rectangle the user makes may reach."""
        top = self._rate_top_hz()
        return top if self._codec_hz is None else min(self._codec_hz, top)

    def _show_limit(self) -> None:
        has_song = self._panel is not None
        shown = self._limit_hz is not None and self._limit_hz < self._nyquist and has_song
        self.limit_line.setVisible(shown)
        self.limit_shade.setVisible(shown)
        if shown:
            khz = self._limit_hz / 1000
            self.limit_line.setValue(khz)
            self.limit_line.label.setFormat(f"max {khz:g} kHz")  # short: the view may be 200 px wide
            self.limit_shade.setRect(QRectF(0, khz, self._length, self._nyquist / 1000 - khz))
        # only where the codec cuts lower than the rate already does (a Preview run at 22.05 kHz keeps 11.025 kHz
        # whatever the codec: a second line there would say nothing new)
        rate_top = self._rate_top_hz()
        codec_shown = self._codec_hz is not None and self._codec_hz < rate_top and has_song
        self.codec_line.setVisible(codec_shown)
        self.codec_shade.setVisible(codec_shown)
        if codec_shown:
            khz = self._codec_hz / 1000
            self.codec_line.setValue(khz)
            # worded as the rate's: "... keeps up to 16.55 kHz" was cut at the right of a 210 px view
            self.codec_line.label.setFormat(f"{self._codec_label}: max {khz:g} kHz")
            self.codec_shade.setRect(QRectF(0, khz, self._length, rate_top / 1000 - khz))

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
            self.roi.maxBounds = QRectF(0, 0, self._length, self._top_hz() / 1000)
            self.roi.setPos((t0, f0 / 1000), update=False, finish=False)
            self.roi.setSize((max(t1 - t0, 1e-3), max(f1 - f0, 1.0) / 1000), finish=False)
        finally:
            self._loading = False

    def _emit(self, t0: float, t1: float, f0_khz: float, f1_khz: float) -> None:
        top = self._top_hz()
        t0, t1 = sorted((min(max(t0, 0.0), self._length), min(max(t1, 0.0), self._length)))
        f0, f1 = sorted((min(max(f0_khz * 1000, 0.0), top), min(max(f1_khz * 1000, 0.0), top)))
        if t1 - t0 <= 0 or f1 - f0 <= 0:
            self._place_roi()  # nothing left under the limit: back to the placement as it was
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
        top = self._top_hz() / 1000
        y0, y1 = min(y0, top), min(y1, top)  # the mouse may go above the limit; the rectangle does not
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
