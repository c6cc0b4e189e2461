"""The engine's top-level job: settings in, a finished front (losses, masks, audio) out; the CLI and app call it."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .audio_io import AudioClip, load_audio, sha256_file
from .coarse import optimise_coarse_to_fine
from .device import describe, resolve_device
from .errors import MossInputError
from .front import Anchors, alphas, hypervolume, nondominated, pick_spread, thin_out
from .image_io import LoadedImage, load_image
from .nsga2 import Nsga2Optimizer
from .optimizer import Candidate, OptimisationResult, StchOptimizer
from .problem import Problem
from .reporting import Reporter
from .settings import RunSettings
from .target import Placement

#: Front points closer than this (as a share of the front's extent in each loss) count as one.
MIN_POINT_DISTANCE = 0.02
#: Peak the output is brought down to when some point would clip (DESIGN.md "Output level").
OUTPUT_PEAK_DBFS = -1.0


@dataclass(frozen=True)
class FrontPoint:
    """One point of the finished front: its losses, alpha, mask logits and audio (channels, samples)."""

    visual: float
    audio: float
    alpha: float
    logits: np.ndarray
    samples: np.ndarray
    kind: str
    phase_iterations: int = 0


@dataclass(frozen=True)
class RunResult:
    """Everything a run folder holds, in memory. Audio already has ``output_gain_db`` applied."""

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
    output_gain_db: float
    crossfade_visual: np.ndarray
    crossfade_audio: np.ndarray
    optimisation: OptimisationResult
    notices: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)  # more manifest keys (e.g. "blend")

    @property
    def channels(self) -> int:
        return int(self.reference.shape[0])


#: A segment whose peak stays below this (dBFS) is silence: no music to hide a picture in.
SILENT_DBFS = -80.0
#: A picture whose visible luminance (after --invert) stays below this is "black all over".
BLACK_LUMINANCE = 0.02


def load_inputs(settings: RunSettings) -> tuple[AudioClip, LoadedImage]:
    """Decode the song's segment at the run's rate and the picture (``MossInputError`` on bad files).

    Inputs that make the front meaningless are refused: a fully transparent picture (nothing to show) and a silent
    segment (nothing to hide it in: every mask would score the same and the hypervolume would read as perfect). A
    picture black all over runs, with a notice: black is the quietest level, so it barely shows.
    """
    image = load_image(settings.image)
    visible = image.alpha > 0
    if not visible.any():
        raise MossInputError("the picture is fully transparent: there is nothing to show (transparent parts leave the "
                             "music as it is)", path=settings.image)
    clip = load_audio(settings.audio, sample_rate=settings.sample_rate, start_s=settings.start_s,
                      duration_s=settings.duration_s)
    peak = float(np.max(np.abs(clip.samples))) if clip.samples.size else 0.0
    if peak < 10 ** (SILENT_DBFS / 20):
        end = clip.start_s + clip.samples.shape[-1] / clip.sample_rate
        raise MossInputError(f"the segment from {clip.start_s:g} s to {end:g} s is silent: there is no music to hide "
                             "a picture in; choose another part of the song (--start) or another song",
                             path=settings.audio)
    luminance = image.luminance[visible]
    if float((1.0 - luminance if settings.invert else luminance).max()) < BLACK_LUMINANCE:
        note = (f"{image.path.name}: the picture is black all over{' once inverted' if settings.invert else ''}; "
                f"black is the quietest level, so it will barely show "
                f"({'drop --invert' if settings.invert else '--invert'} draws it in sound)")
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


def render_candidate(problem: Problem, candidate: Candidate) -> np.ndarray:
    """(channels, samples) audio of a candidate: its mask, with its phase refinement if it has one."""
    with torch.no_grad():
        logits = torch.as_tensor(candidate.logits, device=problem.device)[None]
        mask = problem.masks(logits)[0]
        rotation = problem.phase_rotation(mask, candidate.phase_iterations) if candidate.phase_iterations else None
        return problem.render(mask, rotation)


def refine_phases(problem: Problem, candidates: list[Candidate], iterations: int,
                  reporter: Reporter | None = None) -> list[Candidate]:
    """The phase-refined twin of every candidate but the music end, scored with the same objectives.

    Refinement keeps the blended magnitudes and makes the spectrogram more consistent, so a viewer shows the
    picture better at nearly the same audio loss (measured: the all-image mask's visual loss 0.10 -> 0.05 on the
    portrait in the orchestral piece). Both twins stay candidates; the front keeps whichever is not dominated.
    """
    twins = []
    todo = [c for c in candidates if c.kind != "music" and c.phase_iterations == 0]
    for n, c in enumerate(todo):
        if reporter is not None:
            if reporter.should_stop():
                break
            reporter.progress(1.0, f"refining the phase of point {n + 1}/{len(todo)}")
        with torch.no_grad():
            mask = problem.masks(torch.as_tensor(c.logits, device=problem.device)[None])[0]
            v, a = problem.objectives_with_rotation(mask, problem.phase_rotation(mask, iterations))
        twins.append(Candidate(c.logits, v, a, f"{c.kind}+phase", iterations))
    return twins


def output_gain(arrays: list[np.ndarray]) -> float:
    """The one gain (linear) for the whole run: 1, or what brings the highest peak to -1 dBFS if any would clip."""
    peak = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    if peak <= 1.0:
        return 1.0
    return 10 ** (OUTPUT_PEAK_DBFS / 20) / peak


def compute_front(settings: RunSettings, reporter: Reporter | None = None,
                  inputs: tuple[AudioClip, LoadedImage] | None = None) -> RunResult:
    """Load the inputs (unless given), optimise, pick the front and render every point's audio."""
    started = time.perf_counter()
    device = resolve_device(settings.device)
    clip, image = inputs if inputs is not None else load_inputs(settings)
    problem = Problem(clip, image, settings).to(device)
    prepared = time.perf_counter()
    if settings.algorithm == "stch" and settings.coarse_steps > 0 and settings.steps > 1:
        result = optimise_coarse_to_fine(problem, clip, image, settings, reporter)
    else:
        optimiser = (Nsga2Optimizer if settings.algorithm == "nsga2" else StchOptimizer)(problem, settings, reporter)
        result = optimiser.run()
    optimised = time.perf_counter()

    candidates = result.candidates
    if settings.phase_iterations > 0 and not result.cancelled:
        candidates = candidates + refine_phases(problem, candidates, settings.phase_iterations, reporter)
    refined = time.perf_counter()

    chosen, point_alphas = select_front(candidates, settings.points)
    return assemble_result(settings, device, clip, problem, result, [candidates[i] for i in chosen], point_alphas,
                           {"prepare_s": prepared - started, "optimise_s": optimised - prepared,
                            "phase_s": refined - optimised})


