"""The result views as a Sonic Visualiser or Audacity user expects them (issue 16.10, and 16.11's dashed line): zoom
and pan, a cursor readout, colour bars, a colour map choice, the mask in seconds and kHz, the front's tooltips."""

import dataclasses
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QVBoxLayout, QWidget

from moss_app.ui import colour_maps
from moss_app.ui.front_plot import CROSSFADE_NAMES, CROSSFADE_WHY, CROSSFADE_WIDTH, SURVIVES_NAMES, FrontPlot
from moss_app.ui.mask_view import MaskView, mask_of
from moss_app.ui.placement_view import DrawnPlacement, PlacementView, SongOverview
from moss_app.ui.readout import (
    SEP,
    FrequencyScale,
    format_db,
    format_frequency,
    format_time,
    mask_readout,
    panel_db,
    spectrogram_readout,
)
from moss_app.ui.spectrogram_view import SpectrogramView
from moss_app.ui.view_tools import has_colour_bar
from moss_engine.dsp.target import Placement
from moss_engine.freq_axis import FreqAxis
from moss_engine.run.video import SPEC_HEIGHT, WIDTH, spectrogram_panel

# --- helpers ---------------------------------------------------------------------------------------------------------


def view_scale(kind: str, nyquist_hz: float) -> FrequencyScale:
    """The view coordinates of a viewer's axis up to ``nyquist_hz``."""
    return FrequencyScale(FreqAxis.viewer(kind, 2 * nyquist_hz))


def ramp_panel() -> np.ndarray:
    """A (SPEC_HEIGHT, WIDTH) panel whose level grows along time: column c holds c % 256."""
    return np.tile((np.arange(WIDTH) % 256).astype(np.uint8), (SPEC_HEIGHT, 1))


def wheel(view, pos: QPoint, steps: int, ctrl: bool = False) -> bool:
    """Send ``steps`` wheel notches at widget position ``pos``; whether the view took the event."""
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    viewport = view.viewport()
    event = QWheelEvent(
        QPointF(pos),
        QPointF(viewport.mapToGlobal(pos)),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        mods,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)
    return event.isAccepted()


class DoubleClick:
    """A left double-click as pyqtgraph's scene hands it to an item (QTest's own needs a press before it)."""

    accepted = False

    def button(self):
        return Qt.MouseButton.LeftButton

    def double(self):
        return True

    def accept(self):
        self.accepted = True


def host(qtbot, widget: QWidget, size: tuple[int, int] = (640, 360)) -> QWidget:
    """Show ``widget`` in a plain window of ``size`` that qtbot closes after the test (closing a PlotWidget itself
    drops its plot item, and the theme's palette follower would then fail on it when a later test changes the
    palette)."""
    window = QWidget()
    QVBoxLayout(window).addWidget(widget)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    widget.test_host = window  # qtbot holds the window weakly: the widget keeps it alive for the test
    return window


def widget_pos(plot, x: float, y: float) -> QPoint:
    """The widget position of view coordinates (x, y)."""
    scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
    return plot.mapFromScene(scene)


@pytest.fixture
def spectrogram(qtbot):
    view = SpectrogramView()
    host(qtbot, view)
    view.show_panel(ramp_panel(), 2.0, FreqAxis.viewer("linear", 22050), None, db_range=80.0)
    return view


@pytest.fixture
def default_colours(qapp):
    yield
    colour_maps.choose(colour_maps.DEFAULT)


@pytest.fixture
def restore_palette(qapp):
    before = QApplication.palette()
    yield
    QApplication.setPalette(before)


# --- the readout's text (pure) ---------------------------------------------------------------------------------------


def test_readout_formats_time_frequency_and_db_as_a_viewer_does():
    assert format_time(1.25) == "1.250 s" and format_time(125.3) == "2:05.300"
    assert format_frequency(440) == "440 Hz" and format_frequency(3420) == "3.42 kHz"
    assert format_frequency(12345) == "12.3 kHz"
    assert panel_db(255, 80) == 0.0 and panel_db(0, 80) == -80.0 and panel_db(127.5, 60) == pytest.approx(-30.0)
    assert format_db(200, 80) == "-17 dB"  # 200/255 of 80 dB is 62.7 dB above the floor: 17.3 below the top
    assert format_db(0, 80) == "\u2264 -80 dB"  # the floor holds everything quieter


