"""The chosen points' audio as files to publish: each at the song's loudness both ways, its peaks held by the
limiter inside it (DESIGN.md "Output level (moss-run/3)"); after a cancel, as many as fit in ``CANCEL_BUDGET_S``, the
most telling first."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from moss_engine.dsp.limiter import Limiter, peak_envelope
from moss_engine.dsp.loudness import (
    MAKEUP_MAX_DB,
    SHORT_TERM_LIMIT_LU,
    SHORT_TERM_S,
    PointLoudness,
    SongLoudness,
)
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import LEVEL_KNOT_S, LEVEL_RANGE_DB, HidingProblem
from moss_engine.optimise.base import ANCHOR_LOGIT, Candidate
from moss_engine.reporting import Reporter, Status, Stopped
from moss_engine.run.listening import Scorer

#: The fit aims this far inside the loudness limits (LU), measured exactly on the limited file, so that another
#: BS.1770 meter (pyloudnorm, the contract's checker) finds it inside them too.
FIT_MARGIN_LU = 0.15
#: A point's gain or level curve is adjusted at most this many times (a gain costs a measurement, a level a render).
FIT_TRIES = 10
#: How near the short-term limit a window must be to keep its knots where they are while the rest of the level curve
#: goes up (LU).
NEAR_LIMIT_LU = 0.5
#: A makeup change smaller than this (dB) is not worth another measurement; windows where the song is quieter than
#: this (LUFS) ask for none (a point's faint noise in the song's silence is not a missing part of the song).
MAKEUP_STEP_MIN_DB = 0.3
AUDIBLE_LUFS = -60.0
#: The most one adjustment moves the level curve (dB): loudness follows the level at most dB for dB, and a light mask
#: far less, so a big deficit is closed in a few steps, never in one leap that overshoots.
FIT_STEP_DB = 24.0
#: After a cancel, the points still to render are rendered (each 0.1-0.2 s for 30 s of song on two CPU cores, far
#: less on a GPU) most telling first, both ends then each the farthest from those kept, until this many seconds have
#: passed since the cancel was seen; both ends are always kept. Cancel is to give the window back within a second
#: (0.4 s made it 1.05-1.11 s while rendering on two cores, 0.2 s 0.7-0.9 s); where points render in milliseconds (a
#: GPU) a long run cancelled near its end keeps most of its front, where a fixed count of 4 lost 28 of a High run's 32.
CANCEL_BUDGET_S = 0.2
#: After a run, the loudness-matched uniform crossfade is rendered and heard (Zimtohrli, as the points are) at this
#: many of its levels besides the music end (the song itself, MOS 5 unheard): the reference line on the front's MOS
#: axis. Measured on the 2-core CPU (sample, 10 s, preview): its MOS falls smoothly with the level (5.00, 4.65, 3.86,
#: 3.10, 2.55, 2.14, 1.85, 1.68, 1.60 at levels 0, 1/8 ... 1), so every other of the nine levels draws the line.
CROSSFADE_HEARD = 4


@dataclass(frozen=True)
class RenderedPoint:
    """A chosen candidate as its file will be.

    Attributes:
        candidate: the candidate, its level curve as fitted and its losses measured on ``samples``.
        samples: (channels, samples) float32, the audio as written (made up, limited).
        loudness: its loudness next to the song.
        limiter_db: the limiter's deepest gain change in it (dB, <= 0).
        makeup_db: (knots,) the gain curve that brought it up to the song's loudness (dB, >= 0 at the level's knots).
    """

    candidate: Candidate
    samples: np.ndarray
    loudness: PointLoudness
    limiter_db: float
    makeup_db: np.ndarray | float = 0.0


class _CandidateAudio:
    """One candidate's audio at any level curve: exactly (its phase refinement found again at that level, as a rebuild
    of the point does), or, while the level is still being fitted, with the rotation found at its first level (the
    loudness barely depends on it; the final render is always exact)."""

    def __init__(self, renderer: PointRenderer, candidate: Candidate):
        self.renderer, self.candidate = renderer, candidate
        self.mask = renderer.point_mask(candidate.logits)
        self._rotation = None

    @torch.no_grad()
    def __call__(self, level: np.ndarray, exact: bool) -> np.ndarray:
        renderer, iterations = self.renderer, self.candidate.phase_iterations
        if iterations and not exact:
            if self._rotation is None:
                self._rotation = renderer.rotation_for(self.mask, iterations, level)
            spec = renderer.spectrogram(self.mask, self._rotation, level)
        else:
            spec = renderer.point_spectrogram(self.mask, level, iterations)
        problem = renderer.problem
        return problem.stft.inverse(spec, problem.n_samples).cpu().numpy().astype(np.float32)


def _knots_of(problem: HidingProblem, song: SongLoudness, measured: PointLoudness, windows: np.ndarray) -> list:
    """For each 3 s window (index) in ``windows``: the (knots,) mask of the level knots inside it."""
    centres = song.window_centres_s(len(measured.short_term_excess))
    reach = SHORT_TERM_S / 2 + LEVEL_KNOT_S / 2
    return [np.abs(problem.knot_times_s - centres[w]) <= reach for w in windows]


def _knot_caps(
    problem: HidingProblem, song: SongLoudness, measured: PointLoudness, level: np.ndarray, caps: np.ndarray
) -> np.ndarray:
    """``caps`` lowered where a 3 s window is beyond the short-term limit (less the margin): each knot inside such a
    window comes down by the window's excess (loudness moves at most dB for dB with the level) plus a little."""
    excess = measured.short_term_excess
    if excess is None or not len(excess):
        return caps
    over = excess - (SHORT_TERM_LIMIT_LU - FIT_MARGIN_LU)
    windows = np.flatnonzero(over > 0)
    caps = caps.copy()
    for w, near in zip(windows, _knots_of(problem, song, measured, windows), strict=True):
        caps[near] = np.minimum(caps[near], level[near] - over[w] - 0.25)
    return caps


