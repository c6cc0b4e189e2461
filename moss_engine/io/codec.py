"""The codecs music is published in (MP3 128, AAC 128, Opus 96): a point's audio encoded and decoded back by the
bundled ffmpeg, exactly as ``../shared/tools/codec_survival.py`` (the reference definition of "SSIM after a codec")
does it.

- MP3: LAME (``libmp3lame``) at 128 kb/s CBR; AAC-LC: ffmpeg's own ``aac`` encoder at 128 kb/s; Opus: ``libopus`` at
  96 kb/s (all channels together, as ``-b:a`` counts them).
- A run below 44.1 kHz is resampled (soxr) to 44.1 kHz for MP3 and AAC, as a release would be; Opus always runs at
  48 kHz (its only full-band rate). At 44.1 kHz and above the run's own rate is given to ffmpeg, which takes the
  nearest rate an encoder has where it lacks that one (LAME stops at 48 kHz, AAC at 96 kHz).
- The decoder's output is resampled (soxr) back to the run's rate and cut or padded to the point's length; it starts
  at sample 0 (ffmpeg trims the encoders' priming: measured lag 0), with the point's channels.

The point's samples and the encoded file live in a temporary folder removed afterwards (an MP4 needs a seekable file;
a file, not a pipe, lets a stop end ffmpeg at once), the decoded audio comes back through a pipe: nothing
half-written is ever left behind.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moss_engine.errors import MossError, MossInputError
from moss_engine.io.ffmpeg import ffmpeg_path, popen_flags

#: The longest one encode or decode may take (a ten-minute stereo segment takes a few seconds).
CODEC_TIMEOUT_S = 300
#: While ffmpeg works, ``should_stop`` is asked this often (seconds).
POLL_S = 0.05
#: MP3 and AAC encode a run below this rate at this rate (a release is at least CD rate).
RELEASE_RATE = 44100


@dataclass(frozen=True)
class Codec:
    """One publishing codec.

    Attributes:
        key: its manifest key (``points[].codec_ssim``), e.g. ``"mp3_128"``.
        name: as users call it (``--publish``), e.g. ``"mp3-128"``.
        label: in words, e.g. ``"MP3 128 kb/s"``.
        encoder: ffmpeg's encoder; ``kbps``: the bit rate of all channels together; ``suffix``: the container's.
        fixed_rate: the rate it always encodes at (Opus: 48 kHz); None: the run's, 44.1 kHz when lower.

    ``cutoff_hz(sample_rate, channels)`` is the measured low-pass it puts on a run (``CODEC_CUTOFFS_HZ``).
    """

    key: str
    name: str
    label: str
    encoder: str
    kbps: int
    suffix: str
    fixed_rate: int | None = None

    def encode_rate(self, sample_rate: int) -> int:
        """The rate this codec is given a run at ``sample_rate`` at (ffmpeg may still take the encoder's nearest)."""
        if self.fixed_rate is not None:
            return self.fixed_rate
        return max(int(sample_rate), RELEASE_RATE)

    def cutoff_hz(self, sample_rate: int, channels: int = 2) -> float:
        """The highest frequency this codec keeps of a run at ``sample_rate`` with ``channels``: its measured
        low-pass at the rate it encodes at, or the run's Nyquist frequency when that is lower."""
        rate = self.encode_rate(sample_rate)
        table = CODEC_CUTOFFS_HZ[self.key]
        near = min(table, key=lambda r: abs(r - rate))  # the measured rate nearest to it
        cutoff = table[near][min(max(int(channels), 1), 2) - 1]
        return float(min(cutoff, sample_rate / 2))


MP3_128 = Codec("mp3_128", "mp3-128", "MP3 128 kb/s", "libmp3lame", 128, ".mp3")
AAC_128 = Codec("aac_128", "aac-128", "AAC 128 kb/s", "aac", 128, ".m4a")
OPUS_96 = Codec("opus_96", "opus-96", "Opus 96 kb/s", "libopus", 96, ".opus", fixed_rate=48000)
#: Every codec, by manifest key, in the order shown.
CODECS: dict[str, Codec] = {c.key: c for c in (MP3_128, AAC_128, OPUS_96)}

#: Each codec's low-pass (Hz) by the rate it encodes at: (mono, stereo). The highest frequency where the decoded
#: spectrum of white noise (10 s, uniform +-0.5, independent channels; Welch, 8192-point segments) is within 10 dB of
#: the original's, measured through ``round_trip`` with the ffmpeg of imageio-ffmpeg 0.8.1 (n9.0.2) by
#: ``bench/codec_agreement.py --cutoffs`` (bench/results/codec-agreement-cpu2.json). The edges are steep: 1 kHz above
#: them the decoded noise is 40 dB down or more. LAME at 128 kb/s low-passes stereo near 16.5 kHz (issue 24's "near
#: 16 kHz") but keeps 20 kHz in mono; ffmpeg's AAC cuts stereo at 17.2 kHz and keeps the whole band in mono at
#: 44.1 kHz; Opus is full band (20 kHz) at any channel count.
CODEC_CUTOFFS_HZ: dict[str, dict[int, tuple[float, float]]] = {
    "mp3_128": {44100: (20000.0, 16550.0), 48000: (20270.0, 16510.0)},
    "aac_128": {44100: (22050.0, 17240.0), 48000: (21760.0, 17260.0)},
    "opus_96": {48000: (20020.0, 20020.0)},
}


def codec(name: str) -> Codec:
    """The codec a user or a manifest names: ``mp3-128`` or ``mp3_128`` (any case); ``MossInputError`` otherwise."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in CODECS:
        names = ", ".join(c.name for c in CODECS.values())
        raise MossInputError(f"no codec {name!r}: expected one of {names}", reason="codec")
    return CODECS[key]


def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise MossError(f"the codecs need ffmpeg, which is not available ({exc})") from None


class _Stopped(Exception):
    pass


def _run(command: list[str], what: str, should_stop: Callable[[], bool]) -> bytes:
    """Run ffmpeg; its output, or ``MossError`` in one line (``_Stopped`` when ``should_stop`` says so before or
    meanwhile)."""
    if should_stop():
        raise _Stopped
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            creationflags=popen_flags(),
        )
    except OSError as exc:
        raise MossError(f"{what}: ffmpeg could not be run ({exc})") from None
    start = time.monotonic()
    with process:
        while True:
            try:
                out, err = process.communicate(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                if should_stop():
                    process.kill()
                    process.communicate()
                    raise _Stopped from None
                if time.monotonic() - start > CODEC_TIMEOUT_S:
                    process.kill()
                    process.communicate()
                    raise MossError(f"{what}: ffmpeg took more than {CODEC_TIMEOUT_S} s") from None
    if process.returncode != 0:
        lines = err.decode("utf-8", errors="replace").strip().splitlines()
        raise MossError(f"{what}: ffmpeg failed ({lines[-1] if lines else f'exit status {process.returncode}'})")
    return out


def round_trip(
    samples: np.ndarray, sample_rate: int, codec_: Codec | str, should_stop: Callable[[], bool] = lambda: False
) -> np.ndarray | None:
    """``samples`` ``(channels, frames)`` (as written: 32-bit float) encoded by ``codec_`` and decoded back: float32
    ``(channels, frames)`` at ``sample_rate``, the same length. None when ``should_stop`` said so meanwhile (ffmpeg
    is ended at once). ``MossError`` (one line) when ffmpeg fails."""
    c = codec(codec_) if isinstance(codec_, str) else codec_
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[0] < 1 or samples.shape[1] < 1:
        raise ValueError(f"samples must be (channels, frames) with frames > 0, got shape {samples.shape}")
    channels, frames = samples.shape
    exe = _ffmpeg()
    quiet = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    # The reference writes the point as a 32-bit float WAV and has ffmpeg read it: the same samples as raw f32le.
    source = ["-f", "f32le", "-ar", str(int(sample_rate)), "-ac", str(channels), "-i"]
    rate = (
        ["-ar", str(c.fixed_rate)] if c.fixed_rate else ["-ar", str(RELEASE_RATE)] if sample_rate < RELEASE_RATE else []
    )
    data = np.ascontiguousarray(samples.T, dtype="<f4").tobytes()
    try:
        with tempfile.TemporaryDirectory(prefix="moss-codec-") as tmp:
            raw, encoded = Path(tmp) / "point.f32", Path(tmp) / f"point{c.suffix}"
            raw.write_bytes(data)
            encode = [exe, *quiet, *source, ffmpeg_path(raw), "-af", "aresample=resampler=soxr", *rate]
            encode += ["-c:a", c.encoder, "-b:a", f"{c.kbps}k", ffmpeg_path(encoded)]
            _run(encode, f"{c.label}: encoding", should_stop)
            decode = [exe, *quiet, "-i", ffmpeg_path(encoded), "-af", "aresample=resampler=soxr"]
            decode += ["-ar", str(int(sample_rate)), "-ac", str(channels), "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"]
            out = _run(decode, f"{c.label}: decoding", should_stop)
    except _Stopped:
        return None
    except OSError as exc:  # the temporary folder (a full disk)
        raise MossError(f"{c.label}: {exc.strerror or exc}") from None
    got = len(out) // (4 * channels)
    y = np.frombuffer(out[: got * 4 * channels], dtype="<f4").reshape(got, channels).T
    if got >= frames:
        return np.ascontiguousarray(y[:, :frames], dtype=np.float32)
    return np.pad(y, ((0, 0), (0, frames - got))).astype(np.float32)


def default_workers() -> int:
    """How many ffmpeg processes run at once: one per core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def round_trips(
    points: Sequence[np.ndarray],
    sample_rate: int,
    codecs: Sequence[Codec | str] = tuple(CODECS.values()),
    *,
    should_stop: Callable[[], bool] = lambda: False,
    workers: int | None = None,
    done: Callable[[int, str, np.ndarray], None] | None = None,
    failed: Callable[[str, MossError], None] | None = None,
) -> dict[str, list[np.ndarray | None]]:
    """Every point through every codec, ``workers`` ffmpeg jobs at once (threads: ffmpeg runs as a subprocess).

    Returns ``{codec key: [decoded point (channels, frames), ...]}``; a point left out after ``should_stop`` said so
    is None. ``done(point index, codec key, decoded)`` is called as each finishes (from the worker threads), so that a
    caller can use each one at once instead of holding them all. ffmpeg failing raises its ``MossError``; with
    ``failed``, ``failed(codec key, error)`` is called instead (once per codec, from a worker thread), that codec's
    other points are left out (None) and the other codecs go on.
    """
    chosen = [codec(c) if isinstance(c, str) else c for c in codecs]
    out: dict[str, list[np.ndarray | None]] = {c.key: [None] * len(points) for c in chosen}
    broken: set[str] = set()
    lock = threading.Lock()

    def job(i: int, c: Codec) -> None:
        if should_stop() or c.key in broken:
            return
        try:
            y = round_trip(points[i], sample_rate, c, should_stop)
        except MossError as exc:
            if failed is None:
                raise
            with lock:
                first = c.key not in broken
                broken.add(c.key)
            if first:
                failed(c.key, exc)
            return
        if y is None:
            return
        if done is not None:
            done(i, c.key, y)
        else:
            out[c.key][i] = y

    jobs = [(i, c) for i in range(len(points)) for c in chosen]
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        futures = [pool.submit(job, i, c) for i, c in jobs]
        try:
            for f in futures:
                f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return out
