"""Loudness as ITU-R BS.1770-4 / EBU R128 measure it: K-weighting, gated integrated loudness, 3 s short-term loudness.

MOSS keeps every point at the song's loudness (DESIGN.md "Output level (moss-run/3)"): within ``INTEGRATED_LIMIT_LU``
of the song over the whole segment, both ways, and at most ``SHORT_TERM_LIMIT_LU`` louder over any 3 s window than
the song at the same time. These functions measure that exactly on the audio a user gets (numpy, float64); the optimiser
uses a differentiable estimate of the same figures (``objectives.LoudnessExcess``) and the pipeline checks every point
with these before it is written.

The K-weighting filters are BS.1770's two biquads (a high shelf of +4 dB above about 1.5 kHz and a high-pass near
38 Hz), designed for any sample rate by the bilinear transform as pyloudnorm and libebur128 do; the results agree
with pyloudnorm to within 0.01 LU (``tests/engine/test_loudness.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: A point may be this much louder or quieter than the song (integrated, gated), in LU.
INTEGRATED_LIMIT_LU = 1.0
#: ... and this much louder over any ``SHORT_TERM_S`` window than the song over the same window, in LU.
SHORT_TERM_LIMIT_LU = 3.0
#: The most a point is brought up to the song's loudness by a gain of its own (``makeup_db``), dB.
MAKEUP_MAX_DB = 24.0
#: EBU R128's short-term window, seconds.
SHORT_TERM_S = 3.0
#: Step between the short-term windows that are checked, seconds (the R128 meter's 10 Hz would cost more and finds
#: the same worst window to within a fraction of a LU at the levels a picture changes).
SHORT_TERM_HOP_S = 0.5
#: BS.1770's gating: 400 ms blocks, 75 % overlap, absolute gate -70 LUFS, relative gate 10 LU under the mean.
BLOCK_S = 0.4
BLOCK_STEP_S = 0.1
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
#: The constant of BS.1770's loudness formula, ``L = -0.691 + 10 log10(sum_i G_i z_i)``.
LUFS_OFFSET = -0.691


def k_weighting_biquads(sample_rate: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770's two K-weighting stages as ``(b, a)`` biquad coefficients for ``sample_rate``: a high shelf of +4 dB
    (Q 1/sqrt(2), 1.5 kHz), then a high-pass (Q 0.5, 38 Hz), each designed by the RBJ cookbook's formulae as
    pyloudnorm does, so that MOSS's figures and those of the tools that check it agree."""
    stages = []
    for kind, gain_db, q, corner in (("shelf", 4.0, 1 / math.sqrt(2), 1500.0), ("high-pass", 0.0, 0.5, 38.0)):
        amp = 10 ** (gain_db / 40)
        w0 = 2 * math.pi * corner / sample_rate
        alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
        if kind == "shelf":
            root = 2 * math.sqrt(amp) * alpha
            b = [
                amp * ((amp + 1) + (amp - 1) * cos + root),
                -2 * amp * ((amp - 1) + (amp + 1) * cos),
                amp * ((amp + 1) + (amp - 1) * cos - root),
            ]
            a = [
                (amp + 1) - (amp - 1) * cos + root,
                2 * ((amp - 1) - (amp + 1) * cos),
                (amp + 1) - (amp - 1) * cos - root,
            ]
        else:
            b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
            a = [1 + alpha, -2 * cos, 1 - alpha]
        stages.append((np.array(b) / a[0], np.array(a) / a[0]))
    return stages


def k_weighting_response(freqs_hz: np.ndarray, sample_rate: float) -> np.ndarray:
    """The K-weighting's complex frequency response ``H(f)`` at ``freqs_hz``."""
    z = np.exp(-1j * 2 * np.pi * np.asarray(freqs_hz, dtype=np.float64) / sample_rate)
    response = np.ones_like(z)
    for b, a in k_weighting_biquads(sample_rate):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return response


def k_weighting_gain(freqs_hz: np.ndarray, sample_rate: float) -> np.ndarray:
    """The K-weighting's power gain ``|H(f)|^2`` at ``freqs_hz`` (for weighting a power spectrum)."""
    return np.abs(k_weighting_response(freqs_hz, sample_rate)) ** 2


