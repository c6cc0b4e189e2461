"""The Pareto front: live while a run optimises (the optimiser's audio loss against visual loss, with the uniform
crossfade for comparison), then, finished, on the perceptual axis a listener would use (how like the song each point
sounds, Zimtohrli's MOS), with the loudness-matched crossfade heard by the same model as its reference line, and
clickable points whose tooltips give their own figures (all of them where points lie on top of each other), what a
viewer shows of each after MP3, AAC and Opus among them, and a diamond behind those whose picture survives MP3 128."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPen

from moss_engine.dsp.viewer_ssim import VISIBLE_SSIM
from moss_engine.io.codec import CODECS
from moss_engine.reporting import FrontSnapshot

from .plots import style_plot
from .theme import apply_palette, is_dark
from .view_tools import on_palette_change

FRONT_COLOUR = "#4e9be6"
SELECTED_COLOUR = "#f0a020"
#: The crossfade's dashes: a grey with at least 4.5:1 contrast on the plot's background, light or dark, two
#: device-independent pixels wide (a cosmetic pen), so the dashes stay visible at 150 % scaling and on a dark theme.
CROSSFADE_COLOURS = {"light": "#55595f", "dark": "#c8ccd2"}
CROSSFADE_WIDTH = 2.0
#: The audio axis while optimising, and of a finished run that has no MOS (a moss-run/1 folder, or a platform without
#: the perceptual model): the optimiser's own audio objective (``RunSettings.audio_objective``).
OBJECTIVE_LABELS = {
    "neurogram": "audio loss (neurogram distance to the song: how a model of hearing tells them apart, 0 = the song)",
    "logmel": "audio loss (dB, log-mel distance to the song)",
}
#: The audio axis of a finished run: the perceptual measure, 5 (no difference heard) on the left.
MOS_LABEL = "sounds like the song (MOS 1-5, Zimtohrli: 5 = no difference heard)"
#: The crossfade's legend entry on each axis, and on the MOS axis where it was not heard: the reason.
CROSSFADE_NAMES = {
    "loss": "uniform crossfade",
    "mos": "uniform crossfade, heard the same way (at the song's loudness)",
    "not heard": "uniform crossfade: not heard for this run",
    "not recorded": "uniform crossfade: not heard (a run folder from before MOSS heard it)",
}
#: The tooltip's reason for no dashed line on the MOS axis.
CROSSFADE_WHY = {
    "not heard": "the crossfade was not heard for this run (a cancelled run, a moss blend folder, or a "
    "platform without the model of hearing)",
    "not recorded": "this run folder was written before MOSS heard the crossfade (its manifest has no crossfade.mos)",
}
#: The codec whose survivors a finished front marks (``FrontPlot.survivors``): the most common way music is published.
MARKED_CODEC = "mp3_128"
#: The survivors' diamond, behind the dot: a green that reads on the light and the dark background alike.
SURVIVES_COLOUR = "#2ea043"
#: The survivors' legend entry: some points survive the codec, or none does.
SURVIVES_NAMES = {
    "some": f"picture visible after {CODECS[MARKED_CODEC].label} (SSIM >= {VISIBLE_SSIM:g})",
    "none": f"no point's picture visible after {CODECS[MARKED_CODEC].label} (SSIM < {VISIBLE_SSIM:g})",
}
TIP = (
    "The Pareto front: each dot is one result that no other beats on both counts.\n"
    "Left = closer to the song, down = clearer picture. While MOSS works, the audio axis is its\n"
    "own measure and the dashed line a plain crossfade of song and picture for comparison;\n"
    "finished, it is how like the song a listener hears each result (MOS, 5 = no difference),\n"
    "and the dashed line the same crossfade at the song's loudness, heard by the same model.\n"
    f"A green diamond: the picture stays visible once the result is published as {CODECS[MARKED_CODEC].label}.\n"
    "Point at a dot for its figures; click it to see and hear it."
)


def crossfade_heard(result) -> tuple[np.ndarray, np.ndarray, str]:
    """(MOS, visual loss) of the crossfade's levels heard in ``result`` (``RunResult.crossfade_mos``), and its legend
    name (``CROSSFADE_NAMES``: "mos", or why there is no line: "not heard", "not recorded")."""
    mos = getattr(result, "crossfade_mos", None)
    if mos is None or len(mos) != len(result.crossfade_visual):
        return np.zeros(0), np.zeros(0), "not recorded"
    heard = [i for i, m in enumerate(mos) if m is not None]
    if len(heard) < 2:  # the music end alone is no line
        return np.zeros(0), np.zeros(0), "not heard"
    return (
        np.array([mos[i] for i in heard], dtype=float),
        np.asarray(result.crossfade_visual, dtype=float)[heard],
        "mos",
    )


def point_summary(index: int, point) -> str:
    """One line about a finished point: its number (DESIGN's, from 0 at the music end, as ``point_003.wav`` and
    ``moss render --point 3`` count), alpha, MOS, loudness and limiting, all of the file as written (what the tooltip
    and status show)."""
    mos = ": not measured" if point.mos is None else f" {point.mos:.2f}/5 (MOS)"
    lu = "" if point.loudness_lu is None else f", {point.loudness_lu:+.1f} LU against the song"
    limited = f", peaks limited by {-point.limiter_db:.1f} dB" if point.limiter_db <= -0.05 else ""
    return f"point {index}: alpha {point.alpha:.2f}, sounds like the song{mos}{lu}{limited}"


def codec_line(point) -> str:
    """What a viewer shows of a point once published, in a line: ``SSIM after MP3 128 kb/s 0.55, AAC 128 kb/s 0.54,
    Opus 96 kb/s 0.52 (visible from 0.5)`` (``FrontPoint.codec_ssim``); "" when not measured."""
    figures = getattr(point, "codec_ssim", None) or {}
    said = [f"{c.label} {figures[key]:.2f}" for key, c in CODECS.items() if key in figures]
    return f"SSIM after {', '.join(said)} (visible from {VISIBLE_SSIM:g})" if said else ""


def point_tip(index: int, point) -> str:
    """A point's tooltip: ``point_summary``, below it what a viewer shows of it after each publishing codec
    (``codec_line``, where measured) and its two figures on the optimiser's own scales."""
    lines = [
        point_summary(index, point),
        codec_line(point),
        f"visual loss {point.visual:.4g}, audio loss {point.audio:.4g}",
    ]
    return "\n".join(line for line in lines if line)


