"""After a cancel the chosen points are rendered most telling first (``spread_order``), within a time budget."""

import numpy as np

from moss_engine.optimise.base import Candidate
from moss_engine.run.front_audio import spread_order


def _front(n: int) -> list[Candidate]:
    """A front of ``n`` points from the music end (visual 1, audio 0) to the picture end (visual 0, audio 1)."""
    logits = np.zeros((2, 2), dtype=np.float32)
    points = [Candidate(logits, visual=1.0 - t, audio=t, kind="optimised") for t in np.linspace(0, 1, n)]
    return [Candidate(logits, 1.0, 0.0, "music"), *points[1:]]


def test_the_ends_come_first_then_each_the_farthest_from_those_before():
    front = _front(9)
    order = spread_order(list(reversed(front)))
    visual = [round(c.visual, 3) for c in order]
    assert order[0].kind == "music" and visual[1] == 0.0  # both ends
    assert visual[2] == 0.5  # the middle, then the quarters
    assert sorted(visual[3:5]) == [0.25, 0.75]
    assert sorted(visual) == sorted(round(c.visual, 3) for c in front)  # every point, once


def test_points_already_rendered_count_as_kept():
    front = _front(5)
    kept = [front[0], front[-1]]
    order = spread_order(front[1:-1], kept)
    assert round(order[0].visual, 3) == 0.5 and len(order) == 3
