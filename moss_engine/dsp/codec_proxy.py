"""What a publishing codec does to what a viewer shows, in a form the optimiser can differentiate (``--publish``).

A perceptual codec (MP3, AAC, Opus) quantises every spectral coefficient with a step set by its band's masking
threshold: the decoded spectrogram is the original with a random error on every cell, largest where the codec judged
the detail inaudible. Modelled here as a fixed random complex error on every cell of the viewer's spectrogram (``z``
complex Gaussian of unit power, the same draw for every mask) of power ``k`` times the power of the cell's
neighbourhood, a Gaussian 0.25 Bark wide (the masking threshold's shape: a loud component raises the error of its
quieter neighbours). Measured on four pairs (a page in an orchestral piece, the bundled sample, a silhouette in a race
theme, a landscape in an ambient piece; 8 front points each, the real encoders through ``io.codec``), once ``k`` is
calibrated per run it predicted the SSIM a viewer shows after the real codec within 0.013 (MP3), 0.029 (Opus) and
0.08 (AAC) on all 32 points. An error of ``k`` times the cell's own power (no spread) or a noise floor filling the
holes predicted far worse (the per-cell error needed ``k`` near 0 dB and still missed the picture-heavy points by
0.07; a floor alone erred by up to 0.2).

``k`` is not one number per codec: the bits a codec has left over depend on the music (the same MP3 128 needed
``k`` = -37.5 dB on the race theme and -16.5 dB on the ambient piece). So every run calibrates it against the real
encoder on its own song and picture (``run.publish.calibrate_proxy``): two uniform blends, rendered as files, through
the codec and back, and the ``k`` whose prediction matches the decoded files' SSIM best.

The proxy works on what the visual objective sees, the placement's region of the viewer's power (``HidingProblem``'s
``codec_proxy``); the audio objective and the loudness estimate hear the signal as written (the codec's error is meant
to be inaudible, and a listener's MOS after the codec is measured on the real decoded files).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

#: The error powers tried by the calibration, dB relative to the power of each cell's neighbourhood (``k`` in dB): from
#: an error no viewer sees (-45 dB) to one as loud as the neighbourhood (0 dB), 1.5 dB apart.
OFFSETS_DB = tuple(float(v) for v in np.arange(-45.0, 0.1, 1.5))


#: The error's spread over frequency: a Gaussian this wide on the Bark scale (the masking threshold's shape: a loud
#: component raises the error of its neighbours within a fraction of a critical band), cut at ``SPREAD_CUT`` widths.
SPREAD_BARK = 0.25
SPREAD_CUT = 2.5


def bark(hz: np.ndarray) -> np.ndarray:
    """Frequency (Hz) on the Bark scale (Zwicker and Terhardt 1980)."""
    hz = np.asarray(hz, dtype=np.float64)
    return 13.0 * np.arctan(0.00076 * hz) + 3.5 * np.arctan((hz / 7500.0) ** 2)


def spread_matrix(freqs_hz: np.ndarray) -> np.ndarray:
    """(bins, bins) each row a bin's Gaussian neighbourhood on the Bark scale (``SPREAD_BARK``), summing to 1: what
    the error of a bin takes from the power of its neighbours (the definition; ``spread_factors`` is its fast form)."""
    z = bark(freqs_hz)
    distance = (z[:, None] - z[None, :]) / SPREAD_BARK
    weights = np.where(np.abs(distance) <= SPREAD_CUT, np.exp(-0.5 * distance**2), 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


def spread_factors(freqs_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``spread_matrix`` as two thin factors ``(U (bins, bands), V (bands, bins))``, ``U @ V`` close to it: the power
    gathered by the Gaussian neighbourhoods of bands ``SPREAD_BARK`` apart on the Bark scale (V), then read at
    each bin by linear interpolation between its two nearest bands (U): at the preview's 487 bins, 92 bands, 2.6
    times fewer products than the square matrix (the optimiser applies it to every cell of every mask at every
    step; measured 0.19 s for a step of 8 masks on 20 s, forward and backward, on two CPU cores)."""
    z = bark(freqs_hz)
    step = SPREAD_BARK
    centres = np.arange(z.min(), z.max() + step, step)
    distance = (centres[:, None] - z[None, :]) / SPREAD_BARK
    gather = np.where(np.abs(distance) <= SPREAD_CUT, np.exp(-0.5 * distance**2), 0.0)
    gather /= np.maximum(gather.sum(axis=1, keepdims=True), 1e-30)
    position = np.clip((z - centres[0]) / step, 0, len(centres) - 1)
    lower = np.minimum(np.floor(position).astype(int), max(len(centres) - 2, 0))
    weight = position - lower
    read = np.zeros((len(z), len(centres)))
    read[np.arange(len(z)), lower] = 1 - weight
    if len(centres) > 1:
        read[np.arange(len(z)), lower + 1] += weight
    return read, gather


