"""The readable reference path of a step: torch's own ``stft``/``istft``, ``grid_sample``, autograd everywhere, no
sharing of analyses between objectives.

The engine's fast path replaces each of these with a hand-written backward pass, frame-major memory, a separable mask
warp or a shared analysis (docs/performance.md). Every speed-up must give the front of this path, same seed, within
1e-4 (``tests/engine/test_speedups.py``); a bench can time the two against each other::

    with reference_path():
        slow = compute_front(settings)

The hot code stays single-path: rather than a flag tested inside every STFT, ``reference_path()`` swaps the plain
implementations in for the duration of a block.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from moss_engine.dsp import objectives as objectives_module
from moss_engine.dsp.objectives import leaky_clamp01
from moss_engine.dsp.problem import HidingProblem, Scores
from moss_engine.dsp.spectral import Stft, power_to_db
from moss_engine.dsp.target import warp_to_stft


def plain_viewer_level(power_, db_range):
    db = power_to_db(power_)
    return leaky_clamp01((db - db.amax(dim=(-2, -1), keepdim=True)) / db_range + 1.0)


def plain_power(spec):
    parts = torch.view_as_real(spec)
    return (parts * parts).sum(dim=-1)


def plain_stft(self, signal):
    shape = signal.shape
    spec = torch.stft(
        signal.reshape(-1, shape[-1]),
        self.n_fft,
        self.hop_length,
        window=self.window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


def plain_frames(self, signal):
    return plain_stft(self, signal).transpose(-1, -2)


def plain_inverse(self, spec, length):
    shape = spec.shape
    signal = torch.istft(
        spec.reshape(-1, *shape[-2:]), self.n_fft, self.hop_length, window=self.window, center=True, length=length
    )
    return signal.reshape(*shape[:-2], length)


def plain_masks(self, logits):
    return self.opacity * torch.sigmoid(warp_to_stft(logits, self.grid))


def plain_synthesise_mix(self, mask, level_db=None):
    delta = self._blend_delta(mask, self.spec_mix[self.region], level_db)
    return self.music_mix_synth + self.stft.inverse(self._padded(delta), self.n_samples)


def plain_renderer(self, power_):
    return self.rows @ plain_viewer_level(power_, self.db_range) @ self.cols.T


def plain_objectives_of_signal(self, signal, mask_share=None, checkpointed=False):
    full_power = plain_power(self.stft(signal))
    region_power = full_power[(slice(None), *self.region)]
    scale = self._makeup_scale(full_power.transpose(1, 2), mask_share)
    heard = signal if scale is None else signal * scale[:, None]
    return Scores(
        self.visual_loss(region_power), self.audio_loss(heard), self.loudness(full_power.transpose(1, 2), mask_share)
    )


#: What the reference path replaces: (owner, attribute, plain implementation).
_PLAIN = (
    (objectives_module, "power", plain_power),
    (objectives_module.ViewRenderer, "forward", plain_renderer),
    (Stft, "forward", plain_stft),
    (Stft, "frames", plain_frames),
    (Stft, "inverse", plain_inverse),
    (HidingProblem, "masks", plain_masks),
    (HidingProblem, "synthesise_mix", plain_synthesise_mix),
    (HidingProblem, "_objectives_of_signal", plain_objectives_of_signal),
)
_lock = threading.Lock()


@contextmanager
def reference_path() -> Iterator[None]:
    """Within the block, every ``HidingProblem`` computes with the plain path (one at a time: the switch is
    process-wide; the previous implementations come back on leaving, also after an error)."""
    with _lock:
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in _PLAIN]
        try:
            for owner, name, plain in _PLAIN:
                setattr(owner, name, plain)
            yield
        finally:
            for owner, name, fast in saved:
                setattr(owner, name, fast)