def fit_loudness(
    renderer: PointRenderer,
    candidate: Candidate,
    song: SongLoudness,
    limiter: Limiter,
    should_stop=lambda: False,
    makeup: bool = True,
    song_peaks: np.ndarray | None = None,
    rescore: bool = True,
) -> RenderedPoint | None:
    """The candidate as a file at the song's loudness: rendered, made up, limited and measured, its level fitted.

    The optimiser keeps its points under the loudness limits with an estimate; here the file is measured exactly
    (``SongLoudness.measure``, after the limiter). A blend in dB is quieter than both its ends, so a point is often
    quieter than the song: it is brought up by a gain of its own (``makeup_db``, ``_makeup_step``), one gain all along
    where it can be, a curve on the level's knots where a 3 s window (a quiet passage) has no room for it, never
    down. Measured on a front of the horse in the race theme, bringing a point 2.5 LU under the song
    up by a gain kept its MOS (2.90 -> 2.92) where raising its picture level by as much cost 0.22: the listener hears
    the same point at the song's volume. Then, while the file is not within ``FIT_MARGIN_LU`` of the limits, its level
    curve moves:

    - a 3 s window too loud: down at the knots of that window only (``_knot_caps``);
    - too loud as a whole: down as a whole (a secant on the measured slope);
    - still too quiet (the gain at ``MAKEUP_MAX_DB``): up, at the knots whose windows have room under the short-term
      limit.

    A level change alters what a viewer shows only through the mask's blend, never the music outside it; the gain
    alters nothing a viewer shows. Returns the exact attempt nearest the limits if none is within them after
    ``FIT_TRIES`` adjustments (the caller decides); None once ``should_stop()`` says so while the point is outside and
    needs another render (a gain, which costs only a measurement, is still made).
    ``makeup`` False: the level curve alone (the all-picture end's curve, ``image_end_curve``). ``song_peaks``: the
    song's own true-peak envelope (``limiter.peak_envelope``), which the limiter leaves as it is. ``rescore`` False:
    the candidate keeps the losses it came with even where the file differs from what was scored (the crossfade's
    reference line, heard only: scoring the file costs about half of its fit).
    """
    problem = renderer.problem
    render = _CandidateAudio(renderer, candidate)
    base = np.broadcast_to(np.asarray(candidate.level_db, dtype=np.float64), (problem.level_knots,)).copy()
    caps = np.full(problem.level_knots, np.inf)
    gain = np.zeros(problem.level_knots)
    times = np.arange(problem.n_samples) / problem.sample_rate
    level, offset = base, 0.0
    samples = candidate.samples if candidate.samples is not None else render(level, exact=True)
    exact, history, best, adjustments = True, [], None, 0
    envelope = predicted = None
    while True:
        if envelope is None and math.isfinite(limiter.ceiling_dbtp):  # once per render: a gain on it scales it
            envelope = peak_envelope(samples)
        scale = renderer.makeup_gain(gain, times) if gain.any() else None
        made_up = samples if scale is None else samples * scale
        limited, limiter_db = limiter.apply(
            made_up,
            problem.sample_rate,
            song_peaks,
            envelope if scale is None or envelope is None else envelope * scale,
        )
        # one more gain everywhere on audio the limiter leaves alone moves every figure dB for dB: no need to measure
        measured = predicted if predicted is not None and limiter_db == 0 else song.measure(limited)
        predicted = None
        miss = max(measured.over_limits_lu, measured.under_limits_lu)
        if exact and (best is None or miss < best[0]):
            best = (miss, level, limited, measured, limiter_db, gain.copy())
        done = measured.within(FIT_MARGIN_LU) or adjustments >= FIT_TRIES
        if done and exact:
            break
        if done:  # within on the fitting render: the final render, its rotation found at this level, decides
            samples, exact, envelope = render(level, exact=True), True, None
            continue
        adjustments += 1
        if makeup:  # a gain costs a measurement, not a render: done even after a cancel
            step = _makeup_step(problem, song, measured, gain)
            if np.max(np.abs(step), initial=0.0) > MAKEUP_STEP_MIN_DB:
                if limiter_db == 0 and np.ptp(gain) == 0 and np.ptp(step) == 0:
                    predicted = measured.shifted(float(step[0]))
                gain = np.round(gain + step, 6)  # as the manifest records it: the file is what a rebuild makes
                continue
        if should_stop():
            return None
        room = (SHORT_TERM_LIMIT_LU - FIT_MARGIN_LU) - measured.worst_short_term_lu
        if room < 0:
            caps = _knot_caps(problem, song, measured, level, caps)
        else:
            if measured.under_limits_lu > -FIT_MARGIN_LU:  # going up: the knots of windows near the limit stay
                caps = np.minimum(caps, np.where(_near_limit(problem, song, measured), level, np.inf))
            offset = _next_offset(history, offset, measured, float(render.mask.mean()))
        level = np.round(np.clip(np.minimum(base + offset, caps), *LEVEL_RANGE_DB), 6)
        exact = not candidate.phase_iterations
        samples, envelope = render(level, exact=exact), None
    _, level, limited, measured, limiter_db, gain = best
    if rescore and (gain.any() or limiter_db < 0 or not np.array_equal(level, base)):  # the file is not what was scored
        visual, audio, excess = renderer.score_samples(limited, render.mask)
    else:
        visual, audio, excess = candidate.visual, candidate.audio, candidate.loudness_excess
    fitted = dataclasses.replace(
        candidate, visual=visual, audio=audio, level_db=level, loudness_excess=excess, samples=None
    )
    return RenderedPoint(fitted, limited, measured, limiter_db, gain)


