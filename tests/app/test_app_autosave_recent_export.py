"""Autosave and offer back, recent files, a picture and a song dropped together, point and morph exports, GPU notice."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from moss_app import autosave
from moss_app.settings_store import MAX_RECENT
from moss_engine.run.folder import is_run_folder, read_manifest


def visible_boxes(window) -> list[QMessageBox]:
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def drop_on(widget, *paths: Path) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.rect().center())
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return enter.isAccepted(), event.isAccepted()


# --- autosave and offer back ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_finished_run_is_autosaved_and_offered_back(qtbot, window, store, sample, tiny_settings, autosave_dir):
    from moss_app.main_window import MainWindow

    assert autosave.saved_run() is None
    with (
        qtbot.waitSignal(window.runner.autosaved, timeout=120000) as saved,
        qtbot.waitSignal(window.runner.finished, timeout=120000) as done,
    ):
        assert window.start_run()
    result = done.args[0]
    folder = saved.args[0]
    assert folder.parent == autosave_dir and folder.name.startswith("run-") and is_run_folder(folder)
    assert len(read_manifest(folder)["points"]) == len(result.points)
    assert autosave.saved_run()[0] == folder

    again = MainWindow(store, lambda i, a, q, **o: tiny_settings(i, a, q, **o), *sample)
    qtbot.addWidget(again)
    again.show()
    try:
        qtbot.waitUntil(lambda: len(visible_boxes(again)) == 1, timeout=5000)
        box = visible_boxes(again)[0]
        last_run_dir = store.last_run_dir
        assert box is again.reopen_box and box.text().startswith("Reopen your last run from ")
        assert f"(astronaut.png in metal_madness_sectoid.ogg, {len(result.points)} points)?" in box.text()
        assert again.result is None  # nothing loaded until the user says yes
        box.button(QMessageBox.StandardButton.Yes).click()
        qtbot.waitUntil(lambda: again.result is not None, timeout=5000)
        got = again.result
        assert len(got.points) == len(result.points)
        np.testing.assert_allclose([p.audio for p in got.points], [p.audio for p in result.points], rtol=1e-6)
        np.testing.assert_allclose([p.visual for p in got.points], [p.visual for p in result.points], rtol=1e-6)
        audio, visual = again.front_plot.points_data()
        np.testing.assert_allclose(audio, [p.mos for p in result.points], atol=1e-4)  # the MOS axis
        np.testing.assert_allclose(visual, [p.visual for p in result.points], rtol=1e-6)
        assert store.last_run_dir == last_run_dir  # File > Open Run does not start in the autosave folder
        assert again.exports.ensure_run_dir() == folder  # exports render from the autosave, nothing rewritten
    finally:
        again.shutdown()


def test_declining_the_offer_loads_nothing(qtbot, store, sample, tiny_result, tiny_settings, tmp_path):
    from moss_app.main_window import MainWindow
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.plot import plot_front

    write_run_folder(tiny_result, autosave.new_run_dir(), plot=plot_front)
    win = MainWindow(store, lambda i, a, q, **o: tiny_settings(i, a, q, **o), *sample)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: len(visible_boxes(win)) == 1, timeout=5000)
        visible_boxes(win)[0].button(QMessageBox.StandardButton.No).click()
        qtbot.waitUntil(lambda: not visible_boxes(win), timeout=5000)
        assert win.result is None
    finally:
        win.shutdown()


def test_nothing_is_offered_without_an_autosave(qtbot, window):
    qtbot.wait(50)
    assert window.offer_last_run() is None and not visible_boxes(window)


def test_a_run_cancelled_before_any_point_is_not_autosaved(
    qtbot, runner, sample, tiny_settings, autosave_dir, monkeypatch
):
    from moss_engine.run import pipeline

    real = pipeline.compute_front

    def no_points(settings, reporter=None, inputs=None, listen_workers=1):
        result = real(settings)
        result.points.clear()
        return result

    monkeypatch.setattr(pipeline, "compute_front", no_points)
    runner.autosave_dir = autosave_dir / "last-run"
    got: list = []
    runner.autosaved.connect(got.append)
    with qtbot.waitSignal(runner.finished, timeout=120000):
        runner.start(tiny_settings(*sample))
    assert got == [] and not (autosave_dir / "last-run").exists()


# --- recent files and dropping both files at once ---------------------------------------------------------------


def test_recent_files_are_kept_newest_first(qtbot, window, store, data_dir, sample):
    image = data_dir / "img_landscape_kde_eveningglow.jpg"
    song = data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac"
    assert window.picture_zone.set_file(image) and window.music_zone.set_file(song)
    assert store.recent("picture")[0] == image and store.recent("music")[0] == song
    entries = [(a.data()[0], a.data()[1]) for a in window.recent_actions()]
    assert entries[0] == ("picture", str(image)) and ("music", str(song)) in entries

    # choosing an entry opens it in its zone
    assert window.picture_zone.set_file(sample[0])
    entry = next(a for a in window.recent_actions() if a.data() == ("picture", str(image)))
    with qtbot.waitSignal(window.picture_zone.file_changed):
        entry.trigger()
    assert window.picture_zone.path == image and store.recent("picture")[0] == image

    for i in range(MAX_RECENT + 3):  # at most MAX_RECENT, each once
        store.add_recent("music", Path(f"/songs/{i}.wav"))
    store.add_recent("music", Path("/songs/5.wav"))
    recent = store.recent("music")
    assert len(recent) == MAX_RECENT and recent[0] == Path("/songs/5.wav") and len(set(recent)) == MAX_RECENT


def test_dropping_a_picture_and_a_song_on_the_window_routes_each(qtbot, window, data_dir):
    image = data_dir / "img_portrait_skimage_astronaut.png"
    song = data_dir / "music_electronic_scratch_techno2.mp3"
    # the song first: the order of the files does not matter
    assert drop_on(window, song, image) == (True, True)
    assert window.picture_zone.path == image and window.music_zone.path == song
    assert window.picture_zone.error == "" and window.music_zone.error == ""


def test_dropping_both_onto_a_zone_reaches_the_window(qtbot, window, data_dir):
    image = data_dir / "img_highcontrast_skimage_horse.png"
    song = data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac"
    # a zone takes one file only; two go up to the window, which routes them
    assert window.route_files([image, song]) == ["picture", "music"]
    assert window.picture_zone.path == image and window.music_zone.path == song


def test_a_file_that_is_neither_changes_nothing(qtbot, window, tmp_path, sample):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a picture, not a song")
    assert window.route_files([junk]) == [""]
    assert (window.picture_zone.path, window.music_zone.path) == sample
    assert "notes.txt" in window.statusBar().currentMessage()
    boxes = visible_boxes(window)  # said in a dialog too: a status-bar message alone goes unseen
    assert len(boxes) == 1 and "notes.txt" in boxes[0].text() and "neither a picture nor" in boxes[0].text()
    boxes[0].accept()


def test_a_broken_picture_dropped_with_a_song_says_why_and_takes_the_song(qtbot, window, tmp_path, data_dir, sample):
    broken = tmp_path / "x.png"
    broken.write_text("not really a PNG")
    song = data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac"
    assert window.route_files([broken, song]) == ["", "music"]
    assert window.picture_zone.path == sample[0] and window.music_zone.path == song
    boxes = visible_boxes(window)
    assert len(boxes) == 1 and "x.png" in boxes[0].text() and "not a picture MOSS can read" in boxes[0].text()
    boxes[0].accept()


# --- exports ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_export_point_writes_the_selected_points_audio(qtbot, window, tiny_result, tmp_path, fmt):
    window.show_result(tiny_result)
    window.select_point(1)
    out = window.export_point(tmp_path / f"point.{fmt}")
    assert out == tmp_path / f"point.{fmt}"
    data, rate = sf.read(str(out), always_2d=True)
    point = tiny_result.points[1]
    assert rate == tiny_result.sample_rate
    assert data.shape == (point.samples.shape[-1], point.samples.shape[0])
    assert sf.info(str(out)).format == fmt.upper()
    # at the song's level, as Play plays it, and never clipping; Play may be a little quieter still, when the
    # original A/B compares against would clip at the point's loudness
    played = window.playback_audio().T
    assert np.max(np.abs(data)) <= 1.0
    ratio = float(np.sum(data * played) / np.sum(played * played))
    assert ratio >= 1.0 - 1e-4 and np.max(np.abs(data - ratio * played)) < 1e-4
    tolerance = 1e-4 if fmt == "wav" else 2**-15  # FLAC: 16 or 24 bits
    assert np.max(np.abs(data - point.samples.T)) < tolerance  # the point as the run folder holds it
    # a second export refuses to replace without overwrite, and replaces with it
    assert window.export_point(out) is None
    boxes = visible_boxes(window)
    assert len(boxes) == 1 and "exists" in boxes[0].text()
    boxes[0].accept()
    assert window.export_point(out, overwrite=True) == out


def test_export_point_uses_the_autosaved_folder(qtbot, window, tmp_path, autosave_dir):
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.start_run()
    assert window.exports.ensure_run_dir().parent == autosave_dir
    out = window.export_point(tmp_path / "p.wav")
    data, rate = sf.read(str(out), always_2d=True)
    point = window.result.points[window.selected]
    assert rate == window.result.sample_rate and data.shape[0] == point.samples.shape[-1]


@pytest.mark.slow
def test_export_morph_video(qtbot, window, tiny_result, tmp_path):
    window.show_result(tiny_result)
    out = tmp_path / "morph.mp4"
    out.write_bytes(b"old")
    with qtbot.waitSignal(window.exports.morph_exported, timeout=120_000) as got:
        job = window.export_morph(out)
        assert job is not None and job.running()  # rendered off the GUI thread: the call returns at once
        assert out.read_bytes() == b"old"  # replaced only once complete
        assert not window.export_morph_action.isEnabled() and not window.start_button.isEnabled()
        assert window.export_morph(out) is None  # one at a time
    assert got.args == [out] and window.exports.morph_job is None
    assert out.stat().st_size > 1000 and out.read_bytes()[4:8] == b"ftyp"
    assert window.export_morph_action.isEnabled() and window.start_button.isEnabled()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_morph_export_shows_one_dialog_and_keeps_the_old_file(
    qtbot, window, tiny_result, tmp_path, monkeypatch
):
    import moss_app.exports as exports

    def broken(folder, overwrite=False):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports, "write_morph", broken)
    window.show_result(tiny_result)
    out = tmp_path / "morph.mp4"
    out.write_bytes(b"old")
    assert window.export_morph(out) is not None
    qtbot.waitUntil(lambda: bool(visible_boxes(window)), timeout=10_000)
    assert [box.text() for box in visible_boxes(window)] == [f"could not write {out}: No space left on device"]
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert window.exports.morph_job is None and window.export_morph_action.isEnabled()


# --- GPU out of memory ------------------------------------------------------------------------------------------------


def test_out_of_gpu_memory_is_said_in_the_status_bar(qtbot, window):
    from moss_app.worker import RunProgress
    from moss_engine.reporting import NOTICE_GPU_MEMORY

    message = "out of GPU memory: retrying in chunks of 4"
    window.runner.progress.emit(
        RunProgress(0.2, message)
    )  # the words alone, on the progress channel, are only a status line
    assert not window.gpu_notice.isVisibleTo(window)
    window.runner.notice.emit(NOTICE_GPU_MEMORY, message)
    window.runner.progress.emit(RunProgress(0.25, "step 2/10"))
    assert (
        window.gpu_notice.isVisibleTo(window)
        and window.gpu_notice.text() == "Out of GPU memory: retrying in chunks of 4"
    )
    assert "smaller chunks" in window.gpu_notice.toolTip()
    assert window.progress_bar.value() == 250
    window.runner.progress.emit(RunProgress(0.5, "step 3/10"))  # later progress replaces the message, not the notice
    assert window.gpu_notice.isVisibleTo(window) and window.status_label.text().startswith("step 3/10")
    assert window.statusBar().currentMessage() == ""  # said once, on the status line: not twice on screen


def test_the_reporter_throttles_progress_but_never_a_notice(qtbot, runner):
    from moss_app.worker import _QtReporter
    from moss_engine.reporting import NOTICE_GPU_MEMORY

    got: list = []
    runner.worker.progress.connect(lambda progress: got.append(progress.line), Qt.ConnectionType.DirectConnection)
    runner.worker.notice.connect(lambda k, m: got.append((k, m)), Qt.ConnectionType.DirectConnection)
    reporter = _QtReporter(runner.worker)
    reporter.progress(0.1, "step 1")
    reporter.progress(0.1, "step 1 again")  # throttled
    reporter.notice(NOTICE_GPU_MEMORY, "out of GPU memory: retrying in chunks of 2")
    reporter.notice(NOTICE_GPU_MEMORY, "out of GPU memory: retrying one mask at a time")
    assert got == [
        "step 1",
        (NOTICE_GPU_MEMORY, "out of GPU memory: retrying in chunks of 2"),
        (NOTICE_GPU_MEMORY, "out of GPU memory: retrying one mask at a time"),
    ]
