"""The window follows the system's light or dark scheme, also when it switches while MOSS is open (issue 4, item 8)."""

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from moss_app.ui.theme import is_dark


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base, "#18191b"),
                         (QPalette.ColorRole.Text, "#e8eaed"), (QPalette.ColorRole.WindowText, "#e8eaed")):
        palette.setColor(role, QColor(colour))
    return palette


@pytest.fixture
def restore_palette(qapp):
    before = QApplication.palette()
    yield
    QApplication.setPalette(before)


def plots(window):
    return [window.front_plot, window.mask_view, window.spectrogram_view, window.placement_view.plot]


def test_the_plots_turn_dark_with_the_system_and_back(qtbot, window, restore_palette):
    light = [p.backgroundBrush().color().lightness() for p in plots(window)]
    assert not is_dark() and min(light) > 200
    legend = window.front_plot.getPlotItem().legend
    assert all(QColor(QApplication.palette().color(QPalette.ColorRole.Text)).name() in label.item.toHtml().lower()
               for _, label in legend.items)  # the legend's text is the palette's, not a pale grey
    QApplication.setPalette(dark_palette())
    qtbot.waitUntil(lambda: max(p.backgroundBrush().color().lightness() for p in plots(window)) < 40)
    assert is_dark()
    axis = window.front_plot.getPlotItem().getAxis("bottom")
    assert axis.textPen().color().name() == "#e8eaed"  # readable labels on the dark background
    # the titles already shown, and the legend's text, turn light too (they stayed black on near-black)
    for view in (window.mask_view, window.spectrogram_view):
        title = view.getPlotItem().titleLabel
        assert title.text and "#e8eaed" in title.item.toHtml().lower(), title.text
    legend = window.front_plot.getPlotItem().legend
    assert legend.items and all("#e8eaed" in label.item.toHtml().lower() for _, label in legend.items)
    QApplication.setPalette(QPalette())
    qtbot.waitUntil(lambda: min(p.backgroundBrush().color().lightness() for p in plots(window)) > 200)