def assemble_result(settings: RunSettings, device: torch.device, clip: AudioClip, problem: Problem,
                    result: OptimisationResult, chosen: list[Candidate], point_alphas: np.ndarray,
                    timings: dict[str, float]) -> RunResult:
    """Render the chosen candidates (ordered by alpha), apply the run's one output gain, and package everything."""
    started = time.perf_counter()
    rendered = [render_candidate(problem, c) for c in chosen]
    reference = np.ascontiguousarray(clip.samples, dtype=np.float32)
    gain = output_gain([reference, *rendered])
    points = [FrontPoint(visual=c.visual, audio=c.audio, alpha=float(a), logits=c.logits.astype(np.float32),
                         samples=r * np.float32(gain), kind=c.kind, phase_iterations=c.phase_iterations)
              for c, a, r in zip(chosen, point_alphas, rendered, strict=True)]
    front_norm = result.anchors.normalise(np.array([p.visual for p in points]), np.array([p.audio for p in points]))
    return RunResult(
        settings=settings, device=describe(device), sample_rate=clip.sample_rate, start_s=clip.start_s,
        duration_s=clip.duration_s, image_sha256=sha256_file(settings.image),
        audio_sha256=sha256_file(settings.audio), placement=problem.placement, reference=reference * np.float32(gain),
        points=points, anchors=result.anchors, hypervolume=hypervolume(front_norm),
        output_gain_db=float(20 * np.log10(gain)), crossfade_visual=result.crossfade_visual,
        crossfade_audio=result.crossfade_audio, optimisation=result,
        notices=(*clip.notices, *placement_notices(settings, problem.placement)),
        timings={**timings, "render_s": time.perf_counter() - started})


def placement_notices(settings: RunSettings, placement: Placement) -> tuple[str, ...]:
    """What the run changed of the asked placement, said rather than done silently: a --time span reaching past the
    segment's end is cut there."""
    if settings.time is not None and settings.time[1] > placement.t1_s + 1e-6:
        return (f"--time {settings.time[0]:g}:{settings.time[1]:g} reaches past the end of the segment: the picture "
                f"spans {placement.t0_s:g}-{placement.t1_s:g} s of it",)
    return ()
