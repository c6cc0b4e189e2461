"""The placement rectangle on the music segment's spectrogram (issue 4, item 3)."""

import pytest

from moss_app.ui.placement_view import PlacementView


@pytest.fixture
def view(qtbot, sample):
    widget = PlacementView()
    qtbot.addWidget(widget)
    widget.set_segment(sample[1], 0.0, 2.0, 22050, (0.0, 11025.0))
    return widget


def test_moving_the_rectangle_emits_the_placement(qtbot, view):
    assert view.placement() is None
    assert view.segment_length == pytest.approx(2.0, abs=0.01)
    with qtbot.waitSignal(view.placement_changed):
        view.roi.setPos((0.5, 2.0))  # s, kHz
    with qtbot.waitSignal(view.placement_changed) as got:
        view.roi.setSize((1.0, 4.0))
    (t0, t1), (f0, f1) = got.args[0]
    assert (t0, t1) == pytest.approx((0.5, 1.5))
    assert (f0, f1) == pytest.approx((2000.0, 6000.0))
    assert view.placement() == got.args[0]


def test_the_rectangle_stays_inside_the_segment(qtbot, view):
    view.roi.setPos((1.5, 9.0))
    view.roi.setSize((5.0, 50.0))  # past the segment's end and Nyquist: clipped by the ROI's bounds
    (t0, t1), (f0, f1) = view.placement()
    assert 0 <= t0 < t1 <= view.segment_length + 1e-6
    assert 0 <= f0 < f1 <= 11025.0 + 1e-3


def test_reset_returns_to_the_defaults(qtbot, view):
    view.set_placement(((0.2, 1.0), (1000.0, 3000.0)))
    with qtbot.waitSignal(view.placement_changed) as got:
        view.reset_button.click()
    assert got.args == [None]
    assert view.placement() is None


def test_a_run_uses_the_rectangle_and_reset_restores_the_defaults(qtbot, window):
    window.advanced.set_overrides({"duration_s": 2.0})  # the view shows the tiny runs' 2 s segment
    window._on_overrides(window.advanced.overrides())
    window.placement_view.roi.setPos((0.4, 1.5))
    window.placement_view.roi.setSize((1.0, 3.0))
    (t0, t1), (f0, f1) = window.placement_view.placement()
    # the band is the Advanced F0/F1 overrides: the rectangle wrote them
    assert window.advanced.overrides()["f0_hz"] == pytest.approx(f0)
    assert window.advanced.value("f1_hz") == pytest.approx(f1, abs=1)
    overrides = window.run_overrides()
    assert overrides["time"] == pytest.approx((t0, t1)) and overrides["freq"] == pytest.approx((f0, f1), abs=1)

    with qtbot.waitSignal(window.runner.finished, timeout=120000) as done:
        assert window.start_run()
    result = done.args[0]
    placement = result.placement
    settings = result.settings
    frame = settings.hop_length / settings.sample_rate
    bin_hz = settings.sample_rate / settings.n_fft
    assert placement.t0_s == pytest.approx(t0, abs=frame) and placement.t1_s == pytest.approx(t1, abs=frame)
    assert placement.f0_hz == pytest.approx(f0, abs=bin_hz) and placement.f1_hz == pytest.approx(f1, abs=bin_hz)

    window.placement_view.reset_button.click()
    assert window.placement_view.placement() is None
    overrides = window.run_overrides()
    assert "time" not in overrides and "freq" not in overrides
    assert "f0_hz" not in window.advanced.overrides()
