"""Exports a user expects (issue 16.7): the segment or the whole song in WAV/FLAC/MP3/Opus, dialogs that start in the
user's own folders, Open filters listing every format MOSS reads; and the About box showing the notices (16.11)."""

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from moss_app import dialog_folders
from moss_app.exports import POINT_FILTERS
from moss_app.ui import drop_zone
from moss_app.ui.drop_zone import MUSIC_SUFFIXES, PICTURE_SUFFIXES, DropZone
from moss_engine.io.audio import AUDIO_SUFFIXES, load_audio, probe_audio


class SaveDialog:
    """Stands in for ``QFileDialog.getSaveFileName``: records what it was asked and answers ``answer``."""

    def __init__(self, answer: tuple[str, str]):
        self.answer, self.asked, self.selected_filters = answer, [], []

    def __call__(self, parent, title, start, filters, *args, **kwargs):
        self.asked.append((title, Path(start), filters))
        self.selected_filters.append(kwargs.get("selectedFilter", args[0] if args else ""))
        return self.answer


def test_export_point_offers_every_format_and_starts_in_the_last_export_folder(
    qtbot, window, tiny_result, tmp_path, monkeypatch, store
):
    window.show_result(tiny_result)
    window.select_point(2)
    folder = tmp_path / "exports"
    folder.mkdir()
    dialog = SaveDialog((str(folder / "mine"), "MP3 (*.mp3)"))  # no suffix typed: the filter's
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    out = window.exports.choose_export_point()
    assert out == folder / "mine.mp3" and probe_audio(out).sample_rate == tiny_result.sample_rate
    title, start, filters = dialog.asked[0]
    # the user's Music folder at first, the song's name, WAV before any format was chosen
    assert start == dialog_folders.default_folder("export") / "metal_madness_sectoid - point 2.wav"
    assert dialog.selected_filters[0] == "WAV (*.wav)"
    assert (
        filters.split(";;")
        == ["WAV (*.wav)", "FLAC (*.flac)", "MP3 (*.mp3)", "Opus (*.opus)", "Ogg Vorbis (*.ogg)"]
        == POINT_FILTERS.split(";;")
    )
    assert store.last_dir("export") == folder
    dialog.answer = (str(folder / "again.flac"), "WAV (*.wav)")  # a suffix typed wins over the filter
    assert window.exports.choose_export_point() == folder / "again.flac"
    assert dialog.asked[1][1].parent == folder and sf.info(str(folder / "again.flac")).format == "FLAC"
    # the second dialog proposed the format chosen in the first
    assert dialog.asked[1][1].name == "metal_madness_sectoid - point 2.mp3"
    assert dialog.selected_filters[1] == "MP3 (*.mp3)"


