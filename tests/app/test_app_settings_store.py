"""The settings wrapper: defaults, typed reads, the version key, and values that survive a restart."""

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from moss_app.settings_store import VERSION, SettingsStore


def test_defaults_and_version(temp_qsettings):
    store = SettingsStore(temp_qsettings)
    assert store.last_picture is None and store.last_music is None
    assert store.preset == "" and store.geometry.isEmpty()
    assert temp_qsettings.value("version", type=int) == VERSION


def test_values_persist_across_instances(tmp_path):
    path = str(tmp_path / "moss.ini")
    store = SettingsStore(QSettings(path, QSettings.Format.IniFormat))
    store.last_picture = Path("/pictures/cat.png")
    store.last_music = Path("/music/song.flac")
    store.preset = "standard"
    store.geometry = QByteArray(b"\x01\x02geometry")
    store.sync()
    del store

    again = SettingsStore(QSettings(path, QSettings.Format.IniFormat))
    assert again.last_picture == Path("/pictures/cat.png")
    assert again.last_music == Path("/music/song.flac")
    assert again.preset == "standard"
    assert bytes(again.geometry) == b"\x01\x02geometry"


def test_a_window_restores_what_the_last_one_stored(qtbot, tmp_path, data_dir):
    from moss_app.main_window import MainWindow

    path = str(tmp_path / "moss.ini")
    first = MainWindow(SettingsStore(QSettings(path, QSettings.Format.IniFormat)))
    qtbot.addWidget(first)
    image, audio = data_dir / "img_text_skimage_page.png", data_dir / "speech_apollo11_a11wlk01.wav"
    assert first.picture_zone.set_file(image) and first.music_zone.set_file(audio)
    first.preset_combo.setCurrentIndex(first.preset_combo.findData("high"))
    first.resize(700, 500)  # inside the offscreen screen (800 x 600): restoreGeometry keeps windows on screen
    first.close()  # stores the geometry and stops the worker thread
    assert not first.runner.qthread.isRunning()

    second = MainWindow(SettingsStore(QSettings(path, QSettings.Format.IniFormat)))
    qtbot.addWidget(second)
    try:
        assert second.picture_zone.path == image and second.music_zone.path == audio
        assert second.preset_combo.currentData() == "high"
        assert second.size().width() == 700 and second.size().height() == 500
    finally:
        second.shutdown()