@pytest.mark.parametrize("kind", ["linear", "log"])
def test_the_readout_says_the_frequency_where_the_engines_panel_draws_it(kind):
    """A tone drawn by the engine's ``spectrogram_panel`` reads out, on the row where it is brightest, as its own
    frequency: the panel and the readout share one axis (``FreqAxis``), nothing re-typed here."""
    sr, n_fft = 22050, 1024
    hz = 46 * sr / n_fft  # on a bin: 990.5 Hz
    tone = np.sin(2 * np.pi * hz * np.arange(sr) / sr)[None].astype(np.float32)
    axis = FreqAxis.viewer(kind, sr)
    panel = spectrogram_panel(tone, sr, n_fft, n_fft // 4, 80.0, axis)
    row = SPEC_HEIGHT - 1 - int(panel.astype(float).mean(axis=1).argmax())  # from the bottom
    scale = FrequencyScale(axis)
    y, step = (row + 0.5) / SPEC_HEIGHT * scale.top, scale.top / SPEC_HEIGHT
    row_hz = scale.to_hz(y + step) - scale.to_hz(y)  # the panel's rows are this far apart there
    assert abs(scale.to_hz(y) - hz) <= row_hz
    assert format_frequency(scale.to_hz(y)) in spectrogram_readout(0.5, y, panel, 1.0, scale, 80.0)
    assert scale.to_y(scale.to_hz(0.3 * scale.top)) == pytest.approx(0.3 * scale.top)
    assert (scale.to_y(axis.bottom_hz), scale.to_y(sr / 2)) == pytest.approx((0.0, scale.top))


def test_a_frequency_scale_is_a_viewers_axis_in_view_coordinates():
    linear = view_scale("linear", 16000.0)
    assert linear.to_y(3000.0) == 3.0 and linear.top == 16.0 and linear.kind == "linear"
    log = view_scale("log", 11025.0)
    assert log.top == 1.0 and log.to_y(log.axis.bottom_hz / 2) == 0.0  # below the axis: at its bottom
    with pytest.raises(ValueError, match="mel"):
        view_scale("mel", 16000.0)


def test_the_spectrogram_readout_reads_the_cell_under_the_pointer():
    panel = np.zeros((SPEC_HEIGHT, WIDTH), dtype=np.uint8)
    row, col = 100, 640  # row from the bottom, column
    panel[SPEC_HEIGHT - 1 - row, col] = 200
    scale = view_scale("log", 22050.0)
    x, y = (col + 0.5) / WIDTH * 4.0, (row + 0.5) / SPEC_HEIGHT
    text = spectrogram_readout(x, y, panel, 4.0, scale, 80.0)
    assert text == f"2.002 s  ·  {format_frequency(scale.to_hz(y))}  ·  -17 dB"
    assert "\u2264 -80 dB" in spectrogram_readout(x, y + 2 / SPEC_HEIGHT, panel, 4.0, scale, 80.0)
    assert spectrogram_readout(4.5, y, panel, 4.0, scale, 80.0) is None  # past the end
    assert spectrogram_readout(x, 1.01, panel, 4.0, scale, 80.0) is None  # above Nyquist


def test_the_mask_readout_reads_its_value_in_seconds_and_hz():
    mask = np.zeros((4, 8), dtype=np.float32)
    mask[0, 7] = 0.73  # display space: row 0 is the top (highest band), column 7 the last
    scale = view_scale("linear", 11025.0)
    extent = (1.0, 3.0, 0.5, 4.5)  # s, kHz
    assert mask_readout(2.9, 4.4, mask, extent, scale) == "2.900 s  ·  4.40 kHz  ·  mask 0.73 (73 % picture)"
    assert "mask 0.00" in mask_readout(1.1, 0.6, mask, extent, scale)
    assert mask_readout(0.9, 2.0, mask, extent, scale) is None


# --- zoom, pan, reset ------------------------------------------------------------------------------------------------


def test_the_wheel_zooms_about_the_pointer_within_the_datas_extent(spectrogram):
    vb = spectrogram.getViewBox()
    assert vb.viewRange() == [[0.0, 2.0], [0.0, pytest.approx(11.025)]]
    pos = widget_pos(spectrogram, 1.5, 3.0)
    under = vb.mapSceneToView(spectrogram.mapToScene(pos))
    assert wheel(spectrogram, pos, 3)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x1 - x0 < 1.6 and y1 - y0 < 9.0  # zoomed in
    after = vb.mapSceneToView(spectrogram.mapToScene(pos))
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()), abs=0.02)  # about the pointer
    for _ in range(10):  # zooming out stops at the data: no empty margins
        wheel(spectrogram, pos, -3)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert (x0, x1) == pytest.approx((0.0, 2.0), abs=1e-6) and (y0, y1) == pytest.approx((0.0, 11.025), abs=1e-6)


