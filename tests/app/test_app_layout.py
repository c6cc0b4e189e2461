"""The window fits 1280x800 and keeps its controls whole at 150 % scaling (issue 4, item 8)."""

import json
import os
import subprocess
import sys

import pytest

PROBE = r"""
import json, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from moss_app.main_window import MainWindow
from moss_app.settings_store import SettingsStore
from moss_engine.resources import sample_paths

app = QApplication(sys.argv[:1])
with tempfile.TemporaryDirectory() as tmp:
    store = SettingsStore(QSettings(str(Path(tmp) / "moss.ini"), QSettings.Format.IniFormat))
    picture, music = sample_paths()
    window = MainWindow(store, picture=picture, music=music)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    shot = window.grab()
    widgets = {"start": window.start_button, "cancel": window.cancel_button, "preset": window.preset_combo,
               "alpha": window.alpha_slider, "front": window.front_plot, "spectrogram": window.spectrogram_view,
               "placement": window.placement_view, "play": window.transport.play_button}
    inside = {}
    for name, w in widgets.items():
        top_left = w.mapTo(window, w.rect().topLeft())
        bottom_right = w.mapTo(window, w.rect().bottomRight())
        inside[name] = (w.isVisible() and window.rect().contains(top_left) and window.rect().contains(bottom_right)
                        and w.width() >= w.minimumSizeHint().width() and w.height() >= w.minimumSizeHint().height())
    hint = window.minimumSizeHint()
    # Advanced open (with a refusal message in a zone, the tallest the column gets): the window keeps its height,
    # Start and the status line stay on screen, the inputs column scrolls
    window.advanced.set_expanded(True)
    window.music_zone.error_label.setText("not an audio file MOSS can read: a long reason that wraps onto two lines")
    window.music_zone.error_label.show()
    for _ in range(3):
        app.processEvents()
    open_hint = window.minimumSizeHint()
    on_screen = {}
    for name, w in {"start": window.start_button, "status": window.status_label,
                    "advanced": window.advanced.toggle}.items():
        top_left = w.mapTo(window, w.rect().topLeft())
        bottom_right = w.mapTo(window, w.rect().bottomRight())
        on_screen[name] = (w.isVisible() and window.rect().contains(top_left) and window.rect().contains(bottom_right)
                           and w.visibleRegion().boundingRect().size() == w.size())  # not cut off by the scrolling
    print(json.dumps({"logical": [window.width(), window.height()], "pixels": [shot.width(), shot.height()],
                      "minimum": [hint.width(), hint.height()], "inside": inside,
                      "start_text": window.start_button.text(),
                      "advanced_open": {"size": [window.width(), window.height()],
                                        "minimum": [open_hint.width(), open_hint.height()],
                                        "on_screen": on_screen}}))
    window.shutdown()
"""


