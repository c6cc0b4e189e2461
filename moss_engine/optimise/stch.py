"""Batched smooth-Tchebycheff optimisation of K masks at once, steppable, chunked, with early stopping."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from moss_engine.dsp.problem import HidingProblem
from moss_engine.optimise.base import (
    ANCHOR_LOGIT,
    IDEAL,
    MIN_CROSSFADE_LEVELS,
    Candidate,
    OptimisationResult,
    SteppableOptimiser,
)
from moss_engine.optimise.front import Anchors, hypervolume_2d, nondominated
from moss_engine.optimise.memory import mask_bytes, memory_budget, plan_chunks
from moss_engine.reporting import NOTICE_MEMORY_LIMIT, Reporter
from moss_engine.settings import RunSettings

#: Smoothing of the Tchebycheff max, in anchor-normalised units (Lin et al., "Smooth Tchebycheff Scalarization", 2024).
STCH_MU = 0.05
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


def preference_move(front: np.ndarray) -> tuple[int, np.ndarray, tuple[int, int]] | None:
    """Which preference ray to move where (adaptive weight adjustment, as MOEA/D-AWA does), or None.

    ``front`` is (K, 2): each ray's archived losses, anchor-normalised. With both anchors added and sorted along the
    front (audio loss up, visual loss down), the most crowded ray (smallest sum of its two gaps; never ray 0, the
    pure-visual one that looks for the image end) moves through the middle of the widest gap, if that gap is at
    least ``ADAPT_RATIO`` times the crowded ray's own gaps. Returns (the ray, its new unit weight, the owners of the
    gap's two ends: a ray index, or -1 for the music anchor and -2 for the image anchor). Pure: no state changes.
    """
    music, image = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    pts = np.concatenate([music[None], front, image[None]])
    owner = np.concatenate([[-1], np.arange(len(front)), [-2]])
    order = np.lexsort((-pts[:, 0], pts[:, 1]))
    pts, owner = pts[order], owner[order]
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    if len(gaps) < 3:
        return None
    widest = int(np.argmax(gaps))
    movable = [i for i in range(1, len(pts) - 1) if owner[i] > 0 and i not in (widest, widest + 1)]
    if not movable:
        return None
    crowded = min(movable, key=lambda i: gaps[i - 1] + gaps[i])
    if gaps[widest] < ADAPT_RATIO * max(gaps[crowded - 1], gaps[crowded]):
        return None
    weight = weight_through(0.5 * (pts[widest] + pts[widest + 1]))
    return int(owner[crowded]), weight, (int(owner[widest]), int(owner[widest + 1]))


@dataclass
class PreferenceArchive:
    """For each preference ray, the best mask seen so far by its own scalarised value (plus the loudness weight) and
    that mask's picture level and losses: what the optimiser hands on, whatever Adam does next.

    ``logits`` is (K, *mask_shape) on the run's device; the rest are (K,) float64.
    """

    logits: Tensor
    levels: np.ndarray
    scalarised: np.ndarray
    visual: np.ndarray
    audio: np.ndarray
    excess: np.ndarray

    def keep_better(
        self,
        logits: Tensor,
        levels: np.ndarray,
        scalarised: np.ndarray,
        visual: np.ndarray,
        audio: np.ndarray,
        excess: np.ndarray,
    ) -> None:
        """Take each member of a (K, ...) population whose ``scalarised`` value beats the archive's for its ray."""
        better = scalarised < self.scalarised
        if not better.any():
            return
        index = torch.as_tensor(np.flatnonzero(better), device=self.logits.device)
        self.logits[index] = logits.detach()[index]
        for mine, theirs in (
            (self.levels, levels),
            (self.scalarised, scalarised),
            (self.visual, visual),
            (self.audio, audio),
            (self.excess, excess),
        ):
            mine[better] = np.asarray(theirs)[better]

    def hypervolume(self, anchors: Anchors) -> float:
        """The hypervolume of both anchors and the archive, anchor-normalised."""
        v = np.concatenate([[anchors.music_visual, anchors.image_visual], self.visual])
        a = np.concatenate([[anchors.music_audio, anchors.image_audio], self.audio])
        return hypervolume_2d(anchors.normalise(v, a))