def _makeup_step(problem: HidingProblem, song: SongLoudness, measured: PointLoudness, gain: np.ndarray) -> np.ndarray:
    """(knots,) how the makeup curve moves: as one gain towards the song's integrated loudness (a quieter point up,
    one the gain took over down), kept at each knot within what the 3 s window centred there has left under the
    short-term limit (a window the gain took past it comes down), within [0, ``MAKEUP_MAX_DB``]. One gain all along
    where it can be: a viewer then shows the point as it was (a gain that followed the song window by window would
    print the song's dynamics on the picture)."""
    excess = measured.short_term_excess
    whole = -measured.lu if measured.under_limits_lu > -FIT_MARGIN_LU or gain.any() else 0.0
    if excess is None or not len(excess):
        room = np.full_like(gain, np.inf)
    else:
        audible = song.short_term_lufs[: len(excess)] > AUDIBLE_LUFS
        left = np.where(audible & np.isfinite(excess), (SHORT_TERM_LIMIT_LU - FIT_MARGIN_LU) - excess, np.inf)
        # a knot's gain reaches every window within a knot spacing of it: the least room among them
        centres, reach = song.window_centres_s(len(excess)), SHORT_TERM_S / 2 + LEVEL_KNOT_S
        room = np.array([np.min(left[np.abs(centres - t) <= reach], initial=1e3) for t in problem.knot_times_s])
    return np.clip(np.minimum(gain + whole, gain + room), 0.0, MAKEUP_MAX_DB) - gain


