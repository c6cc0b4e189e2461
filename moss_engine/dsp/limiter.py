"""True peak (ITU-R BS.1770-4, annex 2: 4x oversampled) and the look-ahead limiter that keeps a point under its bound
(DESIGN.md "Output level (moss-run/3)", "The limiter").

A point is never turned down as a whole: where the picture adds a peak above the bound, the limiter lowers the gain
around that peak only, ramping down over the look-ahead before it (so the peak itself is already under the ceiling)
and back up with an exponential release after it. It works offline on the whole signal, so the look-ahead needs no
delay: sample 0 of a point is still the music at ``input.start_s``. One gain for all channels (linked), so the stereo
image does not move.

The oversampling filter is the one ``scipy.signal.resample_poly(x, 4, 1)`` designs (a Kaiser-windowed sinc, beta 5,
81 taps), so MOSS's true peak and that of the contract's checker (``../shared/tools/check_run.py``) agree; it runs as
four polyphase branches in numpy (no scipy import at start-up).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from moss_engine.io.encode import INTEGER_FORMATS, LOSSY_FORMATS

#: Oversampling factor of the true-peak measure (BS.1770-4: at least 4x at 48 kHz).
OVERSAMPLING = 4
#: ``resample_poly``'s filter: half length 10 input samples per side, Kaiser window beta 5.
_HALF_TAPS = 10 * OVERSAMPLING
_KAISER_BETA = 5.0
#: A release that has come this close to no reduction (dB) has ended: the gain is exactly 1 again.
RELEASE_FLOOR_DB = 1e-3
#: The contract's bound on a point's true peak, when the song's own is lower (dBTP).
TRUE_PEAK_BOUND_DBTP = -1.0
#: The limiter's ceiling sits this far under the bound, so a point measured by another meter stays within it.
CEILING_MARGIN_DB = 0.2


def _phase_filters() -> np.ndarray:
    """(2 * REACH + 1, OVERSAMPLING) the interpolation filter as polyphase branches over one window of samples: column
    p gives the signal at ``m + p / OVERSAMPLING`` from ``x[m - REACH .. m + REACH]`` (row j weighs ``x[m - REACH +
    j]``)."""
    n = np.arange(2 * _HALF_TAPS + 1) - _HALF_TAPS
    h = np.sinc(n / OVERSAMPLING) * np.kaiser(2 * _HALF_TAPS + 1, _KAISER_BETA)
    h *= OVERSAMPLING / h.sum()  # resample_poly's gain: a DC level passes unchanged
    taps = np.zeros((2 * _REACH + 1, OVERSAMPLING))
    for j in range(2 * _REACH + 1):
        d = _REACH - j  # y(m + p / L) = sum_d h[L d + p + HALF] x[m - d]
        for p in range(OVERSAMPLING):
            k = OVERSAMPLING * d + p + _HALF_TAPS
            if 0 <= k <= 2 * _HALF_TAPS:
                taps[j, p] = h[k]
    return taps


#: How many samples on each side of m the filter reads.
_REACH = _HALF_TAPS // OVERSAMPLING
_TAPS = _phase_filters()
#: Samples filtered at once (bounds the memory of a long song's envelope).
_BLOCK = 1 << 20


def peak_envelope(samples: np.ndarray) -> np.ndarray:
    """(channels, n) audio -> (n,) the largest absolute value of the 4x oversampled signal, over all channels, in the
    sample period that starts at each sample (``m`` to ``m + 3/4``).

    Within ``_REACH`` samples of either end, where the filter would read past the audio, the sample values alone
    count (as the contract's checker leaves the filter's edges out): a segment cut from a song shows no ringing the
    song does not have. The four branches run as one float32 convolution in torch (the engine's own dependency; numpy
    has no fast small-kernel convolution; float32 is seven times faster there than float64, and a true peak to a
    millionth of a dB).
    """
    import torch

    x = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    n = x.shape[-1]
    envelope = np.abs(x).max(axis=0).astype(np.float64) if n else np.zeros(0)
    kernel = torch.from_numpy(np.ascontiguousarray(_TAPS.T[:, None, :], dtype=np.float32))  # (branches, 1, taps)
    signal = torch.from_numpy(np.ascontiguousarray(x))[:, None, :]
    for start in range(_REACH, n - _REACH, _BLOCK):
        stop = min(n - _REACH, start + _BLOCK)
        with torch.no_grad():
            branches = torch.nn.functional.conv1d(signal[..., start - _REACH : stop + _REACH], kernel)
        top = branches.abs().amax(dim=(0, 1)).numpy()
        np.maximum(envelope[start:stop], top, out=envelope[start:stop])
    return envelope


def true_peak_db(samples: np.ndarray) -> float:
    """The true peak of (channels, n) audio in dBTP (``-inf`` for silence)."""
    top = float(peak_envelope(samples).max(initial=0.0))
    return 20 * math.log10(top) if top > 0 else -math.inf


def bound_dbtp(reference: np.ndarray) -> float:
    """The most a point's true peak may be: the larger of ``TRUE_PEAK_BOUND_DBTP`` and the song's own true peak (a
    loud master's overs are the song's, not the picture's)."""
    return max(TRUE_PEAK_BOUND_DBTP, true_peak_db(reference))


def format_ceiling_dbtp(fmt: str, ceiling_dbtp: float, subtype: str | None = None) -> float:
    """The true peak a file of ``fmt`` (``io.encode.FORMATS``; for WAV and FLAC its sample format ``subtype`` where
    known) is held under, from the run's own ceiling: as it is for float WAV, which holds any peak; at most just under
    full scale for an integer format; at most just under -1 dBTP for a lossy one (its decode passes the encoder's
    input peak; DESIGN.md "Exports")."""
    if fmt in INTEGER_FORMATS or (subtype is not None and subtype not in ("FLOAT", "DOUBLE")):
        return min(ceiling_dbtp, -CEILING_MARGIN_DB)
    if fmt in LOSSY_FORMATS:
        return min(ceiling_dbtp, TRUE_PEAK_BOUND_DBTP - CEILING_MARGIN_DB)
    return ceiling_dbtp


def _running_max(values: np.ndarray, half: int) -> np.ndarray:
    """The maximum of ``values`` (>= 0) over ``[i - half, i + half]`` at every i (van Herk / Gil-Werman: O(n))."""
    width = 2 * half + 1
    n = len(values)
    blocks = -(-(n + 2 * half) // width)
    padded = np.zeros(blocks * width)
    padded[half : half + n] = values
    shaped = padded.reshape(blocks, width)
    prefix = np.maximum.accumulate(shaped, axis=1).ravel()
    suffix = np.maximum.accumulate(shaped[:, ::-1], axis=1)[:, ::-1].ravel()
    # window [i, i + width - 1] in padded coordinates = [i - half, i + half] in the values'
    return np.maximum(suffix[:n], prefix[width - 1 : width - 1 + n])


def _running_mean(values: np.ndarray, half: int) -> np.ndarray:
    """The mean of ``values`` over ``[i - half, i + half]`` (the end values held beyond the ends)."""
    width = 2 * half + 1
    total = np.concatenate([[0.0], np.cumsum(np.pad(values, half, mode="edge"))])
    return (total[width:] - total[:-width]) / width


@dataclass(frozen=True)
class Limiter:
    """A transparent look-ahead true-peak limiter, channels linked.

    Args:
        ceiling_dbtp: the true peak it holds the audio under.
        lookahead_ms: how long before a peak the gain starts to come down (a linear ramp in dB; the same length is
            added after the peak before the release starts).
        release_ms: the time constant of the gain's return (the reduction in dB falls by 1/e in this long).
    """

    ceiling_dbtp: float = TRUE_PEAK_BOUND_DBTP - CEILING_MARGIN_DB
    lookahead_ms: float = 5.0
    release_ms: float = 100.0

    @classmethod
    def for_song(cls, reference: np.ndarray) -> Limiter:
        """The limiter of a run: its ceiling ``CEILING_MARGIN_DB`` under the contract's bound for this song."""
        return cls(ceiling_dbtp=round(bound_dbtp(reference) - CEILING_MARGIN_DB, 3))

    def to_record(self) -> dict[str, Any]:
        """The manifest's ``limiter`` (DESIGN.md "The limiter"): every setting that rebuilds a point exactly."""
        return {
            **asdict(self),
            "oversampling": OVERSAMPLING,
            "channels": "linked",
            "detector": "true peak (4x oversampled, Kaiser-windowed sinc as resample_poly)",
            "song_peaks": "kept: a point may reach the song's own true-peak envelope at each sample",
        }

    @classmethod
    def from_record(cls, record: Any) -> Limiter | None:
        """The limiter a manifest records (None: a folder written before moss-run/3 had none)."""
        if not isinstance(record, dict):
            return None
        return cls(**{k: float(record[k]) for k in ("ceiling_dbtp", "lookahead_ms", "release_ms") if k in record})

    def reduction_db(
        self,
        samples: np.ndarray,
        sample_rate: float,
        allowed: np.ndarray | None = None,
        envelope: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n,) the gain reduction in dB (>= 0) that keeps (channels, n) ``samples`` under the ceiling, or under
        ``allowed`` ((n,) linear peak envelope) where that is higher: a song's own peaks, which are not the picture's
        to take away. ``envelope``: the samples' ``peak_envelope`` when the caller has it (a gain on audio whose
        envelope is known scales it)."""
        if not math.isfinite(self.ceiling_dbtp):
            return np.zeros(np.shape(samples)[-1])
        envelope = peak_envelope(samples) if envelope is None else envelope
        ceiling = 10 ** (self.ceiling_dbtp / 20)
        if allowed is not None:
            ceiling = np.maximum(ceiling, allowed)
        over = envelope > ceiling
        if not over.any():
            return np.zeros(envelope.shape)
        need = np.zeros(envelope.shape)
        need[over] = 20 * np.log10(envelope[over] / np.broadcast_to(ceiling, envelope.shape)[over])
        # attack: a running maximum over the look-ahead on each side, then its running mean over the same span, which
        # is never below the need (each mean's window lies inside the maximum's window of every sample it covers)
        half = max(1, round(self.lookahead_ms / 2000 * sample_rate))
        held = _running_mean(_running_max(need, half), half)
        # release: the reduction decays by exp(-t / release) from each sample onwards, and is the largest of them:
        # log r[m] = max_{k <= m} (log r[k] + k / tau) - m / tau, one cumulative maximum
        tau = max(1.0, self.release_ms / 1000 * sample_rate)
        steps = np.arange(len(held)) / tau
        with np.errstate(divide="ignore"):
            logs = np.log(held)
        reduction = np.exp(np.maximum.accumulate(logs + steps) - steps)
        reduction[reduction < RELEASE_FLOOR_DB] = 0.0  # the release ends: far from a peak the audio is as it was
        return reduction

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: float,
        allowed: np.ndarray | None = None,
        envelope: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """(channels, n) audio -> (the limited audio as float32, its deepest gain change in dB, <= 0).

        Audio already under the ceiling (or under ``allowed``; ``reduction_db``'s, as is ``envelope``) comes back as
        it is (the same values). The gain moves slowly next to the sample rate, so the limited audio's true peak is
        the ceiling's to within a few hundredths of a dB, well inside the margin under the contract's bound
        (``CEILING_MARGIN_DB``).
        """
        out = np.asarray(samples, dtype=np.float32)
        reduction = self.reduction_db(out, sample_rate, allowed, envelope)
        if not reduction.any():
            return out, 0.0
        out = (out * (10 ** (-reduction / 20)).astype(np.float32)).astype(np.float32)
        return out, round(-float(reduction.max()), 4)
