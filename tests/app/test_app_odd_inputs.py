"""Issue 22, the app's defect 2: odd inputs were taken without a word. A picture too small to show, a song shorter than
the segment or than the least segment, a song sampled below the run's rate: each is refused or said in one line naming
the file, the problem and what to do, what the fields and the view show is what the engine will do, and the window
stays usable."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from PySide6.QtWidgets import QApplication, QMessageBox

from moss_app.ui.placement_view import DrawnPlacement
from moss_engine.settings import song_band
from tests.app.test_app_drop_zone import drop

SHORT = "awkward_short_alsa_front_center.wav"  # 1.428 s, 48 kHz mono


def cannot_start(window) -> str:
    text = window.status_label.text()
    return text if text.startswith("Cannot start") else ""


def marked(window, key: str) -> bool:
    return bool(window.advanced.fields[key].property("invalid"))


def segment_shown(window) -> tuple[float, str]:
    """The Advanced "Segment length" as the field holds it and as it reads."""
    box = window.advanced.fields["duration_s"]
    return box.value(), box.text()


def test_a_1x1_picture_is_refused_and_the_window_stays_usable(qtbot, window, data_dir, tmp_path):
    dot = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (200, 200, 200)).save(dot)
    before = window.inputs.picture
    assert drop(window.picture_zone, dot) == (True, True)
    assert window.picture_zone.error == (
        "Refused dot.png: 1 x 1 pixels is too small to show in a spectrogram: use a picture at least 8 x 8 pixels"
    )
    assert window.inputs.picture == before  # the picture before it stays, and the run can start on it
    assert window.start_button.isEnabled() and not cannot_start(window)
    # dropped on the window (with a song, say): the same reason in the status bar and the one dialog
    assert window.route_files([dot]) == [""]
    reason = "Refused dot.png: 1 x 1 pixels is too small to show in a spectrogram: use a picture at least 8 x 8 pixels"
    assert window.statusBar().currentMessage() == reason
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1 and boxes[0].text() == reason
    boxes[0].accept()
    assert window.inputs.picture == before and window.start_button.isEnabled()
    # the smallest picture the tests carry, 16 x 16, is taken
    icon = data_dir / "img_tiny_gimp_icon_16x16_rgba.png"
    assert window.picture_zone.set_file(icon) and window.inputs.picture == icon
    assert window.picture_zone.error == "" and window.picture_zone.details.text().startswith("16 x 16 px")


def test_a_short_song_shows_its_own_length_as_the_segment(qtbot, window, data_dir):
    """A 1.4 s song showed "Segment length 30.0 s"; the engine uses the 1.43 s there are."""
    assert segment_shown(window) == (30.0, "30.0 s")  # the sample is 30 s: the preset's segment
    assert window.music_zone.set_file(data_dir / SHORT)
    assert segment_shown(window) == (pytest.approx(1.4), "1.4 s")
    assert window.advanced.asked("duration_s") == 30.0 and "duration_s" not in window.advanced.overrides()
    view = window.placement_view
    assert view.roi.pos()[0] == pytest.approx(0.0) and view.roi.size()[0] == pytest.approx(1.428, abs=1e-3)
    assert window.statusBar().currentMessage() == (
        f"{SHORT}: only 1.4 s long, less than the 30 s segment: the run uses all 1.4 s"
    )
    assert window.start_button.isEnabled() and not cannot_start(window)
    # a start that leaves less than the least segment is said at once, with what to do
    window.advanced.fields["start_s"].setValue(1.2)
    assert cannot_start(window) == (
        "Cannot start: The segment must start 0.5 s or more before the song's end (1.4 s): start it earlier."
    )
    assert marked(window, "start_s") and not window.start_button.isEnabled()
    window.advanced.fields["start_s"].setValue(0.5)
    assert not cannot_start(window) and window.start_button.isEnabled()
    assert segment_shown(window) == (pytest.approx(0.9), "0.9 s")  # 1.43 s less the start
    # a song as long as the segment says nothing
    window.statusBar().clearMessage()
    assert window.music_zone.set_file(data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac")  # 10 s
    assert segment_shown(window) == (pytest.approx(10.0, abs=0.05), "10.0 s")


def test_a_song_under_half_a_second_is_refused_with_what_to_do(qtbot, window, tmp_path):
    blip = tmp_path / "blip.wav"
    sf.write(blip, np.full(int(0.3 * 44100), 0.3, dtype=np.float32), 44100)
    before = window.inputs.music
    assert not window.music_zone.set_file(blip)
    assert window.music_zone.error == (
        "Refused blip.wav: only 0.30 s of audio from 0.00 s; at least 0.50 s is needed: use a song at least 0.5 s long"
    )
    assert window.inputs.music == before and window.start_button.isEnabled()
    assert segment_shown(window) == (30.0, "30.0 s")


def test_an_11_khz_mp3_lowers_the_band_top_and_the_segment_as_the_engine_does(qtbot, window, low_mp3):
    """An 11.025 kHz mono MP3 of 7.3 s kept a band top of 11 kHz and a 30 s segment."""
    assert window.inputs.quality == "preview" and window.advanced.value("f1_hz") == 10474  # 95 % of 11025 Hz
    assert window.music_zone.set_file(low_mp3)
    assert window.advanced.value("f1_hz") == 5237  # 95 % of the song's own 5512.5 Hz
    assert segment_shown(window) == (pytest.approx(7.3), "7.3 s")
    assert window.statusBar().currentMessage() == (
        "low.mp3: sampled at 11.025 kHz, it holds nothing above 5.5125 "
        "kHz: band top lowered to 5.24 kHz (a song sampled at 22.05 kHz "
        "allows more)"
    )
    assert window.placement_view.roi.size()[0] == pytest.approx(7.3, abs=0.01)
    assert window.start_button.isEnabled() and not cannot_start(window)
    # the engine, given these settings (no band asked), runs in the band the field shows
    settings = window.next_settings()
    assert settings.freq is None
    assert song_band(settings, 11025)[0].freq[1] == pytest.approx(window.advanced.value("f1_hz"), abs=0.5)
    # a band typed above what the song holds is refused as it is typed, with the remedy
    window.advanced.fields["f1_hz"].setValue(8000)  # under Preview's 11.025 kHz, above the song's 5.5125 kHz
    assert cannot_start(window) == "Cannot start: Band top above the 5.5125 kHz low.mp3 holds: lower it."
    assert marked(window, "f1_hz") and not window.start_button.isEnabled()
    window.advanced.fields["f1_hz"].setValue(5000)
    assert not cannot_start(window) and window.start_button.isEnabled()


def test_a_band_set_for_a_richer_song_is_lowered_to_what_the_new_one_holds(qtbot, window, low_mp3):
    window.placement_view.placement_changed.emit(DrawnPlacement(2.0, 5.0, 1000.0, 11025.0))  # drawn on the sample
    assert window.music_zone.set_file(low_mp3)
    overrides = window.advanced.overrides()
    assert (overrides["f0_hz"], overrides["f1_hz"]) == (1000.0, 5512.0)  # the top lowered (whole Hz), the bottom kept
    assert window.placement_view.placement().f1_hz == 5512.0 and window.advanced.value("f1_hz") == 5512
    assert window.statusBar().currentMessage() == (
        "low.mp3: sampled at 11.025 kHz, it holds nothing above 5.5125 "
        "kHz: band top lowered to 5.51 kHz (a song sampled at 22.05 kHz "
        "allows more)"
    )
    assert window.start_button.isEnabled() and not cannot_start(window)
