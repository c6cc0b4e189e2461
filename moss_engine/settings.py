"""The frozen settings of one run: quality presets, defaults, validation, and the manifest's "settings" record."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moss_engine.errors import MossInputError
from moss_engine.freq_axis import FREQ_SCALES, FreqAxis, axis_bottom

#: DESIGN.md's table of presets. Any explicit option overrides its preset value.
PRESETS: dict[str, dict[str, Any]] = {
    "preview": {
        "sample_rate": 22050,
        "n_fft": 1024,
        "hop_length": 256,
        "mask_shape": (64, 128),
        "points": 8,
        "steps": 80,
    },
    "standard": {
        "sample_rate": 44100,
        "n_fft": 2048,
        "hop_length": 512,
        "mask_shape": (128, 256),
        "points": 16,
        "steps": 300,
    },
    "high": {
        "sample_rate": 44100,
        "n_fft": 2048,
        "hop_length": 512,
        "mask_shape": (128, 256),
        "points": 32,
        "steps": 1000,
    },
}
QUALITIES = tuple(PRESETS)
#: Share of the steps that run coarse-to-fine's coarse stage (``RunSettings.coarse_steps``), by preset. Measured on
#: the 2-core CPU, preview front of the orchestral 20 s clip: 80 steps with half of them coarse reached hypervolume
#: 0.969 in 27 s where the plain path reached 0.950 in 24 s (60 steps) and 0.953 in 30 s (80 steps); the bundled
#: sample likewise (bench/results/c2f-cpu2.json, docs/performance.md).
COARSE_SHARE = {"preview": 0.5, "standard": 0.0, "high": 0.0}
FITS = ("stretch", "contain")
ALGORITHMS = ("stch", "nsga2")
#: The most STFT frames overlapping one sample: the hop is at least n_fft / MAX_OVERLAP (``--hop 1`` made a 3 s clip
#: take 300 s and 5.5 GB).
MAX_OVERLAP = 16
#: The shortest segment MOSS works on, seconds (``--duration``'s least; a song, or what is left of it after
#: ``--start``, shorter than this is refused): 43 STFT frames at the preview's hop, so that even the smallest picture
#: taken (``io.image.MIN_PICTURE_PX``, 8 columns) gets five frames a column.
MIN_SEGMENT_S = 0.5
#: The audio objectives: the perceptual neurogram distance (``hearing.py``, the default) and the older log-mel distance
#: (``objectives.LogMelDistance``), kept for comparison.
AUDIO_OBJECTIVES = ("neurogram", "logmel")
#: Their names, for tables and axes.
OBJECTIVE_NAMES = {
    "neurogram": "neurogram distance to the song (0 = the song)",
    "logmel": "multi-resolution log-mel distance to the song (dB)",
}


#: The highest sample rate a run may ask for (Hz).
MAX_SAMPLE_RATE = 192000


@dataclass(frozen=True)
class PanelField:
    """One field of the app's Advanced section (``Option.advanced``): a spin box for a number (whole for an ``int``),
    a list for a ``choice``, for the ``offered`` values, or for the devices found (the ``text`` setting: ``--device``).

    Args:
        label: the field's label.
        key: the field's name in the app (its overrides, the marks of a refused value); "" = the setting's own.
        tip: its tooltip; "" = the option's help as a sentence.
        decimals: the decimals shown of a number that is not an ``int``.
        most: the field's top where the option has none, or one higher than the field can hold.
        special: what the field shows at 0, its least, when 0 stands for something else ("whole song").
        offered: the values offered in a list, for a number chosen among a few (the sample rates).
    """

    label: str
    key: str = ""
    tip: str = ""
    decimals: int = 0
    most: float | None = None
    special: str = ""
    offered: tuple[int, ...] = ()


@dataclass(frozen=True)
class Option:
    """What one setting is to a user: its command-line flag, what it does, and which values it takes.

    One table (``OPTIONS``) drives the checks in ``RunSettings``, the ``moss`` parser's options and the app's
    Advanced fields, so a range or a choice is written once, and a new setting is added in one place.

    Args:
        flag: the command-line flag.
        help: what it does, in a phrase (the CLI's help, the app's tooltip).
        kind: ``int``, ``float``, ``choice``, ``switch`` (on/off), ``span`` (``A:B``), ``seconds_or_all`` or ``text``.
        low, high: the allowed range (inclusive; None: unbounded), for ``int`` and ``float``.
        choices: the allowed values, for ``choice``.
        unit: shown after a number ("Hz", "s", "dB", "GB").
        expect: the words of a refusal, when ``low..high`` says it badly ("at least 0.5 s").
        metavar: the command line's name of the value, when the unit does not say it ("F0:F1").
        group: the command line's help group: ``preset`` (the quality and what it sets), ``placement`` (the segment,
            placement and mapping) or ``running`` (how it runs); within a group, in this table's order.
        scope: what the value belongs to: the ``run``, the ``song`` it was set for (its segment: it means nothing in
            another song), or the ``machine`` (another machine has other devices and memory).
        shapes_picture: the value changes the picture hidden or where it sits (the rate: the default band and what
            is heard): a result made with another one shows something else.
        advanced: the setting's fields in the app's Advanced section, in this table's order (a span: its two ends);
            none: not there.
        picture_control: the app sets it with the picture's own controls (beside the picture, not in Advanced).
    """

    flag: str
    help: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    expect: str = ""
    metavar: str = ""
    group: str = ""
    scope: str = "run"
    shapes_picture: bool = False
    advanced: tuple[PanelField, ...] = ()
    picture_control: bool = False

    def expected(self) -> str:
        """The allowed values in words, for a refusal."""
        if self.expect:
            return self.expect
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}..{self.high:g}{unit}"
        return f"at least {self.low:g}{unit}" if self.low is not None else f"at most {self.high:g}{unit}"

    def allows(self, value: Any) -> bool:
        """Whether ``value`` is in range or among the choices (None, an unset optional value, is allowed)."""
        if value is None:
            return True
        if self.choices:
            return value in self.choices
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


#: Every setting a user can set (``moss front``'s flags, the app's Advanced fields), by ``RunSettings`` field.
OPTIONS: dict[str, Option] = {
    "quality": Option(
        "--quality",
        "preset: preview (default on a CPU), standard (default on a GPU) or high",
        "choice",
        choices=QUALITIES,
        group="preset",
    ),
    "points": Option(
        "--points",
        "how many trade-offs the front offers, both ends included",
        "int",
        2,
        256,
        expect="2..256 (both ends count)",
        group="preset",
        advanced=(PanelField("Points"),),
    ),
    "steps": Option(
        "--steps",
        "the most optimiser steps (it may stop earlier when the front settles)",
        "int",
        1,
        100000,
        group="preset",
        advanced=(PanelField("Steps"),),
    ),
    "sample_rate": Option(
        "--sample-rate",
        "the rate the run works at and writes",
        "int",
        8000,
        MAX_SAMPLE_RATE,
        unit="Hz",
        group="preset",
        shapes_picture=True,
        advanced=(PanelField("Sample rate", offered=(16000, 22050, 32000, 44100, 48000)),),
    ),
    "n_fft": Option(
        "--n-fft",
        "STFT size of the synthesis and of the viewer",
        "int",
        64,
        16384,
        expect="an even number in 64..16384",
        group="preset",
    ),
    "hop_length": Option("--hop", "STFT hop, samples", "int", group="preset"),
    "start_s": Option(
        "--start",
        "where in the song the segment starts",
        "float",
        0,
        None,
        unit="s",
        expect="seconds >= 0",
        group="placement",
        scope="song",
        shapes_picture=True,
        advanced=(PanelField("Segment start", decimals=1, most=36000),),  # 10 h: a spin box needs a top
    ),
    "duration_s": Option(
        "--duration",
        "how much of the song is used, or 'all' (longer = slower; default 30 s)",
        "seconds_or_all",
        MIN_SEGMENT_S,
        None,
        unit="s",
        group="placement",
        scope="song",
        shapes_picture=True,
        advanced=(PanelField("Segment length", decimals=1, most=36000, special="whole song"),),
    ),
    "time": Option(
        "--time",
        "where the picture sits, seconds into the segment (T0:T1)",
        "span",
        metavar="T0:T1",
        group="placement",
        shapes_picture=True,
    ),
    "freq": Option(
        "--freq",
        "the picture's band, Hz (F0:F1; default 0:15000, see docs/how-it-works.md)",
        "span",
        unit="Hz",
        metavar="F0:F1",
        group="placement",
        shapes_picture=True,
        advanced=(
            PanelField(
                "Band bottom (F0)", "f0_hz", "The lowest frequency the picture covers", most=MAX_SAMPLE_RATE / 2
            ),
            PanelField("Band top (F1)", "f1_hz", "The highest frequency the picture covers", most=MAX_SAMPLE_RATE / 2),
        ),
    ),
    "freq_scale": Option(
        "--freq-scale",
        "the viewer's frequency axis the picture is drawn for",
        "choice",
        choices=FREQ_SCALES,
        group="placement",
        shapes_picture=True,
        advanced=(PanelField("Frequency scale"),),
    ),
    "db_range": Option(
        "--db-range",
        "the viewer's dynamic range: black is this far below the loudest cell",
        "float",
        10,
        200,
        unit="dB",
        group="placement",
        shapes_picture=True,
        advanced=(PanelField("dB range"),),
    ),
    "gamma": Option(
        "--gamma",
        "gamma on the picture's luminance (default 1)",
        "float",
        0.1,
        10,
        group="placement",
        shapes_picture=True,
        picture_control=True,
    ),
    "invert": Option(
        "--invert",
        "swap the picture's black and white",
        "switch",
        group="placement",
        shapes_picture=True,
        picture_control=True,
    ),
    "fit": Option(
        "--fit",
        "stretch fills the placement, contain keeps the picture's aspect ratio",
        "choice",
        choices=FITS,
        group="placement",
        shapes_picture=True,
        picture_control=True,
    ),
    "device": Option(
        "--device",
        "where the optimisation runs: auto (default), cpu, cuda, cuda:N or mps",
        "text",
        group="running",
        scope="machine",
        advanced=(PanelField("Device", tip="Where the optimisation runs: a GPU is many times faster than the CPU"),),
    ),
    # after the device: the Advanced section shows it last (the command line, by group, among the preset's)
    "seed": Option(
        "--seed",
        "the seed of every random choice: same seed, same front (on the CPU)",
        "int",
        0,
        2**63 - 1,
        expect="0 <= seed < 2^63",
        group="preset",
        advanced=(PanelField("Seed"),),
    ),
    "memory_limit_gb": Option(
        "--memory-limit",
        "most memory the masks being optimised may take at once, beyond the music's own tensors "
        "(default: 3 GB on a CPU, 60%% of the free GPU memory up to 16 GB); below one mask's need the run goes one "
        "mask at a time, recomputing the STFT round trip",
        "float",
        0.05,
        4096,
        unit="GB",
        group="running",
        scope="machine",
    ),
    "algorithm": Option(
        "--algorithm",
        "stch: smooth Tchebycheff, batched (default); nsga2: pymoo NSGA-II on a coarse 8x16 logit grid, for comparison",
        "choice",
        choices=ALGORITHMS,
        group="running",
    ),
    "audio_objective": Option(
        "--audio-objective",
        "what the optimiser listens with: neurogram (auditory bands, "
        "threshold of hearing, NSIM; the default) or logmel (the older log-mel distance, for "
        "comparison)",
        "choice",
        choices=AUDIO_OBJECTIVES,
        group="running",
    ),
}
#: The command-line flag of each setting, for error messages (a field not here has none: its own name is shown).
FLAGS = {name: option.flag for name, option in OPTIONS.items()}

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
