"""The chosen points' audio: each rendered within the song's loudness, with its gain against clipping; after a
cancel, as many as fit in ``CANCEL_BUDGET_S``, the most telling first."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

from moss_engine.dsp.levels import peak_gain
from moss_engine.dsp.loudness import SongLoudness
from moss_engine.dsp.problem import LEVEL_RANGE_DB, HidingProblem
from moss_engine.optimise.base import Candidate
from moss_engine.reporting import Reporter, Status, Stopped
from moss_engine.run.listening import Scorer

#: A point found over the loudness limits has its picture level lowered by its excess plus this much (dB) and is
#: measured again, at most ``LEVEL_TRIES`` times (then it takes the lowest level, where the picture is inaudible).
LEVEL_STEP_MARGIN_DB = 0.25
LEVEL_TRIES = 8
#: After a cancel, the points still to render are rendered (each 0.1-0.2 s for 30 s of song on two CPU cores, far
#: less on a GPU) most telling first, both ends then each the farthest from those kept, until this many seconds have
#: passed since the cancel was seen; both ends are always kept. Cancel is to give the window back within a second
#: (0.4 s made it 1.05-1.11 s while rendering on two cores, 0.2 s 0.7-0.9 s); where points render in milliseconds (a
#: GPU) a long run cancelled near its end keeps most of its front, where a fixed count of 4 lost 28 of a High run's 32.
CANCEL_BUDGET_S = 0.2


def rendered_audio(problem: HidingProblem, candidate: Candidate) -> np.ndarray:
    """(channels, samples) float32: the candidate's audio as rendered before (``samples``), else rendered now
    (``HidingProblem.render_point`` without its scoring pass, whose losses the candidate already has)."""
    if candidate.samples is not None:
        return candidate.samples
    with torch.no_grad():
        mask = problem.point_mask(candidate.logits)
        spec = problem.point_spectrogram(mask, candidate.level_db, candidate.phase_iterations)
        return problem.stft.inverse(spec, problem.n_samples).cpu().numpy().astype(np.float32)


def keep_loudness(problem: HidingProblem, candidate: Candidate, song: SongLoudness,
                  should_stop=lambda: False) -> tuple[Candidate, np.ndarray, float] | None:
    """The candidate within the song's loudness, its audio and its loudness change (LU, before any gain).

    The optimiser aims inside the limits with an estimate; here the rendered audio is measured exactly
    (``SongLoudness.measure``) and, if it is still over, the picture's level is lowered and the point rendered and
    scored again: a lower level changes the picture in the viewer only through the mask's blend, never the music
    outside the mask. None once ``should_stop()`` says so while the point is still over: a cancelled run leaves it out
    rather than spend seconds bringing it within the limits.
    """
    level = candidate.level_db
    samples = rendered_audio(problem, candidate)
    measured = song.measure(samples)
    attempt = 0
    while measured.over_limits_lu > 0.0 and level > LEVEL_RANGE_DB[0]:
        if should_stop():
            return None
        # loudness falls at most dB for dB with the level: lowering by the excess is the least that can do
        over = measured.over_limits_lu
        level = LEVEL_RANGE_DB[0] if attempt >= LEVEL_TRIES - 1 else level - over * (1 + attempt) - LEVEL_STEP_MARGIN_DB
        level = max(level, LEVEL_RANGE_DB[0])
        samples, scores = problem.render_and_score_point(candidate.logits, level, candidate.phase_iterations)
        measured = song.measure(samples)
        attempt += 1
    if level != candidate.level_db:
        candidate = dataclasses.replace(candidate, visual=scores[0], audio=scores[1], level_db=level,
                                        loudness_excess=scores[2])
    return dataclasses.replace(candidate, samples=None), samples, measured.lu


def spread_order(candidates: list[Candidate], kept: list[Candidate] = ()) -> list[Candidate]:
    """``candidates`` in the order a cancelled run renders them: with nothing ``kept`` yet, the music end and the
    other end of the front first; then each time the one farthest (in losses scaled to the front's span) from all
    those kept or ordered before it."""
    remaining = sorted(candidates, key=lambda c: (c.kind != "music", -c.visual))
    if not remaining:
        return []
    everyone = list(kept) + remaining
    losses = np.array([[c.visual, c.audio] for c in everyone], dtype=np.float64)
    scaled = losses / np.maximum(np.ptp(losses, axis=0), 1e-12)
    placed = [scaled[i] for i in range(len(kept))]
    order: list[int] = []
    if not placed:  # the ends: the music end first, then the point farthest from it
        order.append(0)
        placed.append(scaled[len(kept)])
    free = [i for i in range(len(remaining)) if i not in order]
    while free:
        distance = [min(np.linalg.norm(scaled[len(kept) + i] - q) for q in placed) for i in free]
        best = free[int(np.argmax(distance))]
        order.append(best)
        placed.append(scaled[len(kept) + best])
        free.remove(best)
    return [remaining[i] for i in order]


def render_chosen(problem: HidingProblem, chosen: list[Candidate], song: SongLoudness, reference: np.ndarray,
                  scorer: Scorer, reporter: Reporter) -> list[tuple[Candidate, np.ndarray, float, float]]:
    """(candidate, audio, loudness change, gain) of each chosen candidate rendered within the song's loudness, each
    handed to ``scorer`` to be heard.

    Once ``reporter.should_stop()``, the rest are rendered most telling first (``spread_order``) for
    ``CANCEL_BUDGET_S`` (at least two points kept in all), a point that needs seconds more (a lower level) is left out,
    and none is handed to be heard.
    """
    reference_peak = float(np.max(np.abs(reference))) if reference.size else 0.0
    rendered: list[tuple[Candidate, np.ndarray, float, float]] = []
    queue, cancelled_at = list(chosen), None
    while queue:
        if cancelled_at is None and reporter.should_stop():
            cancelled_at = time.monotonic()
            queue = spread_order(queue, [r[0] for r in rendered])
        if (cancelled_at is not None and len(rendered) >= 2
                and time.monotonic() - cancelled_at > CANCEL_BUDGET_S):
            break
        candidate = queue.pop(0)
        done = len(chosen) - len(queue) - 1
        reporter.progress(done / len(chosen), f"rendering point {done + 1}/{len(chosen)} at the song's loudness",
                          Status("rendering", done + 1, len(chosen), "point"))
        if candidate.kind == "music":  # the all-music mask is the song: its file is the song itself, exactly
            rendered.append((candidate, reference.copy(), 0.0, 0.0))
            continue
        try:
            kept = keep_loudness(problem, candidate, song, reporter.should_stop)
        except Stopped:
            kept = None
        if kept is None:
            continue
        candidate, samples, lu = kept
        gain_db = peak_gain(samples, reference_peak)
        if gain_db:
            samples = samples * np.float32(10 ** (gain_db / 20))
        rendered.append((candidate, samples, lu, gain_db))
        if not reporter.should_stop():
            scorer.submit(samples)
    return rendered
