"""The stages a run reports go one way: a coarse-to-fine run measures the crossfade once, as its first stage, and
the fine pass's own measuring at full resolution does not take the user back from "step 6 of 16" to "Measuring"."""

import itertools
from pathlib import Path

import pytest

from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.optimise.coarse import optimise_coarse_to_fine
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import make_settings

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


class _Recorder:
    """A reporter that keeps every status it is given."""

    def __init__(self):
        self.statuses = []

    def progress(self, fraction, message, status=None):
        self.statuses.append(status)

    def notice(self, kind, message):
        pass

    def partial(self, snapshot):
        pass

    def should_stop(self):
        return False


@pytest.mark.slow  # a real coarse-to-fine optimisation, a few seconds
def test_a_coarse_to_fine_run_never_goes_back_a_stage_or_a_step():
    settings = make_settings(
        SAMPLE / "astronaut.png",
        SAMPLE / "metal_madness_sectoid.ogg",
        quality="preview",
        device="cpu",
        duration_s=1.5,
        start_s=5.0,
        steps=4,
        coarse_steps=2,
        points=3,
        seed=1,
        phase_iterations=0,
    )
    clip, image = load_inputs(settings)
    recorder = _Recorder()
    result = optimise_coarse_to_fine(
        HidingProblem(clip, image, ProblemSettings.from_run(settings)), clip, image, settings, recorder
    )
    assert result.steps_done == 4
    stages = [key for key, _ in itertools.groupby(s.stage for s in recorder.statuses if s is not None)]
    assert stages == ["measuring", "optimising"]  # the fine pass's measuring is not a stage of its own
    steps = [s.step for s in recorder.statuses if s is not None and s.step is not None]
    assert steps == sorted(steps) and steps[-1] == 4 and 2 in steps  # both passes' steps, counted as one run


@pytest.mark.slow  # a whole small run: optimising, refining, between, rendering, listening, codecs
def test_a_whole_run_never_goes_back_a_stage():
    from moss_engine.run.pipeline import compute_front

    settings = make_settings(
        SAMPLE / "astronaut.png",
        SAMPLE / "metal_madness_sectoid.ogg",
        quality="preview",
        device="cpu",
        duration_s=1.5,
        start_s=5.0,
        steps=4,
        coarse_steps=2,
        points=3,
        seed=1,
        phase_iterations=2,
    )
    recorder = _Recorder()
    result = compute_front(settings, recorder)
    stages = [key for key, _ in itertools.groupby(s.stage for s in recorder.statuses if s is not None)]
    assert len(stages) == len(set(stages)), stages  # each stage once, in one direction
    assert stages[0] == "measuring" and stages[-1] == "codecs" and "rendering" in stages
    assert stages[-2] in ("listening", "rendering")
    assert set(result.timings) >= {"prepare_s", "optimise_s", "phase_s", "between_s", "render_s", "codecs_s"}