def _near_limit(problem: HidingProblem, song: SongLoudness, measured: PointLoudness) -> np.ndarray:
    """(knots,) True at the knots inside a 3 s window within ``NEAR_LIMIT_LU`` of the short-term limit."""
    near = np.zeros(problem.level_knots, dtype=bool)
    excess = measured.short_term_excess
    if excess is None or not len(excess):
        return near
    windows = np.flatnonzero(excess > SHORT_TERM_LIMIT_LU - FIT_MARGIN_LU - NEAR_LIMIT_LU)
    for inside in _knots_of(problem, song, measured, windows):
        near |= inside
    return near


def _next_offset(history: list[tuple[float, float]], offset: float, measured: PointLoudness, mask_mean: float) -> float:
    """The next offset of the level curve: towards the middle of the integrated limits (the channels' loudness, kept
    under the upper limit on the mix too), by a secant through the last two measurements, or with the mask's mean as
    the slope at first (a level change of D dB moves every blended cell by ``mask * D``)."""
    change = -measured.lu
    if measured.worst_integrated_lu + change > 1.0 - 2 * FIT_MARGIN_LU:  # the mix is louder than the channels
        change = (1.0 - 2 * FIT_MARGIN_LU) - measured.worst_integrated_lu
    history.append((offset, measured.lu))
    slope = max(0.05, min(1.0, mask_mean))
    if len(history) >= 2:
        (o0, l0), (o1, l1) = history[-2], history[-1]
        if abs(o1 - o0) > 1e-6 and math.isfinite(l1 - l0):
            slope = max(0.02, min(1.5, (l1 - l0) / (o1 - o0)))
    return offset + float(np.clip(change / slope, -FIT_STEP_DB, FIT_STEP_DB))


def image_end_curve(renderer: PointRenderer, reference: np.ndarray) -> np.ndarray:
    """(knots,) the level curve of the all-picture mask fitted to the song's loudness by its level alone: as loud as
    the song as a whole, lower only around a 3 s window that would be too loud (a quiet passage). The run adopts it as
    every point's starting curve (``HidingProblem.adopt_level_curve``)."""
    problem = renderer.problem
    song = SongLoudness(reference, problem.sample_rate)
    image = Candidate(
        np.full(problem.settings.mask_shape, ANCHOR_LOGIT, dtype=np.float32),
        0.0,
        0.0,
        "image",
        level_db=np.full(problem.level_knots, problem.matched_level_db),
    )
    # its loudness, not its peaks: the points' own limiter comes later
    fitted = fit_loudness(renderer, image, song, Limiter(ceiling_dbtp=math.inf), makeup=False)
    return np.asarray(fitted.candidate.level_db, dtype=np.float64)


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


