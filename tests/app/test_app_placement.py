"""The placement rectangle on the music's spectrogram (issue 4, item 3): whole song, rectangle = segment + band."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from moss_app.ui.drop_zone import DropZone
from moss_app.ui.placement_view import DrawnPlacement, PlacementView


@pytest.fixture
def view(qtbot, sample):
    widget = PlacementView()
    zone = DropZone("music", preview=widget)  # the zone decodes the song through the view, as in the window
    qtbot.addWidget(zone)
    zone.resize(400, 260)
    zone.show()
    assert zone.set_file(sample[1])
    yield widget  # pytest-qt keeps only a weak reference: the zone must stay alive here
    del zone


def test_the_view_shows_the_whole_song(view):
    assert view.song_length == pytest.approx(30.0, abs=0.05)  # the sample is 30 s at 44.1 kHz, viewed at 44.1 kHz
    assert view.nyquist_hz == 22050  # the highest limit of any preset (issue 16 review 2: it stopped at 16 kHz)
    data = view.image.image
    assert data.shape == (1280, 430) and data.dtype == np.uint8
    assert data.std() > 20  # a real spectrogram, not a blank panel
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (rect.width(), rect.height()) == pytest.approx((30.0, 22.05), abs=0.05)  # s, kHz


def test_moving_and_resizing_the_rectangle_emits_the_placement(qtbot, view):
    view.set_placement(DrawnPlacement(0.0, 10.0, 0.0, 8000.0))
    with qtbot.waitSignal(view.placement_changed) as got:
        view.roi.setPos((5.0, 2.0))  # s, kHz
    assert got.args[0] == DrawnPlacement(5.0, 10.0, 2000.0, 10000.0)
    with qtbot.waitSignal(view.placement_changed) as got:
        view.roi.setSize((4.0, 3.0))
    assert got.args[0] == DrawnPlacement(5.0, 4.0, 2000.0, 5000.0)
    assert view.placement() == got.args[0]


def test_the_rectangle_stays_inside_the_song(qtbot, view):
    view.set_placement(DrawnPlacement(25.0, 60.0, 12000.0, 40000.0))  # past the end and the view's top: clipped
    x, y = view.roi.pos()
    w, h = view.roi.size()
    assert (x, x + w) == pytest.approx((25.0, 30.0), abs=0.05)
    assert (y, y + h) == pytest.approx((12.0, 22.05), abs=0.01)
    view.set_placement(DrawnPlacement(3.0, float("inf"), 0.0, 15000.0))  # "whole song" from 3 s
    assert view.roi.pos()[0] + view.roi.size()[0] == pytest.approx(30.0, abs=0.05)


def _drag(qtbot, view, a, b):
    """A left-button drag on the plot from view coordinates ``a`` to ``b`` (s, kHz), through real mouse events."""
    vb = view.view_box
    widget = view.plot.viewport()

    def to_widget(p):
        scene = vb.mapViewToScene(pg_point(*p))
        return view.plot.mapFromScene(scene)

    start, end = to_widget(a), to_widget(b)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for f in np.linspace(0.1, 1.0, 6):
        qtbot.mouseMove(
            widget, QPoint(int(start.x() + f * (end.x() - start.x())), int(start.y() + f * (end.y() - start.y())))
        )
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_dragging_outside_the_rectangle_draws_a_new_one(qtbot, view):
    view.set_placement(DrawnPlacement(0.0, 5.0, 0.0, 3000.0))
    with qtbot.waitSignal(view.placement_changed, timeout=2000) as got:
        _drag(qtbot, view, (12.0, 13.0), (24.0, 6.0))  # right to left in kHz: corners in any order
    placement = got.args[0]
    pixel_s = 30.0 / view.plot.viewport().width() * 2  # a mouse position is whole pixels
    pixel_hz = 16000.0 / view.plot.viewport().height() * 2
    assert placement.start_s == pytest.approx(12.0, abs=pixel_s)
    assert placement.start_s + placement.duration_s == pytest.approx(24.0, abs=2 * pixel_s)
    assert placement.f0_hz == pytest.approx(6000.0, abs=pixel_hz)
    assert placement.f1_hz == pytest.approx(13000.0, abs=pixel_hz)


def test_a_refused_song_leaves_the_view_alone(qtbot, view, tmp_path):
    before = view.image.image.copy()
    bad = tmp_path / "not-music.ogg"
    bad.write_bytes(b"OggS but not really")
    zone = view.parentWidget()
    assert not zone.set_file(bad)
    assert "not-music.ogg" in zone.error
    assert np.array_equal(view.image.image, before)
    assert view.song_length == pytest.approx(30.0, abs=0.05)


def test_the_rectangle_and_the_advanced_fields_are_one(qtbot, window):
    view = window.placement_view
    assert window.music_zone.isAncestorOf(view)  # the music's own spectrogram, not a second one
    # defaults: the preset's segment (first 30 s here, the sample's whole length) and band
    x, y = view.roi.pos()
    assert x == pytest.approx(0.0) and y == pytest.approx(0.0)

    with qtbot.waitSignal(view.placement_changed):
        view.roi.setPos((6.0, 1.0))
    with qtbot.waitSignal(view.placement_changed):
        view.roi.setSize((2.0, 4.0))
    overrides = window.advanced.overrides()
    assert (overrides["start_s"], overrides["duration_s"]) == pytest.approx((6.0, 2.0))
    assert (overrides["f0_hz"], overrides["f1_hz"]) == pytest.approx((1000.0, 5000.0))
    assert window.store.advanced_overrides == overrides  # persisted

    window.advanced.fields["start_s"].setValue(10.0)  # the other way: the field moves the rectangle
    assert view.roi.pos()[0] == pytest.approx(10.0)

    with qtbot.waitSignal(window.runner.finished, timeout=120000) as done:
        assert window.start_run()
    settings, placement = done.args[0].settings, done.args[0].placement
    assert (settings.start_s, settings.duration_s) == pytest.approx((10.0, 2.0))
    bin_hz = settings.sample_rate / settings.n_fft
    assert placement.f0_hz == pytest.approx(1000.0, abs=bin_hz) and placement.f1_hz == pytest.approx(5000.0, abs=bin_hz)

    view.reset_requested.emit()  # what a double-click on the song sends
    assert not {"start_s", "duration_s", "f0_hz", "f1_hz"} & set(window.advanced.overrides())
    assert view.roi.pos()[0] == pytest.approx(0.0)


def test_a_new_song_forgets_the_segment_but_keeps_the_band(qtbot, window, data_dir):
    window.advanced.set_overrides({"start_s": 20.0, "duration_s": 5.0, "f0_hz": 500.0, "f1_hz": 4000.0, "seed": 3})
    assert window.music_zone.set_file(data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac")
    overrides = window.advanced.overrides()
    assert "start_s" not in overrides and "duration_s" not in overrides
    assert (overrides["f0_hz"], overrides["f1_hz"], overrides["seed"]) == (500.0, 4000.0, 3)
    assert window.placement_view.song_length == pytest.approx(10.0, abs=0.05)


def _next_start(qtbot, store, sample, tiny_settings):
    """The window as ``moss-app`` opens it: on the bundled sample, with what ``store`` remembers."""
    from moss_app.main_window import MainWindow

    window = MainWindow(store, lambda image, audio, quality, **o: tiny_settings(image, audio, quality, **o), *sample)
    qtbot.addWidget(window)
    return window


def _segment(window) -> tuple[float, float]:
    return float(window.advanced.value("start_s")), float(window.advanced.value("duration_s"))


def test_the_start_up_sample_shows_the_presets_segment_not_the_last_songs(
    qtbot, window, store, sample, data_dir, tiny_settings
):
    """Issue 22, app 3: the last run's segment, set on another song, was drawn on the sample at the next start."""
    preset_segment = _segment(window)
    other = data_dir / "music_orchestral_wesnoth_transience.ogg"
    assert window.music_zone.set_file(other)
    window.advanced.fields["start_s"].setValue(12.0)  # a segment set on that song, and a band
    window.advanced.fields["duration_s"].setValue(5.0)
    window.advanced.fields["f0_hz"].setValue(700.0)
    assert store.segment_song == other and store.advanced_overrides["start_s"] == 12.0
    window.shutdown()

    later = _next_start(qtbot, store, sample, tiny_settings)
    try:
        assert later.inputs.music == sample[1]
        assert _segment(later) == preset_segment != (12.0, 5.0)
        drawn = later.placement_view.placement()
        assert (drawn.start_s, drawn.duration_s) == pytest.approx(preset_segment)
        assert later.advanced.value("f0_hz") == 700.0  # the band is the user's, whatever the song
        assert "start_s" not in store.advanced_overrides and store.segment_song is None  # forgotten for good
        later.advanced.fields["start_s"].setValue(4.0)  # a segment of the sample itself...
    finally:
        later.shutdown()
    again = _next_start(qtbot, store, sample, tiny_settings)
    try:
        assert _segment(again)[0] == 4.0 and again.placement_view.placement().start_s == 4.0  # ...is its own: it stays
    finally:
        again.shutdown()


