"""Every point a finished version of the song (issue 21): its file fitted to the song's loudness both ways, its level
following a quiet passage, a point quieter than the song brought up as a whole, its peaks limited inside it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from moss_engine.dsp.limiter import Limiter, peak_envelope, true_peak_db
from moss_engine.dsp.loudness import SongLoudness, integrated_loudness, short_term_loudness
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.io.audio import load_audio
from moss_engine.io.image import load_image
from moss_engine.optimise.base import ANCHOR_LOGIT, Candidate
from moss_engine.resources import sample_paths
from moss_engine.run.front_audio import fit_loudness, image_end_curve
from moss_engine.settings import make_settings

RATE = 22050


def renderer_for(samples: np.ndarray, tmp_path) -> tuple[PointRenderer, np.ndarray]:
    """The points of a preview problem on ``samples`` (the bundled portrait as the picture), and the song as the run
    holds it."""
    import soundfile as sf

    image, _ = sample_paths()
    song = tmp_path / "song.wav"
    sf.write(song, samples.T, RATE, subtype="FLOAT")
    settings = make_settings(image, song, quality="preview", device="cpu", duration_s=samples.shape[1] / RATE)
    clip = load_audio(song, sample_rate=RATE)
    problem = HidingProblem(clip, load_image(image), ProblemSettings.from_run(settings))
    return PointRenderer(problem, should_stop=None), clip.samples


@pytest.fixture(scope="module")
def rock():
    """8 s of the bundled rock sample at the preview rate (shipped with MOSS: no ../shared needed)."""
    return load_audio(sample_paths()[1], sample_rate=RATE, duration_s=8.0).samples


def test_a_point_quieter_than_the_song_is_brought_up_without_changing_what_a_viewer_shows(rock, tmp_path):
    """A uniform half blend in dB is about 10 LU under the song at the level that matches its all-picture end: the
    fit brings the file to the song's loudness with a gain (the picture's level stays), within +-1 LU, no 3 s window
    above +3 LU, and its true peak within the bound; a viewer sees it as before."""
    renderer, reference = renderer_for(rock, tmp_path)
    problem = renderer.problem
    song, limiter = SongLoudness(reference, RATE), Limiter.for_song(reference)
    half = Candidate(
        np.zeros(problem.settings.mask_shape, dtype=np.float32), 0.0, 0.0, "optimised", level_db=problem.matched_levels
    )
    before = renderer.render_point(half.logits, half.level_db)
    assert song.measure(before).lu < -5.0  # the case this test is about
    point = fit_loudness(renderer, half, song, limiter, song_peaks=peak_envelope(reference))
    assert abs(point.loudness.lu) <= 1.0 and point.loudness.worst_short_term_lu <= 3.0
    assert abs(integrated_loudness(point.samples, RATE) - integrated_loudness(reference, RATE)) <= 1.0
    assert true_peak_db(point.samples) <= max(-1.0, true_peak_db(reference)) + 0.05
    assert np.max(point.makeup_db) > 3.0 and np.min(point.makeup_db) >= 0.0
    np.testing.assert_array_equal(point.candidate.level_db, np.broadcast_to(half.level_db, (problem.level_knots,)))
    visual_before = renderer.score_point(half.logits, half.level_db)[0]
    assert point.candidate.visual == pytest.approx(visual_before, abs=0.03)
    # the file is what the manifest's figures rebuild: the render, made up, limited
    times = np.arange(problem.n_samples) / RATE
    rebuilt, deepest = limiter.apply(
        before * renderer.makeup_gain(point.makeup_db, times), RATE, peak_envelope(reference)
    )
    np.testing.assert_allclose(rebuilt, point.samples, atol=1e-5)
    assert deepest == pytest.approx(point.limiter_db, abs=1e-3)


def test_a_quiet_passage_lowers_the_picture_there_only(rock, tmp_path):
    """The song's last 3 s 25 dB quieter: the all-picture end's level curve comes down there (a 3 s window of a
    picture as loud as the rest would be a burst) and stays up elsewhere, so the point keeps the song's loudness as a
    whole (with one level for the whole point, one quiet passage took a point of a quiet orchestral piece to -28 LU)."""
    song_samples = rock.copy()
    song_samples[:, 5 * RATE :] *= np.float32(10 ** (-25 / 20))
    renderer, reference = renderer_for(song_samples, tmp_path)
    problem = renderer.problem
    curve = image_end_curve(renderer, reference)
    loud = curve[problem.knot_times_s <= 2.0]
    quiet = curve[problem.knot_times_s >= 7.0]
    assert quiet.max() < loud.min() - 10.0  # down in the quiet passage
    assert np.ptp(loud) < 3.0  # and level where the song is level
    problem.adopt_level_curve(curve)
    np.testing.assert_allclose(problem.matched_levels, curve, atol=1e-9)
    song = SongLoudness(reference, RATE)
    image = Candidate(
        np.full(problem.settings.mask_shape, ANCHOR_LOGIT, dtype=np.float32), 0.0, 0.0, "image", level_db=curve
    )
    point = fit_loudness(renderer, image, song, Limiter.for_song(reference))
    assert point.loudness.within()
    point_short = short_term_loudness(point.samples, RATE, 1.0)
    song_short = short_term_loudness(reference, RATE, 1.0)
    assert np.max(point_short - np.maximum(song_short, -70.0)) <= 3.0
    # the same picture at one flat level, as loud as the song as a whole, is a burst in the quiet passage
    flat = np.full(problem.level_knots, float(np.average(curve, weights=problem.knot_times_s <= 5.0)))
    burst = renderer.render_point(image.logits, flat)
    assert song.measure(burst).worst_short_term_lu > 6.0


def test_a_point_pulled_down_by_a_quiet_passage_is_brought_back(rock, tmp_path):
    """A point whose one level was taken down 20 dB for a quiet passage (as the -28 LU point of a quiet orchestral
    piece was): the fit brings the file back within +-1 LU, brought up where the song is loud, not where it is
    quiet."""
    song_samples = rock.copy()
    song_samples[:, 5 * RATE :] *= np.float32(10 ** (-25 / 20))
    renderer, reference = renderer_for(song_samples, tmp_path)
    problem = renderer.problem
    song = SongLoudness(reference, RATE)
    logits = np.full(problem.settings.mask_shape, 1.0, dtype=np.float32)
    low = Candidate(logits, 0.0, 0.0, "optimised", level_db=np.full(problem.level_knots, problem.matched_level_db - 20))
    assert song.measure(renderer.render_point(logits, low.level_db)).lu < -6.0
    point = fit_loudness(renderer, low, song, Limiter.for_song(reference))
    assert point.loudness.within()
    gain = np.asarray(point.makeup_db)
    assert gain[problem.knot_times_s <= 3.0].mean() > gain[problem.knot_times_s >= 7.0].mean() + 3.0


def test_the_music_end_and_a_point_within_the_limits_are_left_as_they_are(rock, tmp_path):
    renderer, reference = renderer_for(rock, tmp_path)
    problem = renderer.problem
    song, limiter = SongLoudness(reference, RATE), Limiter.for_song(reference)
    light = Candidate(
        np.full(problem.settings.mask_shape, -6.0, dtype=np.float32),
        0.0,
        0.0,
        "optimised",
        level_db=problem.matched_levels,
    )
    audio = renderer.render_point(light.logits, light.level_db)
    assert song.measure(audio).within(0.2)  # the case this test is about
    point = fit_loudness(
        renderer, dataclasses.replace(light, samples=audio), song, limiter, song_peaks=peak_envelope(reference)
    )
    assert not np.any(point.makeup_db) and point.limiter_db == 0.0
    np.testing.assert_array_equal(point.samples, audio)
    assert point.candidate.visual == light.visual  # the file is the candidate's own render: its losses stand
