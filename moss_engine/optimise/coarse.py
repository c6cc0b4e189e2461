"""Coarse-to-fine: optimise on a time grid twice as coarse first, then refine the masks at full resolution.

The mask logits live on the picture's grid in display space, not on the STFT cells, so the coarse stage's masks,
preferences (after their adaptive moves) and archive carry over unchanged; only the objectives are measured anew.
A coarse step costs about half a full one (half the frames in every STFT of the round trip).
"""

from __future__ import annotations

import dataclasses
import time

from moss_engine.dsp.problem import HidingProblem
from moss_engine.io.audio import AudioClip
from moss_engine.io.image import LoadedImage
from moss_engine.optimise.base import OptimisationResult
from moss_engine.optimise.stch import StchOptimiser
from moss_engine.reporting import FrontSnapshot, NullReporter, Reporter, Status
from moss_engine.settings import RunSettings

#: How much coarser the coarse stage's time grid is (its hop and the audio objective's hops are this many times
#: longer).
COARSE_FACTOR = 2


class StageReporter:
    """Passes one stage's reports on as part of the whole run: its ``steps`` steps come after ``first`` of ``total``.

    The coarse stage's partial fronts are measured on the coarse grid: close to the final losses, and on screen
    within seconds.
    """

    def __init__(self, reporter: Reporter, first: int, steps: int, total: int, label: str):
        self.reporter, self.first, self.steps, self.total, self.label = reporter, first, steps, max(1, total), label

    def progress(self, fraction: float, message: str, status: Status | None = None) -> None:
        # step 4/40 of the stage is step 44/80 of the run, as the partial fronts count them
        if status is not None and status.step is not None:
            status = status.offset(self.first, self.total)
            message = status.line()
        self.reporter.progress(min(1.0, (self.first + fraction * self.steps) / self.total), f"{self.label}: {message}",
                               status)

    def notice(self, kind: str, message: str) -> None:
        self.reporter.notice(kind, message)

    def partial(self, snapshot: FrontSnapshot) -> None:
        self.reporter.partial(dataclasses.replace(snapshot, step=self.first + snapshot.step, steps=self.total))

    def should_stop(self) -> bool:
        return self.reporter.should_stop()


def coarse_settings(settings: RunSettings) -> RunSettings:
    """The coarse stage's settings: the hop doubled (at most n_fft / 2), ``coarse_steps`` steps, no phase step."""
    hop = min(settings.n_fft // 2, COARSE_FACTOR * settings.hop_length)
    steps = max(1, min(settings.coarse_steps, settings.steps - 1))
    return dataclasses.replace(settings, hop_length=hop, steps=steps, coarse_steps=0,
                               phase_iterations=0)


def optimise_coarse_to_fine(problem: HidingProblem, clip: AudioClip, image: LoadedImage, settings: RunSettings,
                            reporter: Reporter | None = None) -> OptimisationResult:
    """``settings.coarse_steps`` steps on the coarse grid, then the rest of ``settings.steps`` on ``problem``.

    The result is the fine stage's (its anchors and crossfade are measured at full resolution), with the steps of both
    stages counted.
    """
    started = time.perf_counter()
    coarse_run = coarse_settings(settings)
    coarse_problem = HidingProblem(clip, image, coarse_run, audio_hop_divisor=4 // COARSE_FACTOR).to(problem.device)
    reporter = reporter or NullReporter()
    coarse = StchOptimiser(coarse_problem, coarse_run,
                           StageReporter(reporter, 0, coarse_run.steps, settings.steps, "coarse pass"))
    coarse.run()
    del coarse_problem
    fine_run = dataclasses.replace(settings, steps=max(1, settings.steps - coarse.step_count), coarse_steps=0)
    fine = StchOptimiser(problem, fine_run,
                         StageReporter(reporter, coarse.step_count, fine_run.steps, coarse.step_count + fine_run.steps,
                                       "fine pass"),
                         weights=coarse.weights.cpu().numpy(),
                         start_logits=coarse.logits.detach(),
                         start_levels=coarse.levels_db().detach().cpu().numpy())
    if coarse.cancelled:
        fine.cancelled = True
    result = fine.run()
    return dataclasses.replace(result, steps_done=result.steps_done + coarse.step_count,
                               elapsed_s=time.perf_counter() - started)