def test_a_segment_remembered_without_its_song_is_not_drawn_at_start(qtbot, store, sample, tiny_settings):
    """Settings written before the song was remembered with the segment: which song it was is unknown."""
    store.advanced_overrides = {"start_s": 9.0, "duration_s": 3.0, "seed": 5}
    window = _next_start(qtbot, store, sample, tiny_settings)
    try:
        assert window.advanced.overrides() == {"seed": 5} and window.placement_view.placement().start_s == 0.0
    finally:
        window.shutdown()


def test_a_longer_song_after_a_short_one_is_shown_whole(qtbot, view, data_dir, sample):
    """The view's limits from the first song must not clamp the second song's range (a 2.5 s song then the 30 s
    sample left the view at 0-2.5 s and the rectangle out of sight)."""
    zone = view.parentWidget()
    while not isinstance(zone, DropZone):
        zone = zone.parentWidget()
    assert zone.set_file(data_dir / "awkward_short_alsa_front_center.wav")
    short = view.song_length
    assert short < 5
    assert zone.set_file(sample[1])
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    assert (x0, x1) == pytest.approx((0.0, view.song_length), abs=0.05)
    assert (y0, y1) == pytest.approx((0.0, view.nyquist_hz / 1000), abs=0.05)
    view.set_placement(DrawnPlacement(4.0, 3.0, 0.0, 8000.0))
    rx, _ = view.roi.pos()
    assert x0 <= rx and rx + view.roi.size()[0] <= x1  # the rectangle is in sight


