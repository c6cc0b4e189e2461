"""One result at an asked blend ratio: a single preference ray, then a bisection that hits the asked alpha."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from moss_engine.device import resolve_device
from moss_engine.dsp.masks import interpolated_logits
from moss_engine.dsp.problem import HidingProblem
from moss_engine.errors import MossInputError
from moss_engine.io.audio import AudioClip
from moss_engine.io.image import LoadedImage
from moss_engine.optimise.base import ANCHOR_LOGIT, Candidate
from moss_engine.optimise.stch import StchOptimiser, weight_through
from moss_engine.reporting import NOTICE_BAND, Reporter
from moss_engine.run.band import choose_band
from moss_engine.run.front_audio import image_end_curve
from moss_engine.run.pipeline import RunResult, assemble_result, load_inputs
from moss_engine.settings import RunSettings

#: How close the measured alpha must come to the asked one before the bisection stops.
ALPHA_TOLERANCE = 0.01
BISECTION_STEPS = 12
#: Where the optimised mask is expected to land, as a share of the uniform crossfade's audio loss at the same visual
#: loss (measured fronts sit at 0.3 to 0.6 of it); only the direction of the ray depends on it.
AUDIO_SHARE_GUESS = 0.5


def compute_blend(settings: RunSettings, alpha: float, reporter: Reporter | None = None,
                  inputs: tuple[AudioClip, LoadedImage] | None = None, listen_workers: int = 1) -> RunResult:
    """The music end, the image end and one result whose measured alpha is within 0.05 of ``alpha`` (0..1).

    1. The two ends: the all-music mask, and the better of the all-image mask and its phase-refined twin (the lowest
       visual loss this run finds), which set the visual loss the asked alpha means:
       ``v* = v_music - alpha (v_music - v_image)``.
    2. One mask is optimised on the smooth-Tchebycheff ray through ``v*`` and a guess of its audio loss (half the
       uniform crossfade's at that visual loss): a population of one instead of a whole front.
    3. A bisection along the straight line (in mask space) from that mask towards the end on the other side of ``v*``
       lands on ``v*`` within ``ALPHA_TOLERANCE`` in alpha.
    The result is a run folder of three points (``points_requested`` = 3). ``listen_workers``: as
    ``pipeline.compute_front``'s.
    """
    if not 0.0 <= alpha <= 1.0 or not np.isfinite(alpha):
        raise MossInputError(f"--alpha {alpha}: expected a number from 0 (pure music) to 1 (as much picture as "
                             "possible)")
    started = time.perf_counter()
    device = resolve_device(settings.device)
    clip, image = inputs if inputs is not None else load_inputs(settings)
    settings, band_notes = choose_band(settings, clip, image, reporter)
    for note in band_notes:
        if reporter is not None:
            reporter.notice(NOTICE_BAND, note)
    clip = dataclasses.replace(clip, notices=(*clip.notices, *band_notes))
    problem = HidingProblem(clip, image, settings).to(device)
    problem.adopt_level_curve(image_end_curve(problem, clip.samples))

    # the image end first: it decides what the asked alpha means
    image_anchor_logits = np.full(settings.mask_shape, ANCHOR_LOGIT, dtype=np.float32)
    optimiser = StchOptimiser(problem, settings, reporter, weights=np.array([[1.0, 0.0]]))  # measures the anchors
    anchors = optimiser.anchors
    level = problem.matched_levels
    image_end = Candidate(image_anchor_logits, anchors.image_visual, anchors.image_audio, "image", level_db=level,
                          loudness_excess=float(optimiser.crossfade_excess[-1]))
    if settings.phase_iterations:
        v, a, x = problem.score_point(image_anchor_logits, level, settings.phase_iterations)
        if v < image_end.visual:
            image_end = Candidate(image_anchor_logits, v, a, "image+phase", settings.phase_iterations, level, x)
    v_music = anchors.music_visual
    v_goal = v_music - alpha * (v_music - image_end.visual)

    # the ray: through v* and a guess of the audio loss an optimised mask needs there
    cross_v, cross_a = optimiser.crossfade_visual, optimiser.crossfade_audio
    a_cross = float(np.interp(-v_goal, -cross_v, cross_a))  # crossfade visual loss falls with level
    goal = anchors.normalise(np.array([v_goal]), np.array([AUDIO_SHARE_GUESS * a_cross]))[0]
    optimiser.retarget(weight_through(goal)[None])
    result = optimiser.run()
    optimised = time.perf_counter()
    best = next(c for c in result.candidates if c.kind == "optimised")

    music_end = next(c for c in result.candidates if c.kind == "music")
    blend = _bisect(problem, best, music_end, image_end, v_goal, v_music)
    run = assemble_result(settings, device, clip, problem, result, [music_end, blend, image_end],
                          {"optimise_s": optimised - started, "bisect_s": time.perf_counter() - optimised}, reporter,
                          listen_workers)
    index = next((i for i, p in enumerate(run.points) if p.kind == "blend"), len(run.points) // 2)
    run.extra["blend"] = {"alpha_requested": float(alpha), "alpha": float(run.points[index].alpha), "point": index}
    return run


def _bisect(problem: HidingProblem, best: Candidate, music_end: Candidate, image_end: Candidate, v_goal: float,
            v_music: float) -> Candidate:
    """Move along the line between ``best`` and the end beyond ``v_goal`` until the visual loss is ``v_goal``.

    Every mask on the way is scored as it will be rendered: with the image end's phase refinement when it has one,
    so the line runs continuously from ``best`` to exactly the image end; the picture's level moves along with the
    mask, in dB.
    """
    iterations = image_end.phase_iterations

    def evaluate(logits: np.ndarray, level: float) -> Candidate:
        v, a, x = problem.score_point(logits, level, iterations)
        return Candidate(logits, v, a, "blend", iterations, level, x)

    span = max(v_music - image_end.visual, 1e-9)
    if v_goal <= image_end.visual:
        return dataclasses.replace(image_end, kind="blend")
    start = evaluate(best.logits, best.level_db) if iterations else dataclasses.replace(best, kind="blend")
    if abs(start.visual - v_goal) / span <= ALPHA_TOLERANCE:
        return start
    other = image_end if start.visual > v_goal else music_end  # the end on the other side of v*
    lo, hi = 0.0, 1.0  # t along start -> other
    found = start
    for _ in range(BISECTION_STEPS):
        t = 0.5 * (lo + hi)
        point = evaluate(interpolated_logits(start.logits, other.logits, t),
                         (1 - t) * start.level_db + t * other.level_db)
        if abs(point.visual - v_goal) < abs(found.visual - v_goal):
            found = point
        if abs(point.visual - v_goal) / span <= ALPHA_TOLERANCE:
            break
        if (point.visual > v_goal) == (start.visual > v_goal):  # still on the start's side
            lo = t
        else:
            hi = t
    return found
