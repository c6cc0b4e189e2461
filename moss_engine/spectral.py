"""STFT analysis and synthesis, mel filterbanks and dB helpers, as torch modules that follow ``.to(device)``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

#: Power floor below which cells count as silence in dB conversions (relative floors are applied by callers).
TINY = 1e-12


def power_to_db(power: Tensor, floor: float = TINY) -> Tensor:
    """``10 log10(max(power, floor))``."""
    return 10.0 * torch.log10(torch.clamp(power, min=floor))


class _Power(torch.autograd.Function):
    """``|z|^2`` with a one-pass backward ``2 g z`` (autograd's own goes through conj and two complex products)."""

    @staticmethod
    def forward(ctx, spec: Tensor) -> Tensor:
        ctx.save_for_backward(spec)
        return (spec * spec.conj()).real

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> Tensor:
        (spec,) = ctx.saved_tensors
        return spec * (2.0 * grad)


def power(spec: Tensor) -> Tensor:
    """``|spec|^2`` of a complex tensor (a real tensor of the same shape)."""
    return _Power.apply(spec)


class _OnesidedRfft(torch.autograd.Function):
    """``torch.fft.rfft`` over the last axis with a cheap backward.

    The adjoint of a one-sided real FFT of length n is ``n * irfft(w * g)`` with ``w`` 1 at DC (and Nyquist) and 1/2
    in between; torch's own backward zero-pads the gradient to a two-sided spectrum and runs a complex FFT, which made
    the STFT's backward about 40 % of a CPU step.
    """

    @staticmethod
    def forward(ctx, frames: Tensor) -> Tensor:
        n = frames.shape[-1]
        weight = torch.full((n // 2 + 1,), 0.5 * n, dtype=frames.dtype, device=frames.device)
        weight[0] = n
        if n % 2 == 0:
            weight[-1] = n
        ctx.save_for_backward(weight)
        ctx.n = n  # a Python int: the backward needs no look at the device
        return torch.fft.rfft(frames, dim=-1)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> Tensor:
        (weight,) = ctx.saved_tensors
        return torch.fft.irfft(grad * weight, n=ctx.n, dim=-1)


def rfft(frames: Tensor) -> Tensor:
    """(..., n) real -> (..., n // 2 + 1) complex, as ``torch.fft.rfft(frames, dim=-1)``."""
    return _OnesidedRfft.apply(frames)


def magnitude_to_db(magnitude: Tensor, floor: float = 1e-6) -> Tensor:
    """``20 log10(max(|x|, floor))``."""
    return 20.0 * torch.log10(torch.clamp(magnitude, min=floor))


class Stft(nn.Module):
    """Hann-window STFT and its inverse with ``center=True``, frames in the last axis.

    The analysis equals ``torch.stft(..., center=True, pad_mode="reflect")``, written out (reflect pad, frames,
    window, ``rfft``) so that its backward uses the cheap one-sided FFT adjoint.

    The inverse is an overlap-add with a precomputed window envelope, not ``torch.istft``: the result is the same, but
    it never checks the envelope on the host (istft's NOLA check forces a GPU sync every call).

    Args:
        n_fft: FFT size (the window has the same length).
        hop_length: samples between frames.
    """

    def __init__(self, n_fft: int, hop_length: int):
        super().__init__()
        if hop_length > n_fft // 2:
            raise ValueError(f"hop_length {hop_length} must be at most n_fft // 2 = {n_fft // 2}")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True, dtype=torch.float64).float(),
                             persistent=False)
        self._envelope: dict[tuple[int, torch.device, torch.dtype], Tensor] = {}

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    def forward(self, signal: Tensor) -> Tensor:
        """(..., samples) real -> (..., freq, frames) complex."""
        shape = signal.shape
        flat = signal.reshape(-1, 1, shape[-1])
        pad = self.n_fft // 2
        padded = F.pad(flat, (pad, pad), mode="reflect")[:, 0]
        frames = padded.unfold(-1, self.n_fft, self.hop_length) * self.window.to(signal.dtype)
        spec = rfft(frames).transpose(-1, -2)  # (batch, freq, frames), a view of (batch, frames, freq)
        return spec.reshape(*shape[:-1], *spec.shape[-2:])

    def inverse(self, spec: Tensor, length: int) -> Tensor:
        """(..., freq, frames) complex -> (..., length) real: windowed overlap-add divided by the window envelope."""
        shape = spec.shape
        n_frames = shape[-1]
        flat = spec.reshape(-1, shape[-2], n_frames)
        window = self.window.to(flat.real.dtype)
        frames = torch.fft.irfft(flat, n=self.n_fft, dim=-2) * window[:, None]  # (batch, n_fft, frames)
        full = (n_frames - 1) * self.hop_length + self.n_fft
        signal = F.fold(frames, output_size=(1, full), kernel_size=(1, self.n_fft), stride=(1, self.hop_length))
        signal = signal.reshape(flat.shape[0], full) / self._window_envelope(n_frames, frames.device, frames.dtype)
        start = self.n_fft // 2
        signal = signal[:, start:start + length]
        if signal.shape[-1] < length:
            signal = F.pad(signal, (0, length - signal.shape[-1]))
        return signal.reshape(*shape[:-2], length)

    def _window_envelope(self, n_frames: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        key = (n_frames, device, dtype)
        if key not in self._envelope:
            win_sq = (self.window.to(device=device, dtype=dtype) ** 2)[None, :, None].expand(1, -1, n_frames)
            full = (n_frames - 1) * self.hop_length + self.n_fft
            env = F.fold(win_sq, output_size=(1, full), kernel_size=(1, self.n_fft), stride=(1, self.hop_length))
            self._envelope[key] = env.reshape(full).clamp(min=1e-8)
        return self._envelope[key]


def mel_filterbank(n_freqs: int, sample_rate: int, n_mels: int, f_min: float = 0.0, f_max: float | None = None
                   ) -> Tensor:
    """Triangular HTK-mel filterbank, (n_mels, n_freqs), each filter normalised to unit area (Slaney style)."""
    f_max = sample_rate / 2 if f_max is None else f_max

    def hz_to_mel(f: Tensor) -> Tensor:
        return 2595.0 * torch.log10(1.0 + f / 700.0)

    def mel_to_hz(m: Tensor) -> Tensor:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)
    mels = torch.linspace(float(hz_to_mel(torch.tensor(f_min))), float(hz_to_mel(torch.tensor(f_max))), n_mels + 2,
                          dtype=torch.float64)
    edges = mel_to_hz(mels)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    bank = torch.clamp(torch.minimum(rising, falling), min=0.0)
    # a filter narrower than one bin would be empty: give it its nearest bin
    empty = bank.sum(dim=1) == 0
    if empty.any():
        nearest = torch.argmin((freqs[None, :] - centre).abs(), dim=1)
        bank[empty, nearest[empty]] = 1.0
    bank = bank / bank.sum(dim=1, keepdim=True)
    return bank.float()


def resampling_matrix(n_out: int, edges: Tensor, n_in: int, samples_per_cell: int = 16) -> Tensor:
    """(n_out, n_in) matrix that averages a piecewise-linear signal over ``n_out`` cells.

    ``edges`` (n_out + 1,) gives each output cell's bounds in input-index coordinates (cell i covers
    ``edges[i]..edges[i+1]``); the input is linearly interpolated between sample centres. Works for both shrinking
    (area average) and stretching (interpolation), and for uneven cells (a log-frequency axis).
    """
    edges = edges.to(torch.float64)
    t = (torch.arange(samples_per_cell, dtype=torch.float64) + 0.5) / samples_per_cell
    pos = edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * t[None, :]  # (n_out, s)
    pos = pos.clamp(0, n_in - 1)
    lo = pos.floor().long().clamp(max=n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    w_hi = pos - lo.double()
    mat = torch.zeros(n_out, n_in, dtype=torch.float64)
    mat.scatter_add_(1, lo, (1 - w_hi) / samples_per_cell)
    mat.scatter_add_(1, hi, w_hi / samples_per_cell)
    return mat.float()


def log_spaced_edges(f0: float, f1: float, n: int) -> Tensor:
    """``n + 1`` cell edges from f0 to f1 equally spaced on a log axis (f0 > 0)."""
    return torch.exp(torch.linspace(math.log(f0), math.log(f1), n + 1, dtype=torch.float64))
