"""The bundled ffmpeg (imageio-ffmpeg) as MOSS uses it: its path, safe file names, probing and decoding audio."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moss_engine.errors import MossInputError

#: The longest an ffmpeg decode may take (a two-hour song decodes in well under a minute).
DECODE_TIMEOUT_S = 600
# ffmpeg's channel layout names (without a "(side)"/"(back)" qualifier) and their channel counts.
_FFMPEG_LAYOUTS = {
    "mono": 1,
    "stereo": 2,
    "downmix": 2,
    "2.1": 3,
    "3.0": 3,
    "quad": 4,
    "4.0": 4,
    "4.1": 5,
    "5.0": 5,
    "5.1": 6,
    "6.0": 6,
    "hexagonal": 6,
    "6.1": 7,
    "7.0": 7,
    "7.1": 8,
    "octagonal": 8,
}
_FFMPEG_STREAM = re.compile(r"Stream #[^\n]*?: Audio: (?P<codec>[^\s,]+)[^,\n]*, (?P<rate>\d+) Hz, (?P<layout>[^,\n]+)")
_FFMPEG_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def popen_flags() -> int:
    # Without this a console window flashes up for every ffmpeg call in the frozen Windows app.
    return subprocess.CREATE_NO_WINDOW if sys.platform == "win32" else 0


def executable(path: Path) -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise MossInputError("not an audio file soundfile can read (ffmpeg is not installed)", path=path) from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise MossInputError("not an audio file soundfile can read (ffmpeg is not available)", path=path) from exc


def ffmpeg_path(path: str | Path) -> str:
    """A path as ffmpeg must be given it: absolute, behind "file:", so that a name such as "concat:x" or a folder
    named "pipe:1" is never read as one of ffmpeg's protocols."""
    return "file:" + str(Path(path).resolve())


@dataclass(frozen=True)
class FfmpegProbe:
    codec: str
    sample_rate: int
    channels: int | None  # None: a layout we do not know; ask ffmpeg for stereo
    duration_s: float | None


def probe(path: Path) -> FfmpegProbe:
    exe = executable(path)
    try:
        result = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", ffmpeg_path(path)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            creationflags=popen_flags(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MossInputError(f"ffmpeg could not be run ({exc})", path=path) from exc
    text = result.stderr.decode("utf-8", errors="replace")
    stream = _FFMPEG_STREAM.search(text)
    if stream is None:
        raise MossInputError("not an audio file MOSS can read (WAV, FLAC, Ogg, MP3, AIFF, M4A...)", path=path)
    layout = stream["layout"].strip()
    layout_name = layout.split("(")[0].strip()
    channels = _FFMPEG_LAYOUTS.get(layout_name)
    counted = re.fullmatch(r"(\d+) channels", layout_name)
    if counted:
        channels = int(counted[1])
    duration = _FFMPEG_DURATION.search(text)
    duration_s = None
    if duration:
        duration_s = int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])
    return FfmpegProbe(stream["codec"], int(stream["rate"]), channels, duration_s)


def decode(path: Path, probe: FfmpegProbe, start_frame: int, max_frames: int | None) -> np.ndarray:
    """Decode with ffmpeg at the file's own rate; returns ``(frames, channels)`` float32 (at most stereo)."""
    # ffmpeg knows the layout, so it does the downmix itself when there are more than two channels.
    out_channels = probe.channels if probe.channels is not None and probe.channels <= 2 else 2
    # Trim with atrim, counted in samples from the start of the decode: input seeking (-ss before -i) was measured
    # landing hundreds of samples off in M4A and WMA, and -t stops at a packet boundary.
    trim = f"atrim=start_sample={start_frame}"
    if max_frames is not None:
        trim += f":end_sample={start_frame + max_frames}"
    command = [
        executable(path),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        ffmpeg_path(path),
        "-map",
        "0:a:0",
        "-vn",
        "-af",
        trim,
        "-ac",
        str(out_channels),
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-",
    ]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=DECODE_TIMEOUT_S,
            creationflags=popen_flags(),
        )
    except subprocess.TimeoutExpired:
        raise MossInputError(
            f"ffmpeg took more than {DECODE_TIMEOUT_S} s to decode it: the file is damaged or not an audio file",
            path=path,
        ) from None
    except OSError as exc:
        raise MossInputError(f"ffmpeg could not be run ({exc})", path=path) from exc
    frames = len(result.stdout) // (4 * out_channels)
    data = np.frombuffer(result.stdout[: frames * 4 * out_channels], dtype="<f4").reshape(frames, out_channels)
    if result.returncode != 0:
        if frames == 0:
            raise MossInputError("the file is damaged: ffmpeg could not decode its audio", path=path)
        stopped = (start_frame + frames) / probe.sample_rate
        raise MossInputError(f"the file is truncated or damaged (decoding stopped at {stopped:.1f} s)", path=path)
    return data.astype(np.float32)
