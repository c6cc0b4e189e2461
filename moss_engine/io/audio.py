"""Read a segment of any audio file as float32 (soundfile, else the bundled ffmpeg), resample it, write WAV."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from moss_engine.errors import MossInputError
from moss_engine.io import ffmpeg
from moss_engine.options import MIN_SEGMENT_S

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000

#: Suffixes libsndfile reads (the ones a file dialog should offer first).
SOUNDFILE_SUFFIXES = frozenset(
    {
        ".wav",
        ".wave",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".mp3",
        ".aiff",
        ".aif",
        ".aifc",
        ".au",
        ".snd",
        ".caf",
        ".w64",
        ".rf64",
    }
)
#: Suffixes only ffmpeg reads: these skip the soundfile attempt.
FFMPEG_SUFFIXES = frozenset(
    {
        ".m4a",
        ".m4b",
        ".aac",
        ".mp4",
        ".m4v",
        ".mov",
        ".3gp",
        ".webm",
        ".mkv",
        ".mka",
        ".wma",
        ".wmv",
        ".asf",
        ".ac3",
        ".eac3",
        ".dts",
        ".amr",
        ".ape",
        ".wv",
        ".mpc",
        ".tta",
        ".avi",
        ".flv",
        ".ra",
        ".rm",
    }
)
AUDIO_SUFFIXES = SOUNDFILE_SUFFIXES | FFMPEG_SUFFIXES

_BLOCK_FRAMES = 1 << 18
# libmpg123 needs a couple of MP3 frames of history after a seek before its output matches a straight read
# (measured: up to ~1500 samples differ); decoding a little earlier and dropping it costs nothing.
_SEEK_PREROLL_FRAMES = 4608
_LOSSY_SUBTYPES = frozenset({"MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III", "VORBIS", "OPUS"})

# Roles of the channels in the default layout for each count (WAVE_FORMAT_EXTENSIBLE / ffmpeg order), used for
# the downmix to stereo: left-side roles go left, right-side right, centres to both at -3 dB, LFE is dropped.
_DEFAULT_ROLES = {
    3: ("L", "R", "C"),
    4: ("L", "R", "L", "R"),
    5: ("L", "R", "C", "L", "R"),
    6: ("L", "R", "C", "LFE", "L", "R"),
    7: ("L", "R", "C", "LFE", "C", "L", "R"),
    8: ("L", "R", "C", "LFE", "L", "R", "L", "R"),
}


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, from its header (for MP3 and ffmpeg formats the decoded length may differ slightly).

    Args:
        path: the file.
        sample_rate: its sample rate, Hz.
        channels: its channel count.
        frames: its length in frames at ``sample_rate``.
        duration_s: its length in seconds.
        format: container and codec, e.g. ``"OGG/VORBIS"`` (soundfile) or ``"ffmpeg:aac"``.
    """

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str


@dataclass(frozen=True)
class AudioClip:
    """A decoded segment of an audio file.

    Args:
        samples: ``(channels, frames)`` float32, 1 or 2 channels, at ``sample_rate``.
        sample_rate: the rate of ``samples``, Hz.
        source_rate: the file's own rate, Hz.
        source_channels: the file's own channel count.
        start_s: where the segment starts in the file, seconds.
        notices: notes for the user, each naming the file (channels mixed down, a shorter segment than asked).
    """

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int
    start_s: float
    notices: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        """Length of the clip in seconds."""
        return self.samples.shape[1] / self.sample_rate

    @property
    def channels(self) -> int:
        """Channel count of ``samples`` (1 or 2)."""
        return self.samples.shape[0]