def test_export_point_in_the_whole_song_is_at_the_songs_own_rate_and_length(
    qtbot, window, tiny_result, tmp_path, monkeypatch, sample
):
    window.show_result(tiny_result)
    window.select_point(3)
    dialog = SaveDialog((str(tmp_path / "whole.flac"), "FLAC (*.flac)"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    out = window.export_full_action.isEnabled() and window.exports.choose_export_point_full()
    assert out == tmp_path / "whole.flac" and "whole song" in dialog.asked[0][0]
    song = load_audio(sample[1], sample_rate=None, start_s=0.0, duration_s=None)
    data, rate = sf.read(str(out), always_2d=True, dtype="float32")
    assert rate == song.sample_rate == 44100 and data.shape == song.samples.T.shape
    after = int(2.5 * rate)  # the tiny run's segment is the first 2 s: after it the file is the song itself
    kept = np.clip(song.samples.T[after:], -1.0, 1.0 - 2**-15)  # a lossy decode's peaks past full scale: clipped
    assert np.max(np.abs(data[after:] - kept)) < 2**-15
    assert np.max(np.abs(data[: 2 * rate] - song.samples.T[: 2 * rate])) > 1e-3  # the picture is in the segment
    assert window.statusBar().currentMessage() == "Exported point 3 in the whole song: whole.flac"
    opus = window.export_point(tmp_path / "whole.opus", full=True)
    info = probe_audio(opus)
    assert info.sample_rate == 48000 and info.channels == 2
    assert abs(info.duration_s - song.samples.shape[1] / rate) < 0.1


def test_dialogs_start_in_the_users_folders_never_in_the_installation_or_the_autosaves(store, tmp_path, autosave_dir):
    assert dialog_folders.start_folder(store, "picture") == dialog_folders.default_folder("picture")
    assert dialog_folders.start_folder(store, "run") == dialog_folders.default_folder("run")
    checkout = Path(dialog_folders.__file__).resolve().parents[1]
    for refused in (checkout / "resources" / "sample" / "astronaut.png", autosave_dir / "run-1" / "point.wav"):
        refused.parent.mkdir(parents=True, exist_ok=True)
        dialog_folders.remember(store, "music", refused)
        assert store.last_dir("music") is None
    store.set_last_dir("music", checkout / "resources")  # remembered by an older MOSS: not used either
    assert dialog_folders.start_folder(store, "music") == dialog_folders.default_folder("music")
    dialog_folders.remember(store, "music", tmp_path / "song.flac")
    assert dialog_folders.start_folder(store, "music") == tmp_path


def test_the_open_filters_list_only_and_every_format_the_engine_reads(qtbot, store, tmp_path, monkeypatch):
    assert set(MUSIC_SUFFIXES) == set(AUDIO_SUFFIXES)
    for suffix in (".wma", ".webm", ".opus", ".m4a", ".aac", ".aiff", ".flac", ".mp3"):
        assert suffix in MUSIC_SUFFIXES
    Image.init()
    readable = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
    assert set(PICTURE_SUFFIXES) <= readable
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a: asked.append(a) or ("", ""))
    zone = DropZone("music")
    qtbot.addWidget(zone)
    zone.dialog_store = store
    zone.choose_file()
    _parent, _title, start, filters = asked[0]
    assert Path(start) == dialog_folders.default_folder("music")
    listed = filters.split(";;")[0]
    assert all(f"*{s}" in listed.split("(")[1] for s in MUSIC_SUFFIXES) and "*.wma" in listed and "*.webm" in listed
    assert drop_zone._FILTERS["picture"].count("*.") == len(PICTURE_SUFFIXES)


@pytest.mark.parametrize(
    "suffix, codec",
    [(".wma", "wmav2"), (".webm", "libopus"), (".m4a", "aac"), (".aiff", "pcm_s16be"), (".opus", "libopus")],
)
def test_a_real_file_of_each_listed_kind_is_taken(qtbot, tmp_path, sample, suffix, codec):
    path = tmp_path / f"clip{suffix}"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-t", "1", "-i", str(sample[1]), "-c:a", codec, str(path)],
        check=True,
    )
    zone = DropZone("music")
    qtbot.addWidget(zone)
    assert zone.set_file(path), zone.error
    assert abs(probe_audio(path).duration_s - 1.0) < 0.1


def test_about_shows_the_licence_notices_in_a_view_that_scrolls(qtbot, window):
    box = window.show_about()
    qtbot.waitExposed(box)
    notices = box.notices_text()
    assert "FFmpeg (GPL v3 build)" in notices and "Qt 6 and PySide6 (LGPL v3)" in notices
    assert "Carlos Viola Iborra" in notices  # the sample music's notice, which must travel with it
    assert "THIRD_PARTY_NOTICES" not in box.text() and "Their notices follow" in box.text()
    assert box.notices.verticalScrollBar().maximum() > 0
    box.close()


# --- issue 22, app 6: names with the song's, the last format kept, run folders in Documents -------------------------


