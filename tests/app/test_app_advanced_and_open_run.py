"""The Advanced section (overrides reach the run's settings, persist, bad combos say why) and File > Open Run."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from moss_app.settings_store import SettingsStore
from moss_app.ui.front_plot import SURVIVES_NAMES
from moss_app.ui.mask_view import mask_of
from moss_engine.options import PRESETS
from moss_engine.run.folder import write_run_folder
from moss_engine.run.reader import read_run
from tests.conftest import as_moss_run_1


@pytest.mark.slow
def test_changed_fields_override_the_preset_in_the_run(qtbot, window):
    adv = window.advanced
    assert adv.fields["points"].value() == PRESETS[window.preset_combo.currentData()]["points"]
    adv.fields["points"].setValue(3)
    adv.fields["steps"].setValue(2)
    adv.fields["seed"].setValue(7)
    assert adv.overrides() == {"points": 3, "steps": 2, "seed": 7}
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("high"))
    assert adv.fields["points"].value() == 3  # the user's value survives a preset change
    with qtbot.waitSignal(window.runner.finished, timeout=120000) as done:
        assert window.start_run()
    s = done.args[0].settings
    assert (s.points, s.steps, s.seed, s.quality) == (3, 2, 7, "high")
    assert window.store.advanced_overrides == {"points": 3, "steps": 2, "seed": 7}


def test_overrides_are_restored_by_the_next_window(qtbot, tmp_path, sample):
    from moss_app.main_window import MainWindow

    path = str(tmp_path / "moss.ini")
    first = MainWindow(SettingsStore(QSettings(path, QSettings.Format.IniFormat)), None, *sample)
    qtbot.addWidget(first)
    first.advanced.fields["seed"].setValue(11)
    first.advanced.fields["freq_scale"].setCurrentIndex(1)  # log
    first.close()
    second = MainWindow(SettingsStore(QSettings(path, QSettings.Format.IniFormat)), None, *sample)
    qtbot.addWidget(second)
    try:
        assert second.advanced.overrides() == {"seed": 11, "freq_scale": "log"}
        assert second.advanced.fields["seed"].value() == 11
        assert second.advanced.settings_overrides() == {"seed": 11, "freq_scale": "log"}
    finally:
        second.shutdown()


def test_an_impossible_band_says_why_in_the_status_line(window):
    window.advanced.fields["f0_hz"].setValue(9000)
    window.advanced.fields["f1_hz"].setValue(100)
    assert not window.start_run()
    assert window.status_label.text() == "Cannot start: The band's bottom (F0) must be below its top (F1)."
    assert not window.running and not window.start_button.isEnabled()  # greyed until the band is possible
    assert not [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_open_run_shows_the_front_masks_and_audio(qtbot, window, tiny_result, tmp_path):
    out = write_run_folder(tiny_result, tmp_path / "run")
    assert window.open_run(out)
    loaded = window.result
    audio, visual = window.front_plot.points_data()
    # moss-run/2: the audio axis is how like the song each point sounds (MOS), the music end at 5
    assert window.front_plot.audio_axis == "mos" and "MOS" in window.front_plot.getAxis("bottom").labelText
    np.testing.assert_allclose(audio, [p.mos for p in tiny_result.points], atol=1e-4)
    assert audio[0] == 5.0 and window.front_plot.getViewBox().xInverted()
    named = [label.text for _item, label in window.front_plot.getPlotItem().legend.items]
    # the crossfade is drawn on the MOS axis only as heard by the same model (the manifest's crossfade.mos), read back
    heard = [m for m in (loaded.crossfade_mos or []) if m is not None]
    # and the points surviving MP3 128 (the manifest's codec_ssim, read back), or that none does
    assert named[0] == "MOSS front" and len(named) == 3 and named[2] in SURVIVES_NAMES.values()
    assert [p.codec_ssim for p in loaded.points] == [
        {k: round(v, 4) for k, v in p.codec_ssim.items()} for p in tiny_result.points
    ]
    assert ("heard the same way" in named[1]) == bool(heard)
    if heard:
        cross_x, _ = window.front_plot.crossfade.getData()
        np.testing.assert_allclose(sorted(cross_x), sorted(heard), atol=1e-4)
    np.testing.assert_allclose(visual, [p.visual for p in tiny_result.points])
    window.select_point(0)
    np.testing.assert_allclose(window.mask_view.image.image, mask_of(tiny_result.points[0].logits)[::-1], rtol=1e-6)
    np.testing.assert_allclose(loaded.points[0].samples, tiny_result.points[0].samples, atol=1e-7)
    assert window.player.duration_s == tiny_result.points[0].samples.shape[-1] / tiny_result.sample_rate
    assert window.spectrogram_view.outline.isVisible() and window.export_action.isEnabled()
    # the reopened run exports again
    again = window.export_run(tmp_path / "again")
    assert len(read_run(again).points) == len(tiny_result.points)


def test_a_moss_run_1_folder_opens_on_its_log_mel_axis_at_the_songs_level(qtbot, window, tiny_result, tmp_path):
    """An older run folder opens: its front on the axis it was made with (log-mel), the MOS said to be unmeasured,
    and its audio back at the song's level (its one run-wide gain undone)."""
    old = as_moss_run_1(write_run_folder(tiny_result, tmp_path / "run"), tmp_path / "old", -12.0)
    assert window.open_run(old)
    audio, _ = window.front_plot.points_data()
    np.testing.assert_allclose(audio, [p.audio for p in tiny_result.points], rtol=1e-6)
    label = window.front_plot.getAxis("bottom").labelText
    assert window.front_plot.audio_axis == "loss" and "MOS not measured" in label and "log-mel" in label
    named = [label.text for _item, label in window.front_plot.getPlotItem().legend.items]
    assert sorted(named) == ["MOSS front", "uniform crossfade"]
    assert not window.front_plot.getViewBox().xInverted()
    loaded = window.result
    assert all(p.mos is None and p.loudness_lu is None for p in loaded.points)
    np.testing.assert_allclose(loaded.reference, tiny_result.reference, rtol=1e-5, atol=1e-7)
    end = tiny_result.points[-1]  # moss-run/1 had no limiter: the stored audio is the file's, at the song's level
    np.testing.assert_allclose(loaded.points[-1].samples, end.samples, rtol=1e-5, atol=1e-6)
    window.select_point(1)
    assert "not measured" in window.alpha_label.text()


