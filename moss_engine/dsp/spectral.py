"""STFT analysis and synthesis, mel filterbanks and dB helpers, as torch modules that follow ``.to(device)``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

#: Power floor below which cells count as silence in dB conversions (relative floors are applied by callers).
TINY = 1e-12


def frame_major(x: Tensor) -> Tensor:
    """(..., freq, frames) -> the same values with frames-then-freq memory order (a transposed view of a contiguous
    (..., frames, freq) tensor), the layout of this module's spectrograms."""
    return x.transpose(-1, -2).contiguous().transpose(-1, -2)


def power_to_db(power: Tensor, floor: float = TINY) -> Tensor:
    """``10 log10(max(power, floor))``."""
    return 10.0 * torch.log10(torch.clamp(power, min=floor))


class _Power(torch.autograd.Function):
    """``|z|^2`` as ``re * re + im * im`` on real views (``z * z.conj()`` is several times slower on the CPU), with a
    one-pass backward ``2 g z`` (autograd's own goes through conj and two complex products)."""

    @staticmethod
    def forward(ctx, spec: Tensor) -> Tensor:
        ctx.save_for_backward(spec)
        parts = torch.view_as_real(spec)
        out = parts[..., 0] * parts[..., 0]
        return out.addcmul_(parts[..., 1], parts[..., 1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> Tensor:
        (spec,) = ctx.saved_tensors
        return spec * (2.0 * grad)


def power(spec: Tensor) -> Tensor:
    """``|spec|^2`` of a complex tensor (a real tensor of the same shape)."""
    return _Power.apply(spec)


def _rfft_adjoint_weight(n: int, like: Tensor) -> Tensor:
    """(n // 2 + 1,) weights that make ``n * irfft(w * g)`` the adjoint of a length-n ``rfft``: 1 at DC (and Nyquist for
    even n), 1/2 in between, times n."""
    weight = torch.full((n // 2 + 1,), 0.5 * n, dtype=like.dtype, device=like.device)
    weight[0] = n
    if n % 2 == 0:
        weight[-1] = n
    return weight


class _OnesidedRfft(torch.autograd.Function):
    """``torch.fft.rfft`` over the last axis with a cheap backward.

    The adjoint of a one-sided real FFT of length n is ``n * irfft(w * g)`` with ``w`` 1 at DC (and Nyquist) and 1/2
    in between; torch's own backward zero-pads the gradient to a two-sided spectrum and runs a complex FFT, which made
    the STFT's backward about 40 % of a CPU step.
    """

    @staticmethod
    def forward(ctx, frames: Tensor) -> Tensor:
        ctx.n = frames.shape[-1]  # a Python int: the backward needs no look at the device
        return torch.fft.rfft(frames, dim=-1)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> Tensor:
        weight = _rfft_adjoint_weight(ctx.n, grad.real)
        return torch.fft.irfft(grad * weight, n=ctx.n, dim=-1)


def rfft(frames: Tensor) -> Tensor:
    """(..., n) real -> (..., n // 2 + 1) complex, as ``torch.fft.rfft(frames, dim=-1)``."""
    return _OnesidedRfft.apply(frames)


def magnitude_to_db(magnitude: Tensor, floor: float = 1e-6) -> Tensor:
    """``20 log10(max(|x|, floor))``."""
    return 20.0 * torch.log10(torch.clamp(magnitude, min=floor))


def overlap_add(frames: Tensor, hop_length: int, length: int) -> Tensor:
    """(batch, frames, n) -> (batch, length): frame t added in at sample ``t * hop_length``, cut or zero-padded to
    ``length``.

    Written as ``ceil(n / hop)`` shifted adds of (batch, frames, hop) blocks: on the CPU about 40 times faster than
    ``F.fold`` (col2im), and the same sums.
    """
    batch, n_frames, n = frames.shape
    blocks = -(-n // hop_length)
    if blocks * hop_length != n:
        frames = F.pad(frames, (0, blocks * hop_length - n))
    parts = frames.reshape(batch, n_frames, blocks, hop_length)
    out = frames.new_zeros(batch, max(n_frames + blocks - 1, -(-length // hop_length)), hop_length)
    for r in range(blocks):
        out[:, r : r + n_frames] += parts[:, :, r]
    return out.reshape(batch, -1)[:, :length]


class _AnalysisFrames(torch.autograd.Function):
    """(batch, padded samples) -> (batch, frames, freq) complex: Hann-windowed frames, one-sided FFT.

    Backward: the one-sided FFT's adjoint (``_OnesidedRfft``), the window, then an overlap-add back onto the samples;
    autograd's own goes through ``unfold``'s backward, a scatter several times slower on the CPU.
    """

    @staticmethod
    def forward(ctx, padded: Tensor, window: Tensor, hop_length: int) -> Tensor:
        n = window.shape[0]
        ctx.save_for_backward(window)
        ctx.hop, ctx.length = hop_length, padded.shape[-1]
        return torch.fft.rfft(padded.unfold(-1, n, hop_length) * window, dim=-1)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        (window,) = ctx.saved_tensors
        n = window.shape[0]
        frames = torch.fft.irfft(grad * _rfft_adjoint_weight(n, window), n=n, dim=-1) * window
        return overlap_add(frames, ctx.hop, ctx.length), None, None


class _Synthesis(torch.autograd.Function):
    """(batch, frames, freq) complex -> (batch, length): inverse FFT, window, overlap-add, divided by the window
    envelope, the centre padding cut off (``torch.istft(center=True)``'s maths, without its host-side NOLA check).

    Backward: the adjoint of each step in reverse: pad back, divide by the envelope, frames of the gradient (a view),
    the window, then ``rfft`` scaled by 1/n at DC and Nyquist and 2/n in between (the adjoint of ``irfft``).
    """

    @staticmethod
    def forward(ctx, spec: Tensor, window: Tensor, envelope: Tensor, hop_length: int, length: int) -> Tensor:
        n = window.shape[0]
        frames = torch.fft.irfft(spec, n=n, dim=-1) * window
        full = envelope.shape[0]
        start = n // 2
        signal = overlap_add(frames, hop_length, full)[:, start : start + length] / envelope[start : start + length]
        if signal.shape[-1] < length:
            signal = F.pad(signal, (0, length - signal.shape[-1]))
        ctx.save_for_backward(window, envelope)
        ctx.hop, ctx.length = hop_length, length
        return signal

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        window, envelope = ctx.saved_tensors
        n, full, start = window.shape[0], envelope.shape[0], window.shape[0] // 2
        kept = min(ctx.length, full - start)
        g = grad.new_zeros(grad.shape[0], full)
        g[:, start : start + kept] = grad[:, :kept] / envelope[start : start + kept]
        frames = g.unfold(-1, n, ctx.hop) * window
        weight = 1.0 / _rfft_adjoint_weight(n, window)  # 1/n at DC and Nyquist, 2/n in between
        return torch.fft.rfft(frames, dim=-1) * weight, None, None, None, None


class Stft(nn.Module):
    """Hann-window STFT and its inverse with ``center=True``, frames in the last axis.

    The analysis equals ``torch.stft(..., center=True, pad_mode="reflect")`` and the inverse ``torch.istft(...,
    center=True)``, both written out with hand-written backward passes (one-sided FFT adjoints, overlap-add as shifted
    adds; together about twice as fast on the CPU). The spectrogram is computed frame-major, (..., frames, freq) in
    memory, and returned as its (..., freq, frames) transpose; ``inverse`` is fastest on such a transposed view.

    The inverse never checks the window envelope on the host (istft's NOLA check forces a GPU sync every call): the
    envelope of a Hann window with hop <= n_fft / 2 has no zeros, which ``__init__`` ensures.

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
        self.register_buffer(
            "window", torch.hann_window(n_fft, periodic=True, dtype=torch.float64).float(), persistent=False
        )
        self._envelope: dict[tuple[int, torch.device, torch.dtype], Tensor] = {}

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    def forward(self, signal: Tensor) -> Tensor:
        """(..., samples) real -> (..., freq, frames) complex (a transposed view of frame-major memory)."""
        return self.frames(signal).transpose(-1, -2)

    def frames(self, signal: Tensor) -> Tensor:
        """(..., samples) real -> (..., frames, freq) complex, contiguous: the spectrogram frame-major, as the
        objectives use it (a mel filterbank is then one matrix product on the right, without a copy)."""
        shape = signal.shape
        flat = signal.reshape(-1, 1, shape[-1])
        pad = self.n_fft // 2
        padded = F.pad(flat, (pad, pad), mode="reflect")[:, 0]
        spec = _AnalysisFrames.apply(padded, self.window.to(signal.dtype), self.hop_length)
        return spec.reshape(*shape[:-1], *spec.shape[-2:])

    def inverse(self, spec: Tensor, length: int) -> Tensor:
        """(..., freq, frames) complex -> (..., length) real: windowed overlap-add divided by the window envelope."""
        shape = spec.shape
        n_frames = shape[-1]
        frame_major = spec.reshape(-1, shape[-2], n_frames).transpose(-1, -2)  # (batch, frames, freq)
        window = self.window.to(frame_major.real.dtype)
        envelope = self._window_envelope(n_frames, frame_major.device, window.dtype)
        signal = _Synthesis.apply(frame_major, window, envelope, self.hop_length, length)
        return signal.reshape(*shape[:-2], length)

    def _window_envelope(self, n_frames: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        key = (n_frames, device, dtype)
        if key not in self._envelope:
            win_sq = (self.window.to(device=device, dtype=dtype) ** 2).expand(1, n_frames, -1)
            full = (n_frames - 1) * self.hop_length + self.n_fft
            self._envelope[key] = overlap_add(win_sq, self.hop_length, full)[0].clamp(min=1e-8)
        return self._envelope[key]


def mel_filterbank(
    n_freqs: int, sample_rate: int, n_mels: int, f_min: float = 0.0, f_max: float | None = None
) -> Tensor:
    """Triangular HTK-mel filterbank, (n_mels, n_freqs), each filter normalised to unit area (Slaney style)."""
    f_max = sample_rate / 2 if f_max is None else f_max

    def hz_to_mel(f: Tensor) -> Tensor:
        return 2595.0 * torch.log10(1.0 + f / 700.0)

    def mel_to_hz(m: Tensor) -> Tensor:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)
    mels = torch.linspace(
        float(hz_to_mel(torch.tensor(f_min))), float(hz_to_mel(torch.tensor(f_max))), n_mels + 2, dtype=torch.float64
    )
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
