"""Encoding audio to a file: WAV, FLAC, MP3, Ogg Vorbis and Opus, through libsndfile or the bundled ffmpeg.

- ``wav``: 32-bit float for a point; for a whole song the song's own sample format (``full_pcm_subtype``).
- ``flac``: 24-bit for a point; for a whole song the song's 8/16/24-bit format, else 24-bit (32-bit and float
  sources) or 16-bit (lossy sources).
- ``mp3``: LAME, constant ``MP3_KBPS`` kb/s (MPEG-2 rates allow at most 160, 8-12 kHz at most 64); a rate MP3
  does not have is resampled (soxr) to the next one it has.
- ``ogg``: Vorbis, quality ``VORBIS_QUALITY`` (about 190 kb/s for stereo music at 44.1 kHz).
- ``opus``: Ogg Opus, ``OPUS_KBPS`` kb/s in all, always 48 kHz (the rate Opus runs at; soxr resamples).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from moss_engine.errors import MossError, MossInputError
from moss_engine.io.audio import write_sound
from moss_engine.io.ffmpeg import ffmpeg_path

if TYPE_CHECKING:  # numpy and soundfile load on first use: the parser of ``moss`` must stay quick
    import numpy as np

FORMATS = ("wav", "flac", "mp3", "ogg", "opus")
#: Formats whose samples stop at full scale (a point's FLAC is 24-bit; WAV is 32-bit float, which holds any peak), and
#: those whose decoders add peaks of their own to what the encoder was given.
INTEGER_FORMATS = ("flac",)
LOSSY_FORMATS = ("mp3", "ogg", "opus")
#: File suffix of each format, and the suffixes that name one.
FORMAT_SUFFIX = {"wav": ".wav", "flac": ".flac", "mp3": ".mp3", "ogg": ".ogg", "opus": ".opus"}
SUFFIX_FORMAT = {
    ".wav": "wav",
    ".wave": "wav",
    ".flac": "flac",
    ".mp3": "mp3",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "opus",
}
#: Constant MP3 bit rate (kb/s): high enough that the encoder keeps the band up to ~19 kHz (MOSS's default picture
#: ends at 15 kHz), and what people commonly share music at.
MP3_KBPS = 192
#: Opus bit rate (kb/s, all channels together): transparent for most stereo music.
OPUS_KBPS = 128
# What survives them (visual loss of the decoded file, the portrait in the orchestral piece, standard quality, 8 s,
# music end 0.96): the alpha 0.58 point 0.447 -> 0.494 (MP3 192) / 0.536 (Opus 128); the image end 0.074 -> 0.208 /
# 0.346. Both codecs spend few bits on the quiet (dark) cells of the picture; MP3 keeps more of it than Opus.
#: Vorbis quality in [0, 1] (libvorbis q6).
VORBIS_QUALITY = 0.6
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_OPUS_RATE = 48000
#: Source sample formats that are PCM with a bit depth worth keeping.
_PCM_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})


def full_pcm_subtype(source_subtype: str | None, fmt: str) -> str:
    """The sample format of a ``--full`` WAV or FLAC: the song's own where the container has it.

    WAV keeps 8 (unsigned), 16, 24, 32-bit and float; FLAC keeps 8, 16 and 24-bit and takes 24-bit for 32-bit and
    float songs. A lossy or otherwise coded song (Vorbis, MP3, Opus, ADPCM, ffmpeg formats) becomes 32-bit float WAV
    or 16-bit FLAC. (The engine decodes to 32-bit float: a 32-bit integer song keeps its top 24 bits.)
    """
    source = source_subtype if source_subtype in _PCM_SUBTYPES else None
    if fmt == "wav":
        return {None: "FLOAT", "PCM_S8": "PCM_U8"}.get(source, source)  # WAV's 8-bit is unsigned
    if fmt == "flac":
        return {None: "PCM_16", "PCM_U8": "PCM_S8", "PCM_32": "PCM_24", "FLOAT": "PCM_24", "DOUBLE": "PCM_24"}.get(
            source, source
        )
    raise ValueError(f"{fmt} has no PCM sample format")


def encode(
    path: Path,
    samples: np.ndarray,
    rate: int,
    fmt: str,
    source_subtype: str | None = None,
    full: bool = False,
    notices: list[str] | None = None,
) -> tuple[str, int, int]:
    """Write (channels, frames) float32 ``samples`` at ``rate`` to ``path`` as ``fmt``.

    Returns what was written: the encoding in words, its rate and its length in frames (Opus and some MP3 rates
    are resampled). ``full`` picks ``full_pcm_subtype(source_subtype)`` for WAV and FLAC, else 32-bit float WAV and
    24-bit FLAC.

    ``path``'s suffix is not looked at (the atomic write uses a temporary name).
    """
    import numpy as np

    notices = notices if notices is not None else []
    data = np.ascontiguousarray(samples.T, dtype=np.float32)
    if fmt in ("wav", "flac"):
        subtype = full_pcm_subtype(source_subtype, fmt) if full else ("FLOAT" if fmt == "wav" else "PCM_24")
        if subtype not in ("FLOAT", "DOUBLE"):
            _note_clipped(data, subtype, notices)
        write_sound(path, data, rate, subtype=subtype, format=fmt.upper())
        return f"{fmt.upper()} {_subtype_words(subtype)}", rate, len(data)
    if fmt == "ogg":
        write_sound(path, data, rate, format="OGG", subtype="VORBIS", compression_level=1.0 - VORBIS_QUALITY)
        return f"Ogg Vorbis q{VORBIS_QUALITY * 10:g}", rate, len(data)
    if fmt == "mp3":
        mp3_rate = next((r for r in _MP3_RATES if r >= rate), _MP3_RATES[-1])
        if mp3_rate != rate:
            notices.append(f"MP3 has no {rate} Hz: resampled to {mp3_rate} Hz")
            data = _resample(data, rate, mp3_rate)
        top = 320 if mp3_rate >= 32000 else 160 if mp3_rate >= 16000 else 64
        kbps = min(MP3_KBPS, top)
        if kbps < MP3_KBPS:
            notices.append(f"MP3 at {mp3_rate} Hz allows at most {top} kb/s: written at {kbps} kb/s")
        if _soundfile_writes("MP3", "MPEG_LAYER_III"):
            low = 32 if mp3_rate >= 32000 else 8
            # libsndfile maps the level c to a CBR of int(top - c (top - low)) kb/s; the half keeps int() on kbps
            level = min(1.0, max(0.0, (top - kbps - 0.5) / (top - low)))
            write_sound(
                path,
                data,
                mp3_rate,
                format="MP3",
                subtype="MPEG_LAYER_III",
                compression_level=level,
                bitrate_mode="CONSTANT",
            )
            return f"MP3 {kbps} kb/s CBR (libsndfile/LAME)", mp3_rate, len(data)
        _ffmpeg_encode(path, data, mp3_rate, ["-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-f", "mp3"])
        return f"MP3 {kbps} kb/s CBR (ffmpeg/LAME)", mp3_rate, len(data)
    if fmt == "opus":
        if rate != _OPUS_RATE:
            notices.append(f"Opus runs at 48 kHz: resampled from {rate} Hz")
            data = _resample(data, rate, _OPUS_RATE)
        channels = data.shape[1]
        if _soundfile_writes("OGG", "OPUS"):
            # libsndfile maps the level c to (int((1 - c) 250000 + 6000)) b/s per channel
            per_channel = OPUS_KBPS * 1000 / channels
            level = min(1.0, max(0.0, 1.0 - (per_channel - 6000 + 0.5) / 250000))
            write_sound(path, data, _OPUS_RATE, format="OGG", subtype="OPUS", compression_level=level)
            return f"Opus {OPUS_KBPS} kb/s (libsndfile/libopus)", _OPUS_RATE, len(data)
        _ffmpeg_encode(path, data, _OPUS_RATE, ["-c:a", "libopus", "-b:a", f"{OPUS_KBPS}k", "-f", "ogg"])
        return f"Opus {OPUS_KBPS} kb/s (ffmpeg/libopus)", _OPUS_RATE, len(data)
    raise MossInputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")


def _note_clipped(data: np.ndarray, subtype: str, notices: list[str]) -> None:
    """Say how many samples an integer format clips (a lossy decode's own overs above full scale: the song's, which
    MOSS leaves as they are outside the picture's segment), as any player clips them."""
    import numpy as np

    over = int(np.count_nonzero(np.abs(data) > 1.0))
    if over:
        notices.append(
            f"{over} sample{'s' * (over != 1)} above full scale (the song's own, from its lossy decode) "
            f"clipped, as any player would, by the {_subtype_words(subtype)} format"
        )


def _subtype_words(subtype: str) -> str:
    return {
        "FLOAT": "32-bit float",
        "DOUBLE": "64-bit float",
        "PCM_U8": "8-bit",
        "PCM_S8": "8-bit",
        "PCM_16": "16-bit",
        "PCM_24": "24-bit",
        "PCM_32": "32-bit",
    }.get(subtype, subtype)


def _soundfile_writes(container: str, subtype: str) -> bool:
    """Whether this libsndfile encodes ``subtype`` in ``container`` (MP3 needs 1.1+, built with LAME)."""
    import soundfile as sf

    try:
        return subtype in sf.available_subtypes(container) and sf.check_format(container, subtype)
    except (ValueError, TypeError):
        return False


def _resample(data: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """(frames, channels) float32 from ``rate`` to ``new_rate`` (soxr, high quality)."""
    import numpy as np
    import soxr

    return np.ascontiguousarray(soxr.resample(data, rate, new_rate, quality="HQ"), dtype=np.float32)


def _ffmpeg_encode(path: Path, data: np.ndarray, rate: int, codec: list[str]) -> None:
    """Encode (frames, channels) float32 with the bundled ffmpeg, piped in as raw f32le."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise MossError(f"this libsndfile cannot encode {codec[1]} and ffmpeg is not available ({exc})") from None
    command = [
        exe,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "f32le",
        "-ar",
        str(rate),
        "-ac",
        str(data.shape[1]),
        "-i",
        "-",
        *codec,
        ffmpeg_path(path),
    ]
    flags = subprocess.CREATE_NO_WINDOW if sys.platform == "win32" else 0
    result = subprocess.run(command, input=data.astype("<f4").tobytes(), capture_output=True, creationflags=flags)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise MossError(f"ffmpeg could not encode {codec[1]}: {message[-1] if message else result.returncode}")
