"""How long a run has left and how fast it steps, from its progress over a monotonic clock (pure: no Qt).

Both classes are fed ``(value, time.monotonic())`` as reports arrive and say nothing until they have seen enough to
say something true.
"""

from __future__ import annotations

import math
from collections import deque

#: Nothing is said before the run has gone this long and this far: the first seconds load files and warm up.
MIN_ELAPSED_S = 3.0
MIN_FRACTION = 0.02
#: The optimiser's speed is measured over about this long: long enough to smooth a step's ups and downs.
WINDOW_S = 10.0
#: The speed behind the time left is a moving average with this time constant: long enough that one slow step does
#: not make the figure jump, short enough that a slower stage shows within seconds.
SMOOTHING_S = 4.0
#: Under this many seconds left, "less than 5 s left": never "0 s" while work remains.
FLOOR_S = 5.0
#: The countdown stops here when no report comes; after that the figure grows as long again as the silence has
#: outlasted it, so that a stage that reports nothing for seconds (workers starting) does not hold "less than 5 s".
HOLD_S = 2.5


def rounded_left(seconds: float) -> str:
    """``less than 5 s left``, ``about 40 s left`` (to 5 s), ``about 2.5 min left`` (to half a minute under ten
    minutes), ``about 14 min left``."""
    if seconds < FLOOR_S:
        return f"less than {FLOOR_S:g} s left"
    if seconds < 57.5:
        return f"about {5 * round(seconds / 5):.0f} s left"
    if seconds < 600:
        return f"about {max(1.0, round(seconds / 30) / 2):g} min left"
    return f"about {round(seconds / 60):.0f} min left"


class _Window:
    """The (time, value) pairs of the last ``WINDOW_S`` seconds, with the one just before them as the baseline."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, float]] = deque()

    def add(self, now: float, value: float) -> None:
        self.samples.append((now, value))
        while len(self.samples) > 2 and now - self.samples[1][0] >= WINDOW_S:
            self.samples.popleft()

    def rate(self, now: float) -> float | None:
        """Value gained per second from the oldest kept sample up to ``now`` (None with less than a second seen)."""
        if not self.samples or now - self.samples[0][0] < 1.0:
            return None
        start_t, start_v = self.samples[0]
        return (self.samples[-1][1] - start_v) / (now - start_t)


class TimeLeft:
    """One estimate of a whole run's time left, from its overall progress fraction over time.

    The decision (a user's): one figure for everything still to come (optimising, refining, listening, writing),
    rounded as a person would say it ("about 40 s left"), never "0 s" while work remains, silent until the run has
    gone ``MIN_ELAPSED_S`` and ``MIN_FRACTION``. The speed is a moving average with a ``SMOOTHING_S`` time
    constant of the speed between reports, so a slower stage shows within seconds while one slow step does not make
    the figure jump; between reports the figure counts down to ``HOLD_S`` and then, if still no report has come,
    grows second for second (the work outlasting its estimate is taken to need as long again): "less than 5 s" is
    said for at most about 5 s of silence, and the figure rises gently rather than jumping up when the next report
    comes. Its accuracy rests on the engine's fraction growing
    about evenly with time (``moss_engine.run.progress_plan`` weighs the stages by their measured cost).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the run: a new one starts."""
        self._started: float | None = None
        self._first = 0.0  # the fraction at the first report
        self._fraction = 0.0
        self._last = (0.0, 0.0)  # (time, fraction) of the last report that moved the fraction
        self._rate: float | None = None  # fraction per second, smoothed
        self._estimate: float | None = None  # seconds left as of ``self._at``
        self._at = 0.0

    def update(self, fraction: float, now: float) -> None:
        """The run is ``fraction`` (0-1) done at ``now`` (``time.monotonic()``); a fraction lower than one seen
        before is taken as the higher (a late report cannot undo progress)."""
        fraction = min(1.0, max(self._fraction, float(fraction)))
        if self._started is None:
            self._started, self._last = now, (now, fraction)
            self._first = fraction
        self._fraction = fraction
        then, before = self._last
        if fraction <= before or now - then <= 0:
            return  # nothing moved: the countdown goes on
        step_rate = (fraction - before) / (now - then)
        if self._rate is None:  # the first measured speed: the run's average so far
            self._rate = (fraction - self._first) / (now - self._started)
        self._rate += (1.0 - math.exp(-(now - then) / SMOOTHING_S)) * (step_rate - self._rate)
        self._last = (now, fraction)
        if fraction < 1.0 and now - self._started >= MIN_ELAPSED_S and fraction >= MIN_FRACTION:
            self._estimate, self._at = (1.0 - fraction) / self._rate, now

    def seconds(self, now: float) -> float | None:
        """Seconds left at ``now`` (counted down since the last report), or None when nothing is known yet or the
        run is done."""
        if self._estimate is None or self._fraction >= 1.0:
            return None
        hold = min(self._estimate, HOLD_S)
        silent = max(0.0, now - self._at)
        counted = self._estimate - hold  # counted down to ``hold`` by then; from there it grows with the silence
        return self._estimate - silent if silent <= counted else hold + (silent - counted)

    def text(self, now: float) -> str:
        """``about 40 s left``, ``less than 5 s left``, or "" while nothing is known."""
        left = self.seconds(now)
        return "" if left is None else rounded_left(left)


class StepRate:
    """The optimiser's steps per second over the last ``WINDOW_S`` seconds, fed ``(step, now)``."""

    def __init__(self) -> None:
        self._window = _Window()

    def update(self, step: int, now: float) -> None:
        self._window.add(now, float(step))

    def per_second(self, now: float) -> float | None:
        """Steps a second, or None before a second of steps is seen."""
        rate = self._window.rate(now)
        return rate if rate is not None and rate > 0 else None