@pytest.fixture
def user_folders(tmp_path, monkeypatch):
    """The user's standard folders, made in ``tmp_path``: {"music": ..., "documents": ...}."""
    from PySide6.QtCore import QStandardPaths

    where = {
        QStandardPaths.StandardLocation.MusicLocation: tmp_path / "Music",
        QStandardPaths.StandardLocation.DocumentsLocation: tmp_path / "Documents",
        QStandardPaths.StandardLocation.PicturesLocation: tmp_path / "Pictures",
    }
    for folder in where.values():
        folder.mkdir()
    monkeypatch.setattr(dialog_folders.QStandardPaths, "writableLocation", lambda location: str(where[location]))
    return {"music": tmp_path / "Music", "documents": tmp_path / "Documents"}


def test_the_proposed_names_carry_the_songs_name(qtbot, window, tiny_result, monkeypatch, user_folders):
    from moss_app.export_names import point_name, song_stem

    window.show_result(tiny_result)
    window.select_point(3)
    dialog = SaveDialog(("", ""))  # cancelled: only what was proposed matters
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.exports.choose_export_point()
    window.exports.choose_export_point_full()
    window.exports.choose_export_morph()
    window.exports.choose_export()
    names = [start.name for _title, start, _filters in dialog.asked]
    assert names[:3] == [
        "metal_madness_sectoid - point 3.wav",
        "metal_madness_sectoid - point 3 (whole song).wav",
        "metal_madness_sectoid - morph.mp4",
    ]
    assert re.fullmatch(r"metal_madness_sectoid - moss-run-20\d{6}-\d{6}", names[3]), names[3]
    assert [start.parent for _t, start, _f in dialog.asked] == [user_folders["music"]] * 3 + [user_folders["documents"]]
    # a name no file system refuses, whatever the song is called
    assert song_stem(Path("/songs/a<b>c:d|e?.flac")) == "a_b_c_d_e_" and song_stem(Path("..")) == "moss"
    assert point_name(Path("/songs/ .mp3"), 0, "opus") == "moss - point 0.opus" and len(song_stem("x" * 300)) == 80


def test_the_last_point_format_is_proposed_again_in_the_next_session(
    qtbot, window, tiny_result, tmp_path, monkeypatch, temp_qsettings, user_folders
):
    from PySide6.QtCore import QSettings

    from moss_app.exports import ExportController
    from moss_app.settings_store import SettingsStore

    window.show_result(tiny_result)
    window.select_point(1)
    dialog = SaveDialog((str(tmp_path / "kept.opus"), "WAV (*.wav)"))  # the suffix typed names the format
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    assert window.exports.choose_export_point() == tmp_path / "kept.opus"
    window.store.sync()
    later = SettingsStore(QSettings(temp_qsettings.fileName(), QSettings.Format.IniFormat))  # the next session's
    assert later.export_format == "opus"
    dialog.answer = ("", "")  # cancelled: only what is proposed matters now
    ExportController(window, window.results, later).choose_export_point()
    assert dialog.asked[1][1] == tmp_path / "metal_madness_sectoid - point 1.opus"  # and the folder last used
    assert dialog.selected_filters[1] == "Opus (*.opus)"
    later.export_format = "aiff"  # not one Export Point writes (a damaged or future setting): WAV
    ExportController(window, window.results, later).choose_export_point()
    assert dialog.asked[2][1].suffix == ".wav" and dialog.selected_filters[2] == "WAV (*.wav)"


def test_export_run_folder_starts_in_documents_then_where_runs_were_kept(
    qtbot, window, tiny_result, tmp_path, monkeypatch, user_folders
):
    window.show_result(tiny_result)
    runs = tmp_path / "my runs"
    runs.mkdir()
    dialog = SaveDialog((str(runs / "first"), "Run folder (*)"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.exports.choose_export()
    assert dialog.asked[0][1].parent == user_folders["documents"]  # not Music, the first time
    assert (runs / "first" / "manifest.json").is_file()
    assert window.store.last_dir("run") == runs  # File > Open Run starts there too now
    window.exports.choose_export_point()  # a point still goes where music goes
    assert dialog.asked[1][1].parent == user_folders["music"]
    dialog.answer = ("", "")
    window.exports.choose_export()
    assert dialog.asked[2][1].parent == runs