def k_weighted(samples: np.ndarray, sample_rate: float) -> np.ndarray:
    """(channels, n) audio -> (channels, n) float64 through BS.1770's K-weighting: its two biquads run from rest as
    second-order sections (scipy's ``sosfilt``, imported here, on first use: the engine's start stays quick; 5 ms for
    20 s of stereo at 22.05 kHz, seven times faster than the FFT filter it replaces, the same output to 1e-12)."""
    from scipy.signal import sosfilt

    x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    sections = np.array([np.concatenate([b, a]) for b, a in k_weighting_biquads(sample_rate)])
    return sosfilt(sections, x, axis=-1)


def k_weighted_power(samples: np.ndarray, sample_rate: float) -> np.ndarray:
    """(channels, n) audio -> (n,) the K-weighted signal's power summed over channels (BS.1770's ``sum_i G_i y_i^2``
    with ``G_i = 1``: MOSS's audio has at most two channels, left and right)."""
    y = k_weighted(samples, sample_rate)
    return np.sum(y * y, axis=0)


def _window_means(power: np.ndarray, sample_rate: float, window_s: float, step_s: float) -> np.ndarray:
    """Mean of ``power`` over windows of ``window_s`` every ``step_s`` (whole windows only), placed as BS.1770 (and
    pyloudnorm) place gating blocks: window j spans samples ``int(window_s (j r) rate) .. int(window_s (j r + 1)
    rate)`` with ``r = step_s / window_s``, and the mean divides by ``window_s * rate``."""
    n = len(power)
    if n < int(window_s * sample_rate) or window_s <= 0:
        return np.zeros(0)
    ratio = step_s / window_s
    count = int(np.round((n / sample_rate - window_s) / step_s)) + 1
    j = np.arange(count)
    lower = np.array([int(window_s * (k * ratio) * sample_rate) for k in j])
    upper = np.minimum(n, np.array([int(window_s * (k * ratio + 1) * sample_rate) for k in j]))
    total = np.concatenate([[0.0], np.cumsum(power)])
    return (total[upper] - total[lower]) / (window_s * sample_rate)


