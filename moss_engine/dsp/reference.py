"""The readable reference path of a step: torch's own ``stft``/``istft``, ``grid_sample``, autograd everywhere, no
sharing of analyses between objectives.

The engine's fast path replaces each of these with a hand-written backward pass, frame-major memory, a separable mask
warp or a shared analysis (docs/performance.md). Every speed-up must give the front of this path, same seed, within
1e-4 (``tests/engine/test_speedups.py``); a bench can time the two against each other, side by side in one process::

    fast = HidingProblem(clip, image, ProblemSettings.from_run(settings))
    plain = ReferenceProblem(clip, image, ProblemSettings.from_run(settings))

The hot code stays single-path: rather than a flag tested inside every STFT, ``ReferenceProblem`` is the same problem
built from the plain pieces (its own STFTs, viewer and audio objectives) with the plain forms of its three hot steps.
Nothing is switched for the process: a ``HidingProblem`` made beside it stays fast.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from moss_engine.dsp.hearing import NeurogramDistance
from moss_engine.dsp.objectives import LogMelDistance, ViewRenderer, leaky_clamp01
from moss_engine.dsp.problem import HidingProblem, Scores
from moss_engine.dsp.spectral import Stft, power_to_db
from moss_engine.dsp.target import warp_to_stft


def plain_viewer_level(power_, db_range):
    db = power_to_db(power_)
    return leaky_clamp01((db - db.amax(dim=(-2, -1), keepdim=True)) / db_range + 1.0)


def plain_power(spec):
    parts = torch.view_as_real(spec)
    return (parts * parts).sum(dim=-1)


def plain_stft(stft, signal):
    shape = signal.shape
    spec = torch.stft(
        signal.reshape(-1, shape[-1]),
        stft.n_fft,
        stft.hop_length,
        window=stft.window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


def plain_inverse(stft, spec, length):
    shape = spec.shape
    signal = torch.istft(
        spec.reshape(-1, *shape[-2:]), stft.n_fft, stft.hop_length, window=stft.window, center=True, length=length
    )
    return signal.reshape(*shape[:-2], length)


def plain_masks(problem, logits):
    return problem.opacity * torch.sigmoid(warp_to_stft(logits, problem.grid))


class PlainStft(Stft):
    """``Stft`` by ``torch.stft`` and ``torch.istft``."""

    def forward(self, signal: Tensor) -> Tensor:
        return plain_stft(self, signal)

    def frames(self, signal: Tensor) -> Tensor:
        return plain_stft(self, signal).transpose(-1, -2)

    def inverse(self, spec: Tensor, length: int) -> Tensor:
        return plain_inverse(self, spec, length)


class PlainViewRenderer(ViewRenderer):
    """``ViewRenderer`` with the viewer's level by autograd."""

    def forward(self, power_: Tensor) -> Tensor:
        return self.rows @ plain_viewer_level(power_, self.db_range) @ self.cols.T


class PlainLogMelDistance(LogMelDistance):
    """``LogMelDistance`` on torch's STFT and the plain ``|z|^2``."""

    def __init__(self, reference: Tensor, sample_rate: int, hop_divisor: int = 4):
        super().__init__(reference, sample_rate, hop_divisor)
        for i, stft in enumerate(self.stfts):
            self.stfts[i] = PlainStft(stft.n_fft, stft.hop_length)
        self.set_reference(reference)

    def _mel_power(self, i: int, signal: Tensor) -> Tensor:
        return self._mel_of_power(i, plain_power(self.stfts[i].frames(signal)))


class PlainNeurogramDistance(NeurogramDistance):
    """``NeurogramDistance`` on torch's STFT."""

    def __init__(self, reference: Tensor, sample_rate: int, n_fft: int, hop_length: int):
        super().__init__(reference, sample_rate, n_fft, hop_length)
        self.stft = PlainStft(n_fft, hop_length)
        self.set_reference(reference)


class ReferenceProblem(HidingProblem):
    """``HidingProblem`` on the reference path: the plain pieces, the blend by autograd (``blend_delta``), the mask
    warp by ``grid_sample``, every objective analysing the audio itself. The same arguments; slower, and the measure
    of every speed-up."""

    stft_type = PlainStft
    view_renderer_type = PlainViewRenderer
    logmel_type = PlainLogMelDistance
    neurogram_type = PlainNeurogramDistance

    def masks(self, logits: Tensor) -> Tensor:
        return plain_masks(self, logits)

    def synthesise_mix(self, mask: Tensor, level_db: Tensor | float | None = None) -> Tensor:
        delta = self.blend_delta(mask, self.spec_mix[self.region], level_db)
        (b0, b1), (c0, c1) = self.placement.bins, self.placement.frames
        n_freq, n_frames = self.spec_mix.shape
        padded = torch.view_as_complex(F.pad(delta, (0, 0, c0, n_frames - c1, b0, n_freq - b1)))
        return self.music_mix_synth + self.stft.inverse(padded, self.n_samples)

    def objectives_of_signal(
        self, signal: Tensor, mask_share: Tensor | None = None, checkpointed: bool = False
    ) -> Scores:
        full_power = plain_power(self.stft(signal))
        region_power = full_power[(slice(None), *self.region)]
        scale = self._makeup_scale(full_power.transpose(1, 2), mask_share)
        heard = signal if scale is None else signal * scale[:, None]
        return Scores(
            self.visual_loss(region_power),
            self.audio_loss(heard),
            self.loudness(full_power.transpose(1, 2), mask_share),
        )