def test_a_drag_pans_and_a_double_click_or_the_a_button_shows_everything(qtbot, spectrogram):
    vb = spectrogram.getViewBox()
    vb.setRange(xRange=(0.5, 1.0), yRange=(2.0, 4.0), padding=0)
    start, end = widget_pos(spectrogram, 0.9, 3.0), widget_pos(spectrogram, 0.8, 3.0)
    viewport = spectrogram.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for f in np.linspace(0.2, 1.0, 5):
        qtbot.mouseMove(viewport, QPoint(int(start.x() + f * (end.x() - start.x())), start.y()))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x1 - x0 == pytest.approx(0.5, abs=1e-6) and x0 == pytest.approx(0.6, abs=0.01)  # dragged left: later
    assert (y0, y1) == pytest.approx((2.0, 4.0), abs=0.01)
    vb.mouseClickEvent(DoubleClick())  # what pyqtgraph's scene makes of a double-click
    assert vb.viewRange()[0] == pytest.approx([0.0, 2.0]) and vb.viewRange()[1] == pytest.approx([0.0, 11.025])
    vb.setRange(xRange=(0.5, 1.0), padding=0)
    assert not all(vb.autoRangeEnabled())  # zoomed: pyqtgraph's "A" button may show
    item = spectrogram.getPlotItem()
    assert "Reset zoom" in item.autoBtn.toolTip() and not item.buttonsHidden
    item.autoBtnClicked()
    vb.updateAutoRange()
    assert vb.viewRange()[0] == pytest.approx([0.0, 2.0]) and vb.viewRange()[1] == pytest.approx([0.0, 11.025])


def test_in_a_scrolling_column_the_plain_wheel_scrolls_and_ctrl_wheel_zooms(qtbot):
    """The music view sits in the inputs' scrolling column: scrolling the column must not zoom it by surprise."""
    view = PlacementView()
    column = QWidget()
    QVBoxLayout(column).addWidget(view)
    scroll = QScrollArea()
    scroll.setWidget(column)
    scroll.setWidgetResizable(True)
    qtbot.addWidget(scroll)
    scroll.resize(500, 300)
    scroll.show()
    view.present(SongOverview(ramp_panel(), 30.0, 16000.0))
    vb = view.view_box
    before = vb.viewRange()
    pos = widget_pos(view.plot, 15.0, 8.0)
    assert not wheel(view.plot, pos, 2)  # left to the column
    assert vb.viewRange() == before
    assert wheel(view.plot, pos, 2, ctrl=True)
    assert vb.viewRange()[0][1] - vb.viewRange()[0][0] < 29.0


def test_the_views_take_the_mouse_only_with_something_to_show(qtbot):
    view = SpectrogramView()
    host(qtbot, view)
    view.show()
    assert view.getViewBox().state["mouseEnabled"] == [False, False]
    view.show_panel(ramp_panel(), 2.0, FreqAxis.viewer("linear", 22050))
    assert view.getViewBox().state["mouseEnabled"] == [True, True]
    assert view.getViewBox().state["limits"]["xLimits"] == [0.0, 2.0]
    view.clear_view()
    assert view.getViewBox().state["mouseEnabled"] == [False, False] and view.empty_hint.isVisible()


# --- readout in the widgets ------------------------------------------------------------------------------------------


def test_moving_the_mouse_shows_the_readout_and_leaving_hides_it(qtbot, spectrogram):
    viewport = spectrogram.viewport()
    qtbot.mouseMove(viewport, widget_pos(spectrogram, 0.5, 4.0))
    qtbot.waitUntil(lambda: spectrogram.readout.text != "", timeout=2000)
    text = spectrogram.readout.text
    assert float(text.split(" s")[0]) == pytest.approx(0.5, abs=0.1) and "kHz" in text and text.endswith("dB")
    # exactly: the pointer at (0.5 s, 4 kHz) reads that cell of the panel
    spectrogram.readout.at_scene(spectrogram.getViewBox().mapViewToScene(QPointF(0.5, 4.0)))
    column = int(0.5 / 2.0 * WIDTH)
    assert spectrogram.readout.text == f"0.500 s  ·  4.00 kHz  ·  {panel_db(column % 256, 80.0):.0f} dB"
    assert spectrogram.readout.item.isVisible()
    QApplication.sendEvent(spectrogram, QEvent_leave())
    assert spectrogram.readout.text == "" and not spectrogram.readout.item.isVisible()