def _check_file(path: Path) -> None:
    """Raise MossInputError unless ``path`` is a non-empty regular file."""
    if not path.exists():
        raise MossInputError("file not found", path=path)
    if path.is_dir():
        raise MossInputError("is a folder, not a file", path=path)
    if not path.is_file():
        raise MossInputError(
            "not a regular file (a pipe, a device or a socket): MOSS reads audio from files", path=path
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MossInputError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc
    if size == 0:
        raise MossInputError("empty file (0 bytes)", path=path)
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise MossInputError("permission denied: MOSS may not read this file", path=path) from None
    except OSError as exc:
        raise MossInputError(f"cannot read the file ({exc.strerror or exc})", path=path) from None


@contextlib.contextmanager
def _quiet_c_stderr():
    """Hold back what C libraries print on the process's stderr meanwhile (libsndfile's mpg123 prints "Giving up
    searching valid MPEG header" for a file that is not MP3): MOSS says what is wrong itself, in one line."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _check_rate(rate: int, path: Path | None = None) -> None:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise MossInputError(f"sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz", path=path)


def _use_soundfile(path: Path) -> bool:
    return path.suffix.lower() not in FFMPEG_SUFFIXES


def probe_audio(path: str | Path) -> AudioInfo:
    """Read what an audio file holds without decoding it.

    Raises:
        MossInputError: the file is missing, empty, or no reader understands it.
    """
    path = Path(path)
    _check_file(path)
    if _use_soundfile(path):
        try:
            with _quiet_c_stderr():
                info = sf.info(soundfile_name(path))
        except (sf.LibsndfileError, RuntimeError):
            pass
        else:
            return AudioInfo(
                path,
                int(info.samplerate),
                int(info.channels),
                int(info.frames),
                info.frames / info.samplerate,
                f"{info.format}/{info.subtype}",
            )
    probe = ffmpeg.probe(path)
    channels = probe.channels if probe.channels is not None else 2
    duration = probe.duration_s if probe.duration_s is not None else 0.0
    return AudioInfo(
        path, probe.sample_rate, channels, round(duration * probe.sample_rate), duration, f"ffmpeg:{probe.codec}"
    )


def _read_soundfile(path: Path, snd: sf.SoundFile, start_frame: int, max_frames: int | None) -> np.ndarray:
    """Read ``max_frames`` (None: all) from ``start_frame``; returns ``(frames, channels)`` float32.

    Reads block by block into its own buffers until the decoder stops: ``SoundFile.read`` without ``out`` stops
    at the header's frame count, which for MP3 is only an estimate.
    """
    seek_frame = max(0, start_frame - _SEEK_PREROLL_FRAMES) if snd.subtype in _LOSSY_SUBTYPES else start_frame
    skip = start_frame - seek_frame
    empty = np.zeros((0, snd.channels), dtype=np.float32)
    if seek_frame > 0:
        try:
            snd.seek(seek_frame)
        except (sf.LibsndfileError, RuntimeError) as exc:
            if seek_frame >= snd.frames:
                return empty  # past the end; the caller says so
            raise MossInputError(
                f"the file is truncated or damaged (seeking to {seek_frame / snd.samplerate:.1f} s failed)", path=path
            ) from exc
    wanted = None if max_frames is None else skip + max_frames
    blocks: list[np.ndarray] = []
    got = 0
    try:
        while wanted is None or got < wanted:
            count = _BLOCK_FRAMES if wanted is None else min(_BLOCK_FRAMES, wanted - got)
            block = snd.read(out=np.empty((count, snd.channels), dtype=np.float32))
            if len(block) == 0:
                break
            blocks.append(block)
            got += len(block)
            if len(block) < count:
                break
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise MossInputError(
            "the file is truncated or damaged (libsndfile could not decode it to the end)", path=path
        ) from exc
    data = np.concatenate(blocks) if blocks else empty
    return data[skip:]


def _announced_frames(snd: sf.SoundFile) -> int | None:
    """The frames a WAV's header announces when the file holds fewer (libsndfile reads what is there and logs
    ``data : 64000 (should be 32000)``); None when it holds what it announces, or for any other format."""
    match = re.search(r"^data : (\d+) \(should be (\d+)\)", snd.extra_info, re.MULTILINE)
    align = re.search(r"Block Align\s*:\s*(\d+)", snd.extra_info)
    if match is None or align is None or int(align[1]) <= 0 or int(match[1]) <= int(match[2]):
        return None
    return int(match[1]) // int(align[1])


def _segment_frames(start_s: float, duration_s: float | None, rate: int) -> tuple[int, int | None]:
    """The segment's first frame and frame count (None: to the end) at ``rate``."""
    return round(start_s * rate), None if duration_s is None else round(duration_s * rate)


def _seconds(value: float) -> str:
    """Seconds for a message: two decimals, one when the second is 0 ("12.0", "10.04")."""
    text = f"{value:.2f}"
    return text[:-1] if text.endswith("0") else text


def _mix_to_stereo(data: np.ndarray) -> np.ndarray:
    """Downmix ``(frames, channels)`` with more than two channels to stereo, each output's weights summing to 1."""
    channels = data.shape[1]
    roles = _DEFAULT_ROLES.get(channels, tuple("LR"[i % 2] for i in range(channels)))
    gains = {"L": (1.0, 0.0), "R": (0.0, 1.0), "C": (0.5**0.5, 0.5**0.5), "LFE": (0.0, 0.0)}
    matrix = np.array([gains[role] for role in roles], dtype=np.float64)
    matrix /= matrix.sum(axis=0, keepdims=True)
    return (data.astype(np.float64) @ matrix).astype(np.float32)


