"""What a user can set, each setting written once: its flag, help, range and choices (``OPTIONS``), the app's
Advanced fields, and the quality presets the values start from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moss_engine.freq_axis import FREQ_SCALES

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
#: Where the result will be published (``--publish``): ``lossless`` (WAV or FLAC as written; the default) or a codec
#: by the name users give it (``io.codec.CODECS``' names): the front is then made to survive that codec.
PUBLISH = ("lossless", "mp3-128", "aac-128", "opus-96")
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
        "(default: on a CPU 3 GB, or half the free memory if less; 60%% of the free GPU memory up to 16 GB); "
        "below one mask's need the run goes one "
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
    "publish": Option(
        "--publish",
        "where the result will be published: lossless (the default), mp3-128, aac-128 or opus-96 (MP3 or AAC at "
        "128 kb/s, Opus at 96 kb/s): the front is made so that a viewer still shows the picture after that codec",
        "choice",
        choices=PUBLISH,
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
