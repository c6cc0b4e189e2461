"""Coarse-to-fine: optimise on a time grid twice as coarse first, then refine the masks at full resolution.

The mask logits live on the picture's grid in display space, not on the STFT cells, so the coarse stage's masks,
preferences (after their adaptive moves) and archive carry over unchanged; only the objectives are measured anew.
A coarse step costs about half a full one (half the frames in every STFT of the round trip).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.io.audio import AudioClip
from moss_engine.io.image import LoadedImage
from moss_engine.optimise.base import OptimisationResult
from moss_engine.optimise.stch import StchOptimiser
from moss_engine.reporting import FrontSnapshot, NullReporter, Reporter, SpanReporter, Status
from moss_engine.settings import RunSettings

#: How much coarser the coarse stage's time grid is (its hop and the audio objective's hops are this many times
#: longer).
COARSE_FACTOR = 2
#: What a coarse step costs against a full one (measured on the 2-core CPU, preview, 30 s: 0.8 s against 1.5 s).
COARSE_COST = 0.55


class StageReporter(SpanReporter):
    """Passes one stage's reports on as part of the whole run: its ``steps`` steps come after ``first`` of ``total``.

    ``span`` is the share of the run's fraction the stage fills (default: its share of the steps); coarse-to-fine
    gives the coarse stage a share by its cost, as a coarse step costs about half a full one. The coarse stage's
    partial fronts are measured on the coarse grid: close to the final losses, and on screen within seconds.

    ``continues``: the stage carries on the run's optimisation (the fine pass). Its own measuring of the crossfade
    at full resolution is then said as the optimisation at the step reached, not as a stage of its own: the user saw
    "step 6 of 16", "Measuring the crossfade", "step 8 of 16", a run that seemed to go back a stage.
    """

    def __init__(
        self,
        reporter: Reporter,
        first: int,
        steps: int,
        total: int,
        label: str,
        span: tuple[float, float] | None = None,
        continues: bool = False,
    ):
        total = max(1, total)
        super().__init__(reporter, *(span if span is not None else (first / total, (first + steps) / total)))
        self.first, self.steps, self.total, self.label, self.continues = first, steps, total, label, continues

    def progress(self, fraction: float, message: str, status: Status | None = None) -> None:
        if self.continues and status is not None and status.stage == "measuring":
            status = Status("optimising", 0, self.steps, detail=status.detail or message)
        # step 4/40 of the stage is step 44/80 of the run, as the partial fronts count them
        if status is not None and status.step is not None:
            status = status.offset(self.first, self.total)
            message = status.line()
        super().progress(fraction, f"{self.label}: {message}", status)

    def partial(self, snapshot: FrontSnapshot) -> None:
        self.reporter.partial(dataclasses.replace(snapshot, step=self.first + snapshot.step, steps=self.total))


def coarse_settings(settings: RunSettings) -> RunSettings:
    """The coarse stage's settings: the hop doubled (at most n_fft / 2), ``coarse_steps`` steps, no phase step."""
    hop = min(settings.n_fft // 2, COARSE_FACTOR * settings.hop_length)
    steps = max(1, min(settings.coarse_steps, settings.steps - 1))
    return dataclasses.replace(settings, hop_length=hop, steps=steps, coarse_steps=0, phase_iterations=0)


def run_coarse_stage(
    problem: HidingProblem,
    clip: AudioClip,
    image: LoadedImage,
    settings: RunSettings,
    reporter: Reporter | None = None,
    weights: np.ndarray | None = None,
) -> tuple[StchOptimiser, float]:
    """The coarse stage alone, run: ``settings.coarse_steps`` steps on a grid ``COARSE_FACTOR`` times coarser in time.

    Returns the coarse optimiser (its masks, levels and preferences hand on to the fine stage) and the share of the
    run's progress fraction it filled (its steps at ``COARSE_COST`` each, the fine steps at 1). ``weights``: (K, 2)
    preferences, as ``StchOptimiser``'s (default: the front's).
    """
    coarse_run = coarse_settings(settings)
    # of the fine problem's own kind (``reference.ReferenceProblem``'s coarse stage is plain too)
    coarse_problem = type(problem)(
        clip, image, ProblemSettings.from_run(coarse_run), audio_hop_divisor=4 // COARSE_FACTOR
    ).to(problem.device)
    coarse_problem.adopt_level_curve(problem.matched_levels)  # the same curve: the stages hand on levels
    coarse_problem.use_codec_proxy(problem.codec_proxy_db)  # and judge the picture through the same codec
    reporter = reporter or NullReporter()
    coarse_cost = COARSE_COST * coarse_run.steps
    middle = coarse_cost / max(coarse_cost + settings.steps - coarse_run.steps, 1e-9)
    coarse = StchOptimiser(
        coarse_problem,
        coarse_run,
        StageReporter(reporter, 0, coarse_run.steps, settings.steps, "coarse pass", (0.0, middle)),
        weights=weights,
    )
    coarse.run()
    return coarse, middle


def optimise_coarse_to_fine(
    problem: HidingProblem, clip: AudioClip, image: LoadedImage, settings: RunSettings, reporter: Reporter | None = None
) -> OptimisationResult:
    """``settings.coarse_steps`` steps on the coarse grid, then the rest of ``settings.steps`` on ``problem``.

    The result is the fine stage's (its anchors and crossfade are measured at full resolution), with the steps of both
    stages counted. A run cancelled in the coarse stage ends there, with the coarse stage's front (its losses measured
    on the coarse grid): measuring the full-resolution crossfade and start points would cost seconds the user asked
    not to spend.
    """
    started = time.perf_counter()
    reporter = reporter or NullReporter()
    coarse, middle = run_coarse_stage(problem, clip, image, settings, reporter)
    if coarse.cancelled:
        return dataclasses.replace(coarse.result(), elapsed_s=time.perf_counter() - started)
    fine_run = dataclasses.replace(settings, steps=max(1, settings.steps - coarse.step_count), coarse_steps=0)
    done = middle * coarse.step_count / coarse.settings.steps  # an early-stopped coarse stage leaves the rest
    fine = StchOptimiser(
        problem,
        fine_run,
        StageReporter(
            reporter,
            coarse.step_count,
            fine_run.steps,
            coarse.step_count + fine_run.steps,
            "fine pass",
            (done, 1.0),
            continues=True,
        ),
        weights=coarse.weights.cpu().numpy(),
        start_logits=coarse.logits.detach(),
        start_levels=coarse.levels_db().detach().cpu().numpy(),
    )
    result = fine.run()
    return dataclasses.replace(
        result, steps_done=result.steps_done + coarse.step_count, elapsed_s=time.perf_counter() - started
    )
