"""What a run needs in memory before it starts, and a clear refusal when the machine cannot hold it.

The masks being optimised are bounded by ``--memory-limit`` (they are processed in chunks that fit it); the song's own
tensors are not: the spectrograms of the mix and of every channel, the placement's tables and the synthesised song
grow with the segment's length. Measured on the CPU: a 10-minute song at 22.05 kHz (Preview) held 5.3 GB, about
``BYTES_PER_SAMPLE`` per sample at the run's rate with the presets' hop of a quarter of the FFT; a smaller hop
multiplies the frames, and the estimate with them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from moss_engine.errors import MossInputError
from moss_engine.io.atomic import megabytes
from moss_engine.io.audio import probe_audio

GB = 1024**3
BYTES_PER_SAMPLE = 400
#: Python, torch and the libraries, before any tensor.
BASE_BYTES = int(0.5 * GB)


def available_memory() -> int | None:
    """Bytes the system can give a new allocation without swapping (Linux's MemAvailable); None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def estimated_bytes(settings, seconds: float) -> int:
    """Resident memory a run of ``seconds`` of the song needs beyond its masks' budget."""
    overlap = settings.n_fft / (4 * settings.hop_length)  # 1 for the presets
    return int(BASE_BYTES + BYTES_PER_SAMPLE * overlap * seconds * settings.sample_rate)


def check_memory(settings, device) -> None:
    """Refuse, in one line naming the song, a run whose song alone would not fit the memory free now (CPU runs;
    a GPU run's song lives in GPU memory, where running out is caught and falls back to smaller chunks)."""
    if getattr(device, "type", "cpu") != "cpu":
        return
    free = available_memory()
    if free is None:
        return
    info = probe_audio(settings.audio)
    seconds = max(0.0, info.duration_s - settings.start_s)
    if settings.duration_s is not None:
        seconds = min(seconds, settings.duration_s)
    need = estimated_bytes(settings, seconds)
    if need > free:
        raise MossInputError(
            f"{seconds / 60:.0f} minutes of the song at {settings.sample_rate / 1000:g} kHz need about "
            f"{need / GB:.1f} GB of memory and {free / GB:.1f} GB are free: choose a shorter --duration (with "
            "--start), or a lower --sample-rate",
            path=settings.audio,
        )


def run_folder_bytes(points: int, channels: int, samples: int) -> int:
    """What a run folder of ``points`` points takes on disk: the reference and every point as 32-bit float WAV, with
    room for the masks, the manifest and front.png."""
    return int((points + 1) * channels * samples * 4 * 1.02 + 4 * 1024**2)


def check_free_space(
    out: Path, need: int, what: str = "run folder", hint: str = "free some space or choose another --out"
) -> None:
    """Refuse, before the long computation, to start work whose result (``what``, about ``need`` bytes) would not fit
    the disk where it goes; ``hint``: what to do, in the words of the command's own options."""
    existing = next((p for p in [Path(out), *Path(out).parents] if p.exists()), None)
    if existing is None:
        return
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return
    if need > free:
        raise MossInputError(
            f"the {what} needs about {megabytes(need)} and only {megabytes(free)} are free there: {hint}",
            path=out,
        )
