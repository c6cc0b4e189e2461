"""Pareto fronts of (visual, audio) losses: non-dominated filtering, anchor normalisation, alpha, hypervolume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Hypervolume reference point in anchor-normalised units (DESIGN.md's manifest example).
HV_REFERENCE = (1.1, 1.1)


def nondominated(objectives: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of (n, 2) losses (minimised), in ascending order of the first column.

    Among exact duplicates the first one is kept.
    """
    pts = np.asarray(objectives, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"expected (n, 2) objectives, got shape {pts.shape}")
    order = np.lexsort((pts[:, 1], pts[:, 0]))  # by first objective, then second
    keep = []
    best_second = np.inf
    for i in order:
        if pts[i, 1] < best_second:
            keep.append(i)
            best_second = pts[i, 1]
    return np.asarray(keep, dtype=np.int64)


@dataclass(frozen=True)
class Anchors:
    """The losses of the all-music and the all-image masks, which normalise the objectives.

    ``normalise`` maps the all-music mask to (1, 0) and the all-image mask to (0, 1): visual 0 = as good as the
    all-image mask, audio 0 = the music itself.
    """

    music_visual: float
    music_audio: float
    image_visual: float
    image_audio: float

    def normalise(self, visual: np.ndarray, audio: np.ndarray) -> np.ndarray:
        """(n,) losses -> (n, 2) anchor-normalised losses."""
        v_span = max(self.music_visual - self.image_visual, 1e-9)
        a_span = max(self.image_audio - self.music_audio, 1e-9)
        return np.stack(
            [(np.asarray(visual) - self.image_visual) / v_span, (np.asarray(audio) - self.music_audio) / a_span],
            axis=-1,
        )


def hypervolume(normalised: np.ndarray, reference: tuple[float, float] = HV_REFERENCE) -> float:
    """Hypervolume of (n, 2) normalised losses against ``reference`` (pymoo.indicators.hv); 0 if none dominates it."""
    from pymoo.indicators.hv import HV

    pts = np.asarray(normalised, dtype=np.float64)
    inside = pts[np.all(pts < np.asarray(reference), axis=1)]
    if len(inside) == 0:
        return 0.0
    return float(HV(ref_point=np.asarray(reference, dtype=np.float64))(inside))


def hypervolume_2d(normalised: np.ndarray, reference: tuple[float, float] = HV_REFERENCE) -> float:
    """The same as ``hypervolume`` for two objectives, in plain numpy (cheap enough to call every step)."""
    pts = np.asarray(normalised, dtype=np.float64)
    pts = pts[np.all(pts < np.asarray(reference), axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[nondominated(pts)]
    widths = np.diff(np.append(pts[:, 0], reference[0]))
    return float(np.sum(widths * (reference[1] - pts[:, 1])))


def alphas(visual: np.ndarray, music_visual: float, image_visual: float) -> np.ndarray:
    """DESIGN.md's alpha: ``(v_music - v) / (v_music - v_image)`` clamped to [0, 1] (0 = pure music)."""
    span = music_visual - image_visual
    if span <= 0:
        return np.zeros_like(np.asarray(visual, dtype=np.float64))
    return np.clip((music_visual - np.asarray(visual, dtype=np.float64)) / span, 0.0, 1.0)


def pick_spread(normalised: np.ndarray, count: int) -> np.ndarray:
    """Indices of ``count`` rows of a front (sorted along it) that keep both ends and spread evenly along its length."""
    n = len(normalised)
    if count >= n:
        return np.arange(n)
    pts = np.asarray(normalised, dtype=np.float64)
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    chosen = {0, n - 1}
    for goal in np.linspace(0, along[-1], count)[1:-1]:
        free = [i for i in range(n) if i not in chosen]
        chosen.add(min(free, key=lambda i: abs(along[i] - goal)))
    return np.asarray(sorted(chosen), dtype=np.int64)


def thin_out(normalised: np.ndarray, min_distance: float) -> np.ndarray:
    """Indices of a front (sorted along it) without near-duplicates: consecutive kept points are at least
    ``min_distance`` apart. Both ends stay; a point too close to the far end gives way to it.
    """
    pts = np.asarray(normalised, dtype=np.float64)
    if len(pts) <= 2:
        return np.arange(len(pts))
    keep = [0]
    for i in range(1, len(pts) - 1):
        if np.linalg.norm(pts[i] - pts[keep[-1]]) >= min_distance:
            keep.append(i)
    last = len(pts) - 1
    if len(keep) > 1 and np.linalg.norm(pts[last] - pts[keep[-1]]) < min_distance:
        keep.pop()
    keep.append(last)
    return np.asarray(keep, dtype=np.int64)
