"""The two objectives, measured on what the user gets: the viewer's picture of the audio, and how it sounds."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pytorch_msssim.ssim import _fspecial_gauss_1d
from torch import Tensor, nn
from torch.autograd.function import once_differentiable
from torch.utils.checkpoint import checkpoint

from moss_engine.dsp.loudness import (
    ABSOLUTE_GATE_LUFS,
    BLOCK_S,
    BLOCK_STEP_S,
    INTEGRATED_LIMIT_LU,
    LUFS_OFFSET,
    RELATIVE_GATE_LU,
    SHORT_TERM_HOP_S,
    SHORT_TERM_LIMIT_LU,
    SHORT_TERM_S,
    k_weighting_gain,
)
from moss_engine.dsp.spectral import TINY, Stft, mel_filterbank, power, power_to_db

#: Gradient that leaks through the viewer's clamp, so a cell below black (or above white) still feels the mask.
#: The forward value is the exact clamp.
CLAMP_LEAK = 0.05
#: Mel power more than this far below the music's loudest band counts as silence in the audio objective.
AUDIO_FLOOR_DB = 80.0
#: Window lengths of the audio objective at 44.1 kHz (about 12, 23 and 46 ms); scaled with the sample rate.
AUDIO_N_FFTS_44K = (512, 1024, 2048)
N_MELS = 64
#: What ``LogMelDistance`` is, in words (the run folder's ``audio_objective``).
AUDIO_OBJECTIVE = "multi-resolution log-mel distance to the song (dB; 64 bands, windows of about 12, 23 and 46 ms)"
#: The optimiser aims this far inside the loudness limits (LU), so that the exact measurement of the written file,
#: which the estimate below only approximates, stays within them.
LOUDNESS_MARGIN_LU = 0.5
#: Smoothing of the worst short-term window (LU): a soft maximum, so that every window near the worst one feels it.
WORST_WINDOW_SMOOTHING_LU = 0.25
#: The most ``LoudnessExcess.boost_db`` may be (measured 0-2.3 dB on the songs of ../shared/data).
LOUDNESS_BOOST_MAX_DB = 12.0


def leaky_clamp01(x: Tensor) -> Tensor:
    """``clamp(x, 0, 1)`` in the forward pass; slope ``CLAMP_LEAK`` instead of 0 outside [0, 1] in the backward."""
    clamped = x.clamp(0.0, 1.0)
    outside = x - clamped
    return clamped + CLAMP_LEAK * (outside - outside.detach())


class _ViewerLevel(torch.autograd.Function):
    """(population, bins, frames) power -> ``leaky_clamp01((power_to_db(power) - top) / db_range + 1)`` with ``top``
    the loudest cell of each member: the same value and gradient as that autograd chain in about half the passes over
    the region (the largest tensor of the visual objective).

    Backward: ``s = g`` inside [0, 1] (``CLAMP_LEAK * g`` outside); ``dL/dpower = 10 / (ln 10 * db_range) * s / power``
    where the power is above ``TINY``, and the loudest cell also takes ``-sum(s) / db_range`` through ``top`` (as
    ``amax``'s backward does for a single maximum; the first one if several tie).
    """

    @staticmethod
    def forward(ctx, power: Tensor, db_range: float) -> Tensor:
        # a dense copy in the memory order of ``power`` (a region of a frame-major spectrogram, or not)
        frame_major = power.stride(-2) < power.stride(-1)
        floored = torch.empty(_memory_shape(power.shape, frame_major), dtype=power.dtype, device=power.device)
        floored = torch.clamp(power, min=TINY, out=_memory_view(floored, frame_major))
        flat = _memory_view(floored, frame_major).reshape(power.shape[0], -1)  # a view: memory order
        loudest = flat.argmax(dim=1, keepdim=True)  # (population, 1): the top cell (power and dB agree)
        top = power_to_db(flat.gather(1, loudest))[:, :, None]
        level = floored.log10().mul_(10.0 / db_range).sub_(top / db_range - 1.0)
        ctx.save_for_backward(floored, level, loudest)
        ctx.db_range, ctx.frame_major = db_range, frame_major
        return level.clamp(0.0, 1.0)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        floored, level, loudest = ctx.saved_tensors
        # s = grad inside [0, 1], CLAMP_LEAK * grad outside, built in place in one buffer
        s = (level - 0.5).abs_().gt_(0.5).mul_(CLAMP_LEAK - 1.0).add_(1.0).mul_(grad)
        flat = _memory_view(s, ctx.frame_major).reshape(s.shape[0], -1)  # a view: memory order, as ``loudest``
        flat.scatter_add_(1, loudest, -flat.sum(dim=1, keepdim=True))  # through ``top``, times db_range
        s.mul_(10.0 / (math.log(10.0) * ctx.db_range)).div_(floored)
        return s.masked_fill_(floored <= TINY, 0.0), None


def _memory_shape(shape: torch.Size, frame_major: bool) -> tuple[int, ...]:
    return (*shape[:-2], shape[-1], shape[-2]) if frame_major else tuple(shape)


def _memory_view(x: Tensor, frame_major: bool) -> Tensor:
    """(…, bins, frames) <-> its memory order: the transpose when frame-major, else ``x``."""
    return x.transpose(-1, -2) if frame_major else x


def viewer_level(power: Tensor, db_range: float) -> Tensor:
    """(population, bins, frames) power -> the viewer's level in [0, 1] per cell: its dB under the loudest cell, over
    ``db_range``, plus one, clamped (with ``CLAMP_LEAK`` in the backward pass)."""
    return _ViewerLevel.apply(power, float(db_range))


class ViewRenderer(nn.Module):
    """What a spectrogram viewer shows inside the placement, pooled to the picture grid.

    ``level = clamp((dB - (top - db_range)) / db_range, 0, 1)`` per STFT cell, with ``top`` the loudest cell of the
    region (per population member), then ``rows @ level @ cols.T`` (``target.view_matrices``) averages the cells of
    each picture pixel on a linear or log frequency axis.

    Args:
        rows: (grid_rows, bins) pooling matrix, top row first.
        cols: (grid_cols, frames) pooling matrix.
        db_range: the viewer's range in dB.
    """

    def __init__(self, rows: Tensor, cols: Tensor, db_range: float):
        super().__init__()
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        self.db_range = float(db_range)

    def forward(self, power: Tensor) -> Tensor:
        """(population, bins, frames) power of the covered region -> (population, grid_rows, grid_cols) in [0, 1]."""
        return self.rows @ viewer_level(power, self.db_range) @ self.cols.T


def gaussian_band(size: int, win: Tensor) -> Tensor:
    """(size - len(win) + 1, size) matrix whose product applies the 1-D window with "valid" padding."""
    k = win.numel()
    band = torch.zeros(size - k + 1, size)
    for i in range(size - k + 1):
        band[i, i : i + k] = win
    return band


class WeightedSsim(nn.Module):
    """SSIM (Wang et al. 2004, pytorch-msssim's Gaussian window 11 / sigma 1.5, K = (0.01, 0.03), data range 1),
    averaged with weights.

    ``ssim = sum(w * ssim_map) / sum(w)`` with ``w`` the picture's opacity seen through the same window, so transparent
    parts of the picture (where the music is left alone) do not count. With all weights 1 this equals
    ``pytorch_msssim.ssim(x, y, data_range=1)``. The Gaussian filter is applied as two small matrix products (the grid
    is at most a few hundred cells a side), several times faster than a convolution in the backward pass.

    Args:
        target: (rows, cols) the picture's viewer levels.
        weight: (rows, cols) its opacity in [0, 1].
    """

    def __init__(self, target: Tensor, weight: Tensor, win_size: int = 11, win_sigma: float = 1.5):
        super().__init__()
        rows, cols = target.shape
        if min(rows, cols) < win_size:
            raise ValueError(f"SSIM needs a grid of at least {win_size} x {win_size}, got {rows} x {cols}")
        win = _fspecial_gauss_1d(win_size, win_sigma).flatten()
        self.register_buffer("band_rows", gaussian_band(rows, win), persistent=False)
        self.register_buffer("band_cols", gaussian_band(cols, win).T.contiguous(), persistent=False)
        target = target.float()
        self.register_buffer("target", target, persistent=False)
        self.register_buffer("mu2", self._filter(target), persistent=False)
        self.register_buffer("s22", self._filter(target * target) - self.mu2**2, persistent=False)
        w = self._filter(weight.float())
        self.register_buffer("weight", w / w.sum().clamp(min=1e-12), persistent=False)

    def _filter(self, x: Tensor) -> Tensor:
        return self.band_rows @ x @ self.band_cols

    def forward(self, x: Tensor) -> Tensor:
        """(population, rows, cols) in [0, 1] -> (population,) weighted SSIM."""
        c1, c2 = 0.01**2, 0.03**2
        mu1, mu2 = self._filter(x), self.mu2
        s11 = self._filter(x * x) - mu1**2
        s12 = self._filter(x * self.target) - mu1 * mu2
        ssim_map = ((2 * mu1 * mu2 + c1) / (mu1**2 + mu2**2 + c1)) * ((2 * s12 + c2) / (s11 + self.s22 + c2))
        return (ssim_map * self.weight).sum(dim=(-2, -1))


class VisualLoss(nn.Module):
    """Visual objective: ``1 - SSIM_w(picture, view(re-analysed audio))`` inside the placement.

    0 means a viewer shows exactly the picture; the music alone typically scores 0.7 to 1.
    """

    def __init__(self, renderer: ViewRenderer, ssim: WeightedSsim):
        super().__init__()
        self.renderer = renderer
        self.ssim = ssim

    def forward(self, region_power: Tensor) -> Tensor:
        """(population, bins, frames) power of the re-analysed region -> (population,)."""
        return 1.0 - self.ssim(self.renderer(region_power))


class LogMelDistance(nn.Module):
    """Audio objective: the multi-resolution log-mel distance to the music, in dB.

    For each resolution r (Hann window ``n_fft_r``, hop ``n_fft_r / 4``, 64 mel bands):
    ``D_r = mean_{band, frame} |10 log10(P_r(y) + e_r) - 10 log10(P_r(x) + e_r)|`` with ``P_r`` the mel power and
    ``e_r`` the music's loudest mel cell times ``10^(-80/10)`` (quieter than that counts as silence).
    The loss is ``mean_r D_r``: 0 for the music itself, a few dB for an audible change.

    Args:
        reference: (samples,) the music's mix.
        sample_rate: its rate; the window lengths scale with it.
        hop_divisor: hop = n_fft / hop_divisor (4; the coarse stage of coarse-to-fine uses 2).
    """

    def __init__(self, reference: Tensor, sample_rate: int, hop_divisor: int = 4):
        super().__init__()
        scale = sample_rate / 44100
        self.stfts = nn.ModuleList()
        for n in AUDIO_N_FFTS_44K:
            n_fft = max(64, int(round(n * scale / 2)) * 2)
            self.stfts.append(Stft(n_fft, n_fft // hop_divisor))
        for i, stft in enumerate(self.stfts):
            bank = mel_filterbank(stft.n_freqs, sample_rate, N_MELS, f_min=20.0)
            self.register_buffer(f"bank{i}", bank, persistent=False)
        self.set_reference(reference)

    def _mel_power(self, i: int, signal: Tensor) -> Tensor:
        """(population, samples) -> (population, frames, mels): frame-major, like the STFT's memory."""
        return self._mel_of_power(i, power(self.stfts[i].frames(signal)))

    def _mel_of_power(self, i: int, frame_power: Tensor) -> Tensor:
        return frame_power @ getattr(self, f"bank{i}").T

    @torch.no_grad()
    def set_reference(self, reference: Tensor) -> None:
        for i in range(len(self.stfts)):
            mel = self._mel_power(i, reference[None].to(self.bank0.device))
            floor = mel.max().clamp(min=1e-20) * 10 ** (-AUDIO_FLOOR_DB / 10)
            self.register_buffer(f"floor{i}", floor, persistent=False)
            self.register_buffer(f"ref{i}", power_to_db(mel + floor), persistent=False)

    def distance(self, i: int, signal: Tensor, known: Tensor | None = None) -> Tensor:
        """(population,) ``D_i`` of resolution ``i``; ``known`` is that resolution's power spectrogram, frame-major
        (population, frames, freq), if the caller has it already."""
        mel = self._mel_power(i, signal) if known is None else self._mel_of_power(i, known)
        db = power_to_db(mel + getattr(self, f"floor{i}"))
        return (db - getattr(self, f"ref{i}")).abs().mean(dim=(-2, -1))

    def forward(
        self, signal: Tensor, shared: dict[tuple[int, int], Tensor] | None = None, checkpointed: bool = False
    ) -> Tensor:
        """(population, samples) -> (population,) distance in dB.

        ``shared`` maps (n_fft, hop_length) to the power spectrogram (population, frames, freq) of ``signal`` the
        caller already has; a resolution found there is not analysed again. ``checkpointed`` keeps no activations of
        a resolution's analysis for the backward pass (they are recomputed there): less memory, a little more work.
        """
        total = 0.0
        for i, stft in enumerate(self.stfts):
            known = None if shared is None else shared.get((stft.n_fft, stft.hop_length))
            if checkpointed:
                d = checkpoint(self.distance, i, signal, known, use_reentrant=False)
            else:
                d = self.distance(i, signal, known)
            total = total + d
        return total / len(self.stfts)


class LoudnessExcess(nn.Module):
    """How far a population's audio is over the song's loudness, estimated from the viewer's power spectrogram.

    ``loudness.py`` measures BS.1770 exactly on a file; this is the same measure made differentiable: per frame the
    K-weighted power of the channels ``e_t = sum_f k(f) r_t(f) P_t(f)``, averaged over 400 ms gating blocks (BS.1770's
    two gates chosen without gradient) for the integrated loudness and over 3 s windows for the short-term loudness,
    calibrated so that the song's own integrated loudness equals its exact figure. The result per member is
    ``relu(L - L_song - (1 - m))^2 + relu(softmax_w(S_w - C_w) - (3 - m))^2`` in LU^2, with ``L`` the integrated and
    ``S_w`` the short-term loudness, ``C_w`` the song's short-term ceiling (``loudness.short_term_ceiling``) and
    ``m = LOUDNESS_MARGIN_LU``: 0 inside the limits, growing smoothly beyond them.

    The optimiser synthesises only the channels' mix; BS.1770 sums the channels. The blend gives every channel the gain
    that takes the mix to the blended level (DESIGN.md "Stereo"), so in a cell the channels carry ``r = sum_c |X_c|^2
    / |X_mix|^2`` times the mix's power (1 for mono, 2 for identical channels, more where the channels' difference
    is louder than their mix: there a gain raises the channels far more than the mix): ``r`` is the song's, per cell.
    Where a mask is near 1 the channels' synthesis is less consistent than the mix's and they come out louder still
    (measured up to 2.3 LU for the all-image mask in stereo songs, nothing in mono): each frame's power is raised by
    ``boost_db`` times the mean of the mask squared over the frame's picture cells, ``boost_db`` calibrated per song
    on the all-image mask (``calibrate_boost``); measured on random masks it errs on the loud side.

    Args:
        reference_power: (frames, freq) the song's mix power spectrogram with the STFT that the population's will use.
        stereo: (frames, freq) ``r`` per cell.
        sample_rate, hop_length, n_fft: that STFT.
        song_lufs: the song's exact integrated loudness (``loudness.integrated_loudness`` of its channels).
        region_frames: the frames the picture covers (where a mask can be non-zero).
    """

    def __init__(
        self,
        reference_power: Tensor,
        stereo: Tensor,
        sample_rate: int,
        n_fft: int,
        hop_length: int,
        song_lufs: float,
        region_frames: slice,
    ):
        super().__init__()
        self.register_buffer("stereo", stereo.contiguous(), persistent=False)
        self.region_frames = region_frames
        self.boost_db = 0.0
        freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
        weight = torch.from_numpy(k_weighting_gain(freqs.numpy(), sample_rate))
        weight[1:-1] *= 2.0  # a one-sided spectrum: every bin but DC and Nyquist stands for two
        self.register_buffer("weight", weight.float(), persistent=False)
        frames_per_s = sample_rate / hop_length
        n_frames = reference_power.shape[-2]
        self.block = (max(1, round(BLOCK_S * frames_per_s)), max(1, round(BLOCK_STEP_S * frames_per_s)))
        window = min(n_frames, max(1, round(SHORT_TERM_S * frames_per_s)))
        self.window = (window, max(1, round(SHORT_TERM_HOP_S * frames_per_s)))
        self.calibration = 0.0
        if not math.isfinite(song_lufs):  # a silent song: nothing to be measured against, nothing to hold back
            self.song_lufs = None
            return
        self.calibration = song_lufs - self._integrated(self._frame_power(reference_power[None]))[0].item()
        self.song_lufs = song_lufs
        song_short = self._short_term(self._frame_power(reference_power[None]))[0]
        self.register_buffer("ceiling", torch.clamp(song_short, min=ABSOLUTE_GATE_LUFS), persistent=False)
        # the song's own gated blocks and their mean power: ``level_change`` measures a member over the same blocks
        song_blocks = self._blocks(self._frame_power(reference_power[None]))[0]
        loud = self._lufs(song_blocks)
        mean_above = (
            song_blocks[loud >= ABSOLUTE_GATE_LUFS].mean()
            if bool((loud >= ABSOLUTE_GATE_LUFS).any())
            else song_blocks.mean()
        )
        kept = (loud >= ABSOLUTE_GATE_LUFS) & (loud > self._lufs(mean_above) + RELATIVE_GATE_LU)
        kept = kept if bool(kept.any()) else torch.ones_like(kept)
        self.register_buffer("song_kept", kept.float(), persistent=False)
        self.song_kept_power = float((song_blocks * kept).sum() / kept.sum())

    def _frame_power(self, power: Tensor, mask_share: Tensor | None = None) -> Tensor:
        """(population, frames, freq) power of the mix (and (population, region frames) mean square of the mask per
        frame) -> (population, frames) the channels' K-weighted power per frame."""
        frame_power = (power * self.stereo) @ self.weight
        if mask_share is None or self.boost_db == 0.0:
            return frame_power
        boost = torch.ones_like(frame_power)
        boost[:, self.region_frames] = torch.pow(10.0, self.boost_db / 10.0 * mask_share)
        return frame_power * boost

    def _lufs(self, mean_power: Tensor) -> Tensor:
        return LUFS_OFFSET + self.calibration + 10.0 * torch.log10(mean_power.clamp(min=TINY))

    def _blocks(self, frame_power: Tensor) -> Tensor:
        """(population, frames) -> (population, blocks) mean power of BS.1770's 400 ms gating blocks."""
        kernel, stride = self.block
        return F.avg_pool1d(frame_power[:, None], min(kernel, frame_power.shape[-1]), stride)[:, 0]

    @torch.no_grad()
    def calibrate_boost(self, channels_power: Tensor, mix_power: Tensor, mask_share: Tensor) -> None:
        """Set ``boost_db`` so that the estimate of one member's loudness from its mix is the loudness of its
        channels: ``channels_power`` (channels, frames, freq) and ``mix_power`` (1, frames, freq) analysed with this
        estimate's STFT, ``mask_share`` (1, region frames) its mask's (``change``); a few fixed-point steps, within
        [0, ``LOUDNESS_BOOST_MAX_DB``]."""
        exact = self._integrated((channels_power.sum(dim=0) @ self.weight)[None])
        for _ in range(4):
            estimate = self._integrated(self._frame_power(mix_power, mask_share))
            boost = min(max(self.boost_db + float(exact - estimate), 0.0), LOUDNESS_BOOST_MAX_DB)
            if abs(boost - self.boost_db) < 0.02:
                break
            self.boost_db = boost

    def level_change(self, power: Tensor, mask_share: Tensor | None = None) -> Tensor:
        """(population, frames, freq) power of the mix -> (population,) how much louder than the song each member
        is, in LU, over the blocks the song's own gates keep: the integrated change where a member's blocks pass the
        gates as the song's do, and a smooth function of the power (no gate of its own to flip on a rounding)."""
        blocks = self._blocks(self._frame_power(power, mask_share))
        mean = (blocks * self.song_kept).sum(dim=-1) / self.song_kept.sum()
        return 10.0 * torch.log10(mean.clamp(min=TINY) / max(self.song_kept_power, TINY))

    def _integrated(self, frame_power: Tensor) -> Tensor:
        """(population, frames) -> (population,) gated integrated loudness in LUFS."""
        blocks = self._blocks(frame_power)
        with torch.no_grad():
            loud = self._lufs(blocks)
            above = loud >= ABSOLUTE_GATE_LUFS
            mean_above = (blocks * above).sum(dim=-1) / above.sum(dim=-1).clamp(min=1)
            kept = above & (loud > self._lufs(mean_above)[:, None] + RELATIVE_GATE_LU)
            kept = torch.where(kept.any(dim=-1, keepdim=True), kept, torch.ones_like(kept))
        return self._lufs((blocks * kept).sum(dim=-1) / kept.sum(dim=-1))

    def _short_term(self, frame_power: Tensor) -> Tensor:
        """(population, frames) -> (population, windows) short-term loudness in LUFS."""
        kernel, stride = self.window
        return self._lufs(F.avg_pool1d(frame_power[:, None], kernel, stride)[:, 0])

    def change(self, power: Tensor, mask_share: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(population, frames, freq) power of the mix -> (integrated loudness change against the song, LU; the soft
        maximum over the short-term windows of their loudness above the song's ceiling, LU), each (population,).
        ``mask_share``: (population, region frames) the mask's mean square per frame (None: 0, the music)."""
        frame_power = self._frame_power(power, mask_share)
        smooth = WORST_WINDOW_SMOOTHING_LU
        worst = smooth * torch.logsumexp((self._short_term(frame_power) - self.ceiling) / smooth, dim=-1)
        return self._integrated(frame_power) - self.song_lufs, worst

    def forward(self, power: Tensor, mask_share: Tensor | None = None) -> Tensor:
        """(population, frames, freq) power of the mix -> (population,) squared excess over the limits, LU^2.

        On the CPU the value is first found without gradient: where every member is within the limits (most of a run)
        the excess is 0 with a zero gradient, and the backward pass through the estimate is skipped (5 % of a step).
        """
        if self.song_lufs is None:
            return power.new_zeros(power.shape[0])
        if power.requires_grad and torch.is_grad_enabled() and power.device.type == "cpu":
            with torch.no_grad():
                value = self._excess(power, mask_share)
            if not bool(value.any()):
                return value
        return self._excess(power, mask_share)

    def _excess(self, power: Tensor, mask_share: Tensor | None) -> Tensor:
        # over only: a point quieter than the song is brought up to it as a whole afterwards (``run.front_audio``),
        # which a listener hears as the same point, where a louder picture would be heard
        integrated, worst = self.change(power, mask_share)
        over = integrated - (INTEGRATED_LIMIT_LU - LOUDNESS_MARGIN_LU)
        over_short = worst - (SHORT_TERM_LIMIT_LU - LOUDNESS_MARGIN_LU)
        return F.relu(over) ** 2 + F.relu(over_short) ** 2
