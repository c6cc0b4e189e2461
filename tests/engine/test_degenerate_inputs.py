"""Inputs that would make a meaningless front: a silent segment, a fully transparent or an all-black picture."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from moss_engine.errors import MossInputError
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import make_settings

SONG = "music_orchestral_wesnoth_transience.ogg"
PICTURE = "img_portrait_skimage_astronaut.png"


def settings(image, audio, **overrides):
    return make_settings(image, audio, quality="preview", device="cpu", duration_s=2.0, steps=2, points=3, **overrides)


def test_a_silent_segment_is_refused_naming_the_song(tmp_path, data_dir):
    song = tmp_path / "silence.wav"
    samples = np.zeros((3 * 22050, 2), dtype=np.float32)
    samples[-100:] = 0.5  # sound after the segment does not count
    sf.write(song, samples, 22050)
    with pytest.raises(MossInputError) as exc:
        load_inputs(settings(data_dir / PICTURE, song, start_s=0.0))
    assert "silence.wav" in str(exc.value) and "silent" in str(exc.value) and "\n" not in str(exc.value)
    quiet = samples.copy()
    quiet[:, :] = 1e-3 * np.sin(np.arange(len(quiet)) / 7.0)[:, None]  # -60 dBFS is quiet, not silent
    sf.write(song, quiet, 22050, subtype="FLOAT")
    clip, _ = load_inputs(settings(data_dir / PICTURE, song, start_s=0.0))
    assert clip.samples.shape[1] == 2 * 22050


def test_a_fully_transparent_picture_is_refused(tmp_path, data_dir):
    picture = tmp_path / "nothing.png"
    Image.new("RGBA", (64, 32), (255, 255, 255, 0)).save(picture)
    with pytest.raises(MossInputError) as exc:
        load_inputs(settings(picture, data_dir / SONG))
    assert "nothing.png" in str(exc.value) and "fully transparent" in str(exc.value)


def test_an_all_black_picture_is_run_with_a_notice_and_invert_silences_it(tmp_path, data_dir):
    picture = tmp_path / "black.png"
    Image.new("L", (64, 32), 0).save(picture)
    clip, _ = load_inputs(settings(picture, data_dir / SONG))
    assert any("black.png" in n and "black all over" in n and "invert" in n for n in clip.notices), clip.notices
    white = tmp_path / "white.png"
    Image.new("L", (64, 32), 255).save(white)
    clip, _ = load_inputs(settings(white, data_dir / SONG, invert=True))  # inverted white is black
    assert any("black all over" in n for n in clip.notices)
    clip, _ = load_inputs(settings(data_dir / PICTURE, data_dir / SONG))
    assert not any("black all over" in n for n in clip.notices)


def test_a_song_too_long_for_the_memory_is_refused_before_it_starts(data_dir, monkeypatch):
    import torch

    from moss_engine.io import budget

    song = data_dir / SONG
    settings = make_settings(data_dir / "img_portrait_skimage_astronaut.png", song, quality="preview")
    seconds = min(budget.probe_audio(song).duration_s - settings.start_s, settings.duration_s)
    need = budget.estimated_bytes(settings, seconds)
    monkeypatch.setattr(budget, "available_memory", lambda: need - 1)
    with pytest.raises(MossInputError) as exc:
        budget.check_memory(settings, torch.device("cpu"))
    message = str(exc.value)
    assert str(song) in message and "GB of memory" in message and "--duration" in message
    monkeypatch.setattr(budget, "available_memory", lambda: need + 1)
    budget.check_memory(settings, torch.device("cpu"))  # fits: no error
    # a 2-hour song at the preview's rate: far more than a laptop holds (the measured 5.3 GB per 10 minutes)
    assert budget.estimated_bytes(settings, 7200) > 50 * budget.GB


def test_a_hop_far_below_the_window_is_refused(data_dir):
    with pytest.raises(MossInputError, match="--hop"):
        make_settings(data_dir / "img_portrait_skimage_astronaut.png", data_dir / SONG, quality="preview", hop_length=1)
    assert (
        make_settings(
            data_dir / "img_portrait_skimage_astronaut.png", data_dir / SONG, quality="preview", hop_length=64
        ).hop_length
        == 64
    )  # 1/16 of the preview's 1024: the smallest allowed


def test_a_run_folder_that_would_not_fit_the_disk_is_refused_before_the_work(tmp_path, monkeypatch):
    import collections
    import shutil

    from moss_engine.io import budget

    need = budget.run_folder_bytes(8, 2, 22050 * 30)
    assert 8 * 2 * 22050 * 30 * 4 < need < 12 * 2 * 22050 * 30 * 4  # nine float WAVs and a little more
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 * need, 9 * need, need - 1))
    with pytest.raises(MossInputError) as exc:
        budget.check_free_space(tmp_path / "new" / "run", need)
    assert str(tmp_path / "new" / "run") in str(exc.value) and "MB" in str(exc.value) and "free" in str(exc.value)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 * need, 0, need + 1))
    budget.check_free_space(tmp_path / "new" / "run", need)  # fits
    assert not (tmp_path / "new").exists()  # nothing made by checking