class StchOptimiser(SteppableOptimiser):
    """Optimises ``settings.points - 2`` masks, one per preference vector, in one batched Adam run.

    Each mask has a picture level of its own (dB, DESIGN.md "Levels"), optimised with it: the offset of the song's
    own level curve (``HidingProblem.level_curves``), which starts at ``problem.matched_level_db`` and moves as the
    objectives and the loudness limits ask (``LEVEL_UNIT_DB``). A
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

    def __init__(
        self,
        problem: HidingProblem,
        settings: RunSettings,
        reporter: Reporter | None = None,
        weights: np.ndarray | None = None,
        start_logits: Tensor | None = None,
        start_levels: np.ndarray | None = None,
    ):
        population = max(1, settings.points - 2) if weights is None else len(weights)
        plan = plan_chunks(problem, max(population, MIN_CROSSFADE_LEVELS), settings.memory_limit_gb)
        super().__init__(problem, settings, reporter, plan.size)
        self.population = population
        self.checkpointing = plan.checkpointing
        if not plan.fits:
            need = mask_bytes(problem, checkpointed=True) / 1024**3
            have = memory_budget(problem.device, settings.memory_limit_gb) / 1024**3
            self.reporter.notice(
                NOTICE_MEMORY_LIMIT,
                f"the memory limit ({have:.2g} GB) is below what one mask "
                f"needs ({need:.2g} GB): running one mask at a time anyway",
            )
        levels = np.linspace(0.0, 1.0, max(MIN_CROSSFADE_LEVELS, self.population + 2))
        self._measure_crossfade(levels, self._constant_logits(levels), self.evaluate)

        self.retarget(preference_vectors(self.population) if weights is None else weights, start_logits, start_levels)

    def retarget(
        self,
        weights: np.ndarray,
        start_logits: Tensor | None = None,
        start_levels: np.ndarray | None = None,
        steps: int | None = None,
    ) -> None:
        """Start over with new (K, 2) preference vectors: each starts from the crossfade level it likes best, or from
        ``start_logits`` at ``start_levels`` where those are better (as the constructor's).

        The anchors and the crossfade are kept (they do not depend on the preferences). ``steps``: how many steps
        the new start may take (default: ``settings.steps``).
        """
        if steps is not None:
            self.settings = replace(self.settings, steps=max(1, int(steps)))
        device = self.problem.device
        self.population = len(weights)
        self.step_count = 0
        self.cancelled = self.stopped_early = False
        self.weights = torch.as_tensor(np.asarray(weights), dtype=torch.float32, device=device)
        cross_norm = torch.as_tensor(
            self.anchors.normalise(self.crossfade_visual, self.crossfade_audio), dtype=torch.float32, device=device
        )
        scalarised = smooth_tchebycheff(cross_norm[None, :, :], self.weights[:, None, :])  # (population, levels)
        excess = torch.as_tensor(self.crossfade_excess, dtype=torch.float32, device=device)
        scalarised = scalarised + LOUDNESS_WEIGHT * excess
        start = scalarised.argmin(dim=1).cpu().numpy()
        init = self._cross_logits[start].clone()
        gen = torch.Generator().manual_seed(self.settings.seed)
        init += 0.01 * torch.randn(init.shape, generator=gen).to(device)
        self.logits = init.requires_grad_(True)
        self.level_params = torch.zeros(self.population, device=device, requires_grad=True)
        self.adam = self._adam()

        chosen = torch.as_tensor(start, device=device)[:, None]
        self.archive = PreferenceArchive(
            logits=init.detach().clone(),
            levels=np.full(self.population, self.problem.matched_level_db),
            scalarised=scalarised.gather(1, chosen)[:, 0].detach().cpu().numpy(),
            visual=self.crossfade_visual[start].copy(),
            audio=self.crossfade_audio[start].copy(),
            excess=self.crossfade_excess[start].copy(),
        )
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
        scalarised = smooth_tchebycheff(norm, self.weights).cpu().numpy() + LOUDNESS_WEIGHT * x
        self.logits = logits.detach().clone().requires_grad_(True)
        params = (levels - self.problem.matched_level_db) / LEVEL_UNIT_DB
        self.level_params = torch.as_tensor(params, dtype=torch.float32, device=device).clone().requires_grad_(True)
        self.adam = self._adam()
        self.archive.keep_better(logits, levels, scalarised, v, a, x)
        self.hypervolume_history = [self._archive_hypervolume()]

    def _adam(self) -> torch.optim.Adam:
        return torch.optim.Adam(
            [{"params": [self.logits]}, {"params": [self.level_params], "eps": LEVEL_ADAM_EPS}],
            lr=self.settings.learning_rate,
        )

    def levels_db(self) -> Tensor:
        """(population,) the picture level of every member now, dB: the offset of the song's own level curve
        (``HidingProblem.level_curves``; differentiable in ``level_params``)."""
        return self.problem.matched_level_db + LEVEL_UNIT_DB * self.level_params

    # -- evaluation -------------------------------------------------------------------------------------------------
    def _constant_logits(self, levels: np.ndarray) -> Tensor:
        levels_t = torch.as_tensor(levels, dtype=torch.float32)
        logits = torch.logit(levels_t.clamp(1e-13, 1 - 1e-13)).clamp(-ANCHOR_LOGIT, ANCHOR_LOGIT)
        shape = self.settings.mask_shape
        return logits[:, None, None].expand(-1, *shape).contiguous().to(self.problem.device)

    @torch.no_grad()
    def evaluate(self, logits: Tensor, levels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(population, *mask_shape) logits at (population,) picture levels in dB (the offsets of the song's own level
        curve; default: the matched level) -> (visual, audio, loudness excess) as float64 numpy, chunked, no
        gradients."""
        if levels is None:
            levels = np.full(len(logits), self.problem.matched_level_db)
        level_t = self.problem.level_curves(
            torch.as_tensor(np.asarray(levels), dtype=torch.float32, device=self.problem.device)
        )
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
                curves = self.problem.level_curves(self.levels_db()[p])
                v, a, excess = self.problem.objectives(
                    self.problem.masks(self.logits[p]), curves, checkpointed=self.checkpointing
                )
                norm = torch.stack([(v - anchors.image_visual) / v_span, (a - anchors.music_audio) / a_span], dim=-1)
                scalarised = smooth_tchebycheff(norm, self.weights[p]) + LOUDNESS_WEIGHT * excess
                scalarised.sum().backward()
                return v.detach(), a.detach(), excess.detach(), scalarised.detach()

            out = self._run_chunk(chunk, part)
            if out is None:
                continue
            parts.append(torch.stack(out))
            done = part.stop

        visual, audio, excess, scalarised_all = torch.cat(parts, dim=1).double().cpu().numpy()
        self.archive.keep_better(self.logits, levels_now.double().cpu().numpy(), scalarised_all, visual, audio, excess)
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
        move = preference_move(self.anchors.normalise(self.archive.visual, self.archive.audio))
        if move is None:
            return False
        k, weight, ends = move

        def logits_of(o: int) -> Tensor:
            if o == -1:
                return self._cross_logits[0]
            if o == -2:
                return self._cross_logits[-1]
            return self.archive.logits[o]

        def level_of(o: int) -> float:
            return self.problem.matched_level_db if o < 0 else float(self.archive.levels[o])

        with torch.no_grad():
            # average the two masks (not their logits: an anchor's +-30 would saturate the sigmoid) and step back
            # from saturation so the gradient can move it
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
        self.archive.scalarised[k] = np.inf  # the moved ray's slot takes whatever its new start finds
        return True

    def _archive_hypervolume(self) -> float:
        return self.archive.hypervolume(self.anchors)

    def _check_early_stop(self) -> None:
        self.stopped_early = self._settled(self.hypervolume_history)

    def _front_losses(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.concatenate([[self.anchors.music_visual], self.archive.visual, [self.anchors.image_visual]])
        a = np.concatenate([[self.anchors.music_audio], self.archive.audio, [self.anchors.image_audio]])
        keep = nondominated(np.stack([v, a], axis=1))
        order = np.argsort(-v[keep], kind="stable")  # from the music end (highest visual loss) to the image end
        return v[keep][order], a[keep][order]

    def _emit(self) -> None:
        v, a = self._front_losses()
        self._report(v, a, self.hypervolume_history[-1])

    def result(self) -> OptimisationResult:
        arc = self.archive
        best = arc.logits.cpu().numpy()
        return self._package(
            [
                Candidate(
                    best[k],
                    float(arc.visual[k]),
                    float(arc.audio[k]),
                    "optimised",
                    level_db=self.problem.level_curve(float(arc.levels[k])),
                    loudness_excess=float(arc.excess[k]),
                )
                for k in range(self.population)
            ]
        )