def QEvent_leave():  # noqa: N802 (a Qt event's name)
    from PySide6.QtCore import QEvent

    return QEvent(QEvent.Type.Leave)


def test_the_placement_view_reads_out_the_songs_time_and_level(qtbot):
    view = PlacementView()
    host(qtbot, view)
    view.present(SongOverview(ramp_panel(), 30.0, 16000.0))
    assert view.readout_text(15.0, 4.0) == spectrogram_readout(
        15.0, 4.0, ramp_panel(), 30.0, view_scale("linear", 16000.0), 80.0
    )
    assert view.readout_text(15.0, 4.0).startswith("15.000 s  ·  4.00 kHz")
    assert view.readout_text(31.0, 4.0) is None


# --- colour bars and colour maps -------------------------------------------------------------------------------------


def test_colour_bars_give_the_db_scale_and_the_masks_meaning(qtbot, spectrogram):
    bar = spectrogram.colour_bar
    assert spectrogram.getPlotItem().layout.itemAt(2, 5) is bar and bar.isVisible()
    spectrogram.show_panel(ramp_panel(), 2.0, FreqAxis.viewer("linear", 22050), None, db_range=60.0)
    assert tuple(bar.axis.range) == (-60.0, 0.0) and "dB" in bar.getAxis("left").labelText
    mask = MaskView()
    host(qtbot, mask)
    labels = [label for _value, label in mask.colour_bar.axis._tickLevels[0]]
    assert labels[0].endswith("music") and labels[-1].endswith("picture")
    assert tuple(mask.colour_bar.axis.range) == (0.0, 1.0)


def test_one_colour_map_choice_recolours_every_view_and_is_remembered(qtbot, store, default_colours):
    from moss_app.player import Player
    from moss_app.ui.result_view import ResultView

    results = ResultView(Player(), store=store)
    placement = PlacementView()
    qtbot.addWidget(results)
    host(qtbot, placement)
    assert store.colour_map == "inferno" and results.colour_combo.currentData() == "inferno"
    results.colour_combo.setCurrentIndex(results.colour_combo.findData("grey"))
    for item in (
        results.mask_view.image,
        results.spectrogram_view.image,
        placement.image,
        results.spectrogram_view.colour_bar,
        results.mask_view.colour_bar,
    ):
        cmap = item.getColorMap() if hasattr(item, "getColorMap") else item.colorMap()
        assert cmap.map(0.0, mode="qcolor").name() == "#000000" and cmap.map(1.0, mode="qcolor").name() == "#ffffff"
    assert store.colour_map == "grey"
    colour_maps.choose("inferno")
    again = ResultView(Player(), store=store)  # the next session
    qtbot.addWidget(again)
    assert again.colour_combo.currentData() == "grey" and colour_maps.current() == "grey"
    assert set(colour_maps.COLOUR_MAPS) >= {"inferno", "viridis", "magma", "grey"}
    with pytest.raises(ValueError, match="unknown colour map"):
        colour_maps.choose("rainbow")


# --- the mask in seconds and kHz -------------------------------------------------------------------------------------


def test_the_mask_is_drawn_over_the_placements_seconds_and_khz(qtbot, tiny_result):
    from moss_app.player import Player
    from moss_app.ui.result_view import ResultView

    results = ResultView(Player())
    qtbot.addWidget(results)
    results.show_result(tiny_result)
    view, p = results.mask_view, tiny_result.placement
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((p.t0_s, p.t1_s))
    assert (rect.top(), rect.bottom()) == pytest.approx((p.f0_hz / 1000, p.f1_hz / 1000))
    assert view.getAxis("bottom").labelText == "time (s)" and "kHz" in view.getAxis("left").labelText
    np.testing.assert_allclose(view.image.image, mask_of(tiny_result.points[results.selected].logits)[::-1])


