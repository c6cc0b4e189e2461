"""One point of a ``HidingProblem`` as sound: its mask at its picture level (phase-refined or not) -> audio, and a
point's audio scored as it is written."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from moss_engine.dsp.phase import phase_rotation
from moss_engine.dsp.problem import LEVEL_KNOT_S, HidingProblem


class PointRenderer:
    """The few points a run keeps, one at a time: rendered (each channel, phase refinement where the point has it),
    brought up by a makeup curve, and scored with the problem's objectives; for the run's points, scoring, morphs
    and whole-song exports alike. The optimisers work on populations through ``HidingProblem.objectives`` instead.

    Args:
        problem: the picture and song (on any device; audio comes back on the CPU as numpy).
        should_stop: asked before every phase-refinement iteration; once it says True the refinement raises
            ``reporting.Stopped`` (its caller keeps what it has). None says that this renderer's work is not
            cancelled (a morph, an export): every caller decides, none inherits a check it cannot see.
    """

    def __init__(self, problem: HidingProblem, *, should_stop: Callable[[], bool] | None):
        self.problem = problem
        self.should_stop = should_stop

    def point_mask(self, logits: np.ndarray | Tensor) -> Tensor:
        """(*mask_shape) logits of one point -> its (bins, frames) effective mask on the run's device."""
        problem = self.problem
        return problem.masks(torch.as_tensor(logits, device=problem.device)[None])[0]

    def makeup_gain(self, curve_db: np.ndarray | float, times_s: np.ndarray) -> np.ndarray:
        """The linear gain at ``times_s`` (s into the segment) of a point's makeup curve (``makeup_db``: a number, or
        its dB at the level knots, linear in dB between them), fading to 0 dB over one knot spacing beyond the
        placement's time span, where the point is the song."""
        level_knots = self.problem.level_knots
        values = np.atleast_1d(np.asarray(curve_db, dtype=np.float64))
        if len(values) == 1:
            values = np.full(level_knots, values[0])
        elif len(values) != level_knots:  # a curve on another grid over the same span: read it on ours
            values = np.interp(np.linspace(0, 1, level_knots), np.linspace(0, 1, len(values)), values)
        knots = self.problem.knot_times_s
        times = np.concatenate([[knots[0] - LEVEL_KNOT_S], knots, [knots[-1] + LEVEL_KNOT_S]])
        gain_db = np.interp(times_s, times, np.concatenate([[0.0], values, [0.0]]), left=0.0, right=0.0)
        return (10 ** (gain_db / 20)).astype(np.float32)

    def blended_region(self, mask: Tensor, level_db: Tensor | float | None) -> Tensor:
        """(bins, frames) effective mask -> (bins, frames) complex blended mix spectrum of the region."""
        problem = self.problem
        region = problem.spec_mix[problem.region]
        delta = problem.blend_delta(mask[None], region, problem.point_level(level_db))
        return region + torch.view_as_complex(delta[0].contiguous())

    @torch.no_grad()
    def rotation_for(self, mask: Tensor, phase_iterations: int, level_db: Tensor | float | None) -> Tensor | None:
        """The phase rotation of a point's blend (``phase.phase_rotation``), or None for a point without phase
        refinement: the one place that decides it, for scoring, rendering, morphs and whole-song exports alike."""
        if phase_iterations <= 0:
            return None
        return phase_rotation(
            self.blended_region(mask, level_db), mask, phase_iterations, self._round_trip(), self.should_stop
        )

    def _round_trip(self) -> Callable[[Tensor], Tensor]:
        """(bins, frames) region values -> the region of the mix with those values, synthesised and analysed again
        (the rest of the mix is the song's; one spectrogram reused by every iteration)."""
        problem = self.problem
        full = problem.spec_mix.clone()

        def round_trip(region: Tensor) -> Tensor:
            full[problem.region] = region
            return problem.stft(problem.stft.inverse(full, problem.n_samples))[problem.region]

        return round_trip

    @torch.no_grad()
    def spectrogram(
        self, mask: Tensor, rotation: Tensor | None = None, level_db: Tensor | float | None = None
    ) -> Tensor:
        """(bins, frames) effective mask (its level, and optional phase rotation) -> (channels, freq, frames)
        complex."""
        spec = self.problem.blend_channels(mask, level_db)
        if rotation is not None:
            region = (slice(None), *self.problem.region)
            spec[region] = spec[region] * rotation
        return spec

    @torch.no_grad()
    def point_spectrogram(self, mask: Tensor, level_db: Tensor | float | None, phase_iterations: int = 0) -> Tensor:
        """A point's sound as a spectrogram: its (bins, frames) effective mask at its picture level, phase-refined
        when it is -> (channels, freq, frames) complex."""
        return self.spectrogram(mask, self.rotation_for(mask, phase_iterations, level_db), level_db)

    @torch.no_grad()
    def render(
        self, mask: Tensor, rotation: Tensor | None = None, level_db: Tensor | float | None = None
    ) -> np.ndarray:
        """(bins, frames) effective mask (its level, and optional phase rotation) -> (channels, samples) float32
        audio."""
        problem = self.problem
        out = problem.stft.inverse(self.spectrogram(mask, rotation, level_db), problem.n_samples)
        return out.cpu().numpy().astype(np.float32)

    @torch.no_grad()
    def render_point(self, logits: np.ndarray | Tensor, level_db: float, phase_iterations: int = 0) -> np.ndarray:
        """(channels, samples) float32 audio of one point: its mask at its level, phase-refined when it is."""
        return self.render_and_score_point(logits, level_db, phase_iterations)[0]

    @torch.no_grad()
    def render_and_score_point(
        self, logits: np.ndarray | Tensor, level_db: float, phase_iterations: int = 0
    ) -> tuple[np.ndarray, tuple[float, float, float]]:
        """``render_point`` and ``score_point`` of one point at once (one phase refinement for both)."""
        problem = self.problem
        mask = self.point_mask(logits)
        spec = self.point_spectrogram(mask, level_db, phase_iterations)  # (channels, freq, frames)
        audio = problem.stft.inverse(spec, problem.n_samples)
        scores = problem.objectives_of_signal(audio.mean(dim=0)[None], problem.mask_share(mask[None]))
        return audio.cpu().numpy().astype(np.float32), tuple(float(v[0]) for v in scores)

    @torch.no_grad()
    def score_point(
        self, logits: np.ndarray | Tensor, level_db: float, phase_iterations: int = 0
    ) -> tuple[float, float, float]:
        """(visual, audio, loudness excess) of one point as it is rendered: its mask at its picture level, with its
        phase refinement when it has one."""
        mask = self.point_mask(logits)
        return self._score_rotated(mask, self.rotation_for(mask, phase_iterations, level_db), level_db)

    @torch.no_grad()
    def _score_rotated(
        self, mask: Tensor, rotation: Tensor | None, level_db: Tensor | float | None = None
    ) -> tuple[float, float, float]:
        """(visual, audio, loudness excess) of one mask at its level, its blend turned by ``rotation`` (None: not
        turned); the mix alone is synthesised."""
        problem = self.problem
        spec = problem.spec_mix.clone()
        spec[problem.region] = self.blended_region(mask, level_db) * (1.0 if rotation is None else rotation)
        scores = problem.objectives_of_signal(
            problem.stft.inverse(spec[None], problem.n_samples), problem.mask_share(mask[None])
        )
        return tuple(float(v[0]) for v in scores)

    @torch.no_grad()
    def score_samples(self, samples: np.ndarray, mask: Tensor) -> tuple[float, float, float]:
        """(visual, audio, loudness excess) of a point's (channels, samples) audio as it is written (limited), its
        (bins, frames) effective mask telling the loudness estimate how much of each frame is picture."""
        problem = self.problem
        mix = torch.as_tensor(np.asarray(samples, dtype=np.float32).mean(axis=0), device=problem.device)[None]
        return tuple(float(v[0]) for v in problem.objectives_of_signal(mix, problem.mask_share(mask[None])))
