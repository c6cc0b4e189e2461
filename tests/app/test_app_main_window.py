"""The main window: a run to the end, selecting points, errors, export, shortcuts and closing during a run."""

import json

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

import moss_engine
from moss_app.ui.mask_view import mask_of
from moss_app.worker import RunProgress
from moss_engine.errors import MossInputError
from moss_engine.run import pipeline
from moss_engine.run.video import SPEC_HEIGHT, WIDTH, spectrogram_panel


def open_dialogs(window) -> list[QMessageBox]:
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_the_sample_is_loaded_and_start_is_ready(window, sample):
    assert (window.picture_zone.path, window.music_zone.path) == sample
    assert window.start_button.isEnabled() and not window.cancel_button.isEnabled()
    assert not window.export_action.isEnabled()


def test_a_run_ends_with_its_front_in_the_plot(qtbot, window):
    with qtbot.waitSignal(window.runner.finished, timeout=120000) as done:
        assert window.start_run()
        assert not window.start_button.isEnabled() and window.cancel_button.isEnabled()
        assert not window.picture_zone.isEnabled()
    result = done.args[0]
    assert 2 <= len(result.points) <= 4
    # finished, the front is on the perceptual axis: how like the song each point sounds (MOS), measured off the
    # GUI thread; the dashed line is the loudness-matched crossfade heard by the same model, on the same axis
    audio, visual = window.front_plot.points_data()
    np.testing.assert_allclose(audio, [p.mos for p in result.points])
    np.testing.assert_allclose(visual, [p.visual for p in result.points])
    assert audio[0] == 5.0 and all(1.0 <= m <= 5.0 for m in audio)
    assert "sounds like the song (MOS" in window.front_plot.getAxis("bottom").labelText
    cross_mos, cross_v = window.front_plot.crossfade.getData()
    heard = [i for i, m in enumerate(result.crossfade_mos) if m is not None]
    assert len(heard) >= 3 and len(cross_mos) == len(heard)
    np.testing.assert_allclose(cross_mos, [result.crossfade_mos[i] for i in heard])
    np.testing.assert_allclose(cross_v, result.crossfade_visual[heard])
    assert cross_mos[0] == 5.0 and all(1.0 <= m <= 5.0 for m in cross_mos) and cross_mos[-1] < 4.0
    legend = window.front_plot.getPlotItem().legend
    assert "heard the same way" in legend.getLabel(window.front_plot.crossfade).text
    tip = window.front_plot._tip(audio[-1], visual[-1], len(audio) - 1)
    last = result.points[-1]
    assert f"{last.mos:.2f}/5" in tip and f"{last.loudness_lu:+.1f} LU" in tip
    assert window.result is result and window.selected == len(result.points) // 2
    assert window.start_button.isEnabled() and not window.cancel_button.isEnabled()
    assert window.export_action.isEnabled() and window.progress_bar.value() == 1000
    assert window.status_label.text().startswith(("Done", "Converged early"))


def test_selecting_a_point_updates_mask_and_spectrogram(qtbot, window, tiny_result):
    window.show_result(tiny_result)
    s = tiny_result.settings
    for index in (0, len(tiny_result.points) - 1):
        point = tiny_result.points[index]
        window.select_point(index)
        mask = window.mask_view.image.image
        assert mask.shape == s.mask_shape == point.logits.shape
        np.testing.assert_allclose(mask, mask_of(point.logits)[::-1], rtol=1e-6)  # upright: top row = highest band
        spec = window.spectrogram_view.image.image
        assert spec.shape == (SPEC_HEIGHT, WIDTH) == (430, 1280)
        expected = spectrogram_panel(
            point.samples, tiny_result.sample_rate, s.n_fft, s.hop_length, s.db_range, s.view_axis()
        )
        np.testing.assert_array_equal(spec, expected[::-1])  # flipped: row 0 of the item is the bottom
        x, y = window.front_plot.marker.getData()
        assert (x[0], y[0]) == (point.mos, point.visual)
        assert window.alpha_slider.value() == round(100 * point.alpha)
        assert f"sounds like {point.mos:.2f}/5" in window.alpha_label.text()  # one rounding on screen
        assert f"{point.loudness_lu:+.1f} LU" in window.alpha_label.text()
        assert f"{point.mos:.2f}/5 (MOS)" in window.statusBar().currentMessage()
    # the music end and the image end look different: the views really changed
    window.select_point(0)
    first = window.mask_view.image.image.copy()
    window.select_point(len(tiny_result.points) - 1)
    assert not np.array_equal(first, window.mask_view.image.image)
    # the placement is outlined, in seconds and kHz
    rect = window.spectrogram_view.outline.rect()
    p = tiny_result.placement
    assert window.spectrogram_view.outline.isVisible()
    assert rect.left() == pytest.approx(p.t0_s) and rect.right() == pytest.approx(p.t1_s)
    assert rect.top() == pytest.approx(p.f0_hz / 1000) and rect.bottom() == pytest.approx(p.f1_hz / 1000)