@dataclass
class _Decoded:
    """What a decoder read: ``data`` (frames, channels) float32 at the file's ``rate``, its ``channels`` before any
    downmix, where it started, how long the file is, and how long its header announced (None: as long as it is)."""

    data: np.ndarray
    rate: int
    channels: int
    start_frame: int
    header_duration: float | None
    announced_s: float | None = None


def _decode(path: Path, start_s: float, duration_s: float | None) -> _Decoded:
    """The segment, read by soundfile where it can, else by the bundled ffmpeg."""
    snd = None
    if _use_soundfile(path):
        try:
            with _quiet_c_stderr():
                snd = sf.SoundFile(soundfile_name(path))
        except (sf.LibsndfileError, RuntimeError):
            snd = None
    if snd is not None:
        with snd:
            rate = int(snd.samplerate)
            _check_rate(rate, path)
            start_frame, max_frames = _segment_frames(start_s, duration_s, rate)
            data = _read_soundfile(path, snd, start_frame, max_frames)
            announced = _announced_frames(snd)
            return _Decoded(
                data,
                rate,
                int(snd.channels),
                start_frame,
                snd.frames / rate,
                None if announced is None else announced / rate,
            )
    probe = ffmpeg.probe(path)
    _check_rate(probe.sample_rate, path)
    start_frame, max_frames = _segment_frames(start_s, duration_s, probe.sample_rate)
    data = ffmpeg.decode(path, probe, start_frame, max_frames)
    channels = probe.channels if probe.channels is not None else data.shape[1]
    return _Decoded(data, probe.sample_rate, channels, start_frame, probe.duration_s)


def _notices(path: Path, decoded: _Decoded, start_s: float, duration_s: float | None, used_s: float) -> list[str]:
    """What the user should know about how the segment was read: a downmix, a file cut short, a short segment."""
    notices: list[str] = []
    actual_start = decoded.start_frame / decoded.rate
    channels = max(decoded.channels, decoded.data.shape[1])
    if channels > 2:
        notices.append(f"{path.name}: {channels} channels mixed to stereo")
    if decoded.announced_s is not None and (duration_s is None or actual_start + used_s < start_s + duration_s):
        notices.append(
            f"{path.name}: the file ends at {decoded.header_duration:.2f} s although its header announces "
            f"{decoded.announced_s:.2f} s (cut short?): MOSS uses what is there"
        )
    elif duration_s is not None and used_s < duration_s - 0.5 / decoded.rate:
        notices.append(
            f"{path.name}: only {used_s:.2f} s of audio from {actual_start:.2f} s, less than the "
            f"{duration_s:g} s segment: the run uses those {used_s:.2f} s"
        )
    return notices


def _too_short(used_s: float, start_s: float, duration_s: float | None, min_duration_s: float) -> str:
    """Why a segment of ``used_s`` seconds from ``start_s`` is refused, and what to do: a segment asked shorter, a song
    too short, or a start too near its end (then the latest start that leaves ``min_duration_s``)."""
    what = f"only {used_s:.2f} s of audio from {start_s:.2f} s; at least {min_duration_s:.2f} s is needed"
    if duration_s is not None and duration_s < min_duration_s:
        return f"{what}: ask for a longer segment"
    latest = math.floor((start_s + used_s - min_duration_s) * 100) / 100
    if start_s > 0 and latest >= 0:
        return f"{what}: start the segment at {latest:.2f} s or earlier"
    return f"{what}: use a song at least {min_duration_s:g} s long"


