"""Phase refinement of a point's blend: Griffin-Lim iterations that keep the music's phase where the mask is music."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from moss_engine.reporting import Stopped


@torch.no_grad()
def phase_rotation(
    blended: Tensor,
    mask: Tensor,
    iterations: int,
    round_trip: Callable[[Tensor], Tensor],
    should_stop: Callable[[], bool] | None,
) -> Tensor:
    """Phase refinement of one mask's blend: (bins, frames) unit rotations.

    ``blended`` is the (bins, frames) complex blended mix of the placement's region, ``mask`` its (bins, frames)
    effective mask, ``round_trip`` the region after the whole mix with those region values is synthesised and
    analysed again (an STFT round trip, ``point_render.PointRenderer``'s).

    Griffin-Lim iterations that start from the music's phase and keep the blended magnitude. Where the mask is
    ``m``, the new phase is that of ``m * (re-analysed phase) + (1 - m) * (blend phase)``: cells that are music
    keep the music's phase, cells that are picture take the phase that makes the spectrogram consistent, so a
    viewer shows the blended magnitude more faithfully. The result is the per-cell rotation from the blend's
    phase to the refined one, applied alike to every channel (like the gain, DESIGN.md "Stereo").

    Each iteration (a round trip of the whole segment, a third of a second on two cores for 30 s) first asks
    ``should_stop()`` and raises ``reporting.Stopped`` once it says so; None: the caller cannot be cancelled.
    """
    magnitude = blended.abs()
    start_unit = blended / magnitude.clamp(min=1e-20)
    unit = start_unit
    for _ in range(iterations):
        if should_stop is not None and should_stop():
            raise Stopped
        analysed = round_trip(magnitude * unit)
        mixed = mask * (analysed / analysed.abs().clamp(min=1e-20)) + (1.0 - mask) * start_unit
        unit = mixed / mixed.abs().clamp(min=1e-20)
    return unit * start_unit.conj()
