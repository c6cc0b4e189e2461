"""Drop zones: synthesised drops of valid and invalid files, and what the zone shows."""

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from moss_app.ui.drop_zone import DropZone


def drop(widget, *paths: Path) -> tuple[bool, bool]:
    """Send a drag-enter and a drop of ``paths`` to ``widget``; returns whether each was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPointF(widget.rect().center()),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(
        QPointF(widget.rect().center()),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)
    return enter.isAccepted(), event.isAccepted()


@pytest.fixture
def zones(qtbot):
    picture, music = DropZone("picture"), DropZone("music")
    for zone in (picture, music):
        qtbot.addWidget(zone)
        zone.show()
    return picture, music


def test_valid_drops_update_the_zones(qtbot, zones, data_dir):
    picture, music = zones
    image = data_dir / "img_landscape_kde_eveningglow.jpg"
    audio = data_dir / "music_electronic_scratch_techno2.mp3"
    with qtbot.waitSignal(picture.file_changed) as got_picture:
        assert drop(picture, image) == (True, True)
    with qtbot.waitSignal(music.file_changed) as got_music:
        assert drop(music, audio) == (True, True)

    assert got_picture.args == [image] and picture.path == image and picture.error == ""
    assert not picture.preview.pixmap().isNull()
    assert max(picture.preview.pixmap().width(), picture.preview.pixmap().height()) > 50
    assert picture.name_label.full_text == image.name
    assert music.path == audio and got_music.args == [audio]
    assert music.details.text().startswith("0:15  ·  44.1 kHz  ·  mono")  # the file: 14.9 s, 44.1 kHz, one channel
    thumbnail = music.preview.pixmap().toImage()
    assert (thumbnail.width(), thumbnail.height()) == (240, 110)
    assert len({thumbnail.pixel(x, 55) for x in range(0, 240, 8)}) > 5  # a spectrogram, not a flat colour


def test_a_text_file_named_wav_is_refused_and_the_previous_file_kept(qtbot, zones, data_dir, tmp_path):
    _, music = zones
    good = data_dir / "awkward_short_alsa_front_center.wav"
    assert music.set_file(good)
    before = music.details.text()
    fake = tmp_path / "song.wav"
    fake.write_text("this is not audio\n")

    with qtbot.assertNotEmitted(music.file_changed):
        drop(music, fake)

    assert music.path == good
    assert music.details.text() == before and music.name_label.full_text == good.name
    assert music.error.startswith("Refused song.wav: ") and "not an audio file" in music.error
    assert not music.error_label.isHidden()
    # the next valid file clears the reason
    assert music.set_file(data_dir / "speech_apollo11_a11wlk01.wav")
    assert music.error == "" and music.error_label.isHidden()


def test_an_image_dropped_on_the_music_zone_is_refused(qtbot, zones, data_dir):
    picture, music = zones
    with qtbot.assertNotEmitted(music.file_changed):
        drop(music, data_dir / "img_portrait_skimage_astronaut.png")
    assert music.path is None and "Refused img_portrait_skimage_astronaut.png" in music.error
    with qtbot.assertNotEmitted(picture.file_changed):
        drop(picture, data_dir / "awkward_short_alsa_front_center.wav")
    assert picture.path is None and "not a picture" in picture.error


def test_a_drop_of_two_files_is_not_accepted(qtbot, zones, data_dir):
    picture, _ = zones
    with qtbot.assertNotEmitted(picture.file_changed):
        accepted = drop(
            picture, data_dir / "img_portrait_skimage_astronaut.png", data_dir / "img_text_skimage_page.png"
        )
    assert accepted == (False, False) and picture.path is None


def test_a_long_name_is_shortened_in_the_middle_and_whole_in_the_tooltip(qtbot, zones, data_dir, tmp_path):
    _, music = zones
    music.resize(300, 260)
    long_name = tmp_path / ("a_very_long_file_name_that_an_artist_might_give_a_song_" * 2 + "final_mix.wav")
    long_name.write_bytes((data_dir / "awkward_short_alsa_front_center.wav").read_bytes())
    assert music.set_file(long_name)
    text = music.name_label.text()
    assert "…" in text and text.startswith("a_very") and text.endswith("final_mix.wav"), text
    assert music.name_label.toolTip() == str(long_name)
    assert music.name_label.minimumSizeHint().width() < 200  # the column does not grow with the name
    music.resize(2000, 260)
    qtbot.waitUntil(lambda: music.name_label.text() == long_name.name, timeout=2000)  # room enough: whole


def test_a_short_song_shows_seconds_with_a_tenth(zones, data_dir):
    from moss_engine.io.audio import probe_audio

    _, music = zones
    path = data_dir / "awkward_short_alsa_front_center.wav"
    assert music.set_file(path)
    assert music.details.text().startswith(f"{probe_audio(path).duration_s:.1f} s  ·  ")
    assert music.set_file(data_dir / "music_rock_sectoid_metal_madness_30s.ogg")
    assert music.details.text().startswith("0:30  ·  ")


def test_a_long_refusal_keeps_to_two_lines_and_is_whole_in_the_tooltip(qtbot, zones, tmp_path):
    _, music = zones
    music.resize(260, 200)
    bad = tmp_path / ("a_very_long_name_of_a_song_that_is_not_music_at_all_" * 4 + ".ogg")
    bad.write_bytes(b"OggS but not really")
    assert not music.set_file(bad)
    label = music.error_label
    assert music.error.startswith("Refused a_very_long") and music.error.endswith(")")  # the whole text
    assert label.height() <= 2 * label.fontMetrics().lineSpacing() + 4  # two lines at most, however long
    assert label.toolTip() == music.error  # cut on screen, whole in the tooltip


def test_a_refusal_goes_with_the_next_action(qtbot, window, tmp_path, data_dir):
    """Decision: the message answers one action; a click on the zone, any change to the inputs (here the preset,
    a field) or a file accepted makes it old news."""
    bad = tmp_path / "not-music.ogg"
    bad.write_bytes(b"OggS but not really")
    zone = window.music_zone

    def refuse():
        assert not zone.set_file(bad) and "not-music.ogg" in zone.error and zone.error_label.isVisible()

    refuse()
    window.preset_combo.setCurrentIndex(window.preset_combo.findData("standard"))
    assert zone.error == "" and not zone.error_label.isVisible()
    refuse()
    qtbot.mouseClick(zone, Qt.MouseButton.LeftButton, pos=zone.rect().topLeft() + QPoint(4, 4))
    assert zone.error == ""
    refuse()
    window.advanced.fields["seed"].setValue(5)
    assert zone.error == ""
    refuse()
    assert window.picture_zone.set_file(data_dir / "img_landscape_kde_eveningglow.jpg")  # the other zone
    assert zone.error == ""
    refuse()
    assert zone.set_file(data_dir / "awkward_short_alsa_front_center.wav")
    assert zone.error == ""


def test_a_refusal_names_the_file_once_from_the_errors_own_fields(tmp_path):
    """The zone says "Refused NAME: problem": the problem comes from the error's field, not from cutting its text
    (which missed a name with two spaces, folded into one in the message)."""
    from moss_app.ui.drop_zone import reason
    from moss_engine.errors import MossInputError

    song = tmp_path / "my  song.wav"
    assert reason(MossInputError("not an audio file", song), song) == "not an audio file"
    assert reason(MossInputError("too short"), song) == "too short"
    other = tmp_path / "cover.png"  # about another file: the message names it
    assert reason(MossInputError("unreadable", other), song) == f"{other}: unreadable"