def test_on_a_log_axis_the_mask_sits_where_the_spectrogram_shows_its_band(qtbot):
    view = MaskView()
    host(qtbot, view)
    placement = Placement(0.5, 2.5, 200.0, 8000.0, "log", (10, 100), (5, 300))
    scale = view_scale("log", 11025.0)
    view.show_mask(np.zeros((16, 32)), placement, scale)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (rect.top(), rect.bottom()) == pytest.approx((scale.to_y(200.0), scale.to_y(8000.0)))
    assert "log" in view.getAxis("left").labelText
    ticks = view.frequency_axis.tickStrings([scale.to_y(1000.0), scale.to_y(500.0)], 1, 1)
    assert ticks == ["1k", "500"]  # the log axis reads in Hz at their places, not 0..1


# --- the front -------------------------------------------------------------------------------------------------------


def test_a_points_tooltip_gives_its_own_figures_and_overlapping_points_are_all_listed(qtbot, tiny_result):
    plot = FrontPlot()
    host(qtbot, plot)
    plot.show_result(tiny_result)
    p = tiny_result.points[2]
    tip = plot.tip_for([2])
    assert tip.startswith("point 2: alpha") and f"{p.alpha:.2f}" in tip
    assert f"visual loss {p.visual:.4g}" in tip and f"audio loss {p.audio:.4g}" in tip
    assert f"{p.mos:.2f}/5" in tip
    spots = plot.scatter.points()
    plot._hovered(plot.scatter, [spots[1], spots[0]])
    both = plot.getViewBox().toolTip()
    assert both.startswith("2 points here") and both.index("point 0:") < both.index("point 1:")
    plot._hovered(plot.scatter, [])
    assert plot.getViewBox().toolTip() == ""


def test_a_points_tooltip_says_what_a_viewer_shows_after_each_codec_and_survivors_of_mp3_are_marked(qtbot, tiny_result):
    """Issue 24.1: a point's SSIM after MP3 128, AAC 128 and Opus 96 in its tooltip; a diamond behind each point whose
    picture stays visible (SSIM >= 0.5) after MP3 128, with its legend entry, or one saying that none does."""
    plot = FrontPlot()
    host(qtbot, plot)
    plot.show_result(tiny_result)
    p = tiny_result.points[-1]
    assert set(p.codec_ssim) == {"mp3_128", "aac_128", "opus_96"}  # a real run measures them all
    tip = plot.tip_for([len(tiny_result.points) - 1])
    figures = f"MP3 128 kb/s {p.codec_ssim['mp3_128']:.2f}, AAC 128 kb/s {p.codec_ssim['aac_128']:.2f}, "
    assert f"SSIM after {figures}Opus 96 kb/s {p.codec_ssim['opus_96']:.2f} (visible from 0.5)" in tip
    legend = plot.getPlotItem().legend

    def shown(ssim: list[dict]) -> tuple[list[int], str | None]:
        points = [dataclasses.replace(q, codec_ssim=s) for q, s in zip(tiny_result.points, ssim, strict=False)]
        plot.show_result(dataclasses.replace(tiny_result, points=points))
        label = legend.getLabel(plot.survivors)
        return [int(i) for i in plot.survivors.data["data"]], None if label is None else label.text

    n = len(tiny_result.points)
    some = [{"mp3_128": 0.3, "aac_128": 0.6}] + [{"mp3_128": 0.5, "opus_96": 0.4}] * (n - 1)
    assert shown(some) == (list(range(1, n)), SURVIVES_NAMES["some"])
    x, y = plot.survivors.getData()
    all_x, all_y = plot.points_data()
    np.testing.assert_array_equal(x, all_x[1:])
    np.testing.assert_array_equal(y, all_y[1:])
    assert plot.survivors.zValue() < plot.scatter.zValue()  # behind the dot: the dot is what is pointed at
    assert "MP3 128 kb/s 0.50, Opus 96 kb/s 0.40" in plot.tip_for([1])  # a codec not measured is left out
    assert shown([{"mp3_128": 0.49}] * n) == ([], SURVIVES_NAMES["none"])
    assert shown([{}] * n) == ([], None)  # not measured (a cancelled run, an older folder): no entry
    assert "SSIM after" not in plot.tip_for([0])
    shown(some)
    plot.clear_front()  # a new run: neither diamonds nor their entry
    assert len(plot.survivors.data) == 0 and legend.getLabel(plot.survivors) is None