def survives(point, key: str = MARKED_CODEC) -> bool | None:
    """Whether a viewer still shows the point's picture clearly (SSIM >= ``VISIBLE_SSIM``) after the codec ``key``;
    None when not measured."""
    figures = getattr(point, "codec_ssim", None) or {}
    return None if key not in figures else figures[key] >= VISIBLE_SSIM


def crossfade_pen(dark: bool) -> QPen:
    """The dashed crossfade line's pen for a ``dark`` (or light) background."""
    return pg.mkPen(
        CROSSFADE_COLOURS["dark" if dark else "light"], width=CROSSFADE_WIDTH, style=Qt.PenStyle.DashLine, cosmetic=True
    )


class FrontPlot(pg.PlotWidget):
    """The front so far (during a run) or the finished front (after it), with the crossfade line.

    Points are clickable only on a finished front, where each one is a result with a mask and audio.

    Signals:
        point_selected(int): the index (into the finished front's points) of a clicked point.
    """

    point_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        #: The optimiser's audio objective the "loss" axis shows (``RunSettings.audio_objective``).
        self.objective = "neurogram"
        style_plot(
            self,
            OBJECTIVE_LABELS[self.objective],
            "visual loss (lower = clearer picture)",
            plain_axes=("left",),  # a loss is a plain number: no "(x0.001)"
            tip=TIP,
        )
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(-10, 10))
        #: What the crossfade line is now: a key of ``CROSSFADE_NAMES``.
        self.crossfade_state = "loss"
        # Items are created once; runs only change their data.
        self.crossfade = self.plot([], [], pen=crossfade_pen(is_dark()), name=CROSSFADE_NAMES["loss"])
        on_palette_change(self, self._recolour_crossfade)
        self.line = self.plot([], [], pen=pg.mkPen(FRONT_COLOUR, width=2), name="MOSS front")
        # the tooltip is made from every point under the pointer (pyqtgraph's own lists three, then "others")
        self.scatter = pg.ScatterPlotItem(
            size=11, pen=pg.mkPen("w", width=1), brush=pg.mkBrush(FRONT_COLOUR), hoverable=True, hoverSize=14
        )
        self.addItem(self.scatter)
        self.scatter.sigHovered.connect(self._hovered)
        # the selected point: a ring drawn above the others (so it stays visible on top of a neighbour), and not
        # counted in the view's range (its larger symbol widened the range: the axes moved on each selection)
        self.marker = pg.ScatterPlotItem(size=18, pen=pg.mkPen(SELECTED_COLOUR, width=3), brush=None)
        self.marker.setZValue(10)
        self.addItem(self.marker, ignoreBounds=True)
        # the finished front's points whose picture survives ``MARKED_CODEC``: a diamond behind the dot (the dot stays
        # what is pointed at and clicked), not counted in the view's range, with its legend entry while there is one
        self.survivors = pg.ScatterPlotItem(size=21, symbol="d", pen=pg.mkPen(SURVIVES_COLOUR, width=2.5), brush=None)
        self.survivors.setZValue(-1)
        self.addItem(self.survivors, ignoreBounds=True)
        #: The survivors' legend entry now: a key of ``SURVIVES_NAMES``, or None (no figures: none in the legend).
        self.survivors_state: str | None = None
        apply_palette(self, follow=False)  # again, now that the legend has its entries (its text was a pale grey)
        self.scatter.sigClicked.connect(self._clicked)
        self._selectable = False
        self._selected: int | None = None
        self._tips: list[str] = []
        #: What the audio axis shows now: "loss" (the optimiser's, live or a run without MOS) or "mos".
        self.audio_axis = "loss"

    def _recolour_crossfade(self) -> None:
        colour = CROSSFADE_COLOURS["dark" if is_dark() else "light"]
        self.crossfade.setPen(crossfade_pen(is_dark()))
        # on the MOS axis a dot marks each level heard: the line between them is drawn, not measured
        self.crossfade.setSymbol("o" if self.crossfade_state == "mos" else None)
        self.crossfade.setSymbolPen(pg.mkPen(colour))
        self.crossfade.setSymbolBrush(pg.mkBrush(colour))
        self.crossfade.setSymbolSize(6)

    def _tip(self, x: float, y: float, data) -> str | None:
        """The tooltip of the point numbered ``data`` (None while the front is not a finished one)."""
        if self._selectable and data is not None and 0 <= int(data) < len(self._tips):
            return self._tips[int(data)]
        return None

    def tip_for(self, indices) -> str:
        """The tooltip over the points ``indices`` (all those under the pointer): each one's own figures, in their
        order along the front; "" for none."""
        tips = [self._tip(0.0, 0.0, i) for i in sorted({int(i) for i in indices})]
        tips = [t for t in tips if t]
        if len(tips) > 1:
            tips.insert(0, f"{len(tips)} points here:")
        return "\n\n".join(tips)

    def _hovered(self, _item, points, _event=None) -> None:
        self.getViewBox().setToolTip(self.tip_for(p.data() for p in points))

    def _set_audio_axis(self, axis: str, note: str = "", crossfade: str | None = None) -> None:
        """The audio axis ("loss" or "mos", its label with ``note``) and the crossfade's legend entry
        (``CROSSFADE_NAMES[crossfade]``, by default the axis's own)."""
        self.audio_axis = axis
        loss_label = OBJECTIVE_LABELS.get(self.objective, OBJECTIVE_LABELS["logmel"])
        self.setLabel("bottom", (MOS_LABEL if axis == "mos" else loss_label) + note)
        self.getViewBox().invertX(axis == "mos")
        state = crossfade or axis
        if state == self.crossfade_state:
            return
        self.crossfade_state = state
        # the legend says what the dashed line is on this axis, or why it is not drawn on the MOS axis
        legend = self.getPlotItem().legend
        if legend.getLabel(self.crossfade) is not None:
            legend.removeItem(self.crossfade)
        self._recolour_crossfade()  # its dots, before the legend draws its sample
        legend.addItem(self.crossfade, CROSSFADE_NAMES[state])
        why = f"\n\nNo dashed line: {CROSSFADE_WHY[state]}." if state in CROSSFADE_WHY else ""
        self.setToolTip(TIP + why)

    def clear_front(self, objective: str = "neurogram") -> None:
        """Forget any front (a new run starts, optimising with the audio ``objective``)."""
        self._selectable = False
        self._tips = []
        self.objective = objective
        self._set_audio_axis("loss")
        for item in (self.crossfade, self.line, self.scatter, self.marker, self.survivors):
            item.setData([], [])
        self._set_survivors_legend(None)

    def _set_survivors_legend(self, state: str | None) -> None:
        """The survivors' legend entry (``SURVIVES_NAMES[state]``; None: none)."""
        if state == self.survivors_state:
            return
        self.survivors_state = state
        legend = self.getPlotItem().legend
        if legend.getLabel(self.survivors) is not None:
            legend.removeItem(self.survivors)
        if state is not None:
            legend.addItem(self.survivors, SURVIVES_NAMES[state])

    def _show(self, visual: np.ndarray, audio: np.ndarray, cross_v: np.ndarray, cross_a: np.ndarray) -> None:
        order = np.argsort(audio, kind="stable")
        self.line.setData(audio[order], visual[order])
        self.scatter.setData(
            x=np.asarray(audio, dtype=float), y=np.asarray(visual, dtype=float), data=np.arange(len(audio))
        )
        self.crossfade.setData(np.asarray(cross_a, dtype=float), np.asarray(cross_v, dtype=float))

    def show_snapshot(self, snapshot: FrontSnapshot) -> None:
        """The front so far (not selectable), on the optimiser's own audio axis."""
        self._selectable = False
        if self.audio_axis != "loss":
            self._set_audio_axis("loss")
        self.marker.setData([], [])
        if len(self.survivors.data) or self.survivors_state is not None:  # a finished front's, until the first snapshot
            self.survivors.setData([], [])
            self._set_survivors_legend(None)
        self._show(snapshot.visual, snapshot.audio, snapshot.crossfade_visual, snapshot.crossfade_audio)

    def show_result(self, result) -> None:
        """The finished front of a ``RunResult``; its points become clickable.

        With every point's MOS measured, the audio axis is the MOS, and the dashed line the loudness-matched
        crossfade heard by the same model (``RunResult.crossfade_mos``; where it was not heard, the legend and the
        tooltip say why there is no line); else the optimiser's loss, saying that the MOS was not measured.
        """
        self.objective = getattr(result.settings, "audio_objective", "logmel")
        visual = np.array([p.visual for p in result.points])
        mos = [p.mos for p in result.points]
        if mos and all(m is not None for m in mos):
            cross_mos, cross_v, state = crossfade_heard(result)
            self._set_audio_axis("mos", crossfade=state)
            self._show(visual, np.array(mos, dtype=float), cross_v, cross_mos)
        else:
            self._set_audio_axis("loss", " · MOS not measured for this run")
            self._show(
                visual, np.array([p.audio for p in result.points]), result.crossfade_visual, result.crossfade_audio
            )
        self._tips = [point_tip(i, p) for i, p in enumerate(result.points)]
        self._selectable = True
        self._show_survivors([survives(p) for p in result.points])

    def _show_survivors(self, kept: list[bool | None]) -> None:
        """A diamond behind each finished point whose picture survives ``MARKED_CODEC`` (``kept``: per point, None
        where not measured), and the legend entry saying so, or that none does; none of either without figures."""
        x, y = self.scatter.getData()
        chosen = [i for i, k in enumerate(kept) if k]
        self.survivors.setData(x=np.asarray(x)[chosen], y=np.asarray(y)[chosen], data=np.array(chosen))
        measured = any(k is not None for k in kept)
        self._set_survivors_legend(("some" if chosen else "none") if measured else None)

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
