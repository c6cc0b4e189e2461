"""What a spectrogram viewer's user expects of a picture view: wheel zoom about the pointer, drag to pan, a reset
(double-click or the "A" button), zoom held to the data's extent, a cursor readout and a colour bar.

The wheel: a view inside a scrolling column (the music view in the inputs) zooms with Ctrl + wheel and leaves the
plain wheel to the column, as maps embedded in a web page do, so scrolling the column never zooms by surprise; a
view with no scrolling around it (the result's mask and spectrogram) zooms with the plain wheel, as Audacity and
Sonic Visualiser do.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

from . import colour_maps
from .readout import SEP

#: The deepest zoom, as a fraction of the data's extent on each axis (a few hundred cells of a panel).
MIN_SPAN = 0.005
#: Tooltip of the "A" button, pyqtgraph's own reset affordance (shown while zoomed, under the pointer).
RESET_TIP = "Reset zoom: show everything (or double-click the view)"
_PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange, QEvent.Type.ThemeChange)


def in_scroll_area(widget: QWidget | None) -> bool:
    """Whether ``widget`` sits inside a scroll area (its own scrolling, as a QGraphicsView's, does not count)."""
    parent = widget.parentWidget() if widget is not None else None
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


class ExploringViewBox(pg.ViewBox):
    """A ViewBox that zooms with the wheel about the pointer, pans by dragging, and returns to the whole data on a
    double-click; ``fit`` sets the data's extent, which also bounds every zoom and pan.

    Args:
        on_double_click: called instead of the zoom reset on a double-click (the music view resets the placement
            there); None: a double-click resets the zoom.
    """

    def __init__(self, on_double_click: Callable[[], None] | None = None, **kwargs):
        super().__init__(enableMenu=False, **kwargs)
        self.setDefaultPadding(0.0)
        self._extent: QRectF | None = None
        self._on_double_click = on_double_click
        self._linked: list[weakref.ref] = []  # views that share this one's zoom (``link_zoom``)
        self._following = False

    @property
    def extent(self) -> QRectF | None:
        """The data's extent in view coordinates (None before the first ``fit``)."""
        return self._extent

    def fit(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Make (x0..x1, y0..y1) the data's extent: zoom and pan stay inside it, and the view shows all of it."""
        self._extent = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.setLimits(xMin=None, xMax=None, yMin=None, yMax=None)  # the old extent must not clamp the new range
        self.setLimits(
            xMin=x0,
            xMax=x1,
            yMin=y0,
            yMax=y1,
            maxXRange=x1 - x0,
            maxYRange=y1 - y0,
            minXRange=(x1 - x0) * MIN_SPAN,
            minYRange=(y1 - y0) * MIN_SPAN,
        )
        self.reset_zoom()

    def forget_extent(self) -> None:
        """No data: no limits (the empty view's hint sits at 0..1)."""
        self._extent = None
        self.setLimits(
            xMin=None, xMax=None, yMin=None, yMax=None, maxXRange=None, maxYRange=None, minXRange=None, minYRange=None
        )

    def reset_zoom(self) -> None:
        """Back to the whole extent (auto-range on: the "A" button hides until the next zoom), in every view linked
        to this one too."""
        if self._extent is None:
            return
        e = self._extent
        self.setRange(xRange=(e.left(), e.right()), yRange=(e.top(), e.bottom()), padding=0)
        self.enableAutoRange()
        self._share_range()

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802 (pyqtgraph override)
        """With an extent, the data's bounds are the extent: auto-range (the "A" button, a reset) shows all of it,
        even where the items drawn cover less (the mask of a placement within the segment)."""
        if self._extent is not None and items is None:
            e = self._extent
            return [[e.left(), e.right()], [e.top(), e.bottom()]]
        return super().childrenBounds(frac, orthoRange, items)

    def linked_views(self) -> list[ExploringViewBox]:
        """The views that share this one's zoom (``link_zoom``), those still alive."""
        return [box for box in (ref() for ref in self._linked) if box is not None]

    def _share_range(self, *_args) -> None:
        """This view's range changed (a zoom, a pan, a reset): every linked view over the same extent shows the same
        range; one over another extent (its data not shown yet) keeps its own until its next ``fit``."""
        if self._following or self._extent is None:
            return
        whole = all(self.autoRangeEnabled())  # a reset: the others reset too, their "A" button hidden as this one's
        (x0, x1), (y0, y1) = self.viewRange()
        self._following = True  # the others' changes must not come back here
        try:
            for box in self.linked_views():
                if box._extent != self._extent:
                    continue
                box._following = True
                try:
                    if whole:
                        box.reset_zoom()
                    elif box.viewRange() != [[x0, x1], [y0, y1]]:
                        box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
                finally:
                    box._following = False
        finally:
            self._following = False

    def wheelEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph override)
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if self._extent is None or (not ctrl and in_scroll_area(self.getViewWidget())):
            ev.ignore()  # the scrolling column behind takes it
            return
        super().wheelEvent(ev, axis)

    def mouseClickEvent(self, ev):  # noqa: N802 (pyqtgraph override)
        if ev.button() == Qt.MouseButton.LeftButton and ev.double():
            ev.accept()
            (self._on_double_click or self.reset_zoom)()
            return
        super().mouseClickEvent(ev)


def link_zoom(*plots: pg.PlotWidget) -> None:
    """Let ``plots`` (whose view boxes are ``ExploringViewBox``) share one zoom: a wheel zoom, a pan, a double-click
    or the "A" button in one shows the same range in the others, while they show the same extent (the result's mask
    and spectrogram: the segment, in the song's time, and every frequency)."""
    boxes = [plot.getViewBox() for plot in plots]
    for box in boxes:
        box._linked = [weakref.ref(other) for other in boxes if other is not box]
        box.sigRangeChanged.connect(box._share_range)


def show_reset_button(plot: pg.PlotWidget) -> None:
    """Let pyqtgraph's "A" (auto-range) button appear while the view is zoomed, with a tooltip saying what it does."""
    item = plot.getPlotItem()
    item.showButtons()
    item.autoBtn.setToolTip(RESET_TIP)


class Readout:
    """The cursor readout: a small text box in a top corner of ``plot``'s view, away from the pointer, saying what
    ``describe(x, y)`` returns for the view coordinates under the pointer (hidden where it returns None).

    Light text on a translucent dark box: readable over any colour map, in a light or a dark theme.
    """

    def __init__(self, plot: pg.PlotWidget, describe: Callable[[float, float], str | None]):
        self._plot_ref = weakref.ref(plot)  # weak: the scene's signal holds this readout, the plot holds the scene
        self._describe = describe
        self.item = pg.TextItem("", color="#ffffff", fill=pg.mkBrush(0, 0, 0, 205), anchor=(1, 0))
        self.item.setParentItem(plot.getViewBox())  # pixel coordinates of the box: it stays put while zooming
        self.item.setZValue(1000)
        self.item.hide()
        plot.scene().sigMouseMoved.connect(self.at_scene)
        plot.installEventFilter(_EventHook(plot, (QEvent.Type.Leave,), self.hide))

    @property
    def text(self) -> str:
        """What the readout says now ("" while hidden)."""
        return self.item.textItem.toPlainText() if self.item.isVisible() else ""

    def at_scene(self, scene_pos: QPointF) -> None:
        """The pointer is at ``scene_pos``: say what is under it, or hide outside the data."""
        plot = self._plot_ref()
        if plot is None or plot.getPlotItem() is None:
            return
        vb = plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            self.hide()
            return
        self.at_view(vb.mapSceneToView(scene_pos))

    def at_view(self, pos: QPointF) -> None:
        """Show the readout for view coordinates ``pos`` (what the pointer's move does; tests and screenshots call it
        directly)."""
        text = self._describe(float(pos.x()), float(pos.y()))
        if text is None:
            self.hide()
            return
        vb = self.item.parentItem()
        (x0, x1), _ = vb.viewRange()
        left_half = pos.x() < (x0 + x1) / 2
        width = vb.boundingRect().width()
        # the top corner away from the pointer, so the box never covers what is being read
        self.item.setAnchor((1, 0) if left_half else (0, 0))
        self.item.setPos(width - 4 if left_half else 4, 4)
        self.item.setText(text)
        if self.item.textItem.boundingRect().width() > width - 8:  # a narrow view: one figure a line, not clipped
            self.item.setText(text.replace(SEP, "\n"))
        self.item.show()

    def hide(self) -> None:
        self.item.hide()


class _EventHook(QObject):
    """Calls ``callback()`` when ``widget`` gets an event of one of ``types`` (and lets the event go on)."""

    def __init__(self, widget: QWidget, types: tuple[QEvent.Type, ...], callback: Callable[[], None]):
        super().__init__(widget)
        self._types = types
        # a bound method is held weakly: this child of the widget must not keep its owner alive
        self._callback = weakref.WeakMethod(callback) if inspect.ismethod(callback) else (lambda: callback)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in self._types:
            callback = self._callback()
            if callback is not None:
                callback()
        return False


def on_palette_change(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever ``widget``'s palette changes (the system switched between light and dark)."""
    widget.installEventFilter(_EventHook(widget, _PALETTE_EVENTS, callback))


def add_colour_bar(
    plot: pg.PlotWidget, values: tuple[float, float], label: str, ticks: list[tuple[float, str]] | None = None
) -> pg.ColorBarItem:
    """A non-interactive colour bar at the right of ``plot``, its scale running over ``values`` (low, high),
    following the app's colour map and the palette's text colour.

    The bar is not linked to the image item: it only shows the scale (a spectrogram's image holds 0..255 panel
    levels, the bar reads them in dB).
    """
    bar = pg.ColorBarItem(values=values, label=label, interactive=False, colorMapMenu=False, width=14)
    plot.getPlotItem().layout.setColumnFixedWidth(4, 5)
    show_colour_bar(plot, bar, True)
    if ticks is not None:
        bar.axis.setTicks([ticks])
    colour_maps.follow(plot, bar)
    style_colour_bar(bar)
    on_palette_change(plot, lambda: style_colour_bar(bar))
    return bar


def show_colour_bar(plot: pg.PlotWidget, bar: pg.ColorBarItem, shown: bool) -> None:
    """Put ``bar`` at the right of ``plot`` (``shown``) or take it out: an empty view has no scale to give, and a bar
    beside its hint only showed its end labels cut. Out of the layout, the bar leaves no gap either."""
    layout = plot.getPlotItem().layout
    present = has_colour_bar(plot, bar)
    if shown and not present:
        layout.addItem(bar, 2, 5)  # where ColorBarItem.setImageItem(insert_in=...) puts it: after the right axis
    elif not shown and present:
        layout.removeItem(bar)
    bar.setVisible(shown)


def has_colour_bar(plot: pg.PlotWidget, bar: pg.ColorBarItem) -> bool:
    """Whether ``bar`` is in ``plot``'s layout (shown beside the view)."""
    layout = plot.getPlotItem().layout
    return any(layout.itemAt(i) is bar for i in range(layout.count()))


def set_bar_range(bar: pg.ColorBarItem, values: tuple[float, float]) -> None:
    """Let the bar's scale run over ``values`` (a new run's dB range)."""
    bar.values = values
    bar.axis.setRange(*values)


def style_colour_bar(bar: pg.ColorBarItem) -> None:
    """The palette's text colour for the bar's scale and label, as the plot's own axes have."""
    text = QApplication.palette().color(QPalette.ColorRole.Text)
    for name in ("left", "right", "top", "bottom"):
        axis = bar.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
