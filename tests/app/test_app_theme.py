"""The window follows the system's light or dark scheme, also when it switches while MOSS is open (issue 4, item 8)."""

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QWidget,
)

from moss_app.ui.drop_zone import DropZone
from moss_app.ui.theme import dark_palette, is_dark


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
    assert all(
        QColor(QApplication.palette().color(QPalette.ColorRole.Text)).name() in label.item.toHtml().lower()
        for _, label in legend.items
    )  # the legend's text is the palette's, not a pale grey
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


def test_nothing_in_the_inputs_column_is_clipped_at_its_edge_in_a_dark_theme(qtbot, window, restore_palette):
    """Issue 16.9: at the window's narrowest, Advanced open, every control lies inside the column (it scrolls up and
    down, never sideways, so anything wider was cut at its right edge)."""
    QApplication.setPalette(dark_palette())
    window.advanced.toggle.setChecked(True)
    window.resize(window.minimumSizeHint())
    for _ in range(3):
        qtbot.wait(10)
    scroll = window.inputs.scroll
    viewport, column = scroll.viewport(), scroll.widget()
    assert is_dark() and window.width() <= 1000
    assert column.width() <= viewport.width()
    checked = 0
    for child in column.findChildren(QWidget):
        if not child.isVisible() or not isinstance(
            child, (QComboBox, QAbstractSpinBox, QAbstractButton, QGroupBox, DropZone, QLabel)
        ):
            continue
        left = child.mapTo(viewport, child.rect().topLeft()).x()
        assert left >= 0 and left + child.width() <= viewport.width(), (child, left, child.width(), viewport.width())
        checked += 1
    assert checked > 30  # the zones, their buttons and labels, the picture's controls, the preset, every field


def test_a_closed_plot_does_not_break_the_next_palette_change(qtbot, restore_palette):
    """pyqtgraph's PlotWidget.close() drops its plot item; the palette follower must let such a plot be (it raised)."""
    import pyqtgraph as pg

    from moss_app.ui.theme import apply_palette

    plot = pg.PlotWidget()  # not given to qtbot: pyqtgraph's close() cannot run twice
    apply_palette(plot)
    plot.close()
    QApplication.setPalette(dark_palette())  # delivered to the closed plot's follower
    qtbot.wait(50)
    other = pg.PlotWidget()
    qtbot.addWidget(other)
    apply_palette(other)
    assert other.backgroundBrush().color().lightness() < 40
