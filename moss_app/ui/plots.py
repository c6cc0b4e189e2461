"""One set-up for every plot of the window: the palette's colours, labelled axes in plain units, no context menu."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from .theme import apply_palette


def style_plot(plot: pg.PlotWidget, bottom: str, left: str, *, title: str = "", tip: str = "",
               still: bool = False, plain_axes: tuple[str, ...] = ("left", "bottom")) -> None:
    """Give ``plot`` the window's look: the palette's colours (following the system's scheme), axis labels, a title
    and a tooltip.

    Args:
        still: a picture to look at, not to explore: no panning or zooming, no auto-range button, not a Tab stop.
        plain_axes: the axes that show their numbers as they are, with no "(x0.001)" that pyqtgraph adds on its own.
    """
    plot.setMenuEnabled(False)
    apply_palette(plot)
    if still:
        plot.setMouseEnabled(x=False, y=False)
        plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do with the keyboard here
        plot.hideButtons()
    if title:
        plot.setTitle(title, size="9pt")
    if tip:
        plot.setToolTip(tip)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    for name in plain_axes:
        plot.getAxis(name).enableAutoSIPrefix(False)


def add_image(plot: pg.PlotWidget, colormap: str) -> pg.ImageItem:
    """A row-major image item in ``colormap``, added to ``plot`` (created once, then updated with ``setImage``)."""
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(pg.colormap.get(colormap))
    plot.addItem(image)
    return image
