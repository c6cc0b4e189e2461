"""Plot colours that follow the window's palette, so the plots match a light or a dark system scheme."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange, QEvent.Type.ThemeChange)


class _PaletteFollower(QObject):
    """Re-colours its plot when the system switches between light and dark while MOSS is open."""

    def __init__(self, plot: pg.PlotWidget):
        super().__init__(plot)
        self._plot = plot

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _PALETTE_EVENTS:
            apply_palette(self._plot, follow=False)
        return False


def apply_palette(plot: pg.PlotWidget, follow: bool = True) -> None:
    """Give ``plot`` the palette's base colour as background and its text colour for axes and titles.

    With ``follow``, it is given them again whenever the application's palette changes (the system's light or
    dark scheme switched).
    """
    if follow and plot.findChild(_PaletteFollower) is None:
        plot.installEventFilter(_PaletteFollower(plot))
    item = plot.getPlotItem()
    if item is None:  # pyqtgraph's PlotWidget.close() dropped it: nothing left to colour
        return
    palette = QApplication.palette()
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    title = item.titleLabel
    title.opts["color"] = text.name()  # used by later setTitle calls
    if title.text:  # and the one shown now
        title.setText(title.text, color=text.name())
    if getattr(plot, "empty_hint", None) is not None:
        plot.empty_hint.setColor(text)
    if item.legend is not None:
        item.legend.setLabelTextColor(text)  # for entries added later; the ones shown are set again
        for _sample, label in item.legend.items:
            label.setText(label.text, color=text.name())


def set_empty(plot: pg.PlotWidget, hint: str | None) -> None:
    """With ``hint``: no axes, the hint in the middle (an empty plot's bare axes read as broken); None: axes back.

    The hint item is made on first use and kept as ``plot.empty_hint``; it follows the palette like the axes.
    """
    item = plot.getPlotItem()
    if getattr(plot, "empty_hint", None) is None:
        plot.empty_hint = pg.TextItem("", anchor=(0.5, 0.5))
        plot.addItem(plot.empty_hint, ignoreBounds=True)
        apply_palette(plot, follow=False)
    for name in ("left", "bottom"):
        item.showAxis(name, hint is None)
    if hint is None:
        plot.empty_hint.hide()
        return
    plot.empty_hint.setText(hint)
    plot.empty_hint.setPos(0.5, 0.5)
    plot.getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    plot.empty_hint.show()


def is_dark() -> bool:
    """Whether the window's palette is a dark one."""
    return QApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


#: A desktop's dark scheme as Qt receives it (GTK's Adwaita-dark colours), by palette role.
DARK_COLOURS = {
    QPalette.ColorRole.Window: "#242424",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#1e1e1e",
    QPalette.ColorRole.AlternateBase: "#2a2a2a",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#303030",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.ToolTipBase: "#303030",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.Highlight: "#3584e4",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    QPalette.ColorRole.Light: "#3a3a3a",
    QPalette.ColorRole.Midlight: "#333333",
    QPalette.ColorRole.Mid: "#2a2a2a",
    QPalette.ColorRole.Dark: "#151515",
    QPalette.ColorRole.Shadow: "#000000",
}


def dark_palette() -> QPalette:
    """A dark palette like the one a desktop's dark theme gives Qt (for the tests, the screenshots and
    ``--self-test``): every role the widgets draw with, disabled text greyed."""
    palette = QPalette()
    for role, colour in DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette
