"""Loudness as BS.1770 measures it (checked against pyloudnorm, the meter outside MOSS that the quality benchmark uses),
the song's limits, and the optimiser's differentiable estimate of the same figures."""

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import torch

from moss_engine.dsp import loudness
from moss_engine.dsp.loudness import SongLoudness, integrated_loudness, k_weighting_gain, short_term_loudness
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import make_settings

FILES = [
    "music_orchestral_wesnoth_transience.ogg",
    "awkward_48k_stereo_etr_calmrace_30s.ogg",
    "speech_apollo11_a11wlk01.wav",
    "awkward_mono22k_u8_freedroid_thouartdefeated.wav",
]


@pytest.mark.parametrize("name", FILES)
def test_integrated_and_short_term_loudness_agree_with_pyloudnorm(data_dir, name):
    audio, rate = sf.read(data_dir / name, dtype="float64", always_2d=True)
    assert integrated_loudness(audio.T, rate) == pytest.approx(
        pyloudnorm.Meter(rate).integrated_loudness(audio), abs=0.01
    )
    if len(audio) < 3 * rate:
        return
    mix, width = audio.mean(axis=1), 3 * rate
    theirs = [
        pyloudnorm.Meter(rate, block_size=3.0).integrated_loudness(mix[i : i + width])
        for i in range(0, len(mix) - width + 1, rate)
    ]
    ours = short_term_loudness(mix[None], rate, step_s=1.0)[: len(theirs)]
    # pyloudnorm filters each window from rest; MOSS filters the whole signal once (the meter's way)
    assert np.max(np.abs(np.array(theirs) - ours)) < 0.05


def test_k_weighting_is_a_high_shelf_over_a_high_pass():
    gain_db = 10 * np.log10(k_weighting_gain(np.array([10.0, 1000.0, 8000.0]), 48000))
    assert gain_db[0] < -10 and abs(gain_db[1]) < 1.0 and gain_db[2] == pytest.approx(4.0, abs=0.3)


def test_a_point_is_held_against_the_song_window_by_window(data_dir):
    song, rate = sf.read(data_dir / "awkward_48k_stereo_etr_calmrace_30s.ogg", dtype="float32", always_2d=True)
    song = song[: 12 * rate].T.copy()
    meter = SongLoudness(song, rate)
    same = meter.measure(song)
    assert same.lu == pytest.approx(0.0, abs=1e-6) and same.worst_short_term_lu == pytest.approx(0.0, abs=1e-6)
    louder = meter.measure(song * np.float32(10 ** (2 / 20)))
    assert louder.lu == pytest.approx(2.0, abs=1e-3) and louder.over_limits_lu == pytest.approx(1.0, abs=1e-3)
    # a burst over 2 s of a quiet passage: hardly louder over the whole, far louder over 3 s there
    burst = song.copy()
    quiet = burst[:, 2 * rate : 4 * rate] * np.float32(0.05)
    burst[:, 2 * rate : 4 * rate] = quiet
    meter = SongLoudness(burst, rate)
    noisy = burst.copy()
    noisy[:, 2 * rate : 4 * rate] += np.float32(0.3) * np.random.default_rng(0).standard_normal(quiet.shape)
    measured = meter.measure(noisy)
    assert measured.worst_short_term_lu > 10 and measured.over_limits_lu > 7
    # silence has no loudness to be held to: there the ceiling is BS.1770's absolute gate (-70 LUFS)
    assert loudness.short_term_ceiling(np.array([-np.inf, -80.0, -20.0])).tolist() == [-70.0, -70.0, -20.0]


@pytest.fixture(scope="module")
def stereo_problem(data_dir):
    settings = make_settings(
        data_dir / "img_text_skimage_page.png",
        data_dir / "music_orchestral_wesnoth_transience.ogg",
        quality="preview",
        device="cpu",
        duration_s=8.0,
        start_s=4.0,
    )
    clip, image = load_inputs(settings)
    return HidingProblem(clip, image, ProblemSettings.from_run(settings)), clip


def test_the_optimisers_estimate_follows_the_exact_loudness_of_the_channels(stereo_problem):
    """The estimate (``LoudnessExcess``, on the synthesised mix) tracks BS.1770 on the rendered channels within 1 LU
    over levels and masks, so that the optimiser's margin (0.5 LU) and the pipeline's exact check meet."""
    problem, clip = stereo_problem
    renderer = PointRenderer(problem, should_stop=None)
    song = SongLoudness(clip.samples, clip.sample_rate)
    gen = torch.Generator().manual_seed(0)
    level = problem.matched_level_db
    for logits, shift in (
        (torch.full(problem.settings.mask_shape, 30.0), 0.0),
        (torch.randn(problem.settings.mask_shape, generator=gen), 6.0),
        (torch.randn(problem.settings.mask_shape, generator=gen) - 1.0, -6.0),
    ):
        audio = renderer.render_point(logits, level + shift)
        exact = song.measure(audio)
        with torch.no_grad():
            share = problem.mask_share(renderer.point_mask(logits)[None])
            integrated, worst = problem.loudness.change(
                problem._view_power(torch.from_numpy(audio.mean(axis=0))[None]), share
            )
        assert float(integrated) == pytest.approx(exact.lu, abs=1.0)
        assert float(worst) >= exact.worst_short_term_lu - 1.0  # a soft maximum: never far under the worst window


def test_the_start_level_makes_the_all_image_mask_as_loud_as_the_song_or_quieter(stereo_problem):
    problem, clip = stereo_problem
    ones = torch.full(problem.settings.mask_shape, 30.0)
    measured = SongLoudness(clip.samples, clip.sample_rate).measure(
        PointRenderer(problem, should_stop=None).render_point(ones, problem.matched_level_db)
    )
    assert -3.0 < measured.lu <= 1.0 and measured.worst_short_term_lu <= 3.5
    assert -100.0 <= problem.matched_level_db <= 0.0
