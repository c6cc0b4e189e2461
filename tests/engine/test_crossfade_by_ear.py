"""The uniform crossfade heard as the points are (issue 22, app defect 4): the reference line on the front's MOS axis,
recorded as the manifest's ``crossfade.mos``, read back, and drawn in front.png."""

import dataclasses
import json

import numpy as np
import pytest

from moss_engine.dsp.limiter import Limiter
from moss_engine.dsp.loudness import SongLoudness
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.resources import sample_paths
from moss_engine.run.folder import write_run_folder
from moss_engine.run.front_audio import (
    CROSSFADE_HEARD,
    crossfade_candidate,
    crossfade_picks,
    fit_loudness,
    image_end_curve,
)
from moss_engine.run.listening import Listener
from moss_engine.run.pipeline import compute_front, load_inputs
from moss_engine.run.plot import crossfade_by_ear, plot_front
from moss_engine.run.reader import read_run
from moss_engine.settings import make_settings

pytestmark = pytest.mark.slow

#: Zimtohrli's MOS of two levels of the crossfade may come out in the wrong order by this much (its run-to-run noise on
#: a 2 s segment); more picture must otherwise never sound more like the song.
MOS_NOISE = 0.1


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real tiny run of the bundled sample (2 s, 3 steps, 4 points), written as a run folder with its front.png."""
    settings = make_settings(
        *sample_paths(),
        quality="preview",
        device="cpu",
        duration_s=2.0,
        start_s=5.0,
        steps=3,
        points=4,
        phase_iterations=0,
        seed=0,
    )
    inputs = load_inputs(settings)
    result = compute_front(settings, inputs=inputs)
    out = write_run_folder(result, tmp_path_factory.mktemp("runs") / "tiny", plot=plot_front)
    return settings, inputs, result, out


def test_the_levels_heard_are_spread_from_the_music_end_to_the_image_end():
    assert crossfade_picks(9) == [2, 4, 6, 8]  # the preview's nine levels: every other one, the image end included
    assert crossfade_picks(16) == [4, 8, 11, 15]
    assert crossfade_picks(3) == [1, 2]  # fewer levels than asked: each once
    assert crossfade_picks(1) == [] and crossfade_picks(9, heard=0) == []


def test_a_tiny_runs_manifest_has_the_crossfade_by_ear_in_order(tiny_run):
    _, _, result, out = tiny_run
    cross = json.loads((out / "manifest.json").read_text())["crossfade"]
    mos, visual = cross["mos"], cross["visual_loss"]
    assert len(mos) == len(visual) == len(cross["audio_loss"]) == 9
    heard = [i for i, m in enumerate(mos) if m is not None]
    assert heard == [0, *crossfade_picks(9)] and len(heard) == 1 + CROSSFADE_HEARD
    values = np.array([mos[i] for i in heard])
    assert values[0] == 5.0 and np.all((values >= 1.0) & (values <= 5.0))
    # more picture (a lower visual loss), a lower MOS: falling along the levels, within the model's noise
    assert np.all(np.diff(np.array(visual)[heard]) < 0)
    assert np.all(np.diff(values) <= MOS_NOISE), values
    assert values[-1] < values[0] - 1.5  # the image end does not sound like the song
    assert mos == [None if m is None else round(m, 4) for m in result.crossfade_mos]


def test_a_crossfade_level_is_heard_as_its_file_at_the_songs_loudness(tiny_run):
    """The MOS recorded is the same model's on the same kind of file as the points': the crossfade rendered with a
    makeup gain and the limiter (``fit_loudness``), heard over the picture's span."""
    settings, (clip, image), result, _ = tiny_run
    problem = HidingProblem(clip, image, ProblemSettings.from_run(settings))
    renderer = PointRenderer(problem, should_stop=None)
    problem.adopt_level_curve(image_end_curve(renderer, clip.samples))
    i = crossfade_picks(9)[1]
    reference = np.ascontiguousarray(clip.samples, dtype=np.float32)
    candidate = crossfade_candidate(
        problem, result.optimisation.crossfade_levels[i], result.crossfade_visual[i], result.crossfade_audio[i]
    )
    point = fit_loudness(renderer, candidate, SongLoudness(reference, clip.sample_rate), Limiter.for_song(reference))
    assert point.loudness.within()  # as loud as the song, as every point is
    listener = Listener(reference, clip.sample_rate, (problem.placement.t0_s, problem.placement.t1_s))
    assert listener.mos(point.samples) == pytest.approx(result.crossfade_mos[i], abs=1e-3)


def test_the_crossfade_mos_is_read_back_and_an_older_folder_has_none(tiny_run, tmp_path):
    _, _, result, out = tiny_run
    again = read_run(out)
    assert again.crossfade_mos == pytest.approx(tuple(None if m is None else round(m, 4) for m in result.crossfade_mos))
    # a folder written before the key: it still opens, with no crossfade by ear
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["crossfade"]["mos"]
    older = tmp_path / "older"
    older.mkdir()
    for f in out.iterdir():
        (older / f.name).write_bytes(f.read_bytes())
    (older / "manifest.json").write_text(json.dumps(manifest))
    reopened = read_run(older)
    assert reopened.crossfade_mos is None and len(reopened.points) == len(result.points)
    assert [len(a) for a in crossfade_by_ear(reopened)] == [0, 0]


def test_front_png_draws_the_crossfade_by_ear_beside_the_front(tiny_run, tmp_path):
    """front.png has a second panel on the MOS axis where the points were heard; a run folder without the crossfade's
    MOS is drawn too, and the two pictures differ only in that panel, where the line and its legend are."""
    _, _, result, out = tiny_run
    assert (out / "front.png").stat().st_size > 0
    from PIL import Image

    cross_v, cross_mos = crossfade_by_ear(result)
    assert len(cross_mos) == 1 + CROSSFADE_HEARD
    np.testing.assert_allclose(cross_v, result.crossfade_visual[[0, *crossfade_picks(9)]])
    again = read_run(out)
    plot_front(again, tmp_path / "with.png")
    plot_front(dataclasses.replace(again, crossfade_mos=None), tmp_path / "without.png")
    with Image.open(tmp_path / "with.png") as a, Image.open(tmp_path / "without.png") as b:
        assert a.size == b.size == (1350, 960)
        drawn, bare = np.asarray(a.convert("L"), dtype=int), np.asarray(b.convert("L"), dtype=int)
    changed = np.argwhere(np.abs(drawn - bare) > 40)
    assert len(changed) > 200  # the dashed line and its legend entry
    assert changed[:, 1].min() > 0.5 * 1350 and changed[:, 0].min() > 0.3 * 960  # all in the panel by ear
