"""The blend of masks into the music's spectrogram as one differentiable op with a hand-written backward.

``HidingProblem`` uses it on the optimiser's hot path; the plain autograd version (``HidingProblem.blend_delta``)
stays for the no-gradient paths (rendering, phase refinement) and as the reference the tests compare it with.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


class _BlendIntoSpectrum(torch.autograd.Function):
    """mask (P, bins, frames) and level shift (P, frames) -> (P, freq, all frames) complex change of the mix spectrum,
    zero outside the region.

    Forward ``delta = (g - 1) X + g m S`` with ``g = exp(m (k + s))``, ``s`` the member's picture level at the frame in
    the same units as ``k``; backward, with ``u = g Re(G conj(X + m S))`` and ``G`` the incoming gradient on the
    region, ``dL/dm = (k + s) u + g Re(G conj S)`` and ``dL/ds = sum over bins of m u`` per frame, computed on real and
    imaginary planes so that no pass sums over a length-2 axis or promotes a real tensor to complex.
    """

    @staticmethod
    def forward(
        ctx,
        mask: Tensor,
        rate: Tensor,
        music: Tensor,
        silence: Tensor | None,
        full_shape: tuple[int, int],
        region: tuple[slice, slice],
        shift: Tensor,
    ) -> Tensor:
        exponent = mask * rate
        exponent.addcmul_(mask, shift[:, None, :])
        gain = exponent.exp_()
        # frame-major memory, handed on as its (freq, frames) transpose: the inverse STFT reads it without a copy
        out = torch.zeros(
            (mask.shape[0], full_shape[1], full_shape[0]), dtype=music.dtype, device=mask.device
        ).transpose(1, 2)
        planes = torch.view_as_real(out[(slice(None), *region)])
        music_parts = torch.view_as_real(music)
        less_one = gain - 1.0
        torch.mul(less_one, music_parts[..., 0], out=planes[..., 0])
        torch.mul(less_one, music_parts[..., 1], out=planes[..., 1])
        if silence is not None:
            silence_parts = torch.view_as_real(silence)
            gm = gain * mask
            planes[..., 0].addcmul_(gm, silence_parts[..., 0])
            planes[..., 1].addcmul_(gm, silence_parts[..., 1])
        ctx.save_for_backward(mask, gain, rate, music, silence, shift)
        ctx.region = region
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        mask, gain, rate, music, silence, shift = ctx.saved_tensors
        g = torch.view_as_real(grad[(slice(None), *ctx.region)])
        x = torch.view_as_real(music)
        along = g[..., 0] * x[..., 0] + g[..., 1] * x[..., 1]  # Re(G conj X)
        if silence is not None:
            s = torch.view_as_real(silence)
            along_silence = g[..., 0] * s[..., 0] + g[..., 1] * s[..., 1]  # Re(G conj S)
            along.addcmul_(mask, along_silence)  # Re(G conj(X + m S))
        u = along.mul_(gain)
        grad_shift = (u * mask).sum(dim=-2) if ctx.needs_input_grad[6] else None
        grad_mask = u * rate
        grad_mask.addcmul_(u, shift[:, None, :])
        if silence is not None:
            grad_mask.addcmul_(gain, along_silence)
        return grad_mask, None, None, None, None, None, grad_shift


def blend_into_spectrum(
    mask: Tensor,
    rate: Tensor,
    music: Tensor,
    silence: Tensor | None,
    full_shape: tuple[int, int],
    region: tuple[slice, slice],
    shift: Tensor | None = None,
) -> Tensor:
    """The change the blend makes to a (freq, frames) complex spectrum, for every mask of a population.

    Args:
        mask: (population, bins, frames) effective masks on the region.
        rate: (bins, frames) ``ln(10) / 20 * (picture_dB - music_dB)`` with the picture's white at level 0 dB: the
            gain is ``exp(mask * (rate + shift))``.
        music: (bins, frames) complex, the music's spectrum on the region.
        silence: (bins, frames) complex, the picture's own carrier where the music is silent, or None if none is.
        full_shape: (freq, frames) of the whole spectrum.
        region: the (bins, frames) slices of the region inside it.
        shift: (population, frames) each member's picture level at each frame of the region, ``ln(10) / 20 *
            level_dB`` (None: 0 dB); differentiable.

    Returns (population, freq, frames) complex, zero outside the region (a transposed view of frame-major memory).
    """
    if shift is None:
        shift = mask.new_zeros(mask.shape[0], mask.shape[-1])
    return _BlendIntoSpectrum.apply(mask, rate, music, silence, full_shape, region, shift)
