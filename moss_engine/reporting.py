"""How a long computation talks to its caller: progress with a structured status, notices, partial results, and
"should I stop?".

Each channel carries data, not text to be parsed: ``progress`` has the fraction done and a ``Status`` (stage, step,
of steps) beside its human line; ``notice`` has a kind (``NOTICE_*``) beside its words; ``partial`` a
``FrontSnapshot``. A caller reacts to the kinds and numbers; rewording a message changes nothing but what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

#: ``Reporter.notice`` kinds. The GPU ran out of memory: the run goes on in smaller chunks (or on the CPU).
NOTICE_GPU_MEMORY = "gpu_memory"
#: The memory limit is below what one mask needs: the run goes one mask at a time anyway.
NOTICE_MEMORY_LIMIT = "memory_limit"
#: A picture with transparent parts was placed in another band than the default (``run.band``).
NOTICE_BAND = "band"
#: A publishing codec could not be run (ffmpeg failed): the points' SSIM after it is left out
#: (``pipeline.measure_codecs``).
NOTICE_CODEC = "codec"

#: ``Status.stage`` values, in the order a run goes through them ("codecs": every point's SSIM after MP3, AAC and
#: Opus, ``pipeline.measure_codecs``).
STAGES = ("measuring", "optimising", "between", "refining", "rendering", "listening", "codecs")


@dataclass(frozen=True)
class Status:
    """Where a computation is, as data: ``stage`` (one of ``STAGES``), ``step`` of ``steps`` within it (None when it
    has no steps), what one step is called (``unit``: step, generation, point) and the rest of the line (``detail``)."""

    stage: str
    step: int | None = None
    steps: int | None = None
    unit: str = "step"
    detail: str = ""

    def line(self) -> str:
        """The status in words: "step 44/80  HV 1.016  2.39 steps/s"."""
        counted = f"{self.unit} {self.step}/{self.steps}" if self.step is not None else self.stage
        return f"{counted}  {self.detail}" if self.detail else counted

    def offset(self, first: int, total: int) -> Status:
        """The same status as part of a longer run: step ``first + step`` of ``total``."""
        return self if self.step is None else replace(self, step=first + self.step, steps=total)


@dataclass(frozen=True)
class FrontSnapshot:
    """A frozen copy of the optimiser's state, safe to hand to another thread.

    Attributes:
        step, steps: steps done and the step cap.
        visual, audio: (n,) losses of the current front (non-dominated, ordered from the music end).
        crossfade_visual, crossfade_audio: (m,) losses of the uniform crossfade, for comparison.
        hypervolume: of the current front, anchor-normalised.
        elapsed_s: seconds since the optimisation started.
    """

    step: int
    steps: int
    visual: np.ndarray
    audio: np.ndarray
    crossfade_visual: np.ndarray
    crossfade_audio: np.ndarray
    hypervolume: float
    elapsed_s: float


class Reporter(Protocol):
    """What the engine calls while it works (the CLI passes a console one, the app a Qt one, tests a Mock)."""

    def progress(self, fraction: float, message: str, status: Status | None = None) -> None:
        """Work done in [0, 1], a short status line, and the same as data (``status``; None: no stage known)."""

    def notice(self, kind: str, message: str) -> None:
        """Something the user must see and that stays true for the rest of the run (a ``NOTICE_*`` kind)."""

    def partial(self, snapshot: FrontSnapshot) -> None:
        """The front so far."""

    def should_stop(self) -> bool:
        """True when the user asked to stop; checked between chunks of about half a second of work."""


class NullReporter:
    """A reporter that ignores everything and never stops."""

    def progress(self, fraction: float, message: str, status: Status | None = None) -> None:
        pass

    def notice(self, kind: str, message: str) -> None:
        pass

    def partial(self, snapshot: FrontSnapshot) -> None:
        pass

    def should_stop(self) -> bool:
        return False


class Stopped(Exception):  # noqa: N818 (a signal, not an error)
    """Raised inside a long inner loop (phase refinement: ``dsp.phase.phase_rotation``) once the ``should_stop`` it
    was handed says so: the loop's result is dropped, and its caller, who handed it that callable, catches it. The
    callable is an argument, never ambient state, so a loop cannot miss a cancel its caller asked for."""


class SpanReporter:
    """Passes reports on with their fraction mapped into ``[low, high]`` of a longer run (a stage of it).

    Each stage of a run reports its own 0-1 fraction; the run as a whole reports one fraction that grows about evenly
    with time when every stage's span is its share of the run's expected time (``run.progress_plan.stage_spans``).
    """

    def __init__(self, reporter: Reporter, low: float, high: float):
        self.reporter, self.low, self.high = reporter, low, high

    def progress(self, fraction: float, message: str, status: Status | None = None) -> None:
        share = min(1.0, max(0.0, fraction))
        self.reporter.progress(self.low + share * (self.high - self.low), message, status)

    def notice(self, kind: str, message: str) -> None:
        self.reporter.notice(kind, message)

    def partial(self, snapshot: FrontSnapshot) -> None:
        self.reporter.partial(snapshot)

    def should_stop(self) -> bool:
        return self.reporter.should_stop()