def load_audio(
    path: str | Path,
    sample_rate: int | None = 44100,
    start_s: float = 0.0,
    duration_s: float | None = None,
    min_duration_s: float = MIN_SEGMENT_S,
) -> AudioClip:
    """Decode a segment of an audio file, mixed to at most stereo and resampled.

    Args:
        path: any file soundfile reads (WAV, FLAC, OGG Vorbis/Opus, MP3, AIFF) or the bundled ffmpeg reads.
        sample_rate: the rate to resample to (soxr, HQ); None keeps the file's rate.
        start_s: where the segment starts, seconds.
        duration_s: the segment's length, seconds; None reads to the end. A shorter file gives what it has.
        min_duration_s: the shortest usable segment, seconds.

    Returns:
        The clip; ``clip.samples`` is ``(channels, frames)`` float32.

    Raises:
        MossInputError: a missing, empty, unreadable, damaged or too short file, a compressed file that cannot be
            decoded to its end, a rate outside 8 kHz..192 kHz, a start past the end, or a bad option. A PCM file cut
            short (its header announces more than it holds) is used as far as it goes, with a notice, as players
            play it.
    """
    path = Path(path)
    if sample_rate is not None:
        _check_rate(int(sample_rate))
    if not np.isfinite(start_s) or start_s < 0:
        raise MossInputError(f"start {start_s} s must be 0 or more")
    if duration_s is not None and not (np.isfinite(duration_s) and duration_s > 0):
        raise MossInputError(f"duration {duration_s} s must be more than 0")
    _check_file(path)

    decoded = _decode(path, start_s, duration_s)
    data, source_rate, source_channels = decoded.data, decoded.rate, decoded.channels
    start_frame, header_duration = decoded.start_frame, decoded.header_duration
    actual_start = start_frame / source_rate
    if len(data) == 0 and start_frame > 0:
        end = f" ({_seconds(header_duration)} s)" if header_duration else ""
        raise MossInputError(f"start {_seconds(start_s)} s is past the end of the audio{end}", path=path)
    used_s = len(data) / source_rate
    if used_s < min_duration_s:
        raise MossInputError(_too_short(used_s, actual_start, duration_s, min_duration_s), path=path)
    if not np.isfinite(data).all():
        raise MossInputError("the file is damaged (the decoded audio holds NaN or infinite values)", path=path)

    notices = _notices(path, decoded, start_s, duration_s, used_s)
    if data.shape[1] > 2:
        data = _mix_to_stereo(data)
    rate = source_rate if sample_rate is None else int(sample_rate)
    if rate != source_rate:
        data = soxr.resample(np.ascontiguousarray(data), source_rate, rate, quality="HQ")
    samples = np.ascontiguousarray(data.T, dtype=np.float32)
    return AudioClip(samples, rate, source_rate, source_channels, actual_start, tuple(notices))


def soundfile_name(path: str | Path) -> str | bytes:
    """A path as soundfile must be given it so that any name the system allows opens: the name's own bytes on POSIX
    (soundfile encodes a str strictly, and a name that is not UTF-8 text raised), the text on Windows (wide API)."""
    return str(path) if sys.platform == "win32" else os.fsencode(path)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> None:
    """Write ``samples`` ``(channels, frames)`` as a WAV file (32-bit float unless ``subtype`` says otherwise)."""
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must be (channels, frames), got shape {samples.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    write_sound(path, np.ascontiguousarray(samples.T), int(sample_rate), subtype=subtype, format="WAV")


#: The system errors a failed write is recognised by in libsndfile's words (its message holds ``strerror``'s text);
#: any other is reported as EIO.
_WRITE_ERRORS = tuple(
    code
    for code in (getattr(errno, name, None) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM"))
    if code is not None
)


def write_sound(path: str | Path, data: np.ndarray, sample_rate: int, **kwargs) -> None:
    """``soundfile.write`` of (frames, channels) ``data``, made safe for a run's writers: any failure is an ``OSError``
    with the system's errno (ENOSPC for a full disk, EDQUOT, ...), and a signal's exception leaves as itself.

    The file is opened here and libsndfile is handed its descriptor: it writes with its own system calls, no Python
    runs during the write. (Through a Python file object, libsndfile calls back into Python for every block: a
    signal's exception, or the ``OSError`` of a full disk, raised in such a callback was swallowed by cffi, and
    soundfile then failed its own ``assert written == len(data)``: a traceback instead of a clean end.) Any name the
    system allows works (libsndfile's own open encodes names strictly). ``kwargs``: soundfile's (``subtype``,
    ``format``, ``compression_level``...).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    snd = None
    try:
        try:
            snd = sf.SoundFile(fd, "w", samplerate=sample_rate, channels=data.shape[1], closefd=False, **kwargs)
            snd.write(data)
        except (sf.LibsndfileError, RuntimeError, AssertionError) as exc:
            raise _write_error(exc, snd, path) from None
        try:
            snd.close()  # libsndfile writes the header's sizes here
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise _write_error(exc, None, path) from None
    finally:
        if snd is not None and not snd.closed:
            with contextlib.suppress(Exception):
                snd.close()
        os.close(fd)


def _write_error(exc: BaseException, snd: sf.SoundFile | None, path: str | Path) -> OSError:
    """The ``OSError`` behind libsndfile's failure to write: its own record of the system error says which (soundfile
    only says "System error")."""
    texts = [" ".join(str(exc).split())]
    with contextlib.suppress(Exception):
        handle = snd._file if snd is not None and not snd.closed else sf._ffi.NULL  # noqa: SLF001
        texts.insert(0, sf._ffi.string(sf._snd.sf_strerror(handle)).decode("utf-8", "replace"))  # noqa: SLF001
    text = " ".join(texts)
    code = next((c for c in _WRITE_ERRORS if os.strerror(c).lower() in text.lower()), None)
    if code is None:
        code = errno.ENOSPC if "space" in text.lower() else errno.EIO
    return OSError(code, f"{os.strerror(code)} ({texts[-1][:100]})", str(path))


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