def render_chosen(
    renderer: PointRenderer,
    chosen: list[Candidate],
    song: SongLoudness,
    reference: np.ndarray,
    limiter: Limiter,
    scorer: Scorer,
    reporter: Reporter,
    heard_as: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[RenderedPoint]:
    """Each chosen candidate rendered as its file (``fit_loudness``), each handed to ``scorer`` to be heard (as
    ``heard_as`` makes it, when given: a publish run hears the file after its codec, ``publish.PublishedEars``).

    A candidate that cannot be brought within the song's loudness (a mask whose level cannot make up what it takes
    from the song) is left out. Once ``reporter.should_stop()``, the rest are rendered most telling first
    (``spread_order``) for ``CANCEL_BUDGET_S`` (at least two points kept in all), a point that needs seconds more is
    left out, and none is handed to be heard.
    """
    rendered: list[RenderedPoint] = []
    song_peaks = peak_envelope(reference)  # the song's own peaks are left as they are
    queue, cancelled_at = list(chosen), None
    while queue:
        if cancelled_at is None and reporter.should_stop():
            cancelled_at = time.monotonic()
            queue = spread_order(queue, [r.candidate for r in rendered])
        if cancelled_at is not None and len(rendered) >= 2 and time.monotonic() - cancelled_at > CANCEL_BUDGET_S:
            break
        candidate = queue.pop(0)
        done = len(chosen) - len(queue) - 1
        reporter.progress(
            done / len(chosen),
            f"rendering point {done + 1}/{len(chosen)} at the song's loudness",
            Status("rendering", done + 1, len(chosen), "point"),
        )
        if candidate.kind == "music":  # the all-music mask is the song: its file is the song itself, exactly
            rendered.append(RenderedPoint(candidate, reference.copy(), song.measure(reference), 0.0))
            continue
        try:
            point = fit_loudness(renderer, candidate, song, limiter, reporter.should_stop, song_peaks=song_peaks)
        except Stopped:
            point = None
        if point is None or not point.loudness.within():  # a mask the song's loudness cannot be kept with
            continue
        rendered.append(point)
        if not reporter.should_stop():
            scorer.submit(point.samples if heard_as is None else heard_as(point.samples))
    return rendered


def crossfade_picks(levels: int, heard: int = CROSSFADE_HEARD) -> list[int]:
    """Indices of the crossfade's ``levels`` (music end first, image end last) to hear: ``heard`` of them spread
    evenly from the music end to the image end, the music end itself left out (its MOS is the song's)."""
    if levels < 2 or heard <= 0:
        return []
    return sorted({int(i) for i in np.linspace(0, levels - 1, heard + 1).round()} - {0})


def crossfade_candidate(problem: HidingProblem, level: float, visual: float, audio: float) -> Candidate:
    """The uniform crossfade at blend ``level`` (0 the music, 1 the picture) as a candidate: a constant mask at the
    run's matched picture level (as the optimiser measured it: ``SteppableOptimiser._measure_crossfade``)."""
    level = float(np.clip(level, 1e-13, 1 - 1e-13))
    logit = float(np.clip(math.log(level / (1 - level)), -ANCHOR_LOGIT, ANCHOR_LOGIT))
    return Candidate(
        np.full(problem.settings.mask_shape, logit, dtype=np.float32),
        float(visual),
        float(audio),
        "crossfade",
        level_db=problem.matched_levels,
    )


def render_crossfade(
    renderer: PointRenderer,
    candidates: list[Candidate],
    song: SongLoudness,
    limiter: Limiter,
    scorer: Scorer,
    reporter: Reporter,
    song_peaks: np.ndarray | None = None,
    heard_as: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[bool]:
    """Each crossfade candidate rendered as a point's file is (``fit_loudness``: the song's loudness by a makeup gain,
    its peaks under the limiter's ceiling) and handed to ``scorer`` to be heard; for each, whether it was handed in
    (not when the song's loudness cannot be kept with it, nor once ``reporter.should_stop()``). The files are not
    kept: only their MOS is (the manifest's ``crossfade.mos``), beside the visual loss the optimiser measured for the
    level (a makeup gain does not change what a viewer shows, and the limiter changed it by at most 0.008 in 1 - SSIM
    on the bundled sample), so the files are not scored again."""
    submitted = []
    for n, candidate in enumerate(candidates):
        if reporter.should_stop():
            submitted.extend([False] * (len(candidates) - n))
            break
        reporter.progress(
            n / len(candidates),
            f"rendering the crossfade at a level of {n + 1}/{len(candidates)} (the reference to compare by ear)",
            Status("rendering", n + 1, len(candidates), "crossfade level"),
        )
        try:
            point = fit_loudness(
                renderer, candidate, song, limiter, reporter.should_stop, song_peaks=song_peaks, rescore=False
            )
        except Stopped:
            point = None
        ok = point is not None and point.loudness.within() and not reporter.should_stop()
        if ok:
            scorer.submit(point.samples if heard_as is None else heard_as(point.samples))
        submitted.append(ok)
    return submitted
