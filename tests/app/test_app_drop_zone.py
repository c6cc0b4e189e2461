"""Drop zones: synthesised drops of valid and invalid files, and what the zone shows."""

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from moss_app.ui.drop_zone import DropZone


def drop(widget, *paths: Path) -> tuple[bool, bool]:
    """Send a drag-enter and a drop of ``paths`` to ``widget``; returns whether each was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
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
    assert picture.name_label.text() == image.name
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
    assert music.details.text() == before and music.name_label.text() == good.name
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
    assert picture.path is None and "not an image" in picture.error


def test_a_drop_of_two_files_is_not_accepted(qtbot, zones, data_dir):
    picture, _ = zones
    with qtbot.assertNotEmitted(picture.file_changed):
        accepted = drop(picture, data_dir / "img_portrait_skimage_astronaut.png",
                        data_dir / "img_text_skimage_page.png")
    assert accepted == (False, False) and picture.path is None