def test_a_foreign_folder_shows_a_dialog_and_changes_nothing(qtbot, window, tiny_result, tmp_path):
    window.show_result(tiny_result)
    window.select_point(1)
    foreign = tmp_path / "holiday"
    foreign.mkdir()
    assert not window.open_run(foreign)
    assert window.result is tiny_result and window.selected == 1
    dialogs = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert len(dialogs) == 1 and "not a MOSS run folder" in dialogs[0].text()
    dialogs[0].accept()


def test_the_advanced_fields_take_their_ranges_and_tips_from_the_engines_table(qtbot, window):
    from moss_engine.options import OPTIONS

    fields = window.advanced.fields
    for name in ("points", "steps", "db_range"):
        assert (fields[name].minimum(), fields[name].maximum()) == (OPTIONS[name].low, OPTIONS[name].high)
        assert fields[name].toolTip().lower() == OPTIONS[name].help.lower()
    assert fields["seed"].maximum() == 2**31 - 1  # the engine allows more than a spin box holds
    assert [fields["freq_scale"].itemData(i) for i in range(fields["freq_scale"].count())] == list(
        OPTIONS["freq_scale"].choices
    )


def test_the_advanced_fields_are_the_engines_tables_in_its_order(qtbot, window):
    """A setting added to ``options.OPTIONS`` with Advanced fields shows there, in the table's order, labelled."""
    from PySide6.QtWidgets import QFormLayout

    from moss_engine.options import OPTIONS

    table = [(f.key or name, f.label) for name, option in OPTIONS.items() for f in option.advanced]
    form = window.advanced.body.layout()
    labels = [form.labelForField(widget).text() for widget in window.advanced.fields.values()]
    assert list(zip(window.advanced.fields, labels, strict=True)) == table
    assert isinstance(form, QFormLayout) and form.rowCount() == len(table) + 1  # and Reset