def test_the_alpha_slider_selects_the_nearest_point(window, tiny_result):
    window.show_result(tiny_result)
    alphas = np.array([p.alpha for p in tiny_result.points])
    window.alpha_slider.setValue(0)
    assert window.selected == 0
    window.alpha_slider.setValue(100)
    assert window.selected == int(np.argmin(np.abs(alphas - 1.0)))


def test_clicking_a_point_selects_it(qtbot, window, tiny_result):
    window.show_result(tiny_result)
    spots = window.front_plot.scatter.points()
    with qtbot.waitSignal(window.front_plot.point_selected) as got:
        window.front_plot.scatter.sigClicked.emit(window.front_plot.scatter, [spots[1]], None)
    assert got.args == [1] and window.selected == 1


def test_a_worker_error_shows_one_dialog_and_the_window_stays_usable(qtbot, window, monkeypatch):
    def broken(settings, reporter=None, inputs=None, listen_workers=1):
        raise MossInputError("not an audio file MOSS can read (WAV, FLAC, Ogg, MP3, AIFF, M4A...)", path=settings.audio)

    monkeypatch.setattr(pipeline, "compute_front", broken)
    for _ in range(2):  # a second error does not stack a second dialog
        with qtbot.waitSignal(window.runner.failed, timeout=10000):
            assert window.start_run()
    dialogs = open_dialogs(window)
    assert len(dialogs) == 1 and "not an audio file" in dialogs[0].text()
    assert window.start_button.isEnabled() and window.picture_zone.isEnabled() and window.isEnabled()
    assert window.status_label.text().startswith("Failed: ")
    dialogs[0].accept()
    qtbot.waitUntil(lambda: not open_dialogs(window), timeout=2000)


def test_cancel_keeps_the_best_front_so_far(qtbot, window, monkeypatch, tiny_settings):
    window.settings_factory = lambda image, audio, quality: tiny_settings(image, audio, quality, steps=200)
    with qtbot.waitSignal(window.runner.snapshot, timeout=120000):
        window.start_run()
    with qtbot.waitSignal(window.runner.finished, timeout=10000) as done:
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # the Esc shortcut
    assert done.args[0].optimisation.cancelled and window.result is done.args[0]
    assert window.status_label.text().startswith("Cancelled")
    # issue 16.4: a cancel is said as one, and the bar does not pretend the run was completed
    assert window.statusBar().currentMessage().startswith("Run cancelled")
    assert window.progress_bar.value() < 1000


def test_progress_after_cancel_does_not_overwrite_cancelling(qtbot, window, tiny_result, monkeypatch):
    monkeypatch.setattr(type(window), "running", property(lambda self: True))
    monkeypatch.setattr(window.runner, "cancel", lambda: None)
    window.cancel_run()
    assert window.status_label.text().startswith("Cancelling")
    window.runner.progress.emit(RunProgress(0.4, "step 9/80"))
    from moss_engine.reporting import FrontSnapshot

    snapshot = FrontSnapshot(
        step=10,
        steps=80,
        visual=np.zeros(2),
        audio=np.zeros(2),
        crossfade_visual=np.zeros(2),
        crossfade_audio=np.zeros(2),
        hypervolume=1.0,
        elapsed_s=5.0,
    )
    window.runner.snapshot.emit(snapshot)
    assert window.status_label.text().startswith("Cancelling")


def test_export_writes_a_run_folder_and_refuses_foreign_folders(qtbot, window, tiny_result, tmp_path):
    window.show_result(tiny_result)
    out = window.export_run(tmp_path / "run")
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["points"]) == len(tiny_result.points) and (out / "front.png").is_file()
    assert window.export_run(tmp_path / "run", overwrite=True) == out  # its own earlier run may be replaced

    foreign = tmp_path / "holiday photos"
    foreign.mkdir()
    (foreign / "beach.jpg").write_bytes(b"not touched")
    assert window.export_run(foreign, overwrite=True) is None
    assert (foreign / "beach.jpg").read_bytes() == b"not touched"
    dialogs = open_dialogs(window)
    assert len(dialogs) == 1 and "holds no MOSS manifest" in dialogs[0].text()
    dialogs[0].accept()


def test_closing_during_a_run_cancels_and_waits(qtbot, window, tiny_settings):
    window.settings_factory = lambda image, audio, quality: tiny_settings(image, audio, quality, steps=200)
    with qtbot.waitSignal(window.runner.snapshot, timeout=120000):
        window.start_run()
    window.close()
    assert window.runner.qthread.isFinished()