def test_points_at_the_same_place_are_all_found_under_the_pointer(qtbot, tiny_result):
    first = tiny_result.points[1]
    same = dataclasses.replace(tiny_result, points=[tiny_result.points[0], first, first])
    plot = FrontPlot()
    host(qtbot, plot)
    plot.resize(500, 400)
    plot.show()
    plot.show_result(same)
    x, y = plot.points_data()
    under = plot.scatter.pointsAt(QPointF(x[1], y[1]))
    assert {1, 2} <= {int(s.data()) for s in under}
    assert plot.tip_for([1, 2]).startswith("2 points here")
    plot.set_selected(2)
    assert plot.marker.zValue() > plot.scatter.zValue()  # the selected one's ring is drawn on top


def test_selecting_a_point_does_not_rescale_the_axes(qtbot, tiny_result):
    plot = FrontPlot()
    host(qtbot, plot)
    plot.resize(500, 400)
    plot.show()
    plot.show_result(tiny_result)
    plot.grab()  # a paint: pyqtgraph's auto-range is applied then
    before = plot.getViewBox().viewRange()
    for index in range(len(tiny_result.points)):
        plot.set_selected(index)
        plot.grab()
        assert plot.getViewBox().viewRange() == before


def test_the_finished_front_has_the_crossfade_heard_on_the_mos_axis(qtbot, tiny_result):
    """Issue 22, defect 4: on the MOS axis the dashed line is the loudness-matched crossfade heard by the same model,
    from the music end (MOS 5, the song) to the image end."""
    plot = FrontPlot()
    host(qtbot, plot)
    plot.show_result(tiny_result)
    assert plot.audio_axis == "mos" and plot.crossfade_state == "mos"
    cross_mos, cross_v = plot.crossfade.getData()
    heard = [i for i, m in enumerate(tiny_result.crossfade_mos) if m is not None]
    assert len(heard) >= 3
    np.testing.assert_allclose(cross_mos, [tiny_result.crossfade_mos[i] for i in heard])
    np.testing.assert_allclose(cross_v, tiny_result.crossfade_visual[heard])
    assert cross_mos[0] == 5.0 and np.all((cross_mos >= 1.0) & (cross_mos <= 5.0)) and cross_mos[-1] < 4.0
    assert plot.getPlotItem().legend.getLabel(plot.crossfade).text == CROSSFADE_NAMES["mos"]
    assert "No dashed line" not in plot.toolTip()
    # a new run: the live plot is the optimiser's loss again, its crossfade named as such
    plot.clear_front()
    assert plot.getPlotItem().legend.getLabel(plot.crossfade).text == CROSSFADE_NAMES["loss"]


@pytest.mark.parametrize(("crossfade_mos", "state"), [(None, "not recorded"), ((None,) * 9, "not heard")])
def test_a_run_without_the_crossfade_heard_shows_no_line_and_says_why(qtbot, tiny_result, crossfade_mos, state):
    """A folder written before ``crossfade.mos`` (None), or a run cancelled or without the model (all None): the MOS
    axis has no dashed line, and its legend entry and the plot's tooltip say why."""
    plot = FrontPlot()
    host(qtbot, plot)
    plot.show_result(dataclasses.replace(tiny_result, crossfade_mos=crossfade_mos))
    assert plot.audio_axis == "mos" and plot.crossfade_state == state
    cross_mos, _ = plot.crossfade.getData()
    assert cross_mos is None or len(cross_mos) == 0
    assert plot.getPlotItem().legend.getLabel(plot.crossfade).text == CROSSFADE_NAMES[state]
    assert "No dashed line: " + CROSSFADE_WHY[state] in plot.toolTip()


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def _contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_dashed_crossfade_line_stays_visible_at_150_percent_and_in_the_dark(qtbot, restore_palette):
    plot = FrontPlot()
    host(qtbot, plot)
    pen = plot.crossfade.opts["pen"]
    assert pen.widthF() >= 2 == CROSSFADE_WIDTH and pen.isCosmetic() and pen.style() == Qt.PenStyle.DashLine
    assert _contrast(pen.color(), plot.backgroundBrush().color()) >= 4.5
    dark = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.Base, "#18191b"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
    ):
        dark.setColor(role, QColor(colour))
    QApplication.setPalette(dark)
    qtbot.waitUntil(lambda: plot.backgroundBrush().color().lightness() < 40)
    pen = plot.crossfade.opts["pen"]
    assert pen.widthF() >= 2 and pen.style() == Qt.PenStyle.DashLine
    assert _contrast(pen.color(), plot.backgroundBrush().color()) >= 4.5


