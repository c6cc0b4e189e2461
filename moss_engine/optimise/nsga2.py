"""NSGA-II (pymoo) on a coarse grid of mask logits: the gradient-free alternative to the STCH optimiser."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from moss_engine.dsp.problem import HidingProblem
from moss_engine.optimise.base import (
    ANCHOR_LOGIT,
    MIN_CROSSFADE_LEVELS,
    Candidate,
    OptimisationResult,
    SteppableOptimiser,
)
from moss_engine.optimise.front import hypervolume_2d, nondominated, pick_spread
from moss_engine.optimise.memory import choose_chunk_size
from moss_engine.reporting import Reporter
from moss_engine.settings import RunSettings

#: Default (freq, time) size of the coarse logit grid the genetic search works on: 128 decision variables. A GA
#: cannot search the 8192 logits of the preview grid (it has no gradient to follow); a coarse grid, upsampled
#: bilinearly, still lets the mask vary over the picture.
COARSE_SHAPE = (8, 16)
#: Bounds of every coarse logit: sigmoid(+-8) is within 3.4e-4 of 0 or 1, as far as a blend level needs to go.
LOGIT_BOUND = 8.0
#: Smallest population. NSGA-II needs some room for its crowding distance to spread the front.
MIN_POPULATION = 16
#: Spread (in logits) of the noise on the seeded individuals that are not plain constant masks.
SEED_NOISE = 0.5


def population_size(points: int) -> int:
    """NSGA-II's population for a front of ``points`` points: twice as many (so that the non-dominated rank can hold
    a spread front while the other half explores), and at least ``MIN_POPULATION``."""
    return max(2 * points, MIN_POPULATION)


def constant_logits(levels: np.ndarray, shape: tuple[int, ...], device: torch.device) -> Tensor:
    """(n,) blend levels in [0, 1] -> (n, *shape) constant logits (the all-music / all-image ends at +-ANCHOR_LOGIT)."""
    levels_t = torch.as_tensor(levels, dtype=torch.float32)
    logits = torch.logit(levels_t.clamp(1e-13, 1 - 1e-13)).clamp(-ANCHOR_LOGIT, ANCHOR_LOGIT)
    return logits[:, None, None].expand(-1, *shape).contiguous().to(device)


def upsample(coarse: Tensor, shape: tuple[int, int]) -> Tensor:
    """(population, *coarse_shape) logits -> (population, *shape) logits, bilinear with the corners kept.

    A constant coarse grid gives a constant fine one, so a seeded constant mask is exactly a uniform crossfade.
    """
    if tuple(coarse.shape[1:]) == tuple(shape):
        return coarse
    return F.interpolate(coarse[:, None], size=tuple(shape), mode="bilinear", align_corners=True)[:, 0]


class Nsga2Optimiser(SteppableOptimiser):
    """pymoo's NSGA-II over coarse mask logits, with the same objectives, interface and result as ``StchOptimiser``.

    Steppable like pymoo's ``Algorithm``: ``while opt.has_next(): opt.next()``, then ``opt.result()``. One step is
    one generation: the first evaluates the seeded population, every later one a generation of offspring. Each
    generation is evaluated in chunks without gradients (checking ``reporter.should_stop()`` between them), every
    evaluated mask goes into a non-dominated archive, and the run stops early when the archive's hypervolume has not
    grown by ``settings.min_improvement`` (relative) for ``settings.patience`` generations (after ``MIN_STEPS``).

    Decision variables: a ``coarse_shape`` grid of logits in [-LOGIT_BOUND, LOGIT_BOUND], upsampled bilinearly to
    ``settings.mask_shape`` before ``HidingProblem.masks``. Population: ``population_size(settings.points)``. The
    initial population is seeded: half are constant masks at levels spread evenly over [sigmoid(-8), sigmoid(8)]
    (uniform crossfades, so the run starts on the crossfade's front), the rest are those constants plus Gaussian noise
    of ``SEED_NOISE`` logits. pymoo's defaults otherwise (SBX crossover, polynomial mutation, rank and crowding
    survival, duplicate elimination). Deterministic for a given ``settings.seed`` on the CPU.

    ``settings.algorithm`` is not read: the caller chooses the optimiser.

    Args:
        problem: the picture and song, on the run's device.
        settings: the run's settings (points, steps = generations, seed, patience, min_improvement, memory limit).
        reporter: progress, partial fronts and cancellation.
        coarse_shape: (freq, time) size of the searched logit grid (at most ``settings.mask_shape``).
    """

    unit = "generation"

    def __init__(
        self,
        problem: HidingProblem,
        settings: RunSettings,
        reporter: Reporter | None = None,
        coarse_shape: tuple[int, int] = COARSE_SHAPE,
    ):
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem as PymooProblem

        if len(coarse_shape) != 2 or min(coarse_shape) < 1:
            raise ValueError(f"expected a (freq, time) coarse grid of positive sizes, got {coarse_shape}")
        chunk_size = choose_chunk_size(
            problem, max(population_size(settings.points), MIN_CROSSFADE_LEVELS), settings.memory_limit_gb
        )
        super().__init__(problem, settings, reporter, chunk_size)
        self.coarse_shape = tuple(min(c, m) for c, m in zip(coarse_shape, settings.mask_shape, strict=True))
        self.n_var = int(np.prod(self.coarse_shape))
        self.population = population_size(settings.points)
        self.evaluations = 0
        levels = np.linspace(0.0, 1.0, max(MIN_CROSSFADE_LEVELS, settings.points))
        self._measure_crossfade(
            levels,
            constant_logits(levels, settings.mask_shape, problem.device),
            lambda logits: self._evaluate_full(logits, cancellable=False)[:3],
        )
        cross_v, cross_a = self.crossfade_visual, self.crossfade_audio

        # the archive: every non-dominated (coarse logits, visual, audio) seen so far, starting with the crossfade's
        # inner levels (a constant coarse grid upsamples to the same constant mask), so the run starts from the
        # crossfade's front as STCH's does
        self.archive_x = np.empty((0, self.n_var))
        self.archive_visual = np.empty(0)
        self.archive_audio = np.empty(0)
        inner = np.clip(np.log(levels[1:-1] / (1.0 - levels[1:-1])), -LOGIT_BOUND, LOGIT_BOUND)
        self._add_to_archive(np.repeat(inner[:, None], self.n_var, axis=1), cross_v[1:-1], cross_a[1:-1])
        self.archive_hypervolume_history = [self._archive_hypervolume()]
        self.hypervolume_history = [self._selection()[2]]

        self.pymoo_problem = PymooProblem(n_var=self.n_var, n_obj=2, xl=-LOGIT_BOUND, xu=LOGIT_BOUND)
        self.algorithm = NSGA2(pop_size=self.population, sampling=self._initial_population())
        self.algorithm.setup(
            self.pymoo_problem, termination=("n_gen", settings.steps), seed=settings.seed, verbose=False
        )
        self._emit()

    def _initial_population(self) -> np.ndarray:
        """(population, n_var) seeded start: constant masks spread over the blend levels, then noisy copies."""
        n_const = max(2, self.population // 2)
        edge = 1.0 / (1.0 + np.exp(LOGIT_BOUND))  # sigmoid(-LOGIT_BOUND)
        spread = np.linspace(edge, 1.0 - edge, n_const)
        levels = np.clip(np.log(spread / (1.0 - spread)), -LOGIT_BOUND, LOGIT_BOUND)
        rng = np.random.default_rng(self.settings.seed)
        rest = self.population - n_const
        base = levels[np.arange(rest) % n_const]
        noisy = base[:, None] + SEED_NOISE * rng.standard_normal((rest, self.n_var))
        x = np.concatenate([np.repeat(levels[:, None], self.n_var, axis=1), noisy])
        return np.clip(x, -LOGIT_BOUND, LOGIT_BOUND)

    # -- evaluation -------------------------------------------------------------------------------------------------
    def full_logits(self, x: np.ndarray) -> Tensor:
        """(n, n_var) coarse decision variables -> (n, *mask_shape) float32 logits on the run's device."""
        coarse = torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(-1, *self.coarse_shape)
        return upsample(coarse.to(self.problem.device), self.settings.mask_shape)

    @torch.no_grad()
    def _evaluate_full(
        self, logits: Tensor, cancellable: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(n, *mask_shape) logits at the matched picture level -> (visual, audio, loudness excess) float64 numpy and
        how many were done before a cancel. The genetic search does not move the level: the pipeline brings every
        point it keeps within the loudness limits."""
        n = len(logits)
        visual, audio, excess = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        done = 0
        while done < n:
            if cancellable and self.reporter.should_stop():
                self.cancelled = True
                break
            part = slice(done, min(n, done + self.chunk_size))
            out = self._run_chunk(lambda p: self.problem.objectives(self.problem.masks(logits[p])), part)
            if out is None:  # out of GPU memory: the chunk size was halved, try again
                continue
            visual[part] = out.visual.double().cpu().numpy()
            audio[part] = out.audio.double().cpu().numpy()
            excess[part] = out.loudness_excess.double().cpu().numpy()
            done = part.stop
        return visual, audio, excess, done

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, n_var) coarse logits -> (visual, audio) losses as float64 numpy, chunked, no gradients, no cancel."""
        visual, audio, _, _ = self._evaluate_full(self.full_logits(x), cancellable=False)
        return visual, audio

    # -- stepping ---------------------------------------------------------------------------------------------------
    def next(self) -> None:
        """One generation: ask pymoo for it, evaluate it chunk by chunk, tell pymoo; sets ``cancelled`` if asked to
        stop (the masks evaluated before that still join the archive)."""
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        pop = self.algorithm.ask()
        if pop is None or len(pop) == 0:  # duplicate elimination found nothing new: the search has collapsed
            self.stopped_early = True
            return
        x = pop.get("X")
        visual, audio, _, done = self._evaluate_full(self.full_logits(x))
        self.evaluations += done
        self._add_to_archive(x[:done], visual[:done], audio[:done])
        if done < len(x):
            self._emit()
            return
        Evaluator().eval(StaticProblem(self.pymoo_problem, F=np.stack([visual, audio], axis=1)), pop)
        self.algorithm.tell(infills=pop)
        self.step_count += 1
        self.archive_hypervolume_history.append(self._archive_hypervolume())
        self.hypervolume_history.append(self._selection()[2])
        self._check_early_stop()
        self._emit()

    def _add_to_archive(self, x: np.ndarray, visual: np.ndarray, audio: np.ndarray) -> None:
        all_x = np.concatenate([self.archive_x, x])
        all_v = np.concatenate([self.archive_visual, visual])
        all_a = np.concatenate([self.archive_audio, audio])
        keep = nondominated(np.stack([all_v, all_a], axis=1))  # older first, so a tie keeps the older mask
        self.archive_x, self.archive_visual, self.archive_audio = all_x[keep], all_v[keep], all_a[keep]

    def _archive_hypervolume(self) -> float:
        v = np.concatenate([[self.anchors.music_visual, self.anchors.image_visual], self.archive_visual])
        a = np.concatenate([[self.anchors.music_audio, self.anchors.image_audio], self.archive_audio])
        return hypervolume_2d(self.anchors.normalise(v, a))

    def _selection(self) -> tuple[np.ndarray, list[int], float]:
        """The front this run hands on: at most ``settings.points`` points of (anchors + archive), non-dominated,
        spread evenly along the front from the music end (``pick_spread``), and their hypervolume.

        Returns the (n, 2) losses, ordered from the music end, the archive index of each (-1 music, -2 image anchor),
        and the hypervolume. The archive can hold hundreds of masks; the pipeline refines the phase of every
        candidate, so it gets only as many as it can keep.
        """
        v = np.concatenate([[self.anchors.music_visual], self.archive_visual, [self.anchors.image_visual]])
        a = np.concatenate([[self.anchors.music_audio], self.archive_audio, [self.anchors.image_audio]])
        owner = np.concatenate([[-1], np.arange(len(self.archive_visual)), [-2]])
        keep = nondominated(np.stack([v, a], axis=1))  # the music anchor first among ties
        keep = keep[np.argsort(-v[keep], kind="stable")]
        norm = self.anchors.normalise(v[keep], a[keep])
        chosen = keep[pick_spread(norm, self.settings.points)]
        losses = np.stack([v[chosen], a[chosen]], axis=1)
        return losses, [int(o) for o in owner[chosen]], hypervolume_2d(self.anchors.normalise(v[chosen], a[chosen]))

    def _check_early_stop(self) -> None:
        self.stopped_early = self._settled(self.archive_hypervolume_history)

    def _emit(self) -> None:
        losses, _, hv = self._selection()
        self._report(losses[:, 0], losses[:, 1], hv)

    def result(self) -> OptimisationResult:
        """Both anchors and the archive's masks that ``_selection`` keeps, as full ``mask_shape`` float32 logits."""
        _, owners, _ = self._selection()
        picked = [o for o in owners if o >= 0]
        optimised = []
        if picked:
            logits = self.full_logits(self.archive_x[picked]).cpu().numpy().astype(np.float32)
            level = self.problem.matched_levels
            optimised = [
                Candidate(
                    logits[k], float(self.archive_visual[o]), float(self.archive_audio[o]), "optimised", level_db=level
                )
                for k, o in enumerate(picked)
            ]
        return self._package(optimised)