def test_without_a_song_the_view_asks_for_one(qtbot, sample):
    widget = PlacementView()
    zone = DropZone("music", preview=widget)
    qtbot.addWidget(zone)
    zone.show()
    assert widget.plot.empty_hint.isVisible() and "song" in widget.plot.empty_hint.textItem.toPlainText()
    assert not widget.roi.isVisible()
    assert zone.set_file(sample[1])
    assert not widget.plot.empty_hint.isVisible() and widget.roi.isVisible()
    del zone


def test_the_view_holds_the_presets_nyquist_limit_and_a_drawn_band_stays_under_it(qtbot, window):
    """Issue 16.2: a band drawn above the preview's 11025 Hz was accepted silently until Start."""
    view = window.placement_view
    assert view.limit_hz == 11025.0  # the preview (the tests run on a CPU): half its 22.05 kHz
    view.set_placement(DrawnPlacement(0.0, 10.0, 0.0, 8000.0))
    with qtbot.waitSignal(view.placement_changed) as got:
        view.roi.setSize((4.0, 14.7))  # s, kHz: reaching past the limit
    assert got.args[0].f1_hz <= 11025.0
    assert window.advanced.overrides()["f1_hz"] <= 11025.0
    assert window.start_button.isEnabled() and not window.status_label.text().startswith("Cannot start")
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))
    assert view.limit_hz == 22050.0
    window.advanced.fields["sample_rate"].setCurrentIndex(window.advanced.fields["sample_rate"].findData(16000))
    assert view.limit_hz == 8000.0


def test_on_standard_a_band_can_be_drawn_up_to_its_limit(qtbot, window):
    """Issue 16 review 2: the view stopped at 16 kHz, so Standard's 22.05 kHz could not be drawn."""
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))
    view = window.placement_view
    with qtbot.waitSignal(view.placement_changed) as got:
        view._on_draw(2.0, 1.0, 8.0, 21.0, True)  # s, kHz
    assert got.args[0].f1_hz == 21000.0 and window.advanced.overrides()["f1_hz"] == 21000.0
    with qtbot.waitSignal(view.placement_changed) as got:
        view._on_draw(2.0, 1.0, 8.0, 30.0, True)  # past the top: the top
    assert got.args[0].f1_hz == 22050.0 and window.start_button.isEnabled()


def test_the_view_never_shows_above_the_songs_own_nyquist(tmp_path):
    import soundfile

    from moss_app.ui.placement_view import song_overview

    path = tmp_path / "low.wav"
    soundfile.write(path, np.random.default_rng(0).normal(0, 0.1, 16000 * 3).astype(np.float32), 16000)
    assert song_overview(path).nyquist_hz == 8000.0
