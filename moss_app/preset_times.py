"""How long a run of each quality preset is expected to take on this machine, in words ("about 2 min on this CPU").

The estimate is a small model anchored to figures measured on this project's 2-core development CPU, not a guess per
preset: a step costs ``MS_PER_MASK_SECOND`` per mask and second of segment at 22.05 kHz (docs/performance.md: 96 ms
for one 30 s mask, 38 ms for a 10 s one; about 2.2 times that at 44.1 kHz), coarse steps about half of a fine one;
the rest of a run (decoding, phase refinement, the loudness measures, listening to every point, writing) costs
``OVERHEAD_PER_POINT_SECOND`` per point and second. On the bundled 30 s sample the model gave 108 s for the Preview
preset where 98 to 134 s were measured end to end (docs/how-it-works.md), and 72 s for a 20 s clip where 65 to 71 s
were measured. Since issue 24 every point is also measured after MP3, AAC and Opus (``CODEC_PER_POINT_SECOND``, at
any rate: the codecs encode at 44.1 or 48 kHz whatever the run's): 12 s more for the sample's 8 points, 120 s.

Decisions, as a user would want them:
- Steps are "up to": a front that settles stops earlier, so the time said is the most a run should take, rounded.
- Another CPU is scaled by its thread count against the reference's 2 (sub-linearly: 4 threads are not twice as fast
  for FFT-bound work); the words say "about".
- No GPU time has been measured yet (docs/how-it-works.md, "On a GPU"), so on a GPU the text says so instead of
  inventing a figure, and gives the CPU's time for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from moss_engine.options import COARSE_SHARE, PRESETS
from moss_engine.settings import DEFAULT_DURATION_S

#: Seconds of one optimiser step per mask and per second of segment at 22.05 kHz, on the reference CPU.
MS_PER_MASK_SECOND = 3.2e-3
#: How the step's cost grows with the sample rate: 211 ms / 96 ms per 30 s mask from 22.05 to 44.1 kHz.
RATE_EXPONENT = math.log2(211.2 / 96.0)
#: What a coarse step costs next to a fine one (its time grid is twice as coarse).
COARSE_COST = 0.5
#: The rest of a run, per point and second of segment at 22.05 kHz, on the reference CPU.
OVERHEAD_PER_POINT_SECOND = 0.26
#: Every point encoded and decoded by the three publishing codecs and its viewer SSIM taken after each
#: (``pipeline.measure_codecs``), per point and second of segment on the reference CPU: 12.7 s for the sample's 8
#: points of 30 s measured in a run (1.6 s a point; 13.3-14.1 s for the same 8 files again, the CPU loaded by others).
CODEC_PER_POINT_SECOND = 0.05
#: The reference CPU's threads (the 2-core development machine) and how speed follows the thread count.
REFERENCE_THREADS = 2
THREAD_EXPONENT = 0.7


def _rate_factor(sample_rate: float) -> float:
    return (float(sample_rate) / 22050.0) ** RATE_EXPONENT


def cpu_seconds(
    preset: str,
    overrides: Mapping[str, Any] | None = None,
    song_s: float | None = None,
    threads: int = REFERENCE_THREADS,
) -> float:
    """The most seconds a run of ``preset`` (with the Advanced ``overrides``: points, steps, sample_rate, start_s,
    duration_s) should take on a CPU with ``threads`` threads, the song being ``song_s`` seconds long (None: unknown,
    the segment's length is then the default 30 s or the one asked)."""
    if preset not in PRESETS:
        raise ValueError(f"preset {preset!r}: expected one of {tuple(PRESETS)}")
    values = {**PRESETS[preset], **(overrides or {})}
    duration = float(values.get("duration_s", DEFAULT_DURATION_S))
    if song_s is not None:
        duration = min(duration, max(0.0, song_s - float(values.get("start_s", 0.0))))
    if not math.isfinite(duration):
        duration = DEFAULT_DURATION_S  # the whole of a song not loaded yet
    points, steps = int(values["points"]), int(values["steps"])
    coarse = int(COARSE_SHARE[preset] * steps)
    rate = _rate_factor(values["sample_rate"])
    optimise = (steps - coarse + COARSE_COST * coarse) * points * duration * MS_PER_MASK_SECOND * rate
    rest = points * duration * OVERHEAD_PER_POINT_SECOND * rate
    codecs = points * duration * CODEC_PER_POINT_SECOND
    speed = (max(1, threads) / REFERENCE_THREADS) ** THREAD_EXPONENT
    return (optimise + rest + codecs) / speed


def say_duration(seconds: float) -> str:
    """``about 40 s``, ``about 2 min``, ``about 1.5 h``: rounded as a person would say it."""
    if seconds < 55:
        return f"about {max(10, int(round(seconds / 10.0)) * 10)} s"
    if seconds < 90 * 60:
        return f"about {max(1, int(round(seconds / 60.0)))} min"
    hours = seconds / 3600.0
    return f"about {hours:.1f} h".replace(".0 h", " h")


def expected_time(
    preset: str,
    device_type: str,
    overrides: Mapping[str, Any] | None = None,
    song_s: float | None = None,
    threads: int | None = None,
) -> tuple[str, str]:
    """(a short text for the preset's menu entry, a sentence for the hint under it) for a run on ``device_type``
    ("cpu", "cuda", "mps") with ``threads`` CPU threads (None: torch's, as the run uses). On a GPU the short text is
    "" (nothing measured) and the sentence says so."""
    threads = torch.get_num_threads() if threads is None else threads
    on_cpu = say_duration(cpu_seconds(preset, overrides, song_s, threads))
    if device_type == "cpu":
        return on_cpu, f"{on_cpu} on this CPU"
    return "", f"time on the GPU not measured yet (on this CPU: {on_cpu})"
