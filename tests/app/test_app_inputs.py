"""The inputs column (issue 16): checks that follow every change both ways (16.2), the picture's controls and their
preview (16.8), each preset's expected time on this machine (16.11)."""

import math

import numpy as np
import pytest
import torch
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from moss_app import preset_times
from moss_app.preset_times import cpu_seconds, expected_time, say_duration
from moss_app.ui.inputs_panel import InputsPanel
from moss_app.ui.picture_controls import CHECKER, PREVIEW_ROWS
from moss_app.ui.placement_view import DrawnPlacement
from moss_engine.dsp.target import DISPLAY_ASPECT, picture_levels
from moss_engine.io.image import fit_image, load_image
from moss_engine.options import PRESETS


def problem_shown(window) -> bool:
    return window.status_label.text().startswith("Cannot start")


def marked(window, key: str) -> bool:
    widget = window.advanced.fields[key]
    return bool(widget.property("invalid")) and "#d9534f" in widget.styleSheet()


# --- 16.2: validation follows every change, both ways ----------------------------------------------------------------


def test_a_band_above_the_rate_shows_at_once_and_a_double_click_clears_it(qtbot, window):
    assert window.inputs.quality == "preview" and window.start_button.isEnabled()
    window.advanced.fields["f1_hz"].setValue(14700)  # above 11025 Hz, the preview's Nyquist
    assert problem_shown(window)  # before Start, not at it
    assert marked(window, "f1_hz") and not window.start_button.isEnabled() and not window.start_action.isEnabled()
    window.placement_view.reset_requested.emit()  # what a double-click on the song sends
    assert not problem_shown(window) and not marked(window, "f1_hz")
    assert window.start_button.isEnabled() and window.start_action.isEnabled()


def test_a_preset_or_a_sample_rate_fixes_and_unfixes_the_band(qtbot, window):
    window.advanced.fields["f1_hz"].setValue(14700)
    assert problem_shown(window)
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))  # 22050 Hz Nyquist: fine
    assert not problem_shown(window) and not marked(window, "f1_hz") and window.start_button.isEnabled()
    window.advanced.fields["sample_rate"].setCurrentIndex(window.advanced.fields["sample_rate"].findData(44100))
    window.advanced.fields["f1_hz"].setValue(21000)  # typed above the limit to come: refused until it comes
    window.advanced.fields["sample_rate"].setCurrentIndex(window.advanced.fields["sample_rate"].findData(48000))
    assert not problem_shown(window) and window.advanced.overrides()["f1_hz"] == 21000  # a higher limit: untouched


def test_a_refused_band_top_is_said_in_one_short_line_with_its_remedy(qtbot, window):
    """Issue 16 review 3: the remedy was cut off the status line ("...(half t...") and only in the tooltip."""
    window.resize(1280, 800)
    window.advanced.fields["f1_hz"].setValue(14700)
    text = window.status_label.text()
    assert text == "Cannot start: Band top above Preview's 11.025 kHz: lower it or choose Standard."
    assert "half" not in text and QLabel.text(window.status_label) == text  # drawn whole, not cut
    window.advanced.fields["sample_rate"].setCurrentIndex(window.advanced.fields["sample_rate"].findData(16000))
    window.advanced.fields["f1_hz"].setValue(9000)  # the rate typed in Advanced, not a preset, holds it back
    assert window.status_label.text() == "Cannot start: Band top above this rate's 8 kHz: lower it or raise the rate."


def test_a_preset_with_a_lower_limit_clamps_the_band_and_says_so(qtbot, window):
    """Issue 16 review 2: 1-16 kHz drawn on Standard stayed at 16 kHz on Preview, refused, Start greyed."""
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))
    window.placement_view.placement_changed.emit(DrawnPlacement(2.0, 5.0, 1000.0, 16000.0))
    assert window.start_button.isEnabled()
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("preview"))
    overrides = window.advanced.overrides()
    assert (overrides["f0_hz"], overrides["f1_hz"]) == (1000.0, 11025.0)  # the top lowered, the bottom kept
    assert window.placement_view.placement().f1_hz == 11025.0  # the rectangle with it
    assert not problem_shown(window) and window.start_button.isEnabled() and not marked(window, "f1_hz")
    assert window.statusBar().currentMessage() == "Band top lowered to Preview's 11.025 kHz"
    assert window.store.advanced_overrides["f1_hz"] == 11025.0
    # a band wholly above the new limit keeps its height, moved down under it
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))
    window.placement_view.placement_changed.emit(DrawnPlacement(2.0, 5.0, 12000.0, 16000.0))
    window.advanced.fields["sample_rate"].setCurrentIndex(window.advanced.fields["sample_rate"].findData(16000))
    overrides = window.advanced.overrides()
    assert (overrides["f0_hz"], overrides["f1_hz"]) == (4000.0, 8000.0) and not problem_shown(window)
    assert window.statusBar().currentMessage() == "Band top lowered to this rate's 8 kHz"


