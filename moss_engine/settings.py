"""The frozen settings of one run: made from a quality preset, checked against ``options.OPTIONS``, the default band,
and the manifest's "settings" record both ways."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moss_engine.errors import MossInputError
from moss_engine.freq_axis import FreqAxis, axis_bottom
from moss_engine.options import COARSE_SHARE, FLAGS, OPTIONS, PRESETS, QUALITIES

#: The most STFT frames overlapping one sample: the hop is at least n_fft / MAX_OVERLAP (``--hop 1`` made a 3 s clip
#: take 300 s and 5.5 GB).
MAX_OVERLAP = 16

#: Default segment length. A whole song at full quality would take minutes even on a GPU; 30 s is long enough to
#: see a picture and short enough to get a front quickly. ``--duration`` asks for more (or less).
DEFAULT_DURATION_S = 30.0
#: Default top of the picture. MP3 encoders commonly low-pass near 16 kHz, so a picture that ends at 15 kHz survives
#: the most common way people share music; it is also where most of a spectrogram viewer's window is.
DEFAULT_TOP_HZ = 15000.0
#: The default band's top is at most this share of a Nyquist frequency: the run's, or the song's own when the song is
#: sampled lower (an 11.025 kHz song holds nothing above 5.5 kHz, whatever rate the run resamples it to; the last few
#: per cent below a Nyquist frequency are where resamplers' and encoders' low-pass filters fall).
NYQUIST_SHARE = 0.95


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides a run's result. Frozen, validated on creation, written into ``manifest.json``.

    Args:
        image, audio: the input files.
        quality: the preset the other values came from (recorded, not used for maths).
        sample_rate: the rate the engine runs at and writes (Hz).
        n_fft, hop_length: the STFT of the synthesis and of the viewer (Hann window).
        mask_shape: (freq, time) size of the grid of mask logits.
        points: how many front points to return, both ends included.
        steps: the most optimiser steps (early stopping may end sooner).
        seed: the seed of every random choice of the run.
        start_s, duration_s: the segment of the song (duration None = to the end of the file).
        time: (t0, t1) seconds from the segment's start where the picture sits; None = the whole segment.
        freq: (f0, f1) Hz; None = the default band (see ``default_band``).
        freq_scale: ``linear`` or ``log``: the viewer axis the picture is drawn for.
        db_range: the viewer's dynamic range in dB (black = top - db_range).
        gamma: applied to the picture's luminance before the dB mapping.
        invert: swap black and white first.
        fit: ``stretch`` fills the placement, ``contain`` keeps the aspect ratio (letterbox is transparent).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        memory_limit_gb: bound on the memory one chunk of the population may take (None = from the device).
        audio_objective: ``neurogram`` (how a listener hears the difference, ``hearing.NeurogramDistance``; the
            default) or ``logmel`` (the multi-resolution log-mel distance of moss-run/1, for comparison).
        publish: ``lossless`` or the codec the result will be published in (``mp3-128``, ``aac-128``, ``opus-96``):
            the visual objective sees the picture through that codec's proxy (``dsp.codec_proxy``) and the points
            are chosen on what a viewer shows and a listener hears after the real codec (``run.publish``).
        algorithm: ``stch`` (smooth Tchebycheff, batched gradient descent) or ``nsga2`` (pymoo NSGA-II on an
            8 x 16 logit grid, steps = generations; for comparison: at equal time it reaches a lower hypervolume).
        patience: early stop after this many steps without a relative hypervolume gain of ``min_improvement``.
        phase_iterations: Griffin-Lim iterations of the phase refinement offered for every optimised mask (0: off).
        coarse_steps: coarse-to-fine: the first this many of ``steps`` run on a time grid twice as coarse (hop and
            the audio objective's hops doubled), then the rest refine at full resolution (0: off; ``stch`` only; at
            most ``steps - 1`` of them run coarse).
    """

    image: Path
    audio: Path
    quality: str = "preview"
    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    mask_shape: tuple[int, int] = (64, 128)
    points: int = 8
    steps: int = 80
    seed: int = 0
    start_s: float = 0.0
    duration_s: float | None = DEFAULT_DURATION_S
    time: tuple[float, float] | None = None
    freq: tuple[float, float] | None = None
    freq_scale: str = "linear"
    db_range: float = 80.0
    gamma: float = 1.0
    invert: bool = False
    fit: str = "stretch"
    device: str = "auto"
    memory_limit_gb: float | None = None
    algorithm: str = "stch"
    audio_objective: str = "neurogram"
    publish: str = "lossless"
    learning_rate: float = 0.15
    patience: int = 12
    phase_iterations: int = 16
    min_improvement: float = 1e-3
    coarse_steps: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", Path(self.image))
        object.__setattr__(self, "audio", Path(self.audio))
        object.__setattr__(self, "mask_shape", tuple(int(v) for v in self.mask_shape))
        if self.time is not None:
            object.__setattr__(self, "time", (float(self.time[0]), float(self.time[1])))
        if self.freq is not None:
            object.__setattr__(self, "freq", (float(self.freq[0]), float(self.freq[1])))
        self._validate()

    def _validate(self) -> None:
        def bad(field: str, value: Any, why: str, reason: str = "range", **details: Any) -> MossInputError:
            option = FLAGS.get(field, field)
            return MossInputError(f"{option} {value}: {why}", field=field, option=option, reason=reason, **details)

        for name in (
            "start_s",
            "duration_s",
            "db_range",
            "gamma",
            "learning_rate",
            "memory_limit_gb",
            "min_improvement",
        ):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise bad(name, value, "expected a finite number", "not_finite")
        for name in ("time", "freq"):
            span = getattr(self, name)
            if span is not None and not all(math.isfinite(v) for v in span):
                raise bad(name, f"{span[0]:g}:{span[1]:g}", "expected finite numbers", "not_finite")

        for name, option in OPTIONS.items():  # ranges and choices, as the table has them
            value = getattr(self, name)
            if option.kind in ("int", "float", "seconds_or_all", "choice") and not option.allows(value):
                shown = repr(value) if name == "quality" else value
                raise bad(
                    name, shown, f"expected {option.expected()}", "too_short" if name == "duration_s" else "range"
                )
        if self.n_fft % 2:
            raise bad("n_fft", self.n_fft, f"expected {OPTIONS['n_fft'].expected()}")
        if not self.n_fft // MAX_OVERLAP <= self.hop_length <= self.n_fft // 2:
            raise bad(
                "hop_length",
                self.hop_length,
                f"expected {self.n_fft // MAX_OVERLAP}..{self.n_fft // 2} (from "
                f"1/{MAX_OVERLAP} to half of n_fft {self.n_fft}: a smaller hop multiplies the work and the "
                "memory without showing more)",
            )
        if len(self.mask_shape) != 2 or min(self.mask_shape) < 4 or max(self.mask_shape) > 4096:
            raise bad("mask_shape", self.mask_shape, "expected two sizes in 4..4096")
        if self.time is not None:
            t0, t1 = self.time
            if not 0 <= t0 < t1:
                raise bad("time", f"{t0:g}:{t1:g}", "expected 0 <= T0 < T1 (seconds from the segment's start)", "order")
        nyquist = self.sample_rate / 2
        if self.freq is not None:
            f0, f1 = self.freq
            if not 0 <= f0 < f1:
                raise bad("freq", f"{f0:g}:{f1:g}", "expected 0 <= F0 < F1 (Hz)", "order")
            if f1 > nyquist:
                higher = [name for name, preset in PRESETS.items() if preset["sample_rate"] / 2 >= f1]
                hint = (
                    f"; --quality {higher[0]} ({PRESETS[higher[0]]['sample_rate'] / 1000:g} kHz) or "
                    f"--sample-rate {int(2 * f1) + 1} allows it"
                    if higher
                    else ""
                )
                raise bad(
                    "freq",
                    f"{f0:g}:{f1:g}",
                    f"F1 is above the Nyquist frequency of the run's "
                    f"{self.sample_rate / 1000:g} kHz ({nyquist:g} Hz){hint}",
                    "above_nyquist",
                    nyquist_hz=nyquist,
                    higher_quality=higher[0] if higher else None,
                )
            if self.freq_scale == "log" and f0 <= 0:
                raise bad("freq", f"{f0:g}:{f1:g}", "a log frequency scale needs F0 > 0", "log_needs_positive")
        if not 0 < self.learning_rate <= 10:
            raise bad("learning_rate", self.learning_rate, "expected 0 < rate <= 10")
        if not 0 <= self.phase_iterations <= 1000:
            raise bad("phase_iterations", self.phase_iterations, "expected 0..1000")
        if not 0 <= self.coarse_steps <= 100000:
            raise bad("coarse_steps", self.coarse_steps, "expected 0..100000")
        if self.patience < 1:
            raise bad("patience", self.patience, "expected at least 1")

    def band(self, source_rate: int | None = None) -> tuple[float, float]:
        """The frequency band of the picture in Hz: the asked one or ``default_band`` (under the song's own Nyquist
        frequency when its rate ``source_rate`` is given)."""
        return self.freq if self.freq is not None else default_band(self.sample_rate, self.freq_scale, source_rate)

    def view_axis(self) -> FreqAxis:
        """The frequency axis of the viewer the picture is drawn for, at the run's rate (0 or ``LOG_BOTTOM_HZ`` to
        Nyquist): what the spectrogram pictures and the app's views draw on."""
        return FreqAxis.viewer(self.freq_scale, self.sample_rate)

    @classmethod
    def from_record(cls, record: dict[str, Any], **changes: Any) -> RunSettings:
        """The settings a manifest's ``settings`` record (``to_record``) describes, with ``changes`` applied.

        The one reader of that record (Open Run, ``moss render --full``, ``moss morph``): lists back to tuples, a run
        made before ``audio_objective`` existed gets log-mel (what it used), keys this version does not know (such as
        ``band_hz``, written for people) are left out, so a renamed field never breaks an older folder.
        """
        values = dict(record)
        values.setdefault("audio_objective", "logmel")
        values.update(changes)
        for key in ("time", "freq", "mask_shape"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def to_record(self) -> dict[str, Any]:
        """Every setting as plain JSON values, enough to reproduce the run (``manifest.json`` "settings")."""
        record = dataclasses.asdict(self)
        record["image"] = str(self.image.resolve())
        record["audio"] = str(self.audio.resolve())
        record["mask_shape"] = list(self.mask_shape)
        record["time"] = None if self.time is None else list(self.time)
        record["freq"] = None if self.freq is None else list(self.freq)
        record["band_hz"] = list(self.band())
        return record


def default_band(sample_rate: int, freq_scale: str, source_rate: int | None = None) -> tuple[float, float]:
    """The band a user wants when they name none: up to 15 kHz (kept by MP3), or 95 % of Nyquist at low rates: of the
    run's ``sample_rate``, or of the song's own ``source_rate`` when that is lower (None: not known yet).

    The bottom is where the viewer's axis starts (``freq_axis.axis_bottom``: 0 Hz on a linear axis, a log axis cannot
    start at 0).
    """
    rate = sample_rate if source_rate is None else min(sample_rate, source_rate)
    top = min(DEFAULT_TOP_HZ, NYQUIST_SHARE * rate / 2)
    return axis_bottom(freq_scale), top


def default_band_of(values: Mapping[str, Any], source_rate: int | None = None) -> tuple[float, float]:
    """``default_band`` of the settings in ``values`` (a form's fields by setting name: the rate and the scale)."""
    return default_band(int(values["sample_rate"]), str(values["freq_scale"]), source_rate)


def lowered_band_note(song: str | Path, source_rate: int, top_hz: float, sample_rate: int) -> str:
    """The one line that says a song sampled at ``source_rate`` lowered the band's top to ``top_hz``: the engine's
    notice when the default band is lowered (``song_band``) and the app's when it lowers the band (one wording)."""
    return (
        f"{Path(song).name}: sampled at {source_rate / 1000:g} kHz, it holds nothing above "
        f"{source_rate / 2000:g} kHz: band top lowered to {top_hz / 1000:.2f} kHz (a song sampled at "
        f"{sample_rate / 1000:g} kHz allows more)"
    )


def song_band(settings: RunSettings, source_rate: int) -> tuple[RunSettings, tuple[str, ...]]:
    """``settings`` for a song sampled at ``source_rate``: where no band is asked for and the song's own Nyquist
    frequency lowers the default band's top (``default_band``), that band is made the run's own (``freq``, so that
    the manifest records the band used), with the notice that says so; else ``settings`` as they are, no notice.

    The decision: a song holds nothing above its own Nyquist frequency, whatever rate the run resamples it to, so the
    picture drawn there would not be hidden in the music but laid over silence. A band asked for above it is refused
    (``check_song_band``), as one above the run's Nyquist frequency is.
    """
    if settings.freq is not None:
        return settings, ()
    band = settings.band(source_rate)
    if band == settings.band():
        return settings, ()
    note = lowered_band_note(settings.audio, source_rate, band[1], settings.sample_rate)
    return dataclasses.replace(settings, freq=band), (note,)


def check_song_band(settings: RunSettings, source_rate: int) -> None:
    """Refuse (``MossInputError``, reason ``"above_song"``) a band asked for whose top is above the Nyquist frequency
    of the song's own rate ``source_rate``: the song holds nothing there (``song_band``)."""
    nyquist = source_rate / 2
    if settings.freq is None or settings.freq[1] <= nyquist:
        return
    f0, f1 = settings.freq
    raise MossInputError(
        f"--freq {f0:g}:{f1:g}: F1 is above {nyquist:g} Hz, the most a song sampled at "
        f"{source_rate / 1000:g} kHz holds: lower F1 to {nyquist:g} Hz or leave --freq out",
        path=settings.audio,
        field="freq",
        option="--freq",
        reason="above_song",
        nyquist_hz=nyquist,
        source_rate=source_rate,
    )


def make_settings(
    image: str | Path, audio: str | Path, quality: str | None = None, device_type: str = "cpu", **overrides: Any
) -> RunSettings:
    """Settings from a preset (by device when ``quality`` is None: CPU -> preview, GPU -> standard) plus overrides.

    ``coarse_steps``, unless given, is the preset's ``COARSE_SHARE`` of the steps (coarse-to-fine on the preview).

    ``overrides`` whose value is None are ignored, so a command line can pass every flag through; a
    ``duration_s`` of infinity means the whole song (``--duration all``).
    """
    if quality is None:
        quality = "preview" if device_type == "cpu" else "standard"
    if quality not in PRESETS:
        raise MossInputError(
            f"--quality {quality!r}: expected one of {', '.join(QUALITIES)}",
            field="quality",
            option="--quality",
            reason="range",
        )
    values: dict[str, Any] = dict(PRESETS[quality])
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "coarse_steps" not in values:
        values["coarse_steps"] = int(COARSE_SHARE[quality] * values.get("steps", RunSettings.steps))
    if values.get("duration_s") == float("inf"):
        values["duration_s"] = None
    return RunSettings(image=Path(image), audio=Path(audio), quality=quality, **values)