def test_empty_views_hide_their_colour_bars_and_show_them_with_data(qtbot):
    """Issue 16 review 4: an empty view's bar showed with its end labels ("0 music", "-80") cut."""
    mask, spectrogram = MaskView(), SpectrogramView()
    for view in (mask, spectrogram):
        host(qtbot, view, (500, 300))
    qtbot.wait(10)
    for view in (mask, spectrogram):
        assert not view.colour_bar.isVisible() and not has_colour_bar(view, view.colour_bar)
    mask.show_mask(np.zeros((8, 16)))
    spectrogram.show_panel(ramp_panel(), 2.0, FreqAxis.viewer("linear", 22050), None)
    for view in (mask, spectrogram):
        assert view.colour_bar.isVisible() and has_colour_bar(view, view.colour_bar)
    mask.clear_mask()
    spectrogram.clear_view()
    for view in (mask, spectrogram):
        assert not view.colour_bar.isVisible() and not has_colour_bar(view, view.colour_bar)


# --- the music view's limit ------------------------------------------------------------------------------------------


@pytest.fixture
def music(qtbot):
    view = PlacementView()
    host(qtbot, view)
    view.resize(500, 260)
    view.show()
    view.present(SongOverview(ramp_panel(), 30.0, 16000.0))
    return view


def test_the_limit_is_drawn_and_rectangles_stay_under_it(qtbot, music):
    music.set_limit_hz(11025.0)
    assert music.limit_line.isVisible() and music.limit_line.value() == pytest.approx(11.025)
    shade = music.limit_shade.rect()
    assert (shade.top(), shade.bottom()) == pytest.approx((11.025, 16.0)) and music.limit_shade.isVisible()
    assert "11.025 kHz" in music.limit_line.label.format
    with qtbot.waitSignal(music.placement_changed) as got:  # a drag of the rectangle above the line
        music.roi.setPos((2.0, 9.0))
    assert got.args[0].f1_hz <= 11025.0
    with qtbot.waitSignal(music.placement_changed) as got:  # a rectangle drawn from above the line
        music._on_draw(5.0, 15.0, 10.0, 4.0, True)
    assert got.args[0] == DrawnPlacement(5.0, 5.0, 4000.0, 11025.0)
    music.set_limit_hz(None)
    assert not music.limit_line.isVisible() and not music.limit_shade.isVisible()
    with qtbot.waitSignal(music.placement_changed) as got:
        music._on_draw(5.0, 15.0, 10.0, 4.0, True)
    assert got.args[0].f1_hz == 15000.0


def test_a_limit_above_the_views_top_draws_nothing_and_a_set_placement_shows_as_it_is(qtbot, music):
    music.set_limit_hz(24000.0)
    assert not music.limit_line.isVisible()
    music.set_limit_hz(8000.0)
    music.set_placement(DrawnPlacement(0.0, 10.0, 0.0, 12000.0))  # the fields: shown as they are, across the line
    assert music.roi.pos()[1] + music.roi.size()[1] == pytest.approx(12.0)
    assert math.isclose(music.limit_hz, 8000.0)


def test_the_limits_label_fits_in_a_narrow_music_view(qtbot, music):
    """In the 250 px column the long label was cut on its left ("...kHz: the highest this quality holds")."""
    music.resize(230, 260)
    music.set_limit_hz(11025.0)
    qtbot.wait(20)
    view = music.plot.getViewBox()
    label = music.limit_line.label
    left = view.mapSceneToView(label.sceneBoundingRect().topLeft()).x()
    assert label.format.startswith("max 11.025 kHz") and left >= view.viewRange()[0][0] - 1e-6


# --- the song's time, one zoom, the real dB (issue 22, defect 5) -----------------------------------------------------


@pytest.fixture
def later_result(tiny_result):
    """The tiny run as if its segment started 5 s into the song (the views take the start from the result)."""
    return dataclasses.replace(tiny_result, start_s=5.0)


@pytest.fixture
def results(qtbot, later_result):
    from moss_app.player import Player
    from moss_app.ui.result_view import ResultView

    view = ResultView(Player())
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    view.show_result(later_result)
    return view