def _lufs(mean_power: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return LUFS_OFFSET + 10.0 * np.log10(mean_power)


def integrated_loudness(samples: np.ndarray, sample_rate: float) -> float:
    """Integrated loudness in LUFS of (channels, n) audio (BS.1770-4 gating); ``-inf`` for silence.

    Raises ``ValueError`` for audio shorter than one 400 ms block.
    """
    return _integrated(k_weighted_power(samples, sample_rate), sample_rate)


def _integrated(power: np.ndarray, sample_rate: float) -> float:
    blocks = _window_means(power, sample_rate, BLOCK_S, BLOCK_STEP_S)
    if len(blocks) == 0:
        raise ValueError(f"loudness needs at least {BLOCK_S} s of audio, got {len(power) / sample_rate:.3f} s")
    return gated_loudness(blocks)


def gated_loudness(block_power: np.ndarray) -> float:
    """BS.1770's two gates over the mean power of 400 ms blocks -> loudness in LUFS (``-inf`` if nothing passes)."""
    loud = _lufs(block_power)
    above = block_power[loud >= ABSOLUTE_GATE_LUFS]
    if len(above) == 0:
        return -math.inf
    relative = _lufs(float(np.mean(above))) + RELATIVE_GATE_LU
    kept = block_power[(loud > relative) & (loud >= ABSOLUTE_GATE_LUFS)]
    return float(_lufs(float(np.mean(kept)))) if len(kept) else -math.inf


def short_term_loudness(samples: np.ndarray, sample_rate: float, step_s: float = SHORT_TERM_HOP_S) -> np.ndarray:
    """(windows,) short-term loudness in LUFS of (channels, n) audio: ``SHORT_TERM_S`` windows every ``step_s``,
    from the start, whole windows only (one shorter window when the audio is shorter than that)."""
    return _short_term(k_weighted_power(samples, sample_rate), sample_rate, step_s)


def _short_term(power: np.ndarray, sample_rate: float, step_s: float = SHORT_TERM_HOP_S) -> np.ndarray:
    window = min(SHORT_TERM_S, len(power) / sample_rate)
    return np.asarray(_lufs(_window_means(power, sample_rate, window, step_s)), dtype=np.float64)


def short_term_ceiling(song_short_term: np.ndarray) -> np.ndarray:
    """What a point's short-term loudness is held against, window by window: the song's own, quiet passages included
    (a picture at the song's average loudness would be a burst there), and BS.1770's absolute gate (-70 LUFS, as good
    as inaudible) where the song is silent, which has no loudness to compare with."""
    return np.maximum(song_short_term, ABSOLUTE_GATE_LUFS)


class SongLoudness:
    """The song's loudness, measured once, to hold its points against (``measure``).

    Args:
        reference: (channels, n) the song's segment as the run used it.
        sample_rate: its rate.
    """

    def __init__(self, reference: np.ndarray, sample_rate: float):
        self.sample_rate = sample_rate
        self._length = np.shape(reference)[-1]
        self._views = []  # the channels (BS.1770 proper) and their mix (the mean: the contract's viewer, most tools)
        for power in self._powers(reference):
            self._views.append((_integrated(power, sample_rate), short_term_ceiling(_short_term(power, sample_rate))))

    def _powers(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The K-weighted power of the channels (summed) and of their mix, from one filtering: the filter is linear,
        so the mix of the filtered channels is the filtered mix."""
        x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        filtered = k_weighted(x, self.sample_rate)
        mix = filtered.mean(axis=0)
        return np.sum(filtered * filtered, axis=0), mix * mix

    @property
    def integrated(self) -> float:
        """The song's integrated loudness, LUFS (BS.1770 on its channels)."""
        return self._views[0][0]

    @property
    def short_term_lufs(self) -> np.ndarray:
        """(windows,) the song's short-term loudness (channels), the absolute gate where it is silent, LUFS."""
        return self._views[0][1]

    def measure(self, point: np.ndarray) -> PointLoudness:
        """How loud a (channels, n) point is next to the song."""
        if not math.isfinite(self.integrated):
            return PointLoudness(0.0, 0.0, 0.0)
        changes, excess = [], None
        for (integrated, ceiling), power in zip(self._views, self._powers(point), strict=True):
            changes.append(_integrated(power, self.sample_rate) - integrated)
            view_excess = _short_term(power, self.sample_rate) - ceiling
            excess = view_excess if excess is None else np.maximum(excess, view_excess)
        worst_short = float(np.max(excess)) if excess is not None and len(excess) else -math.inf
        return PointLoudness(float(changes[0]), float(max(changes)), worst_short, excess)

    def window_centres_s(self, count: int) -> np.ndarray:
        """(count,) the times (s) at the middle of the short-term windows ``measure`` judges."""
        window = min(SHORT_TERM_S, self._length / self.sample_rate)
        return window / 2 + SHORT_TERM_HOP_S * np.arange(count)


@dataclass(frozen=True)
class PointLoudness:
    """A point's loudness next to its song.

    Attributes:
        lu: integrated loudness change, LU (BS.1770 on the channels): ``points[].loudness_lu``.
        worst_integrated_lu: the larger of that and the same on the channels' mix.
        worst_short_term_lu: the largest excess of a short-term window over ``short_term_ceiling`` (channels or mix).
        short_term_excess: (windows,) each window's excess (the larger of channels and mix), every
            ``SHORT_TERM_HOP_S`` from the start (``SongLoudness.window_centres_s``); None when not measured.
    """

    lu: float
    worst_integrated_lu: float
    worst_short_term_lu: float
    short_term_excess: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def over_limits_lu(self) -> float:
        """How far beyond the nearer-broken upper limit the point is, LU (at most 0 when it is not too loud)."""
        return max(self.worst_integrated_lu - INTEGRATED_LIMIT_LU, self.worst_short_term_lu - SHORT_TERM_LIMIT_LU)

    @property
    def under_limits_lu(self) -> float:
        """How far under the lower limit (``-INTEGRATED_LIMIT_LU``, the channels' integrated loudness) the point is,
        LU (at most 0 when it is not too quiet)."""
        return -INTEGRATED_LIMIT_LU - self.lu

    def shifted(self, gain_db: float) -> PointLoudness:
        """The same point turned up (or down) by one gain of ``gain_db`` everywhere: every figure moves dB for dB
        (BS.1770's relative gate moves with the blocks; a block crossing the absolute gate at -70 LUFS is all that
        could differ)."""
        excess = None if self.short_term_excess is None else self.short_term_excess + gain_db
        return PointLoudness(
            self.lu + gain_db, self.worst_integrated_lu + gain_db, self.worst_short_term_lu + gain_db, excess
        )

    def within(self, margin_lu: float = 0.0) -> bool:
        """True when the point keeps the song's loudness both ways with ``margin_lu`` to spare."""
        return self.over_limits_lu <= -margin_lu and self.under_limits_lu <= -margin_lu
