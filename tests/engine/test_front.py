"""Pareto filtering, hypervolume and alpha against known answers (pymoo's ZDT1 front as the analytic case)."""

import numpy as np
import pytest

from moss_engine.optimise.front import Anchors, alphas, hypervolume, hypervolume_2d, nondominated, pick_spread, thin_out


def test_nondominated_on_zdt1_front_plus_dominated_points():
    f1 = np.linspace(0, 1, 50)
    front = np.stack([f1, 1 - np.sqrt(f1)], axis=1)
    rng = np.random.default_rng(0)
    behind = front[rng.integers(0, 50, 200)] + rng.uniform(0.01, 0.5, (200, 2))
    pts = np.concatenate([behind, front])
    keep = nondominated(pts)
    assert sorted(keep.tolist()) == list(range(200, 250))
    assert np.all(np.diff(pts[keep, 0]) > 0)


def test_nondominated_keeps_one_of_duplicates_and_drops_weakly_dominated():
    pts = np.array([[0.0, 1.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.7], [1.0, 0.0]])
    assert nondominated(pts).tolist() == [0, 2, 4]
    with pytest.raises(ValueError, match="shape"):
        nondominated(np.zeros((3, 3)))


def test_zdt1_hypervolume_matches_analytic_value():
    f1 = np.linspace(0, 1, 2001)
    front = np.stack([f1, 1 - np.sqrt(f1)], axis=1)
    # integral of (1 - (1 - sqrt(x))) over [0,1] against reference (1, 1) is 2/3
    assert hypervolume(front, (1.0, 1.0)) == pytest.approx(2 / 3, abs=2e-3)
    assert hypervolume_2d(front, (1.0, 1.0)) == pytest.approx(hypervolume(front, (1.0, 1.0)), abs=1e-9)


def test_hypervolume_ignores_points_beyond_reference():
    assert hypervolume(np.array([[2.0, 0.0]])) == 0.0
    assert hypervolume_2d(np.array([[0.1, 0.1], [5.0, 5.0]])) == pytest.approx(1.0, abs=1e-12)


def test_anchor_normalisation_maps_anchors_to_unit_corners():
    an = Anchors(music_visual=0.9, music_audio=0.0, image_visual=0.3, image_audio=12.0)
    norm = an.normalise(np.array([0.9, 0.3, 0.6]), np.array([0.0, 12.0, 6.0]))
    assert np.allclose(norm, [[1, 0], [0, 1], [0.5, 0.5]])


def test_alpha_definition_and_clamp():
    a = alphas(np.array([0.9, 0.6, 0.3, 0.2, 1.0]), music_visual=0.9, image_visual=0.3)
    assert np.allclose(a, [0.0, 0.5, 1.0, 1.0, 0.0])


def test_pick_spread_keeps_ends_and_spreads():
    pts = np.stack([np.linspace(0, 1, 11), np.linspace(1, 0, 11)], axis=1)
    idx = pick_spread(pts, 3)
    assert idx.tolist() == [0, 5, 10]
    assert pick_spread(pts, 20).tolist() == list(range(11))


def test_thin_out_drops_near_duplicates_but_keeps_both_ends():
    pts = np.array([[1.0, 0.0], [0.5, 0.3], [0.495, 0.301], [0.2, 0.6], [0.01, 0.99], [0.0, 1.0]])
    assert thin_out(pts, 0.05).tolist() == [0, 1, 3, 5]
    assert thin_out(pts[:2], 0.05).tolist() == [0, 1]
