"""How a long computation talks to its caller: progress, partial results, and "should I stop?"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


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

    def progress(self, fraction: float, message: str) -> None:
        """Work done in [0, 1], with a short status line."""

    def partial(self, snapshot: FrontSnapshot) -> None:
        """The front so far."""

    def should_stop(self) -> bool:
        """True when the user asked to stop; checked between chunks of about half a second of work."""


class NullReporter:
    """A reporter that ignores everything and never stops."""

    def progress(self, fraction: float, message: str) -> None:
        pass

    def partial(self, snapshot: FrontSnapshot) -> None:
        pass

    def should_stop(self) -> bool:
        return False