def test_the_mask_and_spectrogram_count_the_songs_time(results, later_result):
    """The music view counts the song's time (5-7 s for this segment): so do the result views, their axes, their
    outline and mask, their readouts and the playhead."""
    start = later_result.start_s
    end = start + later_result.points[0].samples.shape[-1] / later_result.sample_rate
    p = later_result.placement
    mask, spectrogram = results.mask_view, results.spectrogram_view
    for view in (mask, spectrogram):
        assert view.getViewBox().viewRange()[0] == pytest.approx([start, end])
        assert view.getViewBox().state["limits"]["xLimits"] == pytest.approx([start, end])
    rect = spectrogram.image.mapRectToParent(spectrogram.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((start, end))
    outline = spectrogram.outline.rect()
    assert (outline.left(), outline.right()) == pytest.approx((start + p.t0_s, start + p.t1_s))
    rect = mask.image.mapRectToParent(mask.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((start + p.t0_s, start + p.t1_s))
    assert spectrogram.readout_text(start + 0.5, 4.0).startswith("5.500 s  ·  4.00 kHz  ·  ")
    assert mask.readout_text(start + 0.5, p.f0_hz / 1000 + 1.0).startswith("5.500 s  ·  ")
    assert spectrogram.readout_text(start - 0.1, 4.0) is None and mask.readout_text(start - 0.1, 4.0) is None
    assert mask.readout_text(start + 0.5, 10.9).endswith("outside the picture: the music (mask 0)")  # above f1
    spectrogram.set_playhead(0.25)  # the player counts from the segment's start
    assert spectrogram.playhead.value() == pytest.approx(start + 0.25)


def test_zooming_one_view_zooms_the_other_and_a_double_click_resets_both(results, later_result):
    mask, spectrogram = results.mask_view, results.spectrogram_view
    full = spectrogram.getViewBox().viewRange()
    assert mask.getViewBox().viewRange() == full
    assert wheel(mask, widget_pos(mask, 6.0, 3.0), 3)  # the wheel over the mask
    zoomed = mask.getViewBox().viewRange()
    assert zoomed[0][1] - zoomed[0][0] < 1.6 and spectrogram.getViewBox().viewRange() == zoomed
    spectrogram.getViewBox().translateBy(x=0.2, y=0.5)  # a pan of the spectrogram
    panned = spectrogram.getViewBox().viewRange()
    assert panned != zoomed and mask.getViewBox().viewRange() == panned
    # stepping to another point keeps the zoom in both
    results.select_point(0)
    assert mask.getViewBox().viewRange() == panned == spectrogram.getViewBox().viewRange()
    spectrogram.getViewBox().mouseClickEvent(DoubleClick())
    for view in (mask, spectrogram):
        assert view.getViewBox().viewRange() == [pytest.approx(r) for r in full]
        assert all(view.getViewBox().autoRangeEnabled())  # the "A" button hides in both
    mask.getViewBox().setRange(xRange=(5.5, 6.0), padding=0)
    spectrogram.getPlotItem().autoBtnClicked()  # the "A" button of the other one
    spectrogram.getViewBox().updateAutoRange()
    assert mask.getViewBox().viewRange() == [pytest.approx(r) for r in full]


def test_the_spectrogram_readout_says_the_real_db_of_the_cell(results, later_result):
    """The readout's dB is the point's spectrogram (float) at the cell under the pointer, within 0.1 dB, not the
    8-bit picture's (up to 5 dB off): computed here with torch.stft, as a viewer analyses the audio."""
    import torch

    s, rate = later_result.settings, later_result.sample_rate
    point = later_result.points[results.selected]
    mix = torch.as_tensor(point.samples).mean(dim=0)
    spec = torch.stft(
        mix,
        s.n_fft,
        s.hop_length,
        window=torch.hann_window(s.n_fft),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    db = 10 * torch.log10(spec.abs().square().clamp(min=1e-20)).numpy()
    db -= db.max()
    checked = 0
    for t, hz in ((0.5, 3000.0), (1.2, 440.0), (1.75, 8000.0), (0.05, 10000.0)):
        frame, row = round(t * rate / s.hop_length), round(hz * s.n_fft / rate)
        # the pointer at that cell's centre, in the song's time
        text = results.spectrogram_view.readout_text(
            later_result.start_s + frame * s.hop_length / rate, row * rate / s.n_fft / 1000
        )
        said = float(text.split(SEP)[-1].removesuffix(" dB"))
        assert said == pytest.approx(float(db[row, frame]), abs=0.1), (t, hz, text)
        checked += said > -s.db_range  # most within the range the picture shows
    assert checked >= 3
