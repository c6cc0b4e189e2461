"""Plot colours that follow the window's palette, so the plots match a light or a dark system scheme."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication


def apply_palette(plot: pg.PlotWidget) -> None:
    """Give ``plot`` the palette's base colour as background and its text colour for axes and titles."""
    palette = QApplication.palette()
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    item.titleLabel.opts["color"] = text.name()  # used by later setTitle calls


def is_dark() -> bool:
    """Whether the window's palette is a dark one."""
    return QApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128