def error_draw(shape: tuple[int, ...], seed: int) -> Tensor:
    """``shape + (2,)`` a fixed complex Gaussian draw of unit power (real and imaginary parts), from ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    return (torch.randn((*shape, 2), generator=gen, dtype=torch.float64) * math.sqrt(0.5)).float()


def proxy_power(
    magnitude_re: Tensor, magnitude_im: Tensor, spread: tuple[Tensor, Tensor], draw: Tensor, offset_db: float
) -> Tensor:
    """|X + sqrt(k W|X|^2) z|^2 for (…, bins, frames) complex X given as its two parts: the power of each cell after
    the codec's error (``spread``: W's factors ``spread_factors``, ``draw`` z (bins, frames, 2),
    ``k = 10^(offset_db / 10)``)."""
    power = magnitude_re * magnitude_re + magnitude_im * magnitude_im
    read, gather = spread
    error = torch.sqrt(10.0 ** (offset_db / 10.0) * (read @ (gather @ power)) + 1e-30)
    re = magnitude_re + error * draw[..., 0]
    im = magnitude_im + error * draw[..., 1]
    return re * re + im * im


class CodecProxy(torch.nn.Module):
    """The proxy of one codec on the placement's cells: ``forward(spec)`` takes the region of the viewer's complex
    spectrogram, (…, bins, frames), and returns its power after the codec's error (``proxy_power``); differentiable.

    Args:
        freqs_hz: the region's bins' frequencies.
        frames: the region's frames.
        offset_db: the error's power relative to the spread power of its neighbourhood (the run's calibration).
        seed: the draw's seed (the run's).
    """

    def __init__(self, freqs_hz: np.ndarray, frames: int, offset_db: float, seed: int):
        super().__init__()
        self.offset_db = float(offset_db)
        read, gather = spread_factors(freqs_hz)
        self.register_buffer("read", torch.from_numpy(read).float(), persistent=False)
        self.register_buffer("gather", torch.from_numpy(gather).float(), persistent=False)
        self.register_buffer("draw", error_draw((len(freqs_hz), frames), seed), persistent=False)

    def forward(self, spec: Tensor) -> Tensor:
        parts = torch.view_as_real(spec)
        return proxy_power(parts[..., 0], parts[..., 1], (self.read, self.gather), self.draw, self.offset_db)


def proxied_levels(spec: np.ndarray, freqs_hz: np.ndarray, offset_db: float, seed: int) -> np.ndarray:
    """A viewer's complex spectrogram (bins, frames) as the proxy sees it, in dB of magnitude (numpy): what the
    calibration compares with the real codec."""
    x = torch.from_numpy(np.ascontiguousarray(spec, dtype=np.complex128))
    spread = tuple(torch.from_numpy(m) for m in spread_factors(freqs_hz))
    draw = error_draw(tuple(spec.shape), seed).double()
    power = proxy_power(x.real, x.imag, spread, draw, offset_db)
    return 10.0 * np.log10(np.maximum(power.numpy(), 1e-20))
