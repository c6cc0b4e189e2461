"""The base of the mask and spectrogram views: a time x frequency heatmap a spectrogram user explores."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from . import colour_maps
from .plots import FrequencyAxis, add_image, style_plot
from .theme import set_empty
from .view_tools import ExploringViewBox, add_colour_bar, show_colour_bar, show_reset_button


class ImagePlot(pg.PlotWidget):
    """Time in seconds across, frequency up (``frequency_axis``: kHz, or Hz at their places on a log scale); the
    wheel zooms about the pointer, a drag pans, a double-click or the "A" button shows all; one ``image`` in the
    app's colour map (``colour_maps``) and its ``colour_bar``. No keyboard focus: there is nothing to type here.

    Args:
        title, tip: the plot's title and tooltip.
        bar_values, bar_label, **bar_options: the colour bar's range, label and ``add_colour_bar`` options.
    """

    def __init__(
        self, title: str, tip: str, bar_values: tuple[float, float], bar_label: str = "", parent=None, **bar_options
    ):
        axis = FrequencyAxis("left")
        super().__init__(parent, viewBox=ExploringViewBox(), axisItems={"left": axis})
        self.frequency_axis = axis
        style_plot(self, "time (s)", "frequency (kHz)", title=title, tip=tip)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        show_reset_button(self)
        self.image = add_image(self, colour_maps.current())
        colour_maps.follow(self, self.image)
        self.colour_bar = add_colour_bar(self, bar_values, bar_label, **bar_options)

    def _show_hint(self) -> None:
        """Nothing to show: the subclass's ``HINT`` instead of axes, no readout, no mouse, no colour bar."""
        self.readout.hide()
        self.setMouseEnabled(x=False, y=False)
        self.getViewBox().forget_extent()
        set_empty(self, self.HINT)
        show_colour_bar(self, self.colour_bar, False)  # no scale without data
