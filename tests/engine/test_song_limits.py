"""Issue 22: what a song itself allows. A song sampled below the run's rate holds nothing above its own Nyquist
frequency, so the default band's top is lowered under it (with a notice) and a band asked for above it is refused; a
song shorter than the segment gives what it has, and one shorter than ``MIN_SEGMENT_S`` is refused with the remedy."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from moss_engine.errors import MossInputError
from moss_engine.freq_axis import LOG_BOTTOM_HZ
from moss_engine.options import MIN_SEGMENT_S
from moss_engine.run.band import choose_band
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import check_song_band, default_band, make_settings, song_band

PICTURE = "img_portrait_skimage_astronaut.png"  # opaque: the band is not moved for transparency


def test_the_default_band_stays_under_the_songs_own_nyquist():
    assert default_band(22050, "linear") == (0.0, pytest.approx(10473.75))
    assert default_band(22050, "linear", 11025) == (0.0, pytest.approx(0.95 * 5512.5))
    assert default_band(22050, "log", 11025) == (LOG_BOTTOM_HZ, pytest.approx(5236.875))
    assert default_band(44100, "linear", 48000) == (0.0, 15000.0)  # a richer song changes nothing
    assert default_band(44100, "linear", 16000) == (0.0, pytest.approx(7600.0))


def test_song_band_makes_the_lowered_band_the_runs_own_and_says_so(data_dir, tmp_path):
    settings = make_settings(data_dir / PICTURE, tmp_path / "low.mp3", quality="preview")
    lowered, notes = song_band(settings, 11025)
    assert lowered.freq == (0.0, pytest.approx(5236.875))  # recorded in the manifest as the band used
    assert notes == (
        "low.mp3: sampled at 11.025 kHz, it holds nothing above 5.5125 kHz: band top lowered to "
        "5.24 kHz (a song sampled at 22.05 kHz allows more)",
    )
    assert song_band(settings, 44100) == (settings, ())
    asked = make_settings(data_dir / PICTURE, tmp_path / "low.mp3", quality="preview", freq=(0.0, 5000.0))
    assert song_band(asked, 11025) == (asked, ())  # an asked band is the user's


def test_a_low_rate_mp3_runs_in_a_band_it_holds(data_dir, low_mp3):
    settings = make_settings(data_dir / PICTURE, low_mp3, quality="preview", device="cpu", duration_s=2.0)
    clip, image = load_inputs(settings)
    assert clip.source_rate == 11025 and clip.sample_rate == 22050
    chosen, notes = choose_band(settings, clip, image)
    assert chosen.freq == (0.0, pytest.approx(5236.875))
    assert chosen.to_record()["band_hz"] == [0.0, pytest.approx(5236.875)]
    assert len(notes) == 1 and notes[0].startswith("low.mp3: sampled at 11.025 kHz")


def test_a_band_asked_above_the_songs_nyquist_is_refused_in_one_line(data_dir, low_mp3):
    settings = make_settings(
        data_dir / PICTURE, low_mp3, quality="preview", device="cpu", duration_s=2.0, freq=(0.0, 8000.0)
    )  # under the run's 11025 Hz: the run's rate allows it, the song not
    with pytest.raises(MossInputError) as exc:
        load_inputs(settings)
    assert str(exc.value) == (
        f"{low_mp3}: --freq 0:8000: F1 is above 5512.5 Hz, the most a song sampled at 11.025 "
        "kHz holds: lower F1 to 5512.5 Hz or leave --freq out"
    )
    assert (exc.value.field, exc.value.reason, exc.value.details["nyquist_hz"]) == ("freq", "above_song", 5512.5)
    check_song_band(make_settings(data_dir / PICTURE, low_mp3, freq=(0.0, 5512.5)), 11025)  # up to it: taken


def test_a_song_shorter_than_the_segment_is_used_whole_with_a_notice(data_dir):
    song = data_dir / "awkward_short_alsa_front_center.wav"  # 1.43 s; the default segment is 30 s
    clip, _ = load_inputs(make_settings(data_dir / PICTURE, song, quality="preview"))
    assert clip.duration_s == pytest.approx(1.428, abs=1e-3)
    assert clip.notices == (
        "awkward_short_alsa_front_center.wav: only 1.43 s of audio from 0.00 s, less than the 30 s "
        "segment: the run uses those 1.43 s",
    )


def test_a_song_shorter_than_the_least_segment_is_refused_with_the_remedy(data_dir, tmp_path):
    song = tmp_path / "blip.wav"
    sf.write(song, np.full(int(0.4 * 22050), 0.3, dtype=np.float32), 22050)
    with pytest.raises(MossInputError) as exc:
        load_inputs(make_settings(data_dir / PICTURE, song, quality="preview"))
    assert str(exc.value) == (
        f"{song}: only 0.40 s of audio from 0.00 s; at least {MIN_SEGMENT_S:.2f} s is needed: "
        "use a song at least 0.5 s long"
    )