def test_the_status_bar_and_the_about_box_say_which_device_runs(qtbot, window):
    assert window.device_label.isVisibleTo(window)
    if not torch.cuda.is_available():  # auto = the best device found: the CPU here
        assert window.device_label.text() == f"CPU ({torch.get_num_threads()} threads)"
    window.advanced.set_overrides({**window.advanced.overrides(), "device": "cpu"})
    window.advanced.overrides_changed.emit(window.advanced.overrides())  # as an edit of the field does
    assert window.device_label.text() == f"CPU ({torch.get_num_threads()} threads)"
    box = window.show_about()
    assert box.isVisible() and f"MOSS {moss_engine.__version__}" in box.text()
    assert f"Runs on</b> CPU ({torch.get_num_threads()} threads)" in box.text()
    assert f"torch {torch.__version__}" in box.text()
    box.close()


def test_menus_have_distinct_access_keys_and_list_the_playback_shortcuts(window):
    """Alt+letter must reach one entry per menu (Open Picture and Export Point both took P), and the playback keys are
    in a menu where people look for them."""
    import re

    menus = {m.title().replace("&", ""): m for m in (a.menu() for a in window.menuBar().actions()) if m is not None}
    titles = [a.text() for a in window.menuBar().actions()]
    keys = [re.search(r"&(\w)", t).group(1).lower() for t in titles]
    assert len(set(keys)) == len(keys), titles
    for name, menu in menus.items():
        texts = [a.text() for a in menu.actions() if not a.isSeparator()]
        letters = [re.search(r"&(\w)", t).group(1).lower() for t in texts]
        assert len(letters) == len(texts) and len(set(letters)) == len(letters), (name, texts)
    playback = {
        a.text().replace("&", ""): a.shortcut().toString() for a in menus["Playback"].actions() if not a.isSeparator()
    }
    assert playback["Play/Pause"] == "Space" and "Stop" in playback and playback["A/B: Original"]


def test_the_status_says_what_is_missing(qtbot, store, tiny_settings):
    from moss_app.main_window import MainWindow

    win = MainWindow(store, tiny_settings, None, None)
    qtbot.addWidget(win)
    try:
        assert not win.start_button.isEnabled()
        assert win.status_label.text().startswith("Choose a picture and a song")
    finally:
        win.shutdown()


def test_an_impossible_band_is_said_in_words_at_once_and_forgotten_once_fixed(qtbot, window):
    fields = window.advanced.fields
    assert window.start_button.isEnabled() and window.status_label.text() == "Ready: press Start"
    fields["f0_hz"].setValue(9000)
    fields["f1_hz"].setValue(2000)
    text = window.status_label.text()
    assert text.startswith("Cannot start:") and "bottom" in text and "--" not in text, text
    assert not window.start_button.isEnabled() and not window.start_action.isEnabled()
    assert fields["f0_hz"].property("invalid") and fields["f1_hz"].property("invalid")
    assert window.advanced.body.isVisible()  # opened, so the field at fault is in sight
    fields["f1_hz"].setValue(16000)  # above Nyquist at the preview's 22.05 kHz
    text = window.status_label.text()
    assert "11.025 kHz" in text and "Nyquist" not in text and "or choose Standard" in text, text
    assert fields["f1_hz"].property("invalid") and not fields["f0_hz"].property("invalid")
    fields["f1_hz"].setValue(10000)
    assert window.status_label.text() == "Ready: press Start" and window.start_button.isEnabled()
    assert not fields["f1_hz"].property("invalid")


def test_a_result_of_earlier_inputs_says_so(qtbot, window, tiny_result, data_dir):
    window.show_result(tiny_result)
    done = window.status_label.text()
    assert done.startswith(("Done", "Converged early")), done
    asked = tiny_result.settings.points
    if len(tiny_result.points) < asked:
        assert f"{len(tiny_result.points)} of {asked} points" in done
    assert window.music_zone.set_file(data_dir / "music_orchestral_wesnoth_transience.ogg")
    assert "earlier" in window.status_label.text() and "Start" in window.status_label.text()
    window.select_point(0)  # still the old result to explore and play
    assert window.result is tiny_result


def test_empty_views_say_what_will_appear_instead_of_showing_bare_axes(qtbot, window, tiny_result):
    views = (window.mask_view, window.spectrogram_view)
    for view in views:
        item = view.getPlotItem()
        assert view.empty_hint.isVisible() and "point" in view.empty_hint.textItem.toPlainText()
        assert not item.getAxis("left").isVisible() and not item.getAxis("bottom").isVisible()
    window.show_result(tiny_result)
    for view in views:
        item = view.getPlotItem()
        assert not view.empty_hint.isVisible()
        assert item.getAxis("left").isVisible() and item.getAxis("bottom").isVisible()
        for name in ("left", "bottom"):  # plain units: no "(x0.001)" that pyqtgraph adds on its own
            assert "x0.001" not in item.getAxis(name).labelString() and "x1e" not in item.getAxis(name).labelString()
    window.start_run()  # a new run clears them: the hint comes back
    for view in views:
        assert view.empty_hint.isVisible()
    qtbot.waitUntil(lambda: not window.running, timeout=120000)


