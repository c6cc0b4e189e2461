"""What every MOSS optimiser shares: candidates, results, the step loop, early stopping and reporting."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from moss_engine.optimise.front import Anchors
from moss_engine.reporting import NOTICE_GPU_MEMORY, FrontSnapshot, NullReporter, Reporter, Status

if TYPE_CHECKING:
    from moss_engine.dsp.problem import HidingProblem
    from moss_engine.settings import RunSettings

#: Logit of the two anchors: sigmoid(+-30) is 1 or 0 to float32 precision, and stays finite under interpolation.
ANCHOR_LOGIT = 30.0
#: The ideal point, a little beyond the anchors so that every preference ray has room to improve.
IDEAL = (-0.2, -0.05)
#: Crossfade levels evaluated for the baseline and the start points (at least this many).
MIN_CROSSFADE_LEVELS = 9
#: Steps before early stopping may end a run.
MIN_STEPS = 10


@dataclass(frozen=True)
class Candidate:
    """One mask the run found and its losses. ``kind`` is ``music``, ``image``, ``crossfade`` or ``optimised``.

    ``level_db`` is the picture's level the mask blends it at (``picture_level_db``, DESIGN.md "Levels", "The
    picture's level"): a number, or a curve of ``HidingProblem.level_knots`` values over the placement's time.
    ``phase_iterations`` > 0 means the audio is synthesised with that many iterations of phase refinement
    (``dsp.phase.phase_rotation``); the losses are those of that audio. ``loudness_excess`` is the optimiser's estimate
    of how far the audio is over the song's loudness (``Scores.loudness_excess``; 0 within the limits). ``samples``,
    when not None, is that audio, (channels, samples), already rendered.
    """

    logits: np.ndarray
    visual: float
    audio: float
    kind: str
    phase_iterations: int = 0
    level_db: float | np.ndarray = 0.0
    loudness_excess: float = 0.0
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class OptimisationResult:
    """What the optimiser hands on: every candidate, the anchors, the crossfade baseline, and how it ended.

    ``cancelled`` is None only for a reopened run whose folder does not say (``run.reader``); ``elapsed_s`` is the
    optimisation's own time, not the whole run's (``RunResult.timings``).
    """

    candidates: list[Candidate]
    anchors: Anchors
    crossfade_levels: np.ndarray
    crossfade_visual: np.ndarray
    crossfade_audio: np.ndarray
    steps_done: int
    stopped_early: bool
    cancelled: bool | None
    elapsed_s: float
    chunk_size: int
    hypervolume_history: list[float]


class SteppableOptimiser:
    """What every MOSS optimiser shares: the step loop, the early-stop rule, the crossfade baseline and both anchors,
    reporting and the result's packaging.

    Steppable like pymoo's ``Algorithm``: ``while opt.has_next(): opt.next()``, then ``opt.result()``. A subclass
    calls ``__init__`` and ``_measure_crossfade`` and implements ``next()`` and ``result()``.

    Args:
        problem: the picture and song, on the run's device.
        settings: the run's settings.
        reporter: progress, notices, partial fronts and cancellation.
        chunk_size: how many masks are evaluated at once (halved on a GPU out-of-memory error).

    ``checkpointing``: the gradient steps recompute the STFT round trip in the backward pass instead of keeping it
    (``HidingProblem.objectives``' ``checkpointed``): the memory plan's choice, or turned on at one mask a chunk after
    a GPU out-of-memory error.
    """

    unit = "step"

    def __init__(self, problem: HidingProblem, settings: RunSettings, reporter: Reporter | None, chunk_size: int):
        self.problem = problem
        self.settings = settings
        self.reporter = reporter or NullReporter()
        self.chunk_size = chunk_size
        self.checkpointing = False
        self.step_count = 0
        self.cancelled = False
        self.stopped_early = False
        self._started = time.perf_counter()
        self.hypervolume_history: list[float] = []

    def _measure_crossfade(
        self,
        levels: np.ndarray,
        logits: Tensor,
        evaluate: Callable[[Tensor], tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> None:
        """The uniform crossfade at ``levels`` (its constant ``logits``) at the loudness-matched picture level: the
        comparison baseline (``crossfade_*``), and its two ends, the anchors that normalise the objectives."""
        self.reporter.progress(0.0, "measuring the two ends and the crossfade", Status("measuring"))
        visual, audio, excess = evaluate(logits)
        self.crossfade_levels = levels
        self.crossfade_visual, self.crossfade_audio, self.crossfade_excess = visual, audio, excess
        self.anchors = Anchors(
            music_visual=float(visual[0]),
            music_audio=float(audio[0]),
            image_visual=float(visual[-1]),
            image_audio=float(audio[-1]),
        )
        self._cross_logits = logits

    @property
    def progress(self) -> float:
        return min(1.0, self.step_count / self.settings.steps)

    def has_next(self) -> bool:
        return not (self.cancelled or self.stopped_early or self.step_count >= self.settings.steps)

    def run(self) -> OptimisationResult:
        """Step until done, cancelled or converged, and return the result."""
        while self.has_next():
            self.next()
        return self.result()

    def _run_chunk(self, fn, *args):
        """Call ``fn`` and, on a GPU out-of-memory error, halve the chunk size, or at one mask a chunk turn
        checkpointing on, and report it (the caller retries)."""
        try:
            return fn(*args)
        except torch.OutOfMemoryError:
            if self.chunk_size == 1 and self.checkpointing:
                raise
            if self.chunk_size > 1:
                self.chunk_size = max(1, self.chunk_size // 2)
                how = f"in chunks of {self.chunk_size}"
            else:
                self.checkpointing = True
                how = "one mask at a time, recomputing the STFT round trip in the backward pass"
            if self.problem.device.type == "cuda":
                torch.cuda.empty_cache()
            self.reporter.notice(NOTICE_GPU_MEMORY, f"out of GPU memory: retrying {how}")
            return None

    def _settled(self, history: list[float]) -> bool:
        """True when ``history`` (hypervolume per step) grew by less than ``min_improvement`` (relative) over the
        last ``patience`` steps, once ``MIN_STEPS`` are done."""
        patience = self.settings.patience
        if self.step_count < max(MIN_STEPS, patience) or len(history) <= patience:
            return False
        old, new = history[-1 - patience], history[-1]
        return new - old <= self.settings.min_improvement * max(abs(old), 1e-9)

    def _report(self, visual: np.ndarray, audio: np.ndarray, hv: float) -> None:
        """A frozen snapshot of the front and a progress line."""
        elapsed = time.perf_counter() - self._started
        self.reporter.partial(
            FrontSnapshot(
                step=self.step_count,
                steps=self.settings.steps,
                visual=np.array(visual),
                audio=np.array(audio),
                crossfade_visual=self.crossfade_visual.copy(),
                crossfade_audio=self.crossfade_audio.copy(),
                hypervolume=hv,
                elapsed_s=elapsed,
            )
        )
        rate = self.step_count / elapsed if elapsed > 0 else 0.0
        status = Status(
            "optimising", self.step_count, self.settings.steps, self.unit, f"HV {hv:.3f}  {rate:.2f} {self.unit}s/s"
        )
        self.reporter.progress(self.progress, status.line(), status)

    def _package(self, optimised: list[Candidate]) -> OptimisationResult:
        """Both anchors and the ``optimised`` candidates as an ``OptimisationResult``."""
        level = self.problem.matched_levels
        music = Candidate(
            self._cross_logits[0].cpu().numpy(),
            self.anchors.music_visual,
            self.anchors.music_audio,
            "music",
            level_db=level,
        )
        image = Candidate(
            self._cross_logits[-1].cpu().numpy(),
            self.anchors.image_visual,
            self.anchors.image_audio,
            "image",
            level_db=level,
            loudness_excess=float(self.crossfade_excess[-1]),
        )
        candidates = [music, image, *optimised]
        return OptimisationResult(
            candidates=candidates,
            anchors=self.anchors,
            crossfade_levels=self.crossfade_levels.copy(),
            crossfade_visual=self.crossfade_visual.copy(),
            crossfade_audio=self.crossfade_audio.copy(),
            steps_done=self.step_count,
            stopped_early=self.stopped_early,
            cancelled=self.cancelled,
            elapsed_s=time.perf_counter() - self._started,
            chunk_size=self.chunk_size,
            hypervolume_history=list(self.hypervolume_history),
        )
