"""One result at an asked blend ratio, at the price of one point: a single preference ray, then a landing on the alpha
(``moss blend`` parses its options and calls ``compute_blend``).

What a front does that one asked alpha does not need (``pipeline.compute_front`` against ``compute_blend``):

- a population of ``points - 2`` masks (6 in preview) stepped together: the blend optimises one mask, on the ray
  through the asked alpha, coarse-to-fine as a front's masks are (half the steps on a grid twice as coarse in time, at
  about half the price), and the fine stage's early stop ends a single settled ray after 12 to 16 steps;
- the phase-refined twin of every candidate (``refine_phases``), the pool twice the asked points chosen by ear, the
  points between neighbours (``in_between``): the blend refines, renders and hears only what it keeps, the all-image
  end's twin (it sets what alpha 1 means) and the result, and the music end, whose file is the song (no listening);
- halving a bracket to land on the alpha (seven phase-refined scorings on the sample): regula falsi lands in two.

The population of one and the absence of the front's stages were there before issue 22; coarse-to-fine, the ray
re-aimed by the coarse landing and regula falsi are issue 22's.

Measured with ``bench/blend_vs_front.py`` (the ``moss`` commands in fresh processes, alternating; the bundled sample,
20 s, preview, alpha 0.5, a 2-core CPU; ``bench/results/blend-vs-front-cpu2.json``): quiet, 9.7 s against the front's
40.6 s (0.24; before this design 14.5 s, 0.21 to 0.34); under other processes' load (4 to 5.6), 73 s against 507 s
(0.14; before 140 s, 0.23 to 0.41). What is left is mostly fixed: imports, decoding, building the problem, the
crossfade and rendering at the song's loudness. The blend's MOS at alpha 0.25, 0.5, 0.75: 4.35, 3.81, 2.90; the
front's at the same alphas 4.35, 3.82, 2.90 (before: 4.27, 3.72, 2.92).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from moss_engine.device import resolve_device
from moss_engine.dsp.masks import interpolated_logits
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.errors import MossInputError
from moss_engine.io.audio import AudioClip
from moss_engine.io.image import LoadedImage
from moss_engine.optimise.base import ANCHOR_LOGIT, Candidate
from moss_engine.optimise.coarse import StageReporter, run_coarse_stage
from moss_engine.optimise.stch import StchOptimiser, weight_through
from moss_engine.reporting import NOTICE_BAND, NullReporter, Reporter, SpanReporter, Stopped
from moss_engine.run.band import choose_band
from moss_engine.run.front_audio import image_end_curve
from moss_engine.run.pipeline import RunResult, assemble_result, load_inputs
from moss_engine.settings import RunSettings

#: How close the measured alpha must come to the asked one before the landing stops (the promise is 0.05).
ALPHA_TOLERANCE = 0.01
#: The most scorings (each with the image end's phase refinement) the landing on the asked alpha may take.
LANDING_STEPS = 12
#: Where the optimised mask is expected to land, as a share of the uniform crossfade's audio loss at the same visual
#: loss (measured fronts sit at 0.3 to 0.6 of it); only the direction of the ray depends on it.
AUDIO_SHARE_GUESS = 0.5
#: The least share the coarse stage's landing may set for the fine stage's ray (a ray along the visual axis would ask
#: for no audio loss at all).
MIN_SHARE = 0.05


def compute_blend(
    settings: RunSettings,
    alpha: float,
    reporter: Reporter | None = None,
    inputs: tuple[AudioClip, LoadedImage] | None = None,
    listen_workers: int = 1,
) -> RunResult:
    """The music end, the image end and one result whose measured alpha is within 0.05 of ``alpha`` (0..1).

    1. The two ends: the all-music mask, and the better of the all-image mask and its phase-refined twin (the lowest
       visual loss this run finds), which set the visual loss the asked alpha means:
       ``v* = v_music - alpha (v_music - v_image)``.
    2. One mask is optimised on the smooth-Tchebycheff ray through ``v*`` and a guess of its audio loss (half the
       uniform crossfade's at that visual loss): a population of one instead of a whole front. With
       ``settings.coarse_steps`` (preview), the coarse stage runs those steps first
       (``coarse.run_coarse_stage``); where its mask lands at full resolution re-aims the ray for the fine stage
       (its own share of the crossfade's audio loss instead of the guess), which starts from that mask and takes
       the rest of ``settings.steps``, or fewer when it settles.
    3. Regula falsi along the straight line (in mask space) from that mask towards the end on the other side of ``v*``
       lands on ``v*`` within ``ALPHA_TOLERANCE`` in alpha (``_land``).
    The result is a run folder of three points (``points_requested`` = 3), rendered at the song's loudness as a
    front's are (``pipeline.assemble_result``) and heard: the blend and the image end (the music end is the song).
    ``listen_workers``: as ``pipeline.compute_front``'s. A cancel (``reporter.should_stop``) ends the optimisation
    and any phase refinement at once; the result is then the nearest to ``v*`` found so far.
    """
    if not 0.0 <= alpha <= 1.0 or not np.isfinite(alpha):
        raise MossInputError(
            f"--alpha {alpha}: expected a number from 0 (pure music) to 1 (as much picture as possible)"
        )
    started = time.perf_counter()
    reporter = reporter or NullReporter()
    device = resolve_device(settings.device)
    clip, image = inputs if inputs is not None else load_inputs(settings)
    settings, band_notes = choose_band(settings, clip, image, reporter)
    for note in band_notes:
        reporter.notice(NOTICE_BAND, note)
    clip = dataclasses.replace(clip, notices=(*clip.notices, *band_notes))
    problem = HidingProblem(clip, image, ProblemSettings.from_run(settings)).to(device)
    renderer = PointRenderer(problem, should_stop=reporter.should_stop)
    problem.adopt_level_curve(image_end_curve(renderer, clip.samples))
    prepared = time.perf_counter()

    # the image end first: it decides what the asked alpha means
    image_anchor_logits = np.full(settings.mask_shape, ANCHOR_LOGIT, dtype=np.float32)
    # measures the anchors and the crossfade at full resolution (the progress of the measuring said at 0)
    optimiser = StchOptimiser(problem, settings, SpanReporter(reporter, 0.0, 0.0), weights=np.array([[1.0, 0.0]]))
    anchors = optimiser.anchors
    level = problem.matched_levels
    image_end = Candidate(
        image_anchor_logits,
        anchors.image_visual,
        anchors.image_audio,
        "image",
        level_db=level,
        loudness_excess=float(optimiser.crossfade_excess[-1]),
    )
    if settings.phase_iterations:
        try:
            v, a, x = renderer.score_point(image_anchor_logits, level, settings.phase_iterations)
            if v < image_end.visual:
                image_end = Candidate(image_anchor_logits, v, a, "image+phase", settings.phase_iterations, level, x)
        except Stopped:  # cancelled within the phase refinement: the image end as it is
            pass
    v_music = anchors.music_visual
    v_goal = v_music - alpha * (v_music - image_end.visual)

    # the ray: through v* and a guess of the audio loss an optimised mask needs there
    cross_v, cross_a = optimiser.crossfade_visual, optimiser.crossfade_audio
    share, coarse_done = AUDIO_SHARE_GUESS, 0
    if settings.coarse_steps > 0 and settings.steps > 1:  # coarse-to-fine, as the front's masks are optimised
        coarse, middle = run_coarse_stage(
            problem, clip, image, settings, reporter, weights=_ray(optimiser, v_goal, share)[None]
        )
        start_logits = coarse.logits.detach()
        start_levels = coarse.levels_db().detach().cpu().numpy()
        # re-aimed for the fine stage by where the coarse mask lands at full resolution: its own share of the
        # crossfade's audio loss at its visual loss, instead of the guess
        v, a, _ = optimiser.evaluate(start_logits, start_levels)
        a_cross = float(np.interp(-v[0], -cross_v, cross_a))
        if a_cross > 0 and np.isfinite(a[0]):
            share = float(np.clip(a[0] / a_cross, MIN_SHARE, 1.0))
        coarse_done = coarse.step_count
        fine_steps = max(1, settings.steps - coarse_done)  # an early-stopped coarse stage leaves the rest
        optimiser.reporter = StageReporter(
            reporter,
            coarse_done,
            fine_steps,
            coarse_done + fine_steps,
            "fine pass",
            (middle * coarse_done / coarse.settings.steps, 1.0),
            continues=True,
        )
        optimiser.retarget(_ray(optimiser, v_goal, share)[None], start_logits, start_levels, steps=fine_steps)
        optimiser.cancelled = coarse.cancelled  # a cancel in the coarse stage ends the optimisation there
    else:
        optimiser.reporter = reporter
        optimiser.retarget(_ray(optimiser, v_goal, share)[None])
    result = optimiser.run()
    result = dataclasses.replace(result, steps_done=result.steps_done + coarse_done)  # both stages' steps
    optimised = time.perf_counter()
    best = next(c for c in result.candidates if c.kind == "optimised")

    music_end = next(c for c in result.candidates if c.kind == "music")
    blend = _land(renderer, best, music_end, image_end, v_goal, v_music)
    run = assemble_result(
        settings,
        device,
        clip,
        renderer,
        result,
        [music_end, blend, image_end],
        {
            "prepare_s": prepared - started,
            "optimise_s": optimised - prepared,
            "land_s": time.perf_counter() - optimised,
        },
        reporter,
        listen_workers,
    )
    index = next((i for i, p in enumerate(run.points) if p.kind == "blend"), len(run.points) // 2)
    run.extra["blend"] = {"alpha_requested": float(alpha), "alpha": float(run.points[index].alpha), "point": index}
    return run


def _ray(optimiser: StchOptimiser, v_goal: float, share: float) -> np.ndarray:
    """The unit preference whose ray passes through the visual loss ``v_goal`` at ``share`` times the crossfade's
    audio loss there (anchor-normalised)."""
    cross_v, cross_a = optimiser.crossfade_visual, optimiser.crossfade_audio
    a_cross = float(np.interp(-v_goal, -cross_v, cross_a))  # crossfade visual loss falls with level
    goal = optimiser.anchors.normalise(np.array([v_goal]), np.array([share * a_cross]))[0]
    return weight_through(goal)


def _land(
    renderer: PointRenderer,
    best: Candidate,
    music_end: Candidate,
    image_end: Candidate,
    v_goal: float,
    v_music: float,
) -> Candidate:
    """Move along the line between ``best`` and the end beyond ``v_goal`` until the visual loss is ``v_goal``.

    Every mask on the way is scored as it will be rendered: with the image end's phase refinement when it has one,
    so the line runs continuously from ``best`` to exactly the image end; the picture's level moves along with the
    mask, in dB. The visual loss falls smoothly along the line, so regula falsi (the Illinois variant, which keeps
    both ends of the bracket moving) lands within ``ALPHA_TOLERANCE`` in fewer scorings than halving the bracket
    (on the bundled sample at alpha 0.58: 2 phase-refined scorings where halving took 7); at most ``LANDING_STEPS``
    after the start's. A cancel within a scoring's phase refinement (``reporting.Stopped``) ends the landing with
    the nearest found so far.
    """
    iterations = image_end.phase_iterations

    def evaluate(logits: np.ndarray, level: float) -> Candidate:
        v, a, x = renderer.score_point(logits, level, iterations)
        return Candidate(logits, v, a, "blend", iterations, level, x)

    span = max(v_music - image_end.visual, 1e-9)
    if v_goal <= image_end.visual:
        return dataclasses.replace(image_end, kind="blend")
    found = dataclasses.replace(best, kind="blend")  # what a cancel within the first scoring leaves
    try:
        start = found = evaluate(best.logits, best.level_db) if iterations else found
        if abs(start.visual - v_goal) / span <= ALPHA_TOLERANCE:
            return start
        other = image_end if start.visual > v_goal else music_end  # the end on the other side of v*
        # the bracket in t along start -> other, and the visual loss's distance from v* at either side
        lo, f_lo = 0.0, start.visual - v_goal
        hi, f_hi = 1.0, other.visual - v_goal
        side = 0  # which side moved last: Illinois halves the other side's value when one side keeps moving
        for _ in range(LANDING_STEPS):
            t = lo - f_lo * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)
            t = min(max(t, lo + 1e-3 * (hi - lo)), hi - 1e-3 * (hi - lo))
            point = evaluate(
                interpolated_logits(start.logits, other.logits, t), (1 - t) * start.level_db + t * other.level_db
            )
            f = point.visual - v_goal
            if abs(f) < abs(found.visual - v_goal):
                found = point
            if abs(f) / span <= ALPHA_TOLERANCE:
                break
            if (f > 0) == (f_lo > 0):  # still on the start's side
                lo, f_lo = t, f
                if side == -1:
                    f_hi *= 0.5
                side = -1
            else:
                hi, f_hi = t, f
                if side == 1:
                    f_lo *= 0.5
                side = 1
    except Stopped:  # cancelled within a scoring's phase refinement: the nearest found so far
        pass
    return found