def probe(scale: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_window_fits_1280x800_at_100_and_150_percent():
    for scale, pixels in (("1", [1280, 800]), ("1.5", [1920, 1200])):
        got = probe(scale)
        assert got["logical"] == [1280, 800] and got["pixels"] == pixels, (scale, got)
        assert got["minimum"][0] <= 1280 and got["minimum"][1] <= 800, (scale, got)
        assert all(got["inside"].values()), (scale, got["inside"])  # every control whole and on screen
        opened = got["advanced_open"]
        assert opened["size"] == [1280, 800] and opened["minimum"][1] <= 800, (scale, opened)
        assert all(opened["on_screen"].values()), (scale, opened)


def settle(qtbot):
    for _ in range(3):
        qtbot.wait(10)


def test_a_refusal_does_not_stretch_the_music_view(qtbot, window, tmp_path):
    """Issue 16.9: the refusal is two lines at most; the song's view keeps its size."""
    window.resize(1280, 800)
    settle(qtbot)
    view, zone = window.placement_view, window.music_zone
    before_view, before_zone = view.size(), zone.height()
    bad = tmp_path / ("not music, with a name long enough to need several lines in the column " * 3 + ".ogg")
    bad.write_bytes(b"OggS but not really")
    assert not zone.set_file(bad)
    settle(qtbot)
    assert view.size() == before_view
    lines = zone.error_label.fontMetrics().lineSpacing()
    assert zone.height() - before_zone <= 2 * lines + 4 + zone.layout().spacing()


def test_the_basic_inputs_are_in_sight_and_advanced_keeps_the_picture_reachable(qtbot, window):
    window.resize(1280, 800)
    settle(qtbot)
    scroll = window.inputs.scroll

    def in_sight(widget) -> bool:
        top = widget.mapTo(scroll.viewport(), widget.rect().topLeft()).y()
        return top >= 0 and top + widget.height() <= scroll.viewport().height()

    # Advanced closed: the picture, its controls, the song and the quality all in sight without scrolling
    for widget in (window.picture_zone, window.inputs.picture_controls, window.music_zone, window.preset_combo):
        assert in_sight(widget), widget
    window.advanced.toggle.setChecked(True)
    settle(qtbot)
    assert window.advanced.fields["seed"].isVisible()
    scroll.ensureWidgetVisible(window.picture_zone)  # the column scrolls back up to it
    settle(qtbot)
    assert not window.picture_zone.visibleRegion().isEmpty() and in_sight(window.picture_zone.title)


def test_at_the_windows_minimum_size_every_result_view_keeps_room(qtbot, window):
    """Issue 16 review 1: at 955x235 the mask and the spectrogram were a few pixels tall, the front a sliver."""
    window.resize(window.minimumSizeHint())
    settle(qtbot)
    assert window.height() <= 800 and window.width() <= 1280  # still fits the smallest screen we aim at
    for view in (window.front_plot, window.mask_view, window.spectrogram_view):
        assert view.height() >= 120 and view.width() >= 120, (view, view.size())


def test_the_quality_hint_is_whole_in_sight_at_1280x800(qtbot, window):
    """Issue 16 review 5: the hint under Quality was cut at the column's bottom ("look; about 2 min on this CPU")."""
    window.resize(1280, 800)
    settle(qtbot)
    scroll, hint = window.inputs.scroll, window.inputs.preset_hint

    def whole(widget) -> bool:
        top = widget.mapTo(scroll.viewport(), widget.rect().topLeft()).y()
        return top >= 0 and top + widget.height() <= scroll.viewport().height()

    assert whole(hint) and whole(window.advanced.toggle)  # Advanced closed: in sight without scrolling
    window.advanced.toggle.setChecked(True)
    settle(qtbot)
    bar = scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    settle(qtbot)
    assert whole(window.advanced.reset_button)  # the column's last widget, whole at the bottom
    window.advanced.toggle.setChecked(False)
    settle(qtbot)
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    settle(qtbot)
    assert whole(hint)


# --- issue 22, app 1: the status area's lines, whole at 1280x800 and at the minimum size, light and dark --------------

#: A song with a long name, as people's files are called.
LONG_SONG = "Wesnoth - Transience (orchestral, 2008 remaster).ogg"


def long_status_texts(result) -> dict[str, str]:
    """The longest texts the status line says, with a Standard run's numbers (16 points asked, 15 kept, 300 steps,
    9.5 minutes): a run going on, a cancelled run and a finished one, both from earlier inputs."""
    import dataclasses

    from moss_app.eta import rounded_left
    from moss_app.run_status import between_runs_line, outcome_line, running_line, stage_line
    from moss_engine.reporting import Status

    def ended(cancelled: bool):
        settings = dataclasses.replace(result.settings, points=len(result.points) + 1, steps=300)
        opt = dataclasses.replace(result.optimisation, cancelled=cancelled, stopped_early=False, steps_done=299)
        return dataclasses.replace(result, settings=settings, optimisation=opt, timings={"optimising": 570.0})

    return {
        "time left": running_line(
            stage_line(Status("optimising", 300, 300, "step"), 12.0),
            "front 100% better than a crossfade",
            rounded_left(570.0),
        ),
        "between neighbours": running_line(
            stage_line(Status("between", 16, 16, "point")), "front 3% short of a crossfade", rounded_left(40.0)
        ),
        "cancel summary": between_runs_line("", True, outcome_line(ended(cancelled=True)), stale=True),
        "earlier inputs": between_runs_line("", True, outcome_line(ended(cancelled=False)), stale=True),
    }


def whole_song_message(result) -> str:
    """What Export Point in the Whole Song says once done, with the name its dialog proposes."""
    from moss_app.export_names import point_name

    return f"Exported point 3 in the whole song: {point_name(LONG_SONG, 3, 'flac', full=True)}"


def status_bar_room(bar) -> int:
    """The width QStatusBar draws a message in: from 6 px to 2 px before its first permanent widget shown."""
    shown = [w for w in (bar.device_label, bar.gpu_notice, bar.export_busy) if w.isVisible()]
    return (min(w.x() for w in shown) - 2 if shown else bar.width() - 12) - 6


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_status_areas_lines_are_whole_at_1280x800_and_at_the_minimum_size(qtbot, window, tiny_result, dark):
    from PySide6.QtWidgets import QApplication

    from moss_app.ui.theme import dark_palette, is_dark

    before = QApplication.palette()
    if dark:
        QApplication.setPalette(dark_palette())
    try:
        label, bar = window.status_label, window.status_bar
        texts = long_status_texts(tiny_result)
        assert texts["time left"].split("\n") == [
            "Optimising: step 300 of 300 (12 steps/s)",
            "front 100% better than a crossfade",
            "about 9.5 min left",
        ]
        assert texts["cancel summary"].startswith("Cancelled: ")
        assert texts["earlier inputs"].endswith("\nfrom the earlier inputs: press Start to update")
        for size in ((1280, 800), (window.minimumSizeHint().width(), window.minimumSizeHint().height())):
            window.resize(*size)
            settle(qtbot)
            assert is_dark() is dark and (window.width(), window.height()) == size
            spacing = label.fontMetrics().lineSpacing()
            for name, text in texts.items():
                window.controls.say(text)
                settle(qtbot)
                assert label.shown() == text and not label.is_cut(), (size, name, label.shown())
                lines = text.count("\n") + 1
                assert lines <= 3 and label.text_height(text) == lines * spacing, (size, name)  # no line wraps
                assert label.text_height(text) <= label.contentsRect().height(), (size, name)  # the last one too
                # the label itself whole in the window, nothing over it
                assert label.visibleRegion().boundingRect().size() == label.size(), (size, name)
                assert window.rect().contains(label.mapTo(window, label.rect().bottomRight()))
            message = whole_song_message(tiny_result)
            window.exports.message.emit(message, 0)
            settle(qtbot)
            assert bar.currentMessage() == message
            assert bar.fontMetrics().horizontalAdvance(message) <= status_bar_room(bar), (size, message)
    finally:
        QApplication.setPalette(before)


def test_an_exports_notes_are_shown_whole_in_a_box_not_cut_in_the_status_bar(
    qtbot, window, tiny_result, tmp_path, monkeypatch
):
    from moss_app import exports
    from moss_engine.run.export import RenderResult

    notes = (
        "the picture's level moved by +1.3 dB so that the segment keeps the song's loudness (+0.4 LU) with the "
        "song's own sound above the run's band around it",
        "the picture's peaks limited by up to 0.6 dB to -1 dBTP inside the segment; the rest of the song is as it was",
    )
    out = tmp_path / "song - point 2 (whole song).flac"
    monkeypatch.setattr(
        exports,
        "render_point",
        lambda *a, **k: RenderResult(
            path=out,
            format="flac",
            point=2,
            alpha=0.5,
            full=True,
            sample_rate=44100,
            channels=2,
            frames=44100,
            encoding="FLAC 16-bit",
            notices=notes,
        ),
    )
    window.show_result(tiny_result)
    window.select_point(2)
    assert window.export_point(out, full=True) == out
    assert window.statusBar().currentMessage() == "Exported point 2 in the whole song: song - point 2 (whole song).flac"
    box = window.exports.notes_box
    qtbot.waitExposed(box)
    assert box.isVisible() and box.text() == f"Exported point 2 in the whole song to {out}"
    assert box.informativeText().split("\n") == [f"\u2022 {n[0].upper()}{n[1:]}." for n in notes]
    box.close()
