"""One picture and one song as a differentiable function: mask logits -> synthesised audio -> (visual, audio) losses.

What the optimisers see: populations of masks in, losses out. A single point's sound (its phase refinement, its file
scored) is ``point_render.PointRenderer``'s, built on this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from moss_engine.dsp.blend import blend_into_spectrum
from moss_engine.dsp.codec_proxy import CodecProxy
from moss_engine.dsp.hearing import NeurogramDistance
from moss_engine.dsp.loudness import MAKEUP_MAX_DB, SHORT_TERM_LIMIT_LU, integrated_loudness
from moss_engine.dsp.objectives import (
    LOUDNESS_MARGIN_LU,
    LogMelDistance,
    LoudnessExcess,
    ViewRenderer,
    VisualLoss,
    WeightedSsim,
)
from moss_engine.dsp.spectral import Stft, frame_major, magnitude_to_db, power
from moss_engine.dsp.target import (
    Placement,
    Target,
    image_grid_shape,
    level_to_db,
    make_placement,
    make_target,
    sampling_grid,
    separable_warp,
    view_matrices,
    warp_to_stft,
)
from moss_engine.io.audio import AudioClip
from moss_engine.io.image import LoadedImage
from moss_engine.settings import RunSettings

#: Music quieter than this many dB below the viewer's black counts as silence: there the picture gets a phase of
#: its own (a fixed random one), since silence has no phase to borrow.
SILENCE_BELOW_BLACK_DB = 20.0
#: The most the channels are taken to carry per unit of the mix's power in a cell (``HidingProblem._stereo_ratio``):
#: 30 dB, a side signal far louder than the mid, where a blend's gain would raise the channels 30 dB above the picture.
STEREO_RATIO_MAX = 1000.0


#: ``ln(10) / 20``: dB to the natural log of an amplitude ratio.
DB_TO_LOG = math.log(10.0) / 20.0
#: The picture's level is looked for in this range (dB of white relative to the music's loudest cell of the
#: placement). Above 0 dB (moss-run/1's fixed level, where a bright picture made points 30 LU too loud) only for a
#: point that a gain of its own cannot bring up to the song's loudness (``run.front_audio.fit_loudness``).
LEVEL_RANGE_DB = (-100.0, 24.0)
#: The picture's level is a curve over time (DESIGN.md "The picture's level"): its values at knots this far apart (s),
#: at ``linspace(t0_s, t1_s, n)``, linear in dB between them. A second is short next to the 3 s short-term window that
#: judges a passage, long next to a note: the level follows passages, not beats.
LEVEL_KNOT_S = 1.0


@dataclass(frozen=True)
class ProblemSettings:
    """What a ``HidingProblem`` uses of a run's settings (``RunSettings`` documents each): the STFT, the mask grid,
    where the picture sits and how it is mapped, the viewer's range, the audio objective and the seed of the
    picture's phase in silence."""

    n_fft: int
    hop_length: int
    mask_shape: tuple[int, int]
    time: tuple[float, float] | None
    band: tuple[float, float]
    freq_scale: str
    fit: str
    gamma: float
    invert: bool
    db_range: float
    audio_objective: str
    seed: int

    @classmethod
    def from_run(cls, settings: RunSettings) -> ProblemSettings:
        """The problem's share of ``settings`` (its band: the asked one or the default, ``RunSettings.band``)."""
        return cls(
            n_fft=settings.n_fft,
            hop_length=settings.hop_length,
            mask_shape=settings.mask_shape,
            time=settings.time,
            band=settings.band(),
            freq_scale=settings.freq_scale,
            fit=settings.fit,
            gamma=settings.gamma,
            invert=settings.invert,
            db_range=settings.db_range,
            audio_objective=settings.audio_objective,
            seed=settings.seed,
        )


class Scores(NamedTuple):
    """What ``HidingProblem.objectives`` measures of a population, each (population,): the two objectives and how
    far the audio is over the song's loudness (``objectives.LoudnessExcess``, LU^2, 0 within the limits)."""

    visual: Tensor
    audio: Tensor
    loudness_excess: Tensor


