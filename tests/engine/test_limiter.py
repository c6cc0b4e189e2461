"""True peak and the look-ahead limiter (DESIGN.md "The limiter"): peaks held inside a point, not a whole-point gain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moss_engine.dsp.limiter import (
    CEILING_MARGIN_DB,
    Limiter,
    bound_dbtp,
    format_ceiling_dbtp,
    peak_envelope,
    true_peak_db,
)
from moss_engine.io.audio import load_audio
from moss_engine.resources import sample_paths

RATE = 22050


def reference_true_peak_db(x: np.ndarray) -> float:
    """BS.1770's true peak as the contract's checker measures it: scipy's 4x polyphase resampler, the filter's edges
    left out (an independent implementation)."""
    from scipy.signal import resample_poly

    up = resample_poly(np.asarray(x, dtype=np.float64).T, 4, 1, axis=0, padtype="line")[160:-160]
    return float(20 * np.log10(np.abs(up).max()))


def test_true_peak_agrees_with_scipys_resampler_and_finds_inter_sample_peaks(sample_song):
    rng = np.random.default_rng(1)
    noise = 0.3 * rng.standard_normal((2, RATE))
    assert true_peak_db(noise) == pytest.approx(reference_true_peak_db(noise), abs=1e-4)
    # a sine at a quarter of the rate, sampled 45 degrees off its crests: every sample is at 0.707 of its peak
    t = np.arange(RATE) / RATE
    sine = (0.9 * np.sin(2 * np.pi * RATE / 4 * t + np.pi / 4))[None]
    assert 20 * math.log10(np.abs(sine).max()) == pytest.approx(20 * math.log10(0.9 / math.sqrt(2)), abs=1e-3)
    assert true_peak_db(sine) == pytest.approx(20 * math.log10(0.9), abs=0.05)
    assert true_peak_db(sine) == pytest.approx(reference_true_peak_db(sine), abs=1e-3)
    song = sample_song.samples[:, : 5 * sample_song.sample_rate]
    assert true_peak_db(song) == pytest.approx(reference_true_peak_db(song), abs=1e-4)
    # the envelope is one value per sample, the largest over the channels and the oversampled phases
    envelope = peak_envelope(noise)
    assert envelope.shape == (RATE,) and np.all(envelope >= np.abs(noise).max(axis=0) - 1e-6)
    assert true_peak_db(np.zeros((2, 100))) == -math.inf


@pytest.fixture(scope="module")
def sample_song():
    """8 s of the bundled rock sample (shipped with MOSS: no ../shared needed)."""
    return load_audio(sample_paths()[1], sample_rate=RATE, duration_s=8.0)


def test_the_limiter_holds_the_ceiling_only_where_peaks_pass_it(sample_song):
    song = sample_song.samples
    loud = song * np.float32(10 ** (6 / 20))  # 6 dB too hot: peaks far over the ceiling
    limiter = Limiter(ceiling_dbtp=-1.2)
    out, deepest = limiter.apply(loud, RATE)
    assert true_peak_db(out) <= -1.2 + 0.02
    assert reference_true_peak_db(out) <= -1.2 + 0.02
    assert -12.0 < deepest < -4.0  # several dB at the worst peak
    gain = np.abs(out).max(axis=0) / np.maximum(np.abs(loud).max(axis=0), 1e-9)
    assert np.all(gain <= 1.0 + 1e-5)  # only ever down
    # channels linked: one gain for both (the stereo image does not move)
    ratio = out / np.where(np.abs(loud) > 1e-4, loud, np.nan)
    assert np.nanmax(np.abs(ratio[0] - ratio[1])) < 1e-4
    # quiet audio comes back as it was, the same values
    quiet = song * np.float32(0.1)
    same, deepest = limiter.apply(quiet, RATE)
    assert deepest == 0.0 and np.array_equal(same, quiet)


def test_the_limiter_is_not_a_whole_point_gain():
    """One loud click in 4 s of steady tone: the gain comes down around the click only, ramping over the look-ahead
    before it and recovering with the release after it; a second away the tone is untouched."""
    t = np.arange(4 * RATE) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    signal = np.stack([tone, tone]).astype(np.float32)
    click = 2 * RATE
    signal[:, click] = 1.5
    limiter = Limiter(ceiling_dbtp=-1.2, lookahead_ms=5.0, release_ms=100.0)
    out, deepest = limiter.apply(signal, RATE)
    reduction = limiter.reduction_db(signal, RATE)
    assert deepest == pytest.approx(-(20 * math.log10(1.5) + 1.2), abs=0.3)
    assert reduction[click] == pytest.approx(-deepest, abs=0.3)
    lookahead = round(0.005 * RATE)
    assert reduction[click - 2 * lookahead] == pytest.approx(0.0, abs=1e-9)  # before the look-ahead: untouched
    assert 0 < reduction[click - lookahead // 2] < reduction[click]  # ramping down before the click
    assert np.all(np.diff(reduction[click - lookahead : click + 1]) >= -1e-9)
    release = round(0.1 * RATE)
    after = click + lookahead + release
    assert reduction[after] == pytest.approx(reduction[click] / math.e, rel=0.15)  # exp(-t / release)
    far = np.r_[0:RATE, 3 * RATE : 4 * RATE]
    np.testing.assert_array_equal(out[:, far], signal[:, far])
    assert true_peak_db(out) <= -1.2 + 0.02


def test_the_song_own_peaks_may_stay_where_allowed():
    t = np.arange(2 * RATE) / RATE
    song = np.stack([1.1 * np.sin(2 * np.pi * 100 * t)] * 2).astype(np.float32)  # a decode's overs: the song's
    limiter = Limiter(ceiling_dbtp=-1.2)
    assert limiter.reduction_db(song, RATE, allowed=peak_envelope(song)).max() == 0.0
    assert limiter.reduction_db(song, RATE).max() > 2.0


def test_the_bound_and_the_ceilings_by_format():
    t = np.arange(RATE) / RATE
    quiet = np.stack([0.5 * np.sin(2 * np.pi * 100 * t)] * 2)
    hot = 1.2 * quiet / 0.5
    assert bound_dbtp(quiet) == -1.0  # -6 dBTP song: the -1 dBTP bound
    assert bound_dbtp(hot) == pytest.approx(20 * math.log10(1.2), abs=0.01)  # the song's own true peak
    assert Limiter.for_song(quiet).ceiling_dbtp == pytest.approx(-1.0 - CEILING_MARGIN_DB)
    assert Limiter.for_song(hot).ceiling_dbtp == pytest.approx(20 * math.log10(1.2) - CEILING_MARGIN_DB, abs=0.01)
    assert format_ceiling_dbtp("wav", 1.4) == 1.4  # float holds any peak
    assert format_ceiling_dbtp("wav", 1.4, "PCM_16") == -CEILING_MARGIN_DB  # an integer WAV does not
    assert format_ceiling_dbtp("flac", 1.4) == -CEILING_MARGIN_DB
    assert format_ceiling_dbtp("flac", -3.0) == -3.0
    for lossy in ("mp3", "ogg", "opus"):
        assert format_ceiling_dbtp(lossy, 1.4) == -1.0 - CEILING_MARGIN_DB


def test_the_limiters_record_rebuilds_it():
    limiter = Limiter(ceiling_dbtp=-0.7, lookahead_ms=4.0, release_ms=120.0)
    record = limiter.to_record()
    assert {"ceiling_dbtp", "lookahead_ms", "release_ms", "oversampling"} <= set(record)
    assert Limiter.from_record(record) == limiter
    assert Limiter.from_record(None) is None
