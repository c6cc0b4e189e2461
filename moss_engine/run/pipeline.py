"""The engine's top-level job: settings in, a finished front (losses, masks, audio) out; the CLI and app call it."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from moss_engine.device import describe, resolve_device
from moss_engine.dsp.limiter import Limiter, peak_envelope
from moss_engine.dsp.loudness import SongLoudness
from moss_engine.dsp.masks import interpolated_logits
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.dsp.target import Placement
from moss_engine.errors import MossError, MossInputError
from moss_engine.io.audio import AudioClip, load_audio, sha256_file
from moss_engine.io.codec import CODECS
from moss_engine.io.image import LoadedImage, load_image
from moss_engine.optimise.base import Candidate, OptimisationResult
from moss_engine.optimise.coarse import optimise_coarse_to_fine
from moss_engine.optimise.front import Anchors, alphas, hypervolume, hypervolume_2d, nondominated, pick_spread, thin_out
from moss_engine.optimise.nsga2 import Nsga2Optimiser
from moss_engine.optimise.stch import StchOptimiser
from moss_engine.reporting import NOTICE_BAND, NOTICE_CODEC, NullReporter, Reporter, SpanReporter, Status, Stopped
from moss_engine.run.band import choose_band
from moss_engine.run.codec_ssim import codec_ssim_of_result, per_point
from moss_engine.run.front_audio import (
    CROSSFADE_HEARD,
    crossfade_candidate,
    crossfade_picks,
    image_end_curve,
    render_chosen,
    render_crossfade,
)
from moss_engine.run.listening import SAME_AS_SONG_MOS, Listener, Scorer, available, distance_of_mos
from moss_engine.run.progress_plan import finishing_split, stage_spans
from moss_engine.run.publish import PublishedEars, check_publish_band, prepare_publish, published_figures
from moss_engine.settings import RunSettings, check_song_band

#: Front points closer than this (as a share of the front's extent in each loss) count as one.
MIN_POINT_DISTANCE = 0.02
#: The front is chosen by ear (Zimtohrli's MOS) from up to this many times the asked points: the candidates the
#: optimiser's objectives keep are rendered and heard, and the points kept are those no other beats on both what a
#: viewer shows and what a listener hears.
EAR_POOL_FACTOR = 2
#: Two points whose MOS differ by at most this much and whose visual losses (1 - SSIM) by at most
#: ``SAME_VISUAL`` look and sound the same: they count once.
SAME_MOS = 0.05
SAME_VISUAL = 0.02
#: Phase-refined candidates keep their rendered audio up to this much in all, so that those on the front are not
#: refined (16 Griffin-Lim iterations each) a second time to be written.
KEPT_AUDIO_BYTES = 256 * 1024**2


@dataclass(frozen=True)
class FrontPoint:
    """One point of the finished front.

    Attributes:
        visual, audio: its losses (``audio_loss`` is the optimiser's audio objective).
        alpha: how far along the front (0 the music, 1 the image end).
        logits: its mask logits; with ``level_db``, ``phase_iterations`` and the run's limiter they rebuild its audio
            exactly.
        samples: (channels, samples) its audio as written (limited).
        kind: where it came from (``music``, ``image``, ``optimised``, ``…+phase``).
        level_db: the picture's level (``picture_level_db``, DESIGN.md "Levels"): a number, or a curve over the
            placement's time (``HidingProblem.level_knots`` values).
        limiter_db: the limiter's deepest gain change in it (0: none; DESIGN.md "Output level (moss-run/3)"); a
            moss-run/2 folder's whole-point ``gain_db`` reads as this.
        makeup_db: the gain (dB, >= 0) that brought the point up to the song's loudness, a number or a curve on the
            level's knots (``PointRenderer.makeup_gain``; 0: none).
        loudness_lu: integrated loudness change of the file against the song (BS.1770); None when unmeasured (a
            moss-run/1 folder).
        mos: how like the song the file sounds (Zimtohrli's MOS, 1-5); None when not measured.
        codec_ssim: the SSIM a viewer shows of the file after each publishing codec, by manifest key
            (``{"mp3_128": 0.55, "aac_128": 0.54, "opus_96": 0.52}``, ``measure_codecs``); a codec not measured is
            left out (empty: none measured, a cancelled run or an older folder).
        codec_mos: a publish run's (``--publish``): how like the song a listener hears the file after that codec
            (Zimtohrli's MOS of the decoded file against the song as written), by manifest key; empty otherwise.
    """

    visual: float
    audio: float
    alpha: float
    logits: np.ndarray
    samples: np.ndarray
    kind: str
    phase_iterations: int = 0
    level_db: float | np.ndarray = 0.0
    limiter_db: float = 0.0
    makeup_db: float | np.ndarray = 0.0
    loudness_lu: float | None = None
    mos: float | None = None
    codec_ssim: dict[str, float] = field(default_factory=dict)
    codec_mos: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """Everything a run folder holds, in memory: ``reference`` is the song's segment as decoded, every point's
    audio is a finished version of the song (its loudness, its peaks under ``limiter``'s ceiling); ``limiter`` is
    None for a reopened folder written before moss-run/3."""

    settings: RunSettings
    device: str
    sample_rate: int
    start_s: float
    duration_s: float
    image_sha256: str
    audio_sha256: str
    placement: Placement
    reference: np.ndarray
    points: list[FrontPoint]
    anchors: Anchors
    hypervolume: float
    crossfade_visual: np.ndarray
    crossfade_audio: np.ndarray
    optimisation: OptimisationResult
    notices: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)  # more manifest keys (e.g. "blend")
    limiter: Limiter | None = None
    #: The uniform crossfade by ear: Zimtohrli's MOS of each of its levels (aligned with ``crossfade_visual``),
    #: rendered as the points are (the song's loudness, the limiter); None at a level not heard. None as a whole: not
    #: recorded (a folder written before the manifest's ``crossfade.mos``).
    crossfade_mos: tuple[float | None, ...] | None = None

    @property
    def channels(self) -> int:
        return int(self.reference.shape[0])


#: A segment whose peak stays below this (dBFS) is silence: no music to hide a picture in.
SILENT_DBFS = -80.0
#: A picture whose visible luminance (after --invert) stays below this is "black all over".
BLACK_LUMINANCE = 0.02


def load_inputs(settings: RunSettings) -> tuple[AudioClip, LoadedImage]:
    """Decode the song's segment at the run's rate and the picture (``MossInputError`` on bad files).

    Inputs that make the front meaningless are refused: a fully transparent picture (nothing to show), one smaller
    than ``MIN_PICTURE_PX`` on a side, a silent segment (nothing to hide it in: every mask would score the same and the
    hypervolume would read as perfect), a segment shorter than ``MIN_SEGMENT_S`` and a band asked for above the song's
    own Nyquist frequency (``settings.check_song_band``) or above what the codec of ``--publish`` keeps
    (``publish.check_publish_band``). A picture black all over runs, with a notice: black is the
    quietest level, so it barely shows. A song shorter than the segment asked for gives what it has, with a notice.
    """
    image = load_image(settings.image)
    visible = image.alpha > 0
    if not visible.any():
        raise MossInputError(
            "the picture is fully transparent: there is nothing to show (transparent parts leave the music as it is)",
            path=settings.image,
        )
    clip = load_audio(
        settings.audio, sample_rate=settings.sample_rate, start_s=settings.start_s, duration_s=settings.duration_s
    )
    check_song_band(settings, clip.source_rate)
    check_publish_band(settings, clip.samples.shape[0])
    peak = float(np.max(np.abs(clip.samples))) if clip.samples.size else 0.0
    if peak < 10 ** (SILENT_DBFS / 20):
        end = clip.start_s + clip.samples.shape[-1] / clip.sample_rate
        raise MossInputError(
            f"the segment from {clip.start_s:g} s to {end:g} s is silent: there is no music to hide "
            "a picture in; choose another part of the song (--start) or another song",
            path=settings.audio,
        )
    luminance = image.luminance[visible]
    if float((1.0 - luminance if settings.invert else luminance).max()) < BLACK_LUMINANCE:
        note = (
            f"{image.path.name}: the picture is black all over{' once inverted' if settings.invert else ''}; "
            f"black is the quietest level, so it will barely show "
            f"({'drop --invert' if settings.invert else '--invert'} draws it in sound)"
        )
        clip = dataclasses.replace(clip, notices=(*clip.notices, note))
    return clip, image


def select_front(candidates: list[Candidate], points: int) -> tuple[list[int], np.ndarray]:
    """Indices of the candidates on the front (at most ``points``, both ends kept, ordered by alpha) and their alphas.

    The music end is the all-music mask; the image end is the candidate with the lowest visual loss (DESIGN.md
    "The two ends"). A dominated candidate, the all-image mask among them, leaves the front, and so does one within
    ``MIN_POINT_DISTANCE`` (of the front's extent) of its neighbour: two points that look and sound the same.
    """
    losses = np.array([[c.visual, c.audio] for c in candidates])
    keep = nondominated(losses)
    keep = keep[np.argsort(-losses[keep, 0], kind="stable")]  # music end (highest visual loss) first
    music = next(i for i, c in enumerate(candidates) if c.kind == "music")
    if music not in keep:  # it can only drop out by a tie; the contract wants it as the music end
        keep = np.concatenate([[music], keep])
    scaled = losses[keep] / np.maximum(np.ptp(losses[keep], axis=0), 1e-12)
    keep = keep[thin_out(scaled, MIN_POINT_DISTANCE)]
    keep = keep[pick_spread(losses[keep] / np.maximum(np.ptp(losses[keep], axis=0), 1e-12), points)]
    v_music, v_image = candidates[music].visual, float(losses[:, 0].min())
    return [int(i) for i in keep], alphas(losses[keep, 0], v_music, v_image)


def select_by_ear(visual: np.ndarray, mos: np.ndarray, music: int, points: int) -> list[int]:
    """Indices of the rendered points to keep (at most ``points``, the music end first, by falling visual loss).

    A point stays if no other both shows the picture better (lower visual loss) and sounds more like the song (higher
    MOS) or as well; of points a listener and a viewer cannot tell apart (MOS within ``SAME_MOS``, visual loss within
    ``SAME_VISUAL`` of the one kept before them) the one that shows the picture better stays; the image end (the
    lowest visual loss) always stays, and of the rest those that add the most hypervolume by ear and eye (the area of
    the front on visual loss and Zimtohrli's distance) are kept: the front a listener and a viewer would choose.
    """
    keep = nondominated(np.stack([visual, -mos], axis=1)).tolist()
    keep = sorted({*keep, music}, key=lambda i: (-visual[i], -mos[i]))
    kept = [keep[0]]
    for i in keep[1:]:
        last = kept[-1]
        if last != music and abs(mos[i] - mos[last]) <= SAME_MOS and abs(visual[i] - visual[last]) <= SAME_VISUAL:
            kept[-1] = i  # the same to eye and ear: keep the one that shows the picture better
        else:
            kept.append(i)
    if len(kept) <= points:
        return kept
    # the points that cover the most of the front by ear and eye: greedy hypervolume on (visual loss, Zimtohrli's
    # distance), both scaled to [0, 1] over the kept points, reference (1.1, 1.1), both ends always in
    scaled = np.stack([visual[kept], distance_of_mos(mos[kept])], axis=1)
    scaled = (scaled - scaled.min(axis=0)) / np.maximum(np.ptp(scaled, axis=0), 1e-12)
    chosen = [0, len(kept) - 1]
    while len(chosen) < points:
        gains = {i: hypervolume_2d(scaled[chosen + [i]]) for i in range(len(kept)) if i not in chosen}
        chosen.append(max(gains, key=gains.get))
    return [kept[i] for i in sorted(chosen)]


def in_between(
    renderer: PointRenderer, pool: list[Candidate], count: int, reporter: Reporter | None = None
) -> list[Candidate]:
    """Up to ``count`` candidates halfway between neighbours of the pool where they are furthest apart on the
    objectives' trade-off (both losses scaled to the pool's range): the mask halfway between theirs, at the level
    halfway between theirs, phase-refined if both are; rendered and scored.

    The front by ear is chosen among candidates a listener hears; where neighbours are far apart, the one between
    them often covers what neither does.
    """
    ordered = sorted(pool, key=lambda c: -c.visual)
    if len(ordered) < 2 or count <= 0:
        return []
    losses = np.array([[c.visual, c.audio] for c in ordered])
    scaled = losses / np.maximum(np.ptp(losses, axis=0), 1e-12)
    gaps = np.linalg.norm(np.diff(scaled, axis=0), axis=1)
    between, kept_bytes = [], 0
    todo = min(count, len(gaps))
    for n, i in enumerate(sorted(np.argsort(-gaps)[:count].tolist())):
        if reporter is not None:
            if reporter.should_stop():
                break
            reporter.progress(
                n / todo,
                f"trying a point between neighbours ({n + 1} of {todo})",
                Status("between", n + 1, todo, "point"),
            )
        first, second = ordered[i], ordered[i + 1]
        logits = interpolated_logits(first.logits, second.logits, 0.5)
        level = 0.5 * (first.level_db + second.level_db)
        iterations = min(first.phase_iterations, second.phase_iterations)
        try:
            samples, (v, a, x) = renderer.render_and_score_point(logits, level, iterations)
        except Stopped:  # cancelled within its phase refinement (the renderer's ``should_stop``)
            break
        keep = kept_bytes + samples.nbytes <= KEPT_AUDIO_BYTES // 4  # else rendered again when written
        kept_bytes += samples.nbytes if keep else 0
        between.append(Candidate(logits, v, a, "between", iterations, level, x, samples if keep else None))
    return between


def refine_phases(
    renderer: PointRenderer, candidates: list[Candidate], iterations: int, reporter: Reporter | None = None
) -> list[Candidate]:
    """The phase-refined twin of every candidate but the music end, scored with the same objectives.

    Refinement keeps the blended magnitudes and makes the spectrogram more consistent, so a viewer shows the
    picture better at nearly the same audio loss (measured: the all-image mask's visual loss 0.10 -> 0.05 on the
    portrait in the orchestral piece). Both twins stay candidates; the front keeps whichever is not dominated.
    """
    twins = []
    todo = [c for c in candidates if c.kind != "music" and c.phase_iterations == 0]
    kept_bytes = 0
    for n, c in enumerate(todo):
        if reporter is not None:
            if reporter.should_stop():
                break
            reporter.progress(
                n / len(todo),
                f"refining the phase of point {n + 1}/{len(todo)}",
                Status("refining", n + 1, len(todo), "point"),
            )
        try:
            samples, (v, a, x) = renderer.render_and_score_point(c.logits, c.level_db, iterations)
        except Stopped:  # cancelled within its Griffin-Lim iterations (the renderer's ``should_stop``)
            break
        keep = kept_bytes + samples.nbytes <= KEPT_AUDIO_BYTES  # the front's twins need not refine again
        kept_bytes += samples.nbytes if keep else 0
        twins.append(Candidate(c.logits, v, a, f"{c.kind}+phase", iterations, c.level_db, x, samples if keep else None))
    return twins


def compute_front(
    settings: RunSettings,
    reporter: Reporter | None = None,
    inputs: tuple[AudioClip, LoadedImage] | None = None,
    listen_workers: int = 1,
) -> RunResult:
    """Load the inputs (unless given), optimise, pick the front and render every point's audio.

    Every point of the front is then measured after MP3 128, AAC 128 and Opus 96 (``measure_codecs``).

    ``listen_workers`` > 1 hears the points (their MOS, ``listening.Scorer``) in that many worker processes. They are
    started with multiprocessing's "spawn", which imports the caller's main module again in each: the ``moss`` command
    and the app pass ``listening.default_workers()``; a script of one's own may do so too if its work runs under
    ``if __name__ == "__main__":``.

    The reporter's fraction grows about evenly with time over all the stages (``progress_plan.stage_spans``). A
    cancel (``reporter.should_stop``) takes effect within about a mask pass in every stage (the points' renderer asks
    it between phase-refinement iterations too): a cancelled run skips refinement, the points between neighbours and
    listening and the codecs, and keeps the best front so far (``assemble_result``).
    """
    started = time.perf_counter()
    reporter = reporter or NullReporter()
    by_ear = available()
    spans = stage_spans(settings, by_ear)
    device = resolve_device(settings.device)
    clip, image = inputs if inputs is not None else load_inputs(settings)
    settings, band_notes = choose_band(settings, clip, image, SpanReporter(reporter, 0.0, 0.0))
    for note in band_notes:
        reporter.notice(NOTICE_BAND, note)
    clip = dataclasses.replace(clip, notices=(*clip.notices, *band_notes))
    problem = HidingProblem(clip, image, ProblemSettings.from_run(settings)).to(device)
    renderer = PointRenderer(problem, should_stop=reporter.should_stop)
    problem.adopt_level_curve(image_end_curve(renderer, clip.samples))
    ears, publish_record = prepare_publish(renderer, clip, settings, reporter)
    prepared = time.perf_counter()
    optimising = SpanReporter(reporter, *spans["optimising"])
    if settings.algorithm == "stch" and settings.coarse_steps > 0 and settings.steps > 1:
        result = optimise_coarse_to_fine(problem, clip, image, settings, optimising)
    else:
        optimiser = (Nsga2Optimiser if settings.algorithm == "nsga2" else StchOptimiser)(problem, settings, optimising)
        result = optimiser.run()
    optimised = time.perf_counter()

    candidates = result.candidates
    if settings.phase_iterations > 0 and not result.cancelled:
        candidates = candidates + refine_phases(
            renderer, candidates, settings.phase_iterations, SpanReporter(reporter, *spans["refining"])
        )
    refined = time.perf_counter()

    stopped = result.cancelled or reporter.should_stop()  # no pool to hear: the objectives' front
    asked = settings.points * (EAR_POOL_FACTOR if by_ear else 1)
    chosen, _ = select_front(candidates, settings.points if stopped else asked)
    pool = [candidates[i] for i in chosen]
    if by_ear and not stopped:
        pool = pool + in_between(renderer, pool, settings.points, SpanReporter(reporter, *spans["between"]))
    run = assemble_result(
        settings,
        device,
        clip,
        renderer,
        result,
        pool,
        {
            "prepare_s": prepared - started,
            "optimise_s": optimised - prepared,
            "phase_s": refined - optimised,
            "between_s": time.perf_counter() - refined,
        },
        SpanReporter(reporter, *spans["finishing"]),
        listen_workers,
        CROSSFADE_HEARD,
        ears,
    )
    if publish_record is not None:
        run = dataclasses.replace(run, extra={**run.extra, "publish": publish_record})
    return measure_codecs(run, SpanReporter(reporter, *spans["codecs"]))


def measure_codecs(run: RunResult, reporter: Reporter | None = None) -> RunResult:
    """``run`` with every point's SSIM after MP3 128, AAC 128 and Opus 96 (``FrontPoint.codec_ssim``, the manifest's
    ``points[].codec_ssim``): the SSIM a viewer shows of the point's file once encoded and decoded by that codec, as
    ``../shared/tools/codec_survival.py`` defines it (``run.codec_ssim``), in threads (ffmpeg's processes, one per
    core), with its own stage ("codecs") in the progress.

    A run cancelled before (``optimisation.cancelled``) is returned as it is; a cancel meanwhile ends ffmpeg at once
    and the run is returned cancelled, with no figure. Where ffmpeg fails for a codec (or the picture can no longer
    be read), the run still finishes: that codec's figures are left out, and a ``NOTICE_CODEC`` notice (also in
    ``notices``) says so in one line.
    """
    reporter = reporter or NullReporter()
    if run.optimisation.cancelled or not run.points:
        return run
    started = time.perf_counter()
    todo = [c for c in CODECS.values() if not all(c.key in p.codec_ssim for p in run.points)]
    if not todo:
        return run
    total = len(run.points) * len(todo)
    lock, shown = threading.Lock(), [0]

    def progress(done: int, of: int) -> None:
        with lock:  # from the worker threads: said in order, never back
            if done > shown[0]:
                shown[0] = done
                line = f"measuring the points after MP3, AAC and Opus: {done} of {of}"
                reporter.progress(done / of, line, Status("codecs", done, of, "encoding"))

    failures: dict[str, str] = {}

    def failed(key: str, error: MossError) -> None:
        with lock:
            failures[key] = str(error)

    reporter.progress(0.0, "measuring the points after MP3, AAC and Opus", Status("codecs", 0, total, "encoding"))
    try:
        figures = codec_ssim_of_result(
            run, codecs=todo, should_stop=reporter.should_stop, progress=progress, failed=failed
        )
    except MossError as exc:  # the picture's file (read again as the viewer's reference) is gone or broken
        figures, failures = {}, {c.key: str(exc) for c in todo}
    timings = {**run.timings, "codecs_s": time.perf_counter() - started}
    if reporter.should_stop():
        return dataclasses.replace(
            run, optimisation=dataclasses.replace(run.optimisation, cancelled=True), timings=timings
        )
    said = {}
    for key in (c.key for c in todo):  # a line per distinct failure (ffmpeg missing fails every codec the same way)
        if key in failures:
            said.setdefault(failures[key], []).append(CODECS[key].label)
    notes = tuple(f"the picture after {' and '.join(labels)} is not measured: {why}" for why, labels in said.items())
    for note in notes:
        reporter.notice(NOTICE_CODEC, note)
    kept = {key: values for key, values in figures.items() if key not in failures}
    own = per_point(kept) if kept else [{} for _ in run.points]  # every codec failed: no figure for any point
    points = [dataclasses.replace(p, codec_ssim={**p.codec_ssim, **o}) for p, o in zip(run.points, own, strict=True)]
    return dataclasses.replace(run, points=points, notices=(*run.notices, *notes), timings=timings)


def assemble_result(
    settings: RunSettings,
    device: torch.device,
    clip: AudioClip,
    renderer: PointRenderer,
    result: OptimisationResult,
    chosen: list[Candidate],
    timings: dict[str, float],
    reporter: Reporter | None = None,
    listen_workers: int = 1,
    hear_crossfade: int = 0,
    ears: PublishedEars | None = None,
) -> RunResult:
    """Render the chosen candidates as files (each at the song's loudness, its peaks under the limiter's ceiling),
    hear them, choose the front by ear, order it by alpha and package everything (DESIGN.md "Output level
    (moss-run/3)").

    ``hear_crossfade`` > 0: the uniform crossfade is also rendered as the points are and heard at that many of its
    levels (``front_audio.crossfade_picks``), by the same worker processes after the points, for the front's
    reference line by ear (``RunResult.crossfade_mos``); the image end's level is not rendered again when the
    all-image mask is among the points (it is the same file). A cancelled run, or one without the model, hears none.

    ``ears`` (a publish run, ``publish.PublishedEars``): every file (the points, the crossfade's levels and the music
    end) is heard and seen after the codec, and the front is chosen on those figures (``FrontPoint.codec_ssim`` and
    ``codec_mos``); the points kept are then heard as written too (``mos``, the contract's).
    """
    started = time.perf_counter()
    reporter = reporter or NullReporter()
    problem = renderer.problem
    reference = np.ascontiguousarray(clip.samples, dtype=np.float32)
    song = SongLoudness(reference, clip.sample_rate)
    limiter = Limiter.for_song(reference)
    listener = Listener(reference, clip.sample_rate, (problem.placement.t0_s, problem.placement.t1_s))
    rendering = finishing_split(listener.available)
    levels = result.crossfade_levels
    picks = crossfade_picks(len(levels), hear_crossfade) if listener.available and not result.cancelled else []
    # the rendering span, shared by the points and the crossfade's levels by their count
    points_share = rendering * len(chosen) / max(1, len(chosen) + len(picks))
    # the worker processes that listen start now, and hear each point while the next one renders
    workers = listen_workers if len(chosen) > 2 and not reporter.should_stop() else 1
    with Scorer(listener, workers) as scorer:
        with _threads(1 if workers > 1 and problem.device.type == "cpu" else torch.get_num_threads()):
            heard_as = None if ears is None else ears.heard
            rendered = render_chosen(
                renderer, chosen, song, reference, limiter, scorer, SpanReporter(reporter, 0.0, points_share), heard_as
            )
            points_heard = scorer.submitted
            image_end = next(
                (
                    i
                    for i, r in enumerate(rendered)
                    if r.candidate.kind == "image" and r.candidate.phase_iterations == 0
                ),
                None,
            )
            own = [i for i in picks if not (image_end is not None and i == len(levels) - 1)]
            submitted = (
                render_crossfade(
                    renderer,
                    [
                        crossfade_candidate(problem, levels[i], result.crossfade_visual[i], result.crossfade_audio[i])
                        for i in own
                    ],
                    song,
                    limiter,
                    scorer,
                    SpanReporter(reporter, points_share, rendering),
                    peak_envelope(reference),
                    heard_as,
                )
                if own and not reporter.should_stop()
                else [False] * len(own)
            )
            if ears is not None and not reporter.should_stop():  # the song itself after the codec: the music end
                scorer.submit(ears.heard(reference))
        if listener.available and not reporter.should_stop():  # said at once: the first point may be seconds away
            reporter.progress(
                rendering,
                "listening to the points (Zimtohrli)",
                Status("listening", 0, max(1, scorer.submitted), "point"),
            )
        heard = scorer.results(
            reporter.should_stop,
            lambda done, total: reporter.progress(
                rendering + (1 - rendering) * done / total,
                f"listening to the points (Zimtohrli): {done} of {total}",
                Status("listening", done, total, "point"),
            ),
        )
        cancelled = result.cancelled or reporter.should_stop()
        published = None
        if ears is not None and not cancelled and listener.available and len(heard) == scorer.submitted:
            kinds = [r.candidate.kind for r in rendered]
            published = published_figures(kinds, heard, ears, points_heard)
        if published is not None:  # the front as a viewer and a listener get it after the codec
            published.keep = select_by_ear(
                1.0 - np.array(published.ssim), np.array(published.mos), kinds.index("music"), settings.points
            )
            before = scorer.submitted  # the points kept, heard as written too (the contract's ``mos``)
            for i in published.keep:
                if kinds[i] != "music":
                    scorer.submit(rendered[i].samples)
            published.heard_written(scorer.results(reporter.should_stop, start=before), kinds)
            cancelled = reporter.should_stop()
    last = "listening" if listener.available and not cancelled else "rendering"  # the stage never goes back
    reporter.progress(1.0, f"{len(rendered)} points rendered", Status(last, len(chosen), len(chosen), "point"))
    # a cancelled run's points are not heard (or not all): none has a MOS
    points_mos, crossfade_heard = iter(heard[:points_heard]), iter(heard[points_heard:])
    mos = [
        SAME_AS_SONG_MOS if r.candidate.kind == "music" else (None if cancelled else next(points_mos)) for r in rendered
    ]
    crossfade_mos: list[float | None] = [None] * len(levels)
    if picks and not cancelled:
        # level 0 is the all-music mask: the song itself (after the codec, for a publish run)
        crossfade_mos[0] = SAME_AS_SONG_MOS if published is None else published.mos[kinds.index("music")]
        for i, sent in zip(own, submitted, strict=True):
            crossfade_mos[i] = next(crossfade_heard) if sent else None
        if image_end is not None and len(levels) - 1 in picks:
            crossfade_mos[-1] = mos[image_end]
    losses = np.array([[r.candidate.visual, r.candidate.audio] for r in rendered])
    music = next(i for i, r in enumerate(rendered) if r.candidate.kind == "music")
    if published is not None and not cancelled:
        keep = published.keep
        mos = [published.written_mos.get(i, m) for i, m in enumerate(mos)]
    elif all(m is not None for m in mos):
        keep = select_by_ear(losses[:, 0], np.array(mos, dtype=np.float64), music, settings.points)
    else:  # no ear on this platform (or the listening was cancelled): the objectives' front
        # a fitted level can move a point along the front: order again, and drop any it now dominates
        keep = nondominated(losses)
        keep = sorted({*keep.tolist(), music}, key=lambda i: -losses[i, 0])
        keep = [
            keep[i]
            for i in pick_spread(losses[keep] / np.maximum(np.ptp(losses[keep], axis=0), 1e-12), settings.points)
        ]
    point_alphas = alphas(losses[keep, 0], losses[music, 0], float(losses[keep, 0].min()))
    points = []
    for i, a in zip(keep, point_alphas, strict=True):
        r = rendered[i]
        c = r.candidate
        points.append(
            FrontPoint(
                visual=c.visual,
                audio=c.audio,
                alpha=float(a),
                logits=c.logits.astype(np.float32),
                samples=r.samples,
                kind=c.kind,
                phase_iterations=c.phase_iterations,
                level_db=c.level_db,
                limiter_db=r.limiter_db,
                makeup_db=r.makeup_db,
                loudness_lu=float(r.loudness.lu),
                mos=mos[i],
                codec_ssim={} if published is None else {ears.codec.key: published.ssim[i]},
                codec_mos={} if published is None else {ears.codec.key: published.mos[i]},
            )
        )
    front_norm = result.anchors.normalise(np.array([p.visual for p in points]), np.array([p.audio for p in points]))
    return RunResult(
        settings=settings,
        device=describe(device),
        sample_rate=clip.sample_rate,
        start_s=clip.start_s,
        duration_s=clip.duration_s,
        image_sha256=sha256_file(settings.image),
        audio_sha256=sha256_file(settings.audio),
        placement=problem.placement,
        reference=reference,
        points=points,
        anchors=result.anchors,
        hypervolume=hypervolume(front_norm),
        crossfade_visual=result.crossfade_visual,
        crossfade_audio=result.crossfade_audio,
        optimisation=dataclasses.replace(result, cancelled=cancelled),
        notices=(*clip.notices, *placement_notices(settings, problem.placement)),
        timings={**timings, "render_s": time.perf_counter() - started},
        limiter=limiter,
        crossfade_mos=tuple(crossfade_mos),
    )


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """torch's CPU threads set to ``count`` for a block: while the listening processes keep the cores busy, one
    thread renders the points faster than several that wait on each other (measured on two cores: a point's scoring
    23 ms alone, 180-250 ms with two threads beside two listening processes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def placement_notices(settings: RunSettings, placement: Placement) -> tuple[str, ...]:
    """What the run changed of the asked placement, said rather than done silently: a --time span reaching past the
    segment's end is cut there."""
    if settings.time is not None and settings.time[1] > placement.t1_s + 1e-6:
        return (
            f"--time {settings.time[0]:g}:{settings.time[1]:g} reaches past the end of the segment: the picture "
            f"spans {placement.t0_s:g}-{placement.t1_s:g} s of it",
        )
    return ()