def _wheel(widget, steps: int = 3):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        centre,
        widget.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_past_unfocused_fields_and_edits_only_a_focused_one(qtbot, window):
    """Issue 16.1: scrolling the Advanced section over a field left Segment start at 3.0 s."""
    adv = window.advanced
    adv.set_expanded(True)
    start, preset = adv.fields["start_s"], window.preset_combo
    before = (
        start.value(),
        adv.fields["points"].value(),
        adv.fields["freq_scale"].currentIndex(),
        preset.currentIndex(),
    )
    for widget in (start, adv.fields["points"], adv.fields["freq_scale"], preset):
        widget.clearFocus()
        _wheel(widget)
    assert (
        start.value(),
        adv.fields["points"].value(),
        adv.fields["freq_scale"].currentIndex(),
        preset.currentIndex(),
    ) == before
    assert adv.overrides() == {}
    start.setFocus()
    qtbot.waitUntil(start.hasFocus, timeout=2000)
    _wheel(start)
    assert start.value() > before[0]  # a focused field still takes the wheel


# --- a reopened run brings back its own inputs (issue 16.3) -----------------------------------------------------------


def run_of_copies(tiny_result, tmp_path):
    """A run folder whose picture and song are copies in ``tmp_path/inputs`` (so they can be moved or changed)."""
    import dataclasses
    import shutil

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    image = Path(shutil.copyfile(tiny_result.settings.image, inputs / "portrait.png"))
    audio = Path(shutil.copyfile(tiny_result.settings.audio, inputs / "song.ogg"))
    result = dataclasses.replace(
        tiny_result, settings=dataclasses.replace(tiny_result.settings, image=image, audio=audio)
    )
    return write_run_folder(result, tmp_path / "run"), image, audio


def test_open_run_brings_back_its_picture_song_and_settings(qtbot, window, tiny_result, tmp_path, data_dir):
    run, image, audio = run_of_copies(tiny_result, tmp_path)
    window.route_files(
        [data_dir / "img_landscape_kde_eveningglow.jpg", data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac"]
    )
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("high"))
    assert window.open_run(run)
    assert (window.inputs.picture, window.inputs.music) == (image, audio)
    assert window.inputs.quality == "preview"
    # the tiny run's own settings (TINY in conftest) where they differ from the preview preset
    assert window.advanced.overrides() == {"points": 4, "steps": 3, "duration_s": 2.0}
    assert window.store.last_picture == image and window.store.advanced_overrides == window.advanced.overrides()
    assert "from the earlier inputs" not in window.status_label.text()  # the run shown is the inputs' own
    assert window.statusBar().currentMessage().endswith("with its picture and song")
    assert not [w for w in window.findChildren(QMessageBox) if w.isVisible()]


@pytest.mark.parametrize("how", ["moved", "changed"])
def test_a_moved_or_changed_input_is_said_and_the_zone_keeps_its_file(
    qtbot, window, tiny_result, tmp_path, data_dir, how
):
    run, image, audio = run_of_copies(tiny_result, tmp_path)
    other = data_dir / "img_landscape_kde_eveningglow.jpg"
    window.route_files([other])
    if how == "moved":
        image.rename(tmp_path / "elsewhere.png")
    else:
        image.write_bytes(image.read_bytes() + b"\0")
    assert window.open_run(run)
    assert window.result is not None and len(window.result.points) == len(tiny_result.points)  # the front is shown
    assert (window.inputs.picture, window.inputs.music) == (other, audio)  # the song came back, the zone kept its own
    said = "was not found" if how == "moved" else "has changed since the run"
    box = window.opener.inputs_box
    assert box is not None and box.isVisible()  # open(), not exec(): the window stays usable
    assert f"The run's picture portrait.png {said}" in box.informativeText()
    assert "the Picture zone keeps img_landscape_kde_eveningglow.jpg" in box.informativeText()
    assert f"portrait.png {said}" in window.statusBar().currentMessage()
    assert "from the earlier inputs" in window.status_label.text()  # the result is not of the picture shown
    box.accept()