def test_a_drawn_band_is_checked_at_once(qtbot, window):
    """Drawn through the view's own signal, past any clamping the view may do: the check still comes at once."""
    window.placement_view.placement_changed.emit(DrawnPlacement(2.0, 5.0, 1000.0, 14700.0))
    assert window.advanced.overrides()["f1_hz"] == 14700.0
    assert problem_shown(window) and not window.start_button.isEnabled()
    window.placement_view.placement_changed.emit(DrawnPlacement(2.0, 5.0, 1000.0, 9000.0))
    assert not problem_shown(window) and window.start_button.isEnabled() and not marked(window, "f1_hz")


def test_the_view_is_told_the_runs_nyquist_limit(qtbot, window):
    limits = []
    window.placement_view.set_limit_hz = limits.append  # the view's method (issue 16.2), watched
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))
    assert limits[-1] == 22050.0
    window.advanced.fields["sample_rate"].setCurrentIndex(window.advanced.fields["sample_rate"].findData(32000))
    assert limits[-1] == 16000.0
    window.advanced.reset()
    assert limits[-1] == PRESETS["standard"]["sample_rate"] / 2


# --- 16.8: invert, gamma, fit -----------------------------------------------------------------------------------------


def pixels(pixmap) -> np.ndarray:
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return data[:, : image.width()].astype(float)


def engine_view(window, fit: str) -> tuple[np.ndarray, np.ndarray]:
    """The window's picture as the engine fits it to the preview's grid: (luminance, alpha)."""
    shape = (PREVIEW_ROWS, int(round(PREVIEW_ROWS * DISPLAY_ASPECT)))
    return fit_image(load_image(window.inputs.picture), shape, fit=fit, display_aspect=DISPLAY_ASPECT)


def test_invert_flips_the_preview_and_gamma_darkens_it_step_by_step(qtbot, window):
    """The preview shows the engine's levels of the picture (``picture_levels`` of its fitted luminance, to 8 bits):
    inverted, the negative; each higher gamma, darker than the one before."""
    controls, preview = window.inputs.picture_controls, window.inputs.picture_preview
    luminance, alpha = engine_view(window, "stretch")
    assert alpha.min() == 1.0  # stretched: no transparent part, every pixel is the picture's
    plain = pixels(preview.pixmap())
    assert plain.shape == luminance.shape  # the viewer's 2:1 rectangle
    np.testing.assert_allclose(plain, 255 * picture_levels(luminance, 1.0, False), atol=0.51)
    controls.invert.setChecked(True)
    inverted = pixels(preview.pixmap())
    np.testing.assert_allclose(inverted, 255 * picture_levels(luminance, 1.0, True), atol=0.51)
    np.testing.assert_allclose(plain + inverted, 255.0, atol=1.0)  # the negative
    controls.invert.setChecked(False)
    means = []
    for gamma in (0.5, 1.0, 2.0, 4.0):
        controls.gamma.setValue(gamma)
        shown = pixels(preview.pixmap())
        np.testing.assert_allclose(shown, 255 * picture_levels(luminance, gamma, False), atol=0.51)
        means.append(shown.mean())
    assert all(a > b for a, b in zip(means, means[1:], strict=False))


def test_contain_keeps_the_pictures_shape_with_the_music_around_it(qtbot, window):
    """Where ``fit_image`` leaves the grid transparent the preview shows the checkerboard's two greys, nothing else;
    the picture in between keeps its own width to height as a viewer shows the grid."""
    controls, preview = window.inputs.picture_controls, window.inputs.picture_preview
    controls.fit.setCurrentIndex(controls.fit.findData("contain"))
    luminance, alpha = engine_view(window, "contain")
    shown = pixels(preview.pixmap())
    assert preview.levels.shape == shown.shape == alpha.shape
    _size, dark, light = CHECKER
    assert set(np.unique(shown[alpha == 0])) == {dark, light}
    opaque = alpha == 1
    np.testing.assert_allclose(shown[opaque], 255 * luminance[opaque], atol=0.51)
    rows, cols = alpha.shape
    width = np.flatnonzero(opaque.any(axis=0))
    assert np.all(np.diff(width) == 1)  # one block, the music (transparent) on either side
    picture = load_image(window.inputs.picture).luminance.shape
    shown_aspect = (width.size / cols * DISPLAY_ASPECT) / (opaque.any(axis=1).sum() / rows)
    assert shown_aspect == pytest.approx(picture[1] / picture[0], abs=2 / rows)
    assert width[0] > 0 and width[-1] < cols - 1


