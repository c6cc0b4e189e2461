"""Phase refinement of a point's blend: Griffin-Lim iterations that keep the music's phase where the mask is music."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from moss_engine.reporting import check_stop

if TYPE_CHECKING:
    from moss_engine.dsp.problem import HidingProblem


@torch.no_grad()
def phase_rotation(
    problem: HidingProblem, mask: Tensor, iterations: int, level_db: Tensor | float | None = None
) -> Tensor:
    """Phase refinement of one mask's blend: (bins, frames) effective mask -> (bins, frames) unit rotations.

    Griffin-Lim iterations that start from the music's phase and keep the blended magnitude. Where the mask is
    ``m``, the new phase is that of ``m * (re-analysed phase) + (1 - m) * (blend phase)``: cells that are music
    keep the music's phase, cells that are picture take the phase that makes the spectrogram consistent, so a
    viewer shows the blended magnitude more faithfully. The result is the per-cell rotation from the blend's
    phase to the refined one, applied alike to every channel (like the gain, DESIGN.md "Stereo").

    Each iteration (an STFT round trip of the whole segment, a third of a second on two cores for 30 s) first calls
    ``reporting.check_stop``: inside a ``stop_checks`` block a cancel ends it with ``Stopped`` at once.
    """
    start = problem.blended_region(mask, level_db)
    magnitude = start.abs()
    start_unit = start / magnitude.clamp(min=1e-20)
    unit = start_unit
    full = problem.spec_mix.clone()
    for _ in range(iterations):
        check_stop()
        full[problem.region] = magnitude * unit
        analysed = problem.stft(problem.stft.inverse(full, problem.n_samples))[problem.region]
        mixed = mask * (analysed / analysed.abs().clamp(min=1e-20)) + (1.0 - mask) * start_unit
        unit = mixed / mixed.abs().clamp(min=1e-20)
    return unit * start_unit.conj()
