"""The front chosen by ear: what a viewer shows (visual loss) against what a listener hears (MOS)."""

import numpy as np
import pytest

from moss_engine.optimise.front import hypervolume_2d
from moss_engine.run.listening import available, distance_of_mos
from moss_engine.run.pipeline import SAME_MOS, SAME_VISUAL, select_by_ear

pytestmark = pytest.mark.skipif(not available(), reason="zimtohrli (the ear) has no wheel for this platform")


def test_a_point_beaten_by_ear_and_eye_leaves_and_the_ends_stay():
    visual = np.array([0.93, 0.60, 0.55, 0.30, 0.10, 0.12, 0.05])
    mos = np.array([5.00, 4.10, 3.60, 3.00, 1.90, 1.80, 1.50])
    kept = select_by_ear(visual, mos, music=0, points=8)
    assert kept == [0, 1, 2, 3, 4, 6]  # 5 is beaten by 4 on both counts
    assert kept[0] == 0 and kept[-1] == int(np.argmin(visual))


def test_points_that_look_and_sound_the_same_count_once_the_clearer_one_kept():
    visual = np.array([0.90, 0.50, 0.50 - SAME_VISUAL / 2, 0.20])
    mos = np.array([5.0, 3.00, 3.00 - SAME_MOS / 2, 2.0])
    kept = select_by_ear(visual, mos, music=0, points=8)
    assert kept == [0, 2, 3]
    # a little more apart on either count: both stay
    mos[2] = 3.0 - 2 * SAME_MOS
    assert select_by_ear(visual, mos, music=0, points=8) == [0, 1, 2, 3]


def test_at_most_the_asked_points_those_covering_most_of_the_front_by_ear_and_eye():
    rng = np.random.default_rng(0)
    visual = np.sort(rng.uniform(0.05, 0.9, 16))[::-1].copy()
    visual[0] = 0.95
    mos = np.sort(rng.uniform(1.2, 4.9, 16))[::-1].copy()
    mos[0] = 5.0
    kept = select_by_ear(visual, mos, music=0, points=5)
    assert len(kept) == 5 and kept[0] == 0 and kept[-1] == 15

    def area(chosen):  # the hypervolume by ear and eye that select_by_ear maximises
        pts = np.stack([visual, distance_of_mos(mos)], axis=1)
        pts = (pts - pts.min(axis=0)) / np.ptp(pts, axis=0)
        return hypervolume_2d(pts[chosen])

    evenly = [0, 4, 8, 11, 15]
    assert area(kept) >= area(evenly) - 1e-12
    assert (
        area(kept)
        >= max(area([0, i, j, k, 15]) for i in range(1, 13) for j in range(i + 1, 14) for k in range(j + 1, 15)) * 0.97
    )  # greedy: within 3 % of the best subset


def test_the_music_end_stays_even_where_a_point_sounds_as_like_the_song():
    visual = np.array([0.9, 0.89, 0.4])
    mos = np.array([5.0, 5.0, 3.0])  # a point that changes nothing audible and barely shows
    kept = select_by_ear(visual, mos, music=0, points=8)
    assert kept[0] == 0 and 2 in kept