def test_the_pictures_controls_reach_the_run_and_are_remembered(qtbot, window, store):
    controls = window.inputs.picture_controls
    assert window.next_settings().invert is False and window.next_settings().fit == "stretch"
    controls.invert.setChecked(True)
    controls.gamma.setValue(2.5)
    controls.fit.setCurrentIndex(controls.fit.findData("contain"))
    settings = window.next_settings()
    assert (settings.invert, settings.gamma, settings.fit) == (True, 2.5, "contain")
    assert store.picture_options == {"invert": True, "gamma": 2.5, "fit": "contain"}
    assert "invert" not in window.advanced.overrides()  # one place holds them: the picture's controls
    controls.gamma.setValue(1.0)  # back to the default: no longer an override
    assert store.picture_options == {"invert": True, "fit": "contain"}
    later = InputsPanel(store)
    qtbot.addWidget(later)
    later.restore()
    assert later.picture_controls.options() == {"invert": True, "gamma": 1.0, "fit": "contain"}
    assert later.settings_overrides()["invert"] is True and later.picture_controls.invert.font().bold()


def test_damaged_stored_options_fall_back_to_the_defaults(qtbot, store):
    store.picture_options = {"invert": "yes", "gamma": 99, "fit": "zoom", "other": 1}
    panel = InputsPanel(store)
    qtbot.addWidget(panel)
    panel.restore()
    assert panel.picture_controls.options() == {"invert": False, "gamma": 1.0, "fit": "stretch"}
    assert panel.picture_controls.settings_overrides() == {}


# --- 16.11: each preset's expected time ------------------------------------------------------------------------------


def test_the_time_model_grows_with_the_work_and_shrinks_with_more_threads(monkeypatch):
    """What the model must do whatever figures it is tuned to (those are in ``preset_times`` and measured in
    docs/performance.md): each preset costs more than the one before, the time is proportional to the segment's
    length, a song shorter than the segment costs its own length, more points, steps or a higher rate cost more and
    more threads less."""
    times = [cpu_seconds(p) for p in PRESETS]
    assert all(a < b for a, b in zip(times, times[1:], strict=False)) and times[0] > 0
    ten = cpu_seconds("preview", {"duration_s": 10.0})
    assert cpu_seconds("preview", {"duration_s": 20.0}) == pytest.approx(2 * ten)
    assert cpu_seconds("preview", song_s=10.0) == pytest.approx(ten)  # a short song is quicker
    assert cpu_seconds("preview", {"start_s": 25.0, "duration_s": 10.0}, song_s=30.0) == pytest.approx(ten / 2)
    assert cpu_seconds("preview", {"duration_s": math.inf}) == cpu_seconds("preview")  # a song not loaded yet
    for more in ({"points": 16}, {"steps": 160}, {"sample_rate": 44100}):
        assert cpu_seconds("preview", more) > cpu_seconds("preview")
    # every point measured after the publishing codecs is part of the time (issue 24)
    monkeypatch.setattr(preset_times, "CODEC_PER_POINT_SECOND", 0.0)
    without = cpu_seconds("preview")
    monkeypatch.undo()
    assert cpu_seconds("preview") - without == pytest.approx(
        PRESETS["preview"]["points"] * 30.0 * preset_times.CODEC_PER_POINT_SECOND
    )
    speeds = [cpu_seconds("preview", threads=n) for n in (1, 2, 4, 8)]
    assert all(a > b for a, b in zip(speeds, speeds[1:], strict=False)) and speeds[1] == cpu_seconds("preview")


def test_times_in_words():
    assert [say_duration(s) for s in (4, 44, 108, 1288, 5400, 7308)] == [
        "about 10 s",
        "about 40 s",
        "about 2 min",
        "about 21 min",
        "about 1.5 h",
        "about 2 h",
    ]
    words = say_duration(cpu_seconds("preview", threads=8))
    assert expected_time("preview", "cpu", threads=8) == (words, f"{words} on this CPU")
    short, sentence = expected_time("standard", "cuda", threads=8)
    assert short == "" and "GPU not measured" in sentence  # nothing invented
    assert sentence.endswith(f"(on this CPU: {say_duration(cpu_seconds('standard', threads=8))})")


def test_each_preset_says_its_time_here(qtbot, window):
    combo = window.preset_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert all("about" in t for t in texts), texts  # the tests run on the CPU
    assert texts[0].startswith("Preview") and "on this CPU" in window.inputs.preset_hint.text()
    threads = torch.get_num_threads()
    window.advanced.fields["points"].setValue(64)  # more points: a longer time, said at once
    longer = say_duration(cpu_seconds("preview", {"points": 64}, 30.0, threads))
    assert combo.itemText(combo.currentIndex()) == f"Preview  ({longer})" != texts[0]
    window.advanced.fields["duration_s"].setValue(5.0)  # a shorter segment: shorter again
    shorter = say_duration(cpu_seconds("preview", {"points": 64, "duration_s": 5.0}, 30.0, threads))
    assert combo.itemText(combo.currentIndex()) == f"Preview  ({shorter})" != f"Preview  ({longer})"
    assert f"{shorter} on this CPU" in window.inputs.preset_hint.text()
