"""One set-up for every plot of the window: the palette's colours, labelled axes in plain units, no context menu."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from . import colour_maps
from .theme import apply_palette


def style_plot(
    plot: pg.PlotWidget,
    bottom: str,
    left: str,
    *,
    title: str = "",
    tip: str = "",
    still: bool = False,
    plain_axes: tuple[str, ...] = ("left", "bottom"),
) -> None:
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
    """A row-major image item in ``colormap`` (a name of ``colour_maps.COLOUR_MAPS``), added to ``plot`` (created
    once, then updated with ``setImage``)."""
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(colour_maps.colormap(colormap))
    plot.addItem(image)
    return image


#: The frequencies a log axis labels, by decade: 1, 2 and 5 of each (finer steps once zoomed in).
_LOG_STEPS = ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9))


class FrequencyAxis(pg.AxisItem):
    """A frequency axis that reads in kHz on a linear view and in Hz / kHz at their own places on a log view.

    ``freq_scale`` is a ``readout.FrequencyScale`` (None: plain numbers). On a log view the coordinates are the panel's
    0..1 positions, and the ticks are put at 50 Hz, 100 Hz, 200 Hz, ... 10 kHz, where those frequencies are drawn.
    """

    def __init__(self, orientation: str = "left", **kwargs):
        super().__init__(orientation, **kwargs)
        self.freq_scale = None  # not ``scale``: pyqtgraph's AxisItem has its own
        self.enableAutoSIPrefix(False)

    def set_scale(self, scale) -> None:
        self.freq_scale = scale
        self.picture = None  # drawn again with the new ticks
        self.update()

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph override)
        if self.freq_scale is None or self.freq_scale.kind != "log":
            return super().tickValues(minVal, maxVal, size)
        low, high = self.freq_scale.to_hz(max(minVal, 0.0)), self.freq_scale.to_hz(min(maxVal, 1.0))
        fine = high / max(low, 1.0) < 8  # zoomed in to less than about a decade: every integer step
        values = []
        for decade in range(0, 6):
            for step in _LOG_STEPS[fine]:
                hz = step * 10**decade
                if low <= hz <= high:
                    values.append(self.freq_scale.to_y(hz))
        return [(1.0, values)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        if self.freq_scale is None or self.freq_scale.kind != "log":
            return super().tickStrings(values, scale, spacing)
        out = []
        for v in values:
            hz = round(self.freq_scale.to_hz(v))
            out.append(f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}")
        return out