class HidingProblem(nn.Module):
    """The blend of DESIGN.md and its two objectives, for one picture and one song segment.

    A mask ``M`` in [0, 1] on the covered STFT region (``opacity * sigmoid(warp(logits))``, the opacity being the
    picture's alpha channel: transparency keeps the music) blends the mix's magnitude in dB, ``R_dB = M * (I_dB + level)
    + (1 - M) * A_dB``, where ``I_dB`` puts the picture's white at the music's loudest cell of the placement and
    ``level`` (dB, per mask: ``picture_level_db``) moves it (DESIGN.md "Levels": a viewer levels itself, so the level is
    the run's to choose). Every channel is multiplied by the gain ``g = 10^((R_dB - A_dB) / 20)`` that takes the mix to
    ``R``, keeping the music's phase; in silence a fixed random phase carries the picture. The inverse STFT gives the
    audio, which is analysed again with the viewer's settings to score it (``VisualLoss``, ``LogMelDistance``) and to
    estimate how far it is over the song's loudness (``LoudnessExcess``).

    The level is a curve over time (DESIGN.md "The picture's level"): ``level_knots`` values at ``knot_times_s``,
    linear in dB between them. Every method that turns masks into audio takes ``level_db``: for a population one
    number, one per mask ((population,): flat curves) or (population, knots) curves (``level_frames``); for one point
    a number or a (knots,) curve (``point_level``). None means the matched curve (``matched_levels``).

    The pieces it builds are the fast ones (hand-written backward passes, shared analyses);
    ``reference.ReferenceProblem`` is the same problem built from torch's own, which every speed-up must match.

    Args:
        music: the segment, (channels, samples) at the run's rate.
        image: the loaded picture.
        settings: what the problem uses of the run's settings (``ProblemSettings.from_run``).
        audio_hop_divisor: the audio objective's hop is n_fft / this (see ``LogMelDistance``).
    """

    #: The STFT, the viewer's renderer and the two audio objectives the problem builds.
    stft_type: type[Stft] = Stft
    view_renderer_type: type[ViewRenderer] = ViewRenderer
    logmel_type: type[LogMelDistance] = LogMelDistance
    neurogram_type: type[NeurogramDistance] = NeurogramDistance

    def __init__(self, music: AudioClip, image: LoadedImage, settings: ProblemSettings, audio_hop_divisor: int = 4):
        super().__init__()
        self.settings = settings
        self.sample_rate = music.sample_rate
        self.n_samples = music.samples.shape[1]
        self.stft = self.stft_type(settings.n_fft, settings.hop_length)
        self.placement: Placement = make_placement(
            music.duration_s,
            music.sample_rate,
            settings.n_fft,
            settings.hop_length,
            settings.time,
            settings.band,
            settings.freq_scale,
        )
        self.grid_shape = image_grid_shape(self.placement, settings.mask_shape)
        self.target: Target = make_target(
            image, self.placement, self.grid_shape, settings.fit, settings.gamma, settings.invert
        )
        (b0, b1), (c0, c1) = self.placement.bins, self.placement.frames
        self.region = (slice(b0, b1), slice(c0, c1))

        channels = torch.from_numpy(np.ascontiguousarray(music.samples, dtype=np.float32))
        spec = self.stft(channels)  # (channels, freq, frames)
        self.register_buffer("spec", spec, persistent=False)
        self.register_buffer("spec_mix", spec.mean(dim=0), persistent=False)
        self.register_buffer("music_mix", channels.mean(dim=0), persistent=False)
        self.register_buffer("music_mix_synth", self.stft.inverse(self.spec_mix, self.n_samples), persistent=False)

        region = self.spec_mix[self.region]
        music_db = magnitude_to_db(region.abs(), floor=1e-10)
        self.top_db = float(music_db.max())
        floor_db = self.top_db - settings.db_range - SILENCE_BELOW_BLACK_DB
        grid = sampling_grid(self.placement, music.sample_rate, settings.n_fft, settings.hop_length)
        self.register_buffer("grid", grid, persistent=False)
        # the picture with its white at the music's loudest cell (level 0 dB); each mask's level moves it
        picture_db = level_to_db(warp_to_stft(self.target.fine_levels[None], grid)[0], self.top_db, settings.db_range)
        self.register_buffer("picture_db", picture_db, persistent=False)
        self.register_buffer("picture_minus_music_db", picture_db - music_db.clamp(min=floor_db), persistent=False)
        self.register_buffer(
            "opacity", warp_to_stft(self.target.fine_opacity[None], grid)[0].clamp(0, 1), persistent=False
        )
        self.register_buffer("music_db", music_db.clamp(min=floor_db), persistent=False)
        self._precompute_blend(region, floor_db, grid)
        self._precompute_levels(music)

        rows, cols = view_matrices(
            self.placement, self.grid_shape, music.sample_rate, settings.n_fft, settings.hop_length
        )
        self.visual_loss = VisualLoss(
            self.view_renderer_type(rows, cols, settings.db_range),
            WeightedSsim(self.target.levels, self.target.opacity),
        )
        if settings.audio_objective == "logmel":
            self.audio_loss = self.logmel_type(self.music_mix, music.sample_rate, audio_hop_divisor)
        else:  # on the viewer's own analysis, which the objectives share; against the song as the all-music mask
            # synthesises it (the STFT round trip's 1e-7 differences are then not read as a change of the song)
            self.audio_loss = self.neurogram_type(
                self.music_mix_synth, music.sample_rate, settings.n_fft, settings.hop_length
            )
        with torch.no_grad():
            mix_power = self._view_power(self.music_mix[None])[0]
            self.loudness = LoudnessExcess(
                mix_power,
                self._stereo_ratio(settings.db_range),
                music.sample_rate,
                settings.n_fft,
                settings.hop_length,
                integrated_loudness(music.samples, music.sample_rate),
                self.region[1],
            )
            if self.loudness.song_lufs is not None:
                self._calibrate_loudness()
        self._matched_level_db: float | None = None
        #: What the visual objective sees the picture through: None (the file as written), or a publishing codec's
        #: proxy (``use_codec_proxy``).
        self.codec_proxy: CodecProxy | None = None

    def use_codec_proxy(self, offset_db: float | None) -> None:
        """Judge the picture after a publishing codec from now on (``--publish``): the visual objective sees the
        region's power through ``codec_proxy.CodecProxy`` at ``offset_db`` (the run's calibration,
        ``run.publish.calibrate_proxy``), drawn from the run's seed; None: as written again."""
        if offset_db is None:
            self.codec_proxy = None
            return
        (b0, b1), (c0, c1) = self.placement.bins, self.placement.frames
        freqs = np.arange(b0, b1) * self.sample_rate / self.settings.n_fft
        self.codec_proxy = CodecProxy(freqs, c1 - c0, offset_db, self.settings.seed).to(self.device)

    @property
    def codec_proxy_db(self) -> float | None:
        """The codec proxy's calibrated offset (dB), None when the picture is judged as written."""
        return None if self.codec_proxy is None else self.codec_proxy.offset_db

    def _precompute_blend(self, region: Tensor, floor_db: float, grid: Tensor) -> None:
        """The blend's constant tensors: the picture's silence fill, and the hot path's frame-major copies."""
        # where the music is under the floor its phase means nothing: there the blend adds the picture with a fixed
        # random phase, S = (1 - audible) * |floor-clamped music| * e^(i phase), so M = 1 still reaches the picture
        floor_mag = 10 ** (floor_db / 20)
        inaudible = 1.0 - (region.abs() / floor_mag).clamp(max=1.0)
        gen = torch.Generator().manual_seed(self.settings.seed)
        phase = torch.rand(region.shape, generator=gen) * (2 * torch.pi)
        silence = inaudible * torch.pow(10.0, self.music_db / 20.0) * torch.polar(torch.ones_like(phase), phase)
        self.has_silence = bool((inaudible > 0).any())
        self.register_buffer("silence", torch.view_as_real(silence).contiguous(), persistent=False)
        # the optimiser's hot path works frame-major (see ``masks``): its copies of the region's tensors too
        self.register_buffer("blend_silence", frame_major(silence), persistent=False)
        self.register_buffer("blend_rate", frame_major(self.picture_minus_music_db * DB_TO_LOG), persistent=False)
        self.register_buffer("music_region", frame_major(region), persistent=False)
        self.register_buffer("opacity_frame_major", frame_major(self.opacity), persistent=False)
        warp_rows, warp_cols = separable_warp(grid, self.settings.mask_shape)
        self.register_buffer("warp_rows_t", warp_rows.T.contiguous(), persistent=False)  # (mask rows, bins)
        self.register_buffer("warp_cols", warp_cols, persistent=False)  # (frames, mask cols)

    def _precompute_levels(self, music: AudioClip) -> None:
        """The level curves' knots, their interpolation to the region's frames, and the song's own curve
        (``level_envelope_db``)."""
        place = self.placement
        n = max(2, 1 + round((place.t1_s - place.t0_s) / LEVEL_KNOT_S))
        self.knot_times_s = np.linspace(place.t0_s, place.t1_s, n)
        frame_times = np.arange(*place.frames) * self.settings.hop_length / music.sample_rate
        position = np.clip((frame_times - place.t0_s) / (place.t1_s - place.t0_s) * (n - 1), 0, n - 1)
        lower = np.minimum(np.floor(position).astype(np.int64), n - 2)
        self.register_buffer("knot_lower", torch.from_numpy(lower), persistent=False)
        self.register_buffer("knot_weight", torch.from_numpy(position - lower).float(), persistent=False)
        #: The shape every level curve has (dB, at most 0): flat until ``adopt_level_curve`` gives it one.
        self.level_envelope_db = np.zeros(n)

    @property
    def level_knots(self) -> int:
        """How many values a point's level curve has (``picture_level_db`` as a list)."""
        return len(self.knot_times_s)

    def adopt_level_curve(self, curve_db: np.ndarray) -> None:
        """Make ``curve_db`` (knots,) the matched level curve (``matched_levels``): its shape becomes every curve's
        (``level_envelope_db``, its highest knot at 0 dB), its highest knot the matched offset. The run gives it the
        all-picture end's curve, fitted to the song's loudness (``run.front_audio.fit_loudness``): lower only where a
        quiet passage asks for it, so a quiet passage does not pull a whole point down."""
        curve = np.asarray(curve_db, dtype=np.float64)
        self.level_envelope_db = curve - curve.max()
        self._matched_level_db = float(curve.max())

    def level_curves(self, offsets_db: Tensor) -> Tensor:
        """(population,) level offsets in dB -> (population, knots) level curves: the run's curve shape
        (``level_envelope_db``) moved by each offset; differentiable in the offsets."""
        envelope = torch.as_tensor(self.level_envelope_db, dtype=torch.float32, device=self.device)
        return offsets_db[:, None] + envelope

    def level_curve(self, offset_db: float) -> np.ndarray:
        """(knots,) the level curve at one offset (what a point's ``picture_level_db`` records)."""
        return (offset_db + self.level_envelope_db).astype(np.float64)

    @property
    def matched_levels(self) -> np.ndarray:
        """(knots,) the level curve every mask starts from: the run's curve shape at ``matched_level_db``."""
        return self.level_curve(self.matched_level_db)

    def point_level(self, level_db: np.ndarray | Tensor | float | None) -> Tensor:
        """One point's level (a number, a curve over the placement's time, or None: matched) -> (1, knots). A curve of
        another length (its values at ``linspace(t0_s, t1_s, n)``) is read at this placement's knots, linearly."""
        if level_db is None:
            level_db = self.matched_levels
        if not isinstance(level_db, Tensor):
            values = np.atleast_1d(np.asarray(level_db, dtype=np.float64))
            if 1 < len(values) != self.level_knots:  # a curve on another grid over the same span: read it on ours
                values = np.interp(np.linspace(0, 1, self.level_knots), np.linspace(0, 1, len(values)), values)
            level_db = values.astype(np.float32)
        level = torch.as_tensor(level_db, dtype=torch.float32, device=self.device)
        return level.reshape(1, -1).expand(1, self.level_knots)

    def level_frames(self, level_db: Tensor | float | None, population: int) -> Tensor:
        """(population, region frames) the picture's level in dB at every frame of the region.

        ``level_db``: None (the matched curve for every member), a number, (population,) one number per member,
        (population, knots) one curve per member, or (1, knots) or (knots,) one curve for all (a (knots,) curve for a
        population of ``level_knots`` members must be passed as (1, knots)); linear in dB between the knots;
        differentiable.
        """
        if level_db is None:
            level_db = self.point_level(None)
        level = torch.as_tensor(level_db, dtype=torch.float32, device=self.device)
        if level.dim() == 0:
            level = level.expand(population)
        if level.dim() == 1 and len(level) != population and len(level) == self.level_knots:
            level = level[None]  # one curve for every member
        elif level.dim() == 1:  # one number per member: flat
            return level[:, None].expand(population, self.knot_lower.shape[0])
        if level.shape[1] != self.level_knots:
            raise ValueError(f"level curves of {level.shape[1]} values; this placement has {self.level_knots} knots")
        level = level.expand(population, -1)
        lower = level[:, self.knot_lower]
        return lower + self.knot_weight * (level[:, self.knot_lower + 1] - lower)

    def _stereo_ratio(self, db_range: float) -> Tensor:
        """(frames, freq) ``sum_c |X_c|^2 / |X_mix|^2`` per cell of the song (``LoudnessExcess``): what the channels
        carry for each unit of the mix's power. Where the mix is silent (below the viewer's black and as far again)
        the picture's own carrier, the same in every channel, is what sounds: there the ratio is the channel count."""
        channels = power(self.spec).sum(dim=0)
        mix = power(self.spec_mix)
        floor = mix.max() * 10 ** (-(db_range + SILENCE_BELOW_BLACK_DB) / 10)
        ratio = torch.where(
            mix > floor,
            (channels / mix.clamp(min=1e-30)).clamp(max=STEREO_RATIO_MAX),
            torch.full_like(mix, float(self.spec.shape[0])),
        )
        return ratio.T

    @property
    def device(self) -> torch.device:
        return self.spec.device

    def masks(self, logits: Tensor) -> Tensor:
        """(population, *mask_shape) logits -> (population, bins, frames) effective mask on the covered region.

        Computed frame-major, (population, frames, bins) in memory, and returned as its transpose: the blend writes
        into a frame-major spectrogram (what the inverse STFT reads fastest), so every pass of the step then runs
        in memory order.
        """
        # warp_to_stft(logits, grid), transposed: (frames, cols) @ (population, cols, rows) @ (rows, bins)
        warped = self.warp_cols @ (logits.transpose(1, 2) @ self.warp_rows_t)
        return (self.opacity_frame_major.T * torch.sigmoid(warped)).transpose(1, 2)

    def constant_masks(self, levels: Tensor) -> Tensor:
        """(population,) constant blend levels -> (population, bins, frames) effective masks (a uniform crossfade)."""
        return self.opacity * levels.to(self.device, torch.float32)[:, None, None]

    @property
    def matched_level_db(self) -> float:
        """The offset of the run's level curve (``level_curves``; dB of white relative to the music's loudest cell of
        the placement) at which the all-image mask is as loud as the song (integrated), or lower where that would take
        a 3 s window of it over the short-term limit, within ``LEVEL_RANGE_DB``: the level every mask starts from
        (``matched_levels``), and the crossfade's (a loudness-matched crossfade). ``adopt_level_curve`` sets it.

        Estimated by ``LoudnessExcess`` on the synthesised audio, with a few Newton steps of slope one (loudness moves
        at most dB for dB with the level, so they approach it from one side); computed once, on first use.
        """
        if self._matched_level_db is None:
            level = 0.0
            if self.loudness.song_lufs is not None:
                ones = self.constant_masks(torch.ones(1))
                short_target = SHORT_TERM_LIMIT_LU - LOUDNESS_MARGIN_LU
                with torch.no_grad():
                    for _ in range(6):
                        curve = self.level_curves(torch.tensor([level], device=self.device))
                        integrated, worst = self.loudness.change(
                            self._view_power(self.synthesise_mix(ones, curve)), self.mask_share(ones)
                        )
                        over = max(float(integrated[0]), float(worst[0]) - short_target)
                        new = min(max(level - over, LEVEL_RANGE_DB[0]), LEVEL_RANGE_DB[1])
                        if abs(new - level) < 0.1:
                            break
                        level = new
            self._matched_level_db = float(level)
        return self._matched_level_db

    def blend_delta(self, mask: Tensor, spec_region: Tensor, level_db: Tensor | float | None = None) -> Tensor:
        """What the blend adds to the (…, bins, frames) region of ``spec_region``; ``mask`` (population, bins, frames):
        the blend's plain autograd form (``blend.blend_into_spectrum`` is its fast one).

        ``(g - 1) X + g M S`` with the gain ``g = 10^(M (I_dB + level - A_dB) / 20)`` and ``S`` the picture's own phase
        where the music is silent (zero elsewhere). Returning the change, not the new spectrogram, lets synthesis
        reuse the music's own inverse STFT, since the inverse STFT is linear. Real views avoid complex promotion of
        the gain. Returns (population, …, bins, frames, 2) real.
        """
        shift = self.level_frames(level_db, mask.shape[0]) * DB_TO_LOG
        gain = torch.exp(mask * (self.picture_minus_music_db * DB_TO_LOG + shift[:, None, :]))
        while gain.dim() < spec_region.dim() + 1:  # channels between population and bins
            gain = gain.unsqueeze(1)
        delta = (gain - 1.0).unsqueeze(-1) * torch.view_as_real(spec_region)
        if self.has_silence:
            m = mask
            while m.dim() < gain.dim():
                m = m.unsqueeze(1)
            delta = delta + (gain * m).unsqueeze(-1) * self.silence
        return delta

    def synthesise_mix(self, mask: Tensor, level_db: Tensor | float | None = None) -> Tensor:
        """(population, bins, frames) effective masks at their picture levels -> (population, samples) mix of the
        synthesised audio; differentiable in both."""
        silence = self.blend_silence if self.has_silence else None
        shift = self.level_frames(level_db, mask.shape[0]) * DB_TO_LOG
        delta = blend_into_spectrum(
            mask, self.blend_rate, self.music_region, silence, tuple(self.spec_mix.shape), self.region, shift
        )
        return self.music_mix_synth + self.stft.inverse(delta, self.n_samples)

    def objectives(self, mask: Tensor, level_db: Tensor | float | None = None, checkpointed: bool = False) -> Scores:
        """(population, bins, frames) effective masks (and their picture levels) -> ``Scores``, differentiable.

        ``checkpointed`` (the optimiser's memory plan, ``optimise.memory.plan_chunks``; only where gradients are
        wanted): the STFT round trip keeps no activations for the backward pass but its inputs and outputs: synthesis,
        the viewer's analysis and each audio resolution are recomputed one at a time there, so a chunk's peak is that
        of its largest stage, not of all of them.
        """
        levels = (
            self.point_level(None)
            if level_db is None
            else torch.as_tensor(level_db, dtype=torch.float32, device=self.device)
        )
        if checkpointed and torch.is_grad_enabled():
            return self.objectives_of_signal(
                checkpoint(self.synthesise_mix, mask, levels, use_reentrant=False), self.mask_share(mask), True
            )
        return self.objectives_of_signal(self.synthesise_mix(mask, levels), self.mask_share(mask))

    def _view_power(self, signal: Tensor) -> Tensor:
        """(population, samples) -> (population, frames, freq) power with the viewer's settings, frame-major."""
        return power(self.stft.frames(signal))

    @staticmethod
    def mask_share(mask: Tensor) -> Tensor:
        """(population, bins, frames) effective masks -> (population, frames) their mean square per frame (how much
        of each frame is picture, for ``LoudnessExcess``)."""
        return (mask * mask).mean(dim=1)

    def _calibrate_loudness(self) -> None:
        """Calibrate the loudness estimate's stereo boost (``LoudnessExcess.calibrate_boost``) on the all-image mask:
        its channels rendered and analysed with the estimate's own STFT, against the estimate from their mix."""
        ones = self.constant_masks(torch.ones(1))
        channels = self.stft.inverse(self.blend_channels(ones[0], 0.0), self.n_samples)
        self.loudness.calibrate_boost(
            power(self.stft.frames(channels)), self._view_power(channels.mean(dim=0)[None]), self.mask_share(ones)
        )

    def objectives_of_signal(
        self, signal: Tensor, mask_share: Tensor | None = None, checkpointed: bool = False
    ) -> Scores:
        """(population, samples) mix -> ``Scores``. The viewer's analysis is shared with the audio objective's
        resolution of the same STFT settings (the largest one in both presets) and with the loudness estimate."""
        proxied = None
        if self.codec_proxy is not None:  # one analysis for both: the power, and the region through the proxy
            if checkpointed:
                full_power, proxied = checkpoint(self._proxied_analysis, signal, use_reentrant=False)
            else:
                full_power, proxied = self._proxied_analysis(signal)
        elif checkpointed:
            full_power = checkpoint(self._view_power, signal, use_reentrant=False)
        else:
            full_power = self._view_power(signal)
        # sliced frame-major, so that the gradient of the slice (and all before it) stays frame-major too
        region_power = full_power[:, self.region[1], self.region[0]].transpose(1, 2)
        # heard as it will be written: brought up to the song's loudness when it is quieter (``run.front_audio``'s
        # makeup; a viewer levels itself, so only the audio objective hears the difference)
        scale = self._makeup_scale(full_power, mask_share)
        heard = signal if scale is None else signal * scale[:, None]
        shared = {
            (self.stft.n_fft, self.stft.hop_length): full_power
            if scale is None
            else full_power * (scale * scale)[:, None, None]
        }
        return Scores(
            self.visual_loss(region_power if proxied is None else proxied),
            self.audio_loss(heard, shared, checkpointed),
            self.loudness(full_power, mask_share),
        )

    def _proxied_analysis(self, signal: Tensor) -> tuple[Tensor, Tensor]:
        """(population, samples) -> the viewer's power (``_view_power``) and the placement's power as the codec's proxy
        leaves it (``codec_proxy``; (population, bins, frames)), from one analysis."""
        frames = self.stft.frames(signal)
        region = frames[:, self.region[1], self.region[0]].transpose(1, 2)
        return power(frames), self.codec_proxy(region)

    @torch.no_grad()
    def _makeup_scale(self, full_power: Tensor, mask_share: Tensor | None) -> Tensor | None:
        """(population,) the gain (linear, >= 1) that brings each member up to the song's loudness (the estimate's
        ``level_change``, smooth in the power: the same on every computation path), at most ``MAKEUP_MAX_DB``; None
        where no member needs one."""
        if self.loudness.song_lufs is None:
            return None
        gain_db = (-self.loudness.level_change(full_power, mask_share)).clamp(0.0, MAKEUP_MAX_DB)
        if not bool((gain_db > 0.05).any()):
            return None
        return torch.pow(10.0, gain_db / 20.0)

    @torch.no_grad()
    def blend_channels(self, mask: Tensor, level_db: Tensor | float | None = None) -> Tensor:
        """(bins, frames) effective mask at its level -> (channels, freq, frames) complex: the blend on every channel,
        each multiplied by the gain that takes the mix to the blended level (DESIGN.md "Stereo")."""
        spec = self.spec.clone()
        region = (slice(None), *self.region)
        delta = self.blend_delta(mask[None], spec[region], self.point_level(level_db))
        delta = torch.view_as_complex(delta[0].contiguous())
        spec[region] = spec[region] + delta
        return spec