# --- a reopened run brings back its picture controls, its time and whether it was cancelled -----------------------


def test_open_run_brings_back_invert_gamma_and_fit(qtbot, window, tiny_result, tmp_path, data_dir):
    """A run made with the picture inverted, gamma 2 and fit contain reopens with those controls, whatever the user
    had chosen since; reopening a run of the defaults puts the defaults back."""
    import dataclasses

    made = dataclasses.replace(
        tiny_result, settings=dataclasses.replace(tiny_result.settings, invert=True, gamma=2.0, fit="contain")
    )
    run = write_run_folder(made, tmp_path / "run")
    plain = write_run_folder(tiny_result, tmp_path / "plain")
    controls = window.inputs.picture_controls
    window.route_files([data_dir / "img_landscape_kde_eveningglow.jpg"])
    controls.gamma.setValue(0.5)
    controls.fit.setCurrentIndex(controls.fit.findData("stretch"))
    assert controls.options() == {"invert": False, "gamma": 0.5, "fit": "stretch"}
    assert window.open_run(run)
    assert controls.options() == {"invert": True, "gamma": 2.0, "fit": "contain"}
    assert (controls.invert.isChecked(), controls.gamma.value(), controls.fit.currentData()) == (True, 2.0, "contain")
    assert window.store.picture_options == {"invert": True, "gamma": 2.0, "fit": "contain"}
    assert "from the earlier inputs" not in window.status_label.text()  # the controls are the run's own
    assert window.open_run(plain)
    assert controls.options() == {"invert": False, "gamma": 1.0, "fit": "stretch"}


def _timed(result, cancelled: bool):
    """``result`` as a run of 22.6 s of wall clock of which 7 s optimised, ``cancelled`` or not."""
    import dataclasses

    timings = {"prepare_s": 2.0, "optimise_s": 7.0, "phase_s": 1.5, "render_s": 12.1}
    return dataclasses.replace(
        result,
        timings=timings,
        optimisation=dataclasses.replace(result.optimisation, elapsed_s=7.0, cancelled=cancelled, stopped_early=False),
    )


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_reopened_autosave_says_done_or_cancelled_and_the_same_time(
    qtbot, window, tiny_result, autosave_dir, cancelled
):
    """The outcome line gives the whole run's time (23 s, not the optimisation's 7 s), live and reopened alike, and a
    reopened autosave says "Cancelled" when the history marked it so."""
    from moss_app import autosave
    from moss_app.run_status import outcome_line

    live = _timed(tiny_result, cancelled)
    said = outcome_line(live)
    assert said.split("\n")[0].endswith(", 23 s")
    assert said.startswith("Cancelled: " if cancelled else "Done: ")
    folder = write_run_folder(live, autosave.new_run_dir())
    autosave.mark(folder, cancelled)
    assert window.open_run(folder, remember=False)
    assert window.result.optimisation.cancelled is cancelled
    assert window.status_label.text().split("\n")[0] == said.split("\n")[0]


def test_a_folder_not_known_to_be_cancelled_or_not_never_says_done(qtbot, window, tiny_result, tmp_path):
    import json

    from moss_app.run_status import outcome_line

    folder = write_run_folder(_timed(tiny_result, cancelled=True), tmp_path / "run")
    assert read_run(folder).optimisation.cancelled is True  # a run folder says so itself now (run.cancelled)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["run"]["cancelled"]  # as a folder written before the key was added
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert read_run(folder).optimisation.cancelled is None  # the manifest does not say; nor does any history
    assert window.open_run(folder)
    line = window.status_label.text()
    assert line.startswith("Finished: ") and "Done" not in line and line.split("\n")[0].endswith(", 23 s")
    assert line == outcome_line(window.result)