def test_arrow_keys_on_the_front_step_through_the_points_and_the_pictures_take_no_focus(qtbot, window, tiny_result):
    assert window.mask_view.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert window.spectrogram_view.focusPolicy() == Qt.FocusPolicy.NoFocus
    window.show_result(tiny_result)
    window.select_point(0)
    window.front_plot.setFocus()
    qtbot.keyClick(window.front_plot, Qt.Key.Key_Right)
    assert window.selected == 1
    qtbot.keyClick(window.front_plot, Qt.Key.Key_End)
    assert window.selected == len(tiny_result.points) - 1
    qtbot.keyClick(window.front_plot, Qt.Key.Key_Right)  # at the image end: stays
    assert window.selected == len(tiny_result.points) - 1
    qtbot.keyClick(window.front_plot, Qt.Key.Key_Left)
    assert window.selected == len(tiny_result.points) - 2
    qtbot.keyClick(window.front_plot, Qt.Key.Key_Home)
    assert window.selected == 0


def test_arrow_keys_on_the_alpha_slider_step_to_the_next_point(qtbot, window, tiny_result):
    """One press, one point (0.01 of alpha per press often stayed on the same point)."""
    window.show_result(tiny_result)
    window.select_point(0)
    slider = window.alpha_slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert window.selected == 1 and slider.value() == round(100 * tiny_result.points[1].alpha)
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert window.selected == min(2, len(tiny_result.points) - 1)
    qtbot.keyClick(slider, Qt.Key.Key_Left)
    assert window.selected == 1
    slider.setValue(0)  # dragging or clicking still picks the nearest point
    assert window.selected == 0


def test_points_are_numbered_as_the_files_and_the_cli_number_them(qtbot, window, tiny_result, tmp_path):
    """Issue 16.6: DESIGN's 0-based numbers everywhere: point 1 is point_001.wav and ``--point 1``."""
    from moss_app.ui.front_plot import point_summary

    window.show_result(tiny_result)
    last = len(tiny_result.points) - 1
    window.select_point(1)
    assert f"point 1 of 0-{last}" in window.alpha_label.text()
    assert point_summary(1, tiny_result.points[1]).startswith("point 1: alpha")
    window.export_point(tmp_path / "p.wav")
    assert window.statusBar().currentMessage() == "Exported point 1: p.wav"


def test_the_status_line_keeps_its_height_and_cuts_long_text_keeping_it_whole_in_the_tooltip(qtbot, window):
    """Issue 16.9: a long status text must not push Start, Cancel and the music view around."""
    from PySide6.QtWidgets import QApplication

    label = window.status_label
    QApplication.processEvents()
    height, start_y = label.height(), window.start_button.mapTo(window, window.start_button.rect().topLeft()).y()
    long = "Failed: " + "a very long reason from the engine that goes on and on " * 12
    label.setText(long)
    QApplication.processEvents()
    assert label.height() == height
    assert window.start_button.mapTo(window, window.start_button.rect().topLeft()).y() == start_y
    assert label.text() == long  # the whole text, for code
    shown = QLabel_text(label)
    assert shown.endswith("…") and len(shown) < len(long) and label.toolTip() == long
    label.setText("Ready: press Start")
    assert QLabel_text(label) == "Ready: press Start" and "hypervolume" in label.toolTip()


def QLabel_text(label) -> str:  # noqa: N802 (what the label draws, not its whole text)
    from PySide6.QtWidgets import QLabel

    return QLabel.text(label)


def test_help_lists_every_keyboard_shortcut_of_the_window(qtbot, window):
    """Issue 16.11: Help > Keyboard Shortcuts, read off the actions themselves (F1 opens it)."""
    from moss_app.ui.shortcuts import shortcut_rows

    rows = dict(shortcut_rows(window.actions()))
    assert rows["Play/Pause"] == "Space" and rows["Cancel"] == "Esc" and rows["Start"].endswith("Return")
    assert rows["Keyboard Shortcuts"] == "F1" and "Open Run" in rows
    assert [a.text() for a in window.menuBar().actions()][-1] == "&Help"
    box = window.show_shortcuts()
    assert box.isVisible() and all(keys in box.text() for keys in rows.values())
    assert "Space plays and pauses" in box.text()
    box.close()
