"""Batched smooth-Tchebycheff optimisation of K masks at once, steppable, chunked, with early stopping."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from .front import Anchors, hypervolume_2d, nondominated
from .problem import Problem
from .reporting import FrontSnapshot, NullReporter, Reporter
from .settings import RunSettings

#: Logit of the two anchors: sigmoid(+-30) is 1 or 0 to float32 precision, and stays finite under interpolation.
ANCHOR_LOGIT = 30.0
#: Smoothing of the Tchebycheff max, in anchor-normalised units (Lin et al., "Smooth Tchebycheff Scalarization", 2024).
STCH_MU = 0.05
#: The ideal point, a little beyond the anchors so that every preference ray has room to improve.
IDEAL = (-0.2, -0.05)
#: On the CPU, one chunk holds about this many samples x masks: a fifth of a second of work on two cores, so a cancel
#: takes effect at once, and small enough to stay in cache: measured on the 2-core CPU (preview, 5 to 20 s clips),
#: chunks of 0.2 to 0.9 M samples ran fastest, and 2.6 M (six 20 s masks at once) took twice as long per mask.
#: A fixed number (not a timing) keeps a run deterministic.
CPU_SAMPLES_PER_CHUNK = 500_000
#: On the CPU the resident memory of a run exceeds what torch allocates by what glibc's heap keeps: measured with the
#: default allocator, 180 s at 44.1 kHz, one mask a chunk, 1.1 (2 masks) to 1.6 (64 masks, checkpointed) times the
#: allocation peak. The budget on the CPU bounds the resident memory, so each mask counts this much more.
CPU_ALLOCATOR_SLACK = 1.3
#: Default memory a chunk may take: on the CPU a fixed amount, on a GPU a share of what is free.
CPU_MEMORY_BYTES = 3 * 1024 ** 3
GPU_MEMORY_SHARE = 0.6
#: ... and on a GPU at most this much, so that a long clip's peak stays bounded on a large card too.
GPU_MEMORY_BYTES = 16 * 1024 ** 3
#: Crossfade levels evaluated for the baseline and the start points (at least this many).
MIN_CROSSFADE_LEVELS = 9
#: Steps before early stopping may end a run.
MIN_STEPS = 10
#: Every this many steps, the preference of the most crowded front point moves to the front's widest gap
#: (adaptive weight adjustment, as MOEA/D-AWA does), so the points spread along the whole front.
ADAPT_EVERY = 8
#: ... when the widest gap is at least this many times the crowded point's own gaps.
ADAPT_RATIO = 2.0
#: One unit of the optimised level parameter in dB: with Adam's step of about the learning rate (0.15), the picture's
#: level moves up to 1.5 dB a step, so 40 steps can take it 60 dB from where it started.
LEVEL_UNIT_DB = 10.0
#: Adam's epsilon for the level parameters: a gradient far below this (a member whose objectives do not care about its
#: level, such as the pure-visual one at the image end, where a viewer levels itself) moves the level hardly at all,
#: instead of a full step in whatever direction rounding noise points.
LEVEL_ADAM_EPS = 1e-3
#: Weight of the loudness excess (``Scores.loudness_excess``, LU^2) next to the scalarised objectives (which span
#: about 1): a point 1 LU beyond the optimiser's loudness target costs as much as the whole front's width, so the
#: loudness limits act as a constraint, not as a preference.
LOUDNESS_WEIGHT = 1.0


def preference_vectors(count: int) -> np.ndarray:
    """(count, 2) weights (visual, audio) from pure visual (1, 0) towards the audio side, evenly spread in angle.

    A Tchebycheff solution for weight (l_v, l_a) lies on the ray from the ideal point with direction (l_a, l_v), so
    even angles give rays evenly spread over the front; the pure-audio ray is the music anchor and is left out.
    """
    angles = (math.pi / 2) * np.arange(count) / count
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def weight_through(goal: np.ndarray) -> np.ndarray:
    """The unit preference (visual, audio) whose Tchebycheff ray from the ideal point passes through ``goal``
    (anchor-normalised losses)."""
    weight = 1.0 / np.maximum(np.asarray(goal, dtype=np.float64) - np.asarray(IDEAL), 1e-6)
    return weight / np.linalg.norm(weight)


def smooth_tchebycheff(normalised: Tensor, weights: Tensor, mu: float = STCH_MU) -> Tensor:
    """``mu * log sum_i exp(w_i (f_i - z_i) / mu)`` for (population, 2) losses and weights."""
    ideal = torch.tensor(IDEAL, dtype=normalised.dtype, device=normalised.device)
    return mu * torch.logsumexp(weights * (normalised - ideal) / mu, dim=-1)


@dataclass(frozen=True)
class Candidate:
    """One mask the run found and its losses. ``kind`` is ``music``, ``image``, ``crossfade`` or ``optimised``.

    ``level_db`` is the picture's level the mask blends it at (``picture_level_db``, DESIGN.md "Levels").
    ``phase_iterations`` > 0 means the audio is synthesised with that many iterations of phase refinement
    (``Problem.phase_rotation``); the losses are those of that audio. ``loudness_excess`` is the optimiser's estimate
    of how far the audio is over the song's loudness (``Scores.loudness_excess``; 0 within the limits). ``samples``,
    when not None, is that audio, (channels, samples), already rendered.
    """

    logits: np.ndarray
    visual: float
    audio: float
    kind: str
    phase_iterations: int = 0
    level_db: float = 0.0
    loudness_excess: float = 0.0
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class OptimisationResult:
    """What the optimiser hands on: every candidate, the anchors, the crossfade baseline, and how it ended."""

    candidates: list[Candidate]
    anchors: Anchors
    crossfade_levels: np.ndarray
    crossfade_visual: np.ndarray
    crossfade_audio: np.ndarray
    steps_done: int
    stopped_early: bool
    cancelled: bool
    elapsed_s: float
    chunk_size: int
    hypervolume_history: list[float]


@dataclass(frozen=True)
class ChunkPlan:
    """How the population is processed: ``size`` masks at once, and whether the STFT round trip is checkpointed.

    ``fits`` is False when even one checkpointed mask needs more than the budget: the run then goes one mask at a
    time anyway, and its peak exceeds the budget by that much (a bound below one mask's need cannot be kept).
    """

    size: int
    checkpointing: bool
    fits: bool = True


def memory_budget(device: torch.device, memory_limit_gb: float | None) -> float:
    """Bytes one chunk may take: the asked limit, or on a GPU a share of what is free (at most
    ``GPU_MEMORY_BYTES``), or ``CPU_MEMORY_BYTES``."""
    if memory_limit_gb is not None:
        return memory_limit_gb * 1024 ** 3
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return min(GPU_MEMORY_SHARE * free, GPU_MEMORY_BYTES)
    return CPU_MEMORY_BYTES


def mask_bytes(problem: Problem, checkpointed: bool = False) -> float:
    """What one mask of a chunk counts against the budget: ``Problem.bytes_per_mask`` (what torch allocates), times
    ``CPU_ALLOCATOR_SLACK`` on the CPU (what the system sees)."""
    slack = CPU_ALLOCATOR_SLACK if problem.device.type == "cpu" else 1.0
    return problem.bytes_per_mask(checkpointed) * slack


def plan_chunks(problem: Problem, population: int, memory_limit_gb: float | None) -> ChunkPlan:
    """What fits the memory budget (and on the CPU about half a second of work).

    Checkpointing costs a second forward pass, so it is used only when not even one mask fits the budget without
    it; the chunk is then sized by the checkpointed estimate. A run's peak is thus about the music's own tensors
    (linear in the clip's length, independent of the population) plus the budget.
    """
    device = problem.device
    budget = memory_budget(device, memory_limit_gb)
    chunk = int(budget // mask_bytes(problem))
    checkpointing = chunk < 1
    fits = True
    if checkpointing:
        chunk = int(budget // mask_bytes(problem, checkpointed=True))
        fits = chunk >= 1
        chunk = max(1, chunk)
    if device.type == "cpu":
        chunk = min(chunk, max(1, CPU_SAMPLES_PER_CHUNK // problem.n_samples))
    chunk = max(1, min(chunk, population))
    # as many chunks as needed, evenly filled: 64 masks with room for 55 run as 32 + 32, not 55 + 9
    chunk = -(-population // -(-population // chunk))
    return ChunkPlan(size=chunk, checkpointing=checkpointing, fits=fits)


def choose_chunk_size(problem: Problem, population: int, memory_limit_gb: float | None) -> int:
    """How many masks to process at once (``plan_chunks(...).size``)."""
    return plan_chunks(problem, population, memory_limit_gb).size


class SteppableOptimiser:
    """What every MOSS optimiser shares: the step loop, the early-stop rule, reporting and the result's packaging.

    Subclasses set ``problem``, ``settings``, ``reporter``, ``step_count``, ``cancelled``, ``stopped_early``,
    ``_started``, ``chunk_size``, the anchors and crossfade (``anchors``, ``crossfade_*``, ``_cross_logits``,
    ``hypervolume_history``, measured at ``problem.matched_level_db``: the loudness-matched crossfade) and implement
    ``next()`` and ``result()``.
    """

    unit = "step"

    @property
    def progress(self) -> float:
        return min(1.0, self.step_count / self.settings.steps)

    def has_next(self) -> bool:
        return not (self.cancelled or self.stopped_early or self.step_count >= self.settings.steps)

    def run(self) -> OptimisationResult:
        """Step until done, cancelled or converged, and return the result."""
        while self.has_next():
            self.next()
        return self.result()

    def _run_chunk(self, fn, *args):
        """Call ``fn`` and, on a GPU out-of-memory error, halve the chunk size, or at one mask a chunk turn
        checkpointing on, and report it (the caller retries)."""
        try:
            return fn(*args)
        except torch.OutOfMemoryError:
            if self.chunk_size == 1 and self.problem.checkpointing:
                raise
            if self.chunk_size > 1:
                self.chunk_size = max(1, self.chunk_size // 2)
                how = f"in chunks of {self.chunk_size}"
            else:
                self.problem.checkpointing = True
                how = "one mask at a time, recomputing the STFT round trip in the backward pass"
            if self.problem.device.type == "cuda":
                torch.cuda.empty_cache()
            self.reporter.progress(self.progress, f"out of GPU memory: retrying {how}")
            return None

    def _settled(self, history: list[float]) -> bool:
        """True when ``history`` (hypervolume per step) grew by less than ``min_improvement`` (relative) over the
        last ``patience`` steps, once ``MIN_STEPS`` are done."""
        patience = self.settings.patience
        if self.step_count < max(MIN_STEPS, patience) or len(history) <= patience:
            return False
        old, new = history[-1 - patience], history[-1]
        return new - old <= self.settings.min_improvement * max(abs(old), 1e-9)

    def _report(self, visual: np.ndarray, audio: np.ndarray, hv: float) -> None:
        """A frozen snapshot of the front and a progress line."""
        elapsed = time.perf_counter() - self._started
        self.reporter.partial(FrontSnapshot(
            step=self.step_count, steps=self.settings.steps, visual=np.array(visual), audio=np.array(audio),
            crossfade_visual=self.crossfade_visual.copy(), crossfade_audio=self.crossfade_audio.copy(),
            hypervolume=hv, elapsed_s=elapsed))
        rate = self.step_count / elapsed if elapsed > 0 else 0.0
        self.reporter.progress(self.progress, f"{self.unit} {self.step_count}/{self.settings.steps}  HV {hv:.3f}  "
                                              f"{rate:.2f} {self.unit}s/s")

    def _package(self, optimised: list[Candidate]) -> OptimisationResult:
        """Both anchors and the ``optimised`` candidates as an ``OptimisationResult``."""
        level = self.problem.matched_level_db
        cands = [Candidate(self._cross_logits[0].cpu().numpy(), self.anchors.music_visual, self.anchors.music_audio,
                           "music", level_db=level),
                 Candidate(self._cross_logits[-1].cpu().numpy(), self.anchors.image_visual, self.anchors.image_audio,
                           "image", level_db=level, loudness_excess=float(self.crossfade_excess[-1])),
                 *optimised]
        return OptimisationResult(
            candidates=cands, anchors=self.anchors, crossfade_levels=self.crossfade_levels.copy(),
            crossfade_visual=self.crossfade_visual.copy(), crossfade_audio=self.crossfade_audio.copy(),
            steps_done=self.step_count, stopped_early=self.stopped_early, cancelled=self.cancelled,
            elapsed_s=time.perf_counter() - self._started, chunk_size=self.chunk_size,
            hypervolume_history=list(self.hypervolume_history))


class StchOptimizer(SteppableOptimiser):
    """Optimises ``settings.points - 2`` masks, one per preference vector, in one batched Adam run.

    Each mask has a picture level of its own (dB, DESIGN.md "Levels"), optimised with it: it starts at
    ``problem.matched_level_db`` and moves as the objectives and the loudness limits ask (``LEVEL_UNIT_DB``). A
    member's value is its smooth Tchebycheff scalarisation plus ``LOUDNESS_WEIGHT`` times its loudness excess.

    Steppable like pymoo's ``Algorithm``: ``while opt.has_next(): opt.next()``, then ``opt.result()``. Each step
    evaluates the population in chunks (checking ``reporter.should_stop()`` between them), keeps for every preference
    the best mask seen so far, and stops early when the hypervolume of that archive has not grown by
    ``settings.min_improvement`` (relative) for ``settings.patience`` steps.

    Start points: the loudness-matched uniform crossfade is evaluated at a few levels (the comparison baseline), and
    each preference starts from the crossfade level that its own scalarisation likes best, so the run can only improve
    on it.

    Args:
        problem: the picture and song, on the run's device.
        settings: the run's settings (points, steps, seed, learning rate, patience, memory limit).
        reporter: progress, partial fronts and cancellation.
        weights: (K, 2) preference vectors (visual, audio) instead of ``preference_vectors(points - 2)``.
        start_logits: (K, *mask_shape) start points instead of the crossfade (coarse-to-fine hands its coarse result
            on this way); the archive keeps, per preference, the better of these and the crossfade start.
        start_levels: (K,) their picture levels in dB (default: the matched level).
    """

    def __init__(self, problem: Problem, settings: RunSettings, reporter: Reporter | None = None,
                 weights: np.ndarray | None = None, start_logits: Tensor | None = None,
                 start_levels: np.ndarray | None = None):
        self.problem = problem
        self.settings = settings
        self.reporter = reporter or NullReporter()
        self.population = max(1, settings.points - 2) if weights is None else len(weights)
        plan = plan_chunks(problem, max(self.population, MIN_CROSSFADE_LEVELS), settings.memory_limit_gb)
        self.chunk_size = plan.size
        problem.checkpointing = plan.checkpointing
        if not plan.fits:
            need = mask_bytes(problem, checkpointed=True) / 1024 ** 3
            have = memory_budget(problem.device, settings.memory_limit_gb) / 1024 ** 3
            self.reporter.progress(0.0, f"the memory limit ({have:.2g} GB) is below what one mask needs "
                                        f"({need:.2g} GB): running one mask at a time anyway")
        self.step_count = 0
        self.cancelled = False
        self.stopped_early = False
        self._started = time.perf_counter()
        self.hypervolume_history: list[float] = []

        self.reporter.progress(0.0, "measuring the two ends and the crossfade")
        levels = np.linspace(0.0, 1.0, max(MIN_CROSSFADE_LEVELS, self.population + 2))
        cross_logits = self._constant_logits(levels)
        cross_v, cross_a, cross_x = self.evaluate(cross_logits)
        self.crossfade_levels = levels
        self.crossfade_visual, self.crossfade_audio, self.crossfade_excess = cross_v, cross_a, cross_x
        self.anchors = Anchors(music_visual=float(cross_v[0]), music_audio=float(cross_a[0]),
                               image_visual=float(cross_v[-1]), image_audio=float(cross_a[-1]))
        self._cross_logits = cross_logits

        self.retarget(preference_vectors(self.population) if weights is None else weights, start_logits,
                      start_levels)

    def retarget(self, weights: np.ndarray, start_logits: Tensor | None = None,
                 start_levels: np.ndarray | None = None) -> None:
        """Start over with new (K, 2) preference vectors: each starts from the crossfade level it likes best.

        The anchors and the crossfade are kept (they do not depend on the preferences).
        """
        device = self.problem.device
        self.population = len(weights)
        self.step_count = 0
        self.cancelled = self.stopped_early = False
        self.weights = torch.as_tensor(np.asarray(weights), dtype=torch.float32, device=device)
        cross_norm = torch.as_tensor(self.anchors.normalise(self.crossfade_visual, self.crossfade_audio),
                                     dtype=torch.float32, device=device)
        scal = smooth_tchebycheff(cross_norm[None, :, :], self.weights[:, None, :])  # (population, levels)
        scal = scal + LOUDNESS_WEIGHT * torch.as_tensor(self.crossfade_excess, dtype=torch.float32, device=device)
        start = scal.argmin(dim=1).cpu().numpy()
        init = self._cross_logits[start].clone()
        gen = torch.Generator().manual_seed(self.settings.seed)
        init += 0.01 * torch.randn(init.shape, generator=gen).to(device)
        self.logits = init.requires_grad_(True)
        self.level_params = torch.zeros(self.population, device=device, requires_grad=True)
        self.adam = self._adam()

        self.best_scal = scal.gather(1, torch.as_tensor(start, device=device)[:, None])[:, 0].detach().cpu().numpy()
        self.best_logits = init.detach().clone()
        self.best_levels = np.full(self.population, self.problem.matched_level_db)
        self.best_visual = self.crossfade_visual[start].copy()
        self.best_audio = self.crossfade_audio[start].copy()
        self.best_excess = self.crossfade_excess[start].copy()
        if start_logits is not None:
            self._start_from(start_logits.to(device), start_levels)
        self.hypervolume_history = [self._archive_hypervolume()]
        self._emit()

    def _start_from(self, logits: Tensor, levels: np.ndarray | None) -> None:
        """Start every preference from ``logits`` (K, *mask_shape) at ``levels`` (K,) dB; the archive keeps the
        better of each and its crossfade start."""
        device = self.problem.device
        levels = np.full(len(logits), self.problem.matched_level_db) if levels is None else np.asarray(levels, float)
        v, a, x = self.evaluate(logits, levels)
        norm = torch.as_tensor(self.anchors.normalise(v, a), dtype=torch.float32, device=device)
        scal = smooth_tchebycheff(norm, self.weights).cpu().numpy() + LOUDNESS_WEIGHT * x
        self.logits = logits.detach().clone().requires_grad_(True)
        params = (levels - self.problem.matched_level_db) / LEVEL_UNIT_DB
        self.level_params = torch.as_tensor(params, dtype=torch.float32, device=device).clone().requires_grad_(True)
        self.adam = self._adam()
        better = scal < self.best_scal
        self.best_logits[torch.as_tensor(better, device=device)] = logits.detach()[torch.as_tensor(better,
                                                                                                   device=device)]
        self.best_scal[better], self.best_visual[better], self.best_audio[better] = scal[better], v[better], a[better]
        self.best_levels[better], self.best_excess[better] = levels[better], x[better]
        self.hypervolume_history = [self._archive_hypervolume()]

    def _adam(self) -> torch.optim.Adam:
        return torch.optim.Adam([{"params": [self.logits]}, {"params": [self.level_params], "eps": LEVEL_ADAM_EPS}],
                                lr=self.settings.learning_rate)

    def levels_db(self) -> Tensor:
        """(population,) the picture level of every member now, dB (differentiable in ``level_params``)."""
        return self.problem.matched_level_db + LEVEL_UNIT_DB * self.level_params

    # -- evaluation -------------------------------------------------------------------------------------------------
    def _constant_logits(self, levels: np.ndarray) -> Tensor:
        lv = torch.as_tensor(levels, dtype=torch.float32)
        logits = torch.logit(lv.clamp(1e-13, 1 - 1e-13)).clamp(-ANCHOR_LOGIT, ANCHOR_LOGIT)
        shape = self.settings.mask_shape
        return logits[:, None, None].expand(-1, *shape).contiguous().to(self.problem.device)

    @torch.no_grad()
    def evaluate(self, logits: Tensor, levels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(population, *mask_shape) logits at (population,) picture levels in dB (default: the matched level) ->
        (visual, audio, loudness excess) as float64 numpy, chunked, no gradients."""
        if levels is None:
            levels = np.full(len(logits), self.problem.matched_level_db)
        level_t = torch.as_tensor(np.asarray(levels), dtype=torch.float32, device=self.problem.device)
        out_all = np.empty((3, len(logits)))
        done = 0
        while done < len(logits):
            part = slice(done, min(len(logits), done + self.chunk_size))
            out = self._run_chunk(lambda p: self.problem.objectives(self.problem.masks(logits[p]), level_t[p]), part)
            if out is None:
                continue
            out_all[:, part] = torch.stack(tuple(out)).double().cpu().numpy()
            done = part.stop
        return out_all[0], out_all[1], out_all[2]

    # -- stepping ---------------------------------------------------------------------------------------------------
    def next(self) -> None:
        """One Adam step over the whole population (chunk by chunk); sets ``cancelled`` if asked to stop."""
        device = self.problem.device
        anchors = self.anchors
        v_span = max(anchors.music_visual - anchors.image_visual, 1e-9)
        a_span = max(anchors.image_audio - anchors.music_audio, 1e-9)
        self.adam.zero_grad(set_to_none=False)
        for param in (self.logits, self.level_params):
            if param.grad is None:
                param.grad = torch.zeros_like(param)
        # the chunks' losses stay on the device until the step is done: one transfer (one host sync) per step
        parts: list[Tensor] = []
        levels_now = self.levels_db().detach()
        done = 0
        while done < self.population:
            if self.reporter.should_stop():
                self.cancelled = True
                return
            part = slice(done, min(self.population, done + self.chunk_size))

            def chunk(p: slice):
                v, a, excess = self.problem.objectives(self.problem.masks(self.logits[p]), self.levels_db()[p])
                norm = torch.stack([(v - anchors.image_visual) / v_span, (a - anchors.music_audio) / a_span], dim=-1)
                scal = smooth_tchebycheff(norm, self.weights[p]) + LOUDNESS_WEIGHT * excess
                scal.sum().backward()
                return v.detach(), a.detach(), excess.detach(), scal.detach()

            out = self._run_chunk(chunk, part)
            if out is None:
                continue
            parts.append(torch.stack(out))
            done = part.stop

        visual, audio, excess, scal_all = torch.cat(parts, dim=1).double().cpu().numpy()
        better = scal_all < self.best_scal
        if better.any():
            idx = torch.as_tensor(np.flatnonzero(better), device=device)
            self.best_logits[idx] = self.logits.detach()[idx]
            self.best_levels[better] = levels_now.double().cpu().numpy()[better]
            self.best_scal[better] = scal_all[better]
            self.best_visual[better] = visual[better]
            self.best_audio[better] = audio[better]
            self.best_excess[better] = excess[better]
        self.adam.step()
        self.step_count += 1
        if self.step_count % ADAPT_EVERY == 0 and self.step_count + ADAPT_EVERY <= self.settings.steps:
            self._adapt_preferences()
        self.hypervolume_history.append(self._archive_hypervolume())
        self._check_early_stop()
        self._emit()

    def _adapt_preferences(self) -> bool:
        """Move the most crowded preference ray through the middle of the front's widest gap; True if one moved.

        The front here is the archive plus both anchors, in anchor-normalised units, sorted from the music end. The
        pure-visual preference (index 0) never moves: it looks for the image end. The moved mask restarts from the
        mean of the masks (and of the picture levels) at the gap's two ends, with fresh Adam state and an empty
        archive slot.
        """
        norm = self.anchors.normalise(self.best_visual, self.best_audio)
        music, image = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        pts = np.concatenate([music[None], norm, image[None]])
        owner = np.concatenate([[-1], np.arange(self.population), [-2]])  # -1 music anchor, -2 image anchor
        order = np.lexsort((-pts[:, 0], pts[:, 1]))  # along the front: audio loss up, visual loss down
        pts, owner = pts[order], owner[order]
        gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        if len(gaps) < 3:
            return False
        widest = int(np.argmax(gaps))
        movable = [i for i in range(1, len(pts) - 1) if owner[i] > 0 and i not in (widest, widest + 1)]
        if not movable:
            return False
        crowded = min(movable, key=lambda i: gaps[i - 1] + gaps[i])
        if gaps[widest] < ADAPT_RATIO * max(gaps[crowded - 1], gaps[crowded]):
            return False
        k = int(owner[crowded])
        weight = weight_through(0.5 * (pts[widest] + pts[widest + 1]))

        def logits_of(o: int) -> Tensor:
            if o == -1:
                return self._cross_logits[0]
            if o == -2:
                return self._cross_logits[-1]
            return self.best_logits[o]

        def level_of(o: int) -> float:
            return self.problem.matched_level_db if o < 0 else float(self.best_levels[o])

        with torch.no_grad():
            # average the two masks (not their logits: an anchor's +-30 would saturate the sigmoid) and step back
            # from saturation so the gradient can move it
            ends = (int(owner[widest]), int(owner[widest + 1]))
            mean_mask = 0.5 * (torch.sigmoid(logits_of(ends[0])) + torch.sigmoid(logits_of(ends[1])))
            start = torch.logit(mean_mask.clamp(0.01, 0.99))
            self.logits[k] = start
            mean_level = 0.5 * (level_of(ends[0]) + level_of(ends[1]))
            self.level_params[k] = (mean_level - self.problem.matched_level_db) / LEVEL_UNIT_DB
            self.weights[k] = torch.as_tensor(weight, dtype=self.weights.dtype, device=self.weights.device)
            for param in (self.logits, self.level_params):
                state = self.adam.state.get(param, {})
                for key in ("exp_avg", "exp_avg_sq"):
                    if key in state:
                        state[key][k] = 0.0
        self.best_scal[k] = np.inf
        return True

    def _archive_hypervolume(self) -> float:
        v = np.concatenate([[self.anchors.music_visual, self.anchors.image_visual], self.best_visual])
        a = np.concatenate([[self.anchors.music_audio, self.anchors.image_audio], self.best_audio])
        return hypervolume_2d(self.anchors.normalise(v, a))

    def _check_early_stop(self) -> None:
        self.stopped_early = self._settled(self.hypervolume_history)

    def _front_losses(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.concatenate([[self.anchors.music_visual], self.best_visual, [self.anchors.image_visual]])
        a = np.concatenate([[self.anchors.music_audio], self.best_audio, [self.anchors.image_audio]])
        keep = nondominated(np.stack([v, a], axis=1))
        order = np.argsort(-v[keep], kind="stable")  # from the music end (highest visual loss) to the image end
        return v[keep][order], a[keep][order]

    def _emit(self) -> None:
        v, a = self._front_losses()
        self._report(v, a, self.hypervolume_history[-1])

    def result(self) -> OptimisationResult:
        best = self.best_logits.cpu().numpy()
        return self._package([Candidate(best[k], float(self.best_visual[k]), float(self.best_audio[k]), "optimised",
                                        level_db=float(self.best_levels[k]),
                                        loudness_excess=float(self.best_excess[k]))
                              for k in range(self.population)])
