"""How like the song a point sounds: Zimtohrli's MOS as MOSS measures it, in worker processes or not, and without
the model."""

import numpy as np
import pytest
import soundfile as sf

from moss_engine.run import listening
from moss_engine.run.listening import Listener, Scorer


@pytest.fixture(scope="module")
def song(data_dir):
    audio, rate = sf.read(data_dir / "music_rock_sectoid_metal_madness_30s.ogg", dtype="float32", always_2d=True)
    return audio[: 6 * rate].T.copy(), rate


def test_the_song_itself_sounds_like_the_song_and_noise_does_not(song):
    audio, rate = song
    listener = Listener(audio, rate, (0.0, 6.0))
    assert listener.mos(audio) == pytest.approx(5.0, abs=1e-3)
    noisy = audio + np.float32(0.05) * np.random.default_rng(0).standard_normal(audio.shape).astype(np.float32)
    louder_noise = audio + np.float32(0.2) * np.random.default_rng(1).standard_normal(audio.shape).astype(np.float32)
    assert 1.0 <= listener.mos(louder_noise) < listener.mos(noisy) < 4.5


def test_only_the_pictures_time_span_is_heard(song):
    audio, rate = song
    changed = audio.copy()
    changed[:, : 2 * rate] = 0.0  # outside the span: not heard
    assert Listener(audio, rate, (2.0, 6.0)).mos(changed) == pytest.approx(5.0, abs=1e-3)
    assert Listener(audio, rate, (0.0, 6.0)).mos(changed) < 3.0


def test_long_spans_are_heard_in_pieces_of_at_most_20_s(song, monkeypatch):
    audio, rate = song
    monkeypatch.setattr(listening, "PIECE_S", 2.5)
    listener = Listener(audio, rate, (0.0, 6.0))
    assert len(listener.edges) == 4 and np.all(np.diff(listener.edges) <= 2.5 * 48000)  # three equal pieces


def test_worker_processes_give_the_same_mos_in_order(song):
    audio, rate = song
    listener = Listener(audio, rate, (0.0, 6.0))
    rng = np.random.default_rng(2)
    points = [audio + np.float32(s) * rng.standard_normal(audio.shape).astype(np.float32) for s in (0.01, 0.1, 0.03)]
    with Scorer(listener, 2) as scorer:
        for p in points:
            scorer.submit(p)
        seen = []
        parallel = scorer.results(progress=lambda done, total: seen.append((done, total)))
    assert parallel == pytest.approx([listener.mos(p) for p in points], abs=1e-6)
    # as the workers finish, in whatever order: counts only go up (two heard at once may skip one), ending at 3
    done = [d for d, _ in seen]
    assert done == sorted(set(done)) and done[-1] == 3 and {t for _, t in seen} == {3}
    with Scorer(listener, 2) as scorer:  # a cancel leaves the rest unmeasured
        for p in points:
            scorer.submit(p)
        assert scorer.results(should_stop=lambda: True) == [None, None, None]


def test_without_the_model_the_mos_is_not_measured(song, monkeypatch):
    audio, rate = song
    monkeypatch.setattr(listening, "_zimtohrli", lambda: None)
    assert not listening.available() and "not installed" in listening.model_name()
    listener = Listener(audio, rate, (0.0, 6.0))
    assert listener.mos(audio) is None
    with Scorer(listener, 2) as scorer:
        scorer.submit(audio)
        assert scorer.results() == [None]
