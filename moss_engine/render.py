"""``moss render``: one front point of a run folder as a file to keep, alone or inside the whole song.

Without ``--full`` the point's audio is written at the run's rate and channels, encoded to the asked format, at the
song's level: a moss-run/2 point file already is (with its own gain against clipping, ``gain_db``, if it has one);
a moss-run/1 folder's files share one gain against clipping (``output_gain_db``), set by the loudest point, which a
bright picture's image end could make 20 dB or more, and a file to keep gets that gain undone. A file that would then
clip (an encoder's samples stop at full scale) gets a gain of its own, bringing its peak to -1 dBFS.

With ``--full`` the whole song is written at its own rate, channel count and (for WAV and FLAC) bit depth, with the
point's picture in the run's segment: the point's mask logits and picture level are re-gridded to an STFT of the song
at its own rate (the run's time-frequency resolution, so the picture looks the same), rendered over the segment plus
one window of the song on each side, faded in and out over ``TAPER_S`` at the picture's edges, and added to the song
inside the segment only. Outside the segment the file is the song itself, sample for sample, always: if the segment
would clip, the segment alone is turned down, with ``TAPER_S`` fades inside it (``segment_gain``).

Formats (all through soundfile's libsndfile; the bundled ffmpeg only where that libsndfile cannot encode MP3/Opus):

- ``wav``: 32-bit float for a point; for ``--full`` the song's own sample format (``full_pcm_subtype``).
- ``flac``: 24-bit for a point; for ``--full`` the song's 8/16/24-bit format, else 24-bit (32-bit and float
  sources) or 16-bit (lossy sources).
- ``mp3``: LAME, constant ``MP3_KBPS`` kb/s (MPEG-2 rates allow at most 160, 8-12 kHz at most 64); a rate MP3
  does not have is resampled (soxr) to the next one it has.
- ``ogg``: Vorbis, quality ``VORBIS_QUALITY`` (about 190 kb/s for stereo music at 44.1 kHz).
- ``opus``: Ogg Opus, ``OPUS_KBPS`` kb/s in all, always 48 kHz (the rate Opus runs at; soxr resamples).
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .audio_io import ffmpeg_path, soundfile_name
from .errors import MossError, MossInputError
from .levels import OUTPUT_PEAK_DBFS, peak, peak_gain
from .run_folder import find_input, load_logits, picture_level_db, point_file, read_manifest, run_gain_db

if TYPE_CHECKING:  # numpy, soundfile and torch load on first use: the parser of ``moss`` must stay quick
    import numpy as np

FORMATS = ("wav", "flac", "mp3", "ogg", "opus")
#: File suffix of each format, and the suffixes that name one.
FORMAT_SUFFIX = {"wav": ".wav", "flac": ".flac", "mp3": ".mp3", "ogg": ".ogg", "opus": ".opus"}
SUFFIX_FORMAT = {".wav": "wav", ".wave": "wav", ".flac": "flac", ".mp3": "mp3", ".ogg": "ogg", ".oga": "ogg",
                 ".opus": "opus"}
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
#: The picture fades in and out over this long at edges that lie inside the song (``--full``), so no seam is heard;
#: a segment turned down against clipping fades to its gain over as long.
TAPER_S = 0.1
#: Where a faded segment gain alone would still let a sample clip (a loud song next to the picture's first
#: milliseconds), the gain follows the samples' need, smoothed over this long (a brick-wall limiter's release).
LIMIT_SMOOTHING_S = 0.005

_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_OPUS_RATE = 48000
#: Source sample formats that are PCM with a bit depth worth keeping.
_PCM_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})


@dataclass(frozen=True)
class RenderResult:
    """What ``render_point`` wrote.

    Args:
        path: the file.
        format: one of ``FORMATS``.
        point: the point's index in the manifest (never negative).
        alpha: the point's alpha.
        full: the whole song (True) or the point's segment (False), both at the song's level.
        sample_rate, channels, frames: of the written audio.
        encoding: what was written, in words (``"MP3 192 kb/s CBR (libsndfile)"``).
        gain_db: the gain the file got against clipping, in dB from the song's level (0 when none was needed).
        notices: notes for the user.
    """

    path: Path
    format: str
    point: int
    alpha: float
    full: bool
    sample_rate: int
    channels: int
    frames: int
    encoding: str
    gain_db: float = 0.0
    notices: tuple[str, ...] = ()

    def summary(self) -> str:
        what = "the whole song with point" if self.full else "point"
        return (f"wrote {self.path}: {what} {self.point} (alpha {self.alpha:.2f}), {self.encoding}, "
                f"{self.sample_rate} Hz, {self.channels} ch, {self.frames / self.sample_rate:.2f} s")


# ---------------------------------------------------------------------------------------------------------- CLI


def add_render_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``render`` to ``moss``'s sub-commands (``subparsers`` from ``add_subparsers``, whose parser_class is used).

    ``run_render(args)`` runs it.
    """
    p = subparsers.add_parser(
        "render", help="write one point of a run folder as a file to keep (or the whole song with its picture)",
        description="Write one front point of a run folder as a WAV, FLAC, MP3, Ogg Vorbis or Opus file. With "
                    "--full, the whole song at its own rate, channels and bit depth, the point's picture in the "
                    "run's segment and the song untouched elsewhere.")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by moss front/demo/blend")
    p.add_argument("--point", type=int, required=True, metavar="K",
                   help="the point, as listed by the run (0 = the music end); negative counts from the image end "
                        "(-1 = the image end)")
    p.add_argument("--full", action="store_true",
                   help="the whole song, with the point's picture in the segment (needs the run's song and picture, "
                        "unchanged)")
    p.add_argument("--format", choices=FORMATS,
                   help="file format (default: from --out's suffix, else wav); mp3 is 192 kb/s, opus 128 kb/s")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="the file to write (default: RUN_DIR/point_KKK[_full].EXT)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def run_render(args: argparse.Namespace) -> int:
    """Run ``moss render`` with parsed arguments; returns the exit status (0). Bad input raises MossInputError."""
    result = render_point(args.run_dir, args.point, full=bool(getattr(args, "full", False)),
                          fmt=getattr(args, "format", None), out=getattr(args, "out", None),
                          overwrite=bool(getattr(args, "overwrite", False)))
    if not getattr(args, "quiet", False):
        for notice in result.notices:
            print(f"moss: note: {notice}", file=sys.stderr)
        print(result.summary())
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error and exit status 2 of ``moss``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"moss: error: {message} (see moss render --help)\n")


def _main(argv: list[str] | None = None) -> int:
    """``moss render`` on its own (``python -c "from moss_engine.render import _main; raise SystemExit(_main())"``).

    Exit status as ``moss``'s: 0 done, 2 bad input (one line on stderr), 130 interrupted, 1 other failure.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["render"]:
        argv = argv[1:]
    parser = _Parser(prog="moss")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    add_render_parser(sub)
    args = parser.parse_args(["render", *argv])
    try:
        return run_render(args)
    except KeyboardInterrupt:
        print("moss: interrupted; nothing was written", file=sys.stderr)
        return 130
    except MossError as err:
        print(f"moss: error: {err}", file=sys.stderr)
        return 2 if isinstance(err, MossInputError) else 1


# ------------------------------------------------------------------------------------------------ the engine part


def render_point(run_dir: str | Path, point: int, full: bool = False, fmt: str | None = None,
                 out: str | Path | None = None, overwrite: bool = False) -> RenderResult:
    """Write point ``point`` of the run folder ``run_dir`` as a file (the app and ``moss render`` call this).

    Args:
        run_dir: the run folder.
        point: index into the manifest's points; negative counts from the end (-1 = the image end).
        full: the whole song at its own rate, channels and bit depth with the point's picture in the segment, at
            the song's own level; outside the segment it is the song, sample for sample. If the segment would clip,
            the segment alone is turned down (``segment_gain``; ``RenderResult.gain_db``, and a notice). Without
            ``full``: the point's audio at the run's rate and channels, likewise at the song's level (a moss-run/1
            folder's ``output_gain_db``, one gain for all its points, undone), turned down as a whole only if it would
            clip.
        fmt: one of ``FORMATS``; None: from ``out``'s suffix, else ``wav``.
        out: the file; None: ``run_dir/point_KKK[_full].EXT`` (``point_KKK_copy.wav`` where that would be the run's
            own point file).
        overwrite: replace ``out`` if it exists (never one of the run folder's own files).

    The file appears whole or not at all: it is written to a hidden temporary file beside ``out``, then renamed.

    Raises:
        MossInputError: a missing or foreign run folder, a point out of range, an unknown format, ``out`` existing
            (without ``overwrite``), and for ``full`` the run's song or picture missing or changed since the run.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    index = resolve_point(manifest, point)
    entry = manifest["points"][index]
    fmt, out = _output_path(run_dir, manifest, index, full, fmt, out)
    _check_out(run_dir, manifest, out, overwrite)
    notices: list[str] = []
    if full:
        samples, rate, source_subtype, gain_db = full_song(run_dir, manifest, index, notices)
    else:
        samples, rate = point_samples(run_dir, entry, manifest)
        samples = at_song_level(samples, run_gain_db(manifest))
        source_subtype, gain_db = None, keep_from_clipping(samples, notices)
    encoding, written_rate, frames = _write_atomic(
        out, overwrite, run_dir, manifest, lambda path: encode(path, samples, rate, fmt, source_subtype, full, notices))
    return RenderResult(path=out, format=fmt, point=index, alpha=float(entry.get("alpha", float("nan"))), full=full,
                        sample_rate=written_rate, channels=int(samples.shape[0]), frames=frames, encoding=encoding,
                        gain_db=gain_db, notices=tuple(notices))


def resolve_point(manifest: dict[str, Any], point: int) -> int:
    """``point`` as an index into the manifest's points (negative counts from the end), or ``MossInputError``."""
    n = len(manifest["points"])
    if not -n <= point < n:
        raise MossInputError(f"--point {point}: the run has {n} points (0..{n - 1}, or -{n}..-1 from the image end)")
    return point % n


def point_samples(run_dir: Path, entry: dict[str, Any], manifest: dict[str, Any] | None = None
                  ) -> tuple[np.ndarray, int]:
    """The point's audio file as (channels, frames) float32 and its rate; with ``manifest``, checked against its rate,
    channels and length (a truncated copy would otherwise be written out as a short or empty file)."""
    import soundfile as sf

    path = point_file(run_dir, entry, "wav")
    if not path.is_file():
        raise MossInputError("the point's audio file is missing from the run folder", path)
    try:
        data, rate = sf.read(soundfile_name(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise MossInputError(f"the point's audio file cannot be read ({exc})", path) from None
    if manifest is not None:
        want_rate, want_channels = int(manifest["sample_rate"]), int(manifest["channels"])
        want_frames = round(float(manifest["input"]["duration_s"]) * want_rate)
        if (int(rate), data.shape[1]) != (want_rate, want_channels) or abs(data.shape[0] - want_frames) > 1:
            raise MossInputError(f"the point's audio file holds {data.shape[0] / rate:.2f} s at {rate} Hz, "
                                 f"{data.shape[1]} ch; the manifest says {want_frames / want_rate:.2f} s at "
                                 f"{want_rate} Hz, {want_channels} ch (a damaged copy?)", path)
    return data.T.copy(), int(rate)


def _output_path(run_dir: Path, manifest: dict[str, Any], index: int, full: bool, fmt: str | None,
                 out: str | Path | None) -> tuple[str, Path]:
    """The format and the file to write, from the options (``MossInputError`` when they disagree)."""
    if fmt is not None and fmt not in FORMATS:
        raise MossInputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if out is not None:
        out = Path(out)
        by_suffix = SUFFIX_FORMAT.get(out.suffix.lower())
        if fmt is None:
            if by_suffix is None:
                raise MossInputError(f"--out {out}: the suffix {out.suffix or '(none)'} names no format MOSS writes; "
                                     f"add --format ({', '.join(FORMATS)})")
            fmt = by_suffix
        elif by_suffix is not None and by_suffix != fmt:
            raise MossInputError(f"--out {out}: the suffix says {by_suffix}, --format says {fmt}")
        return fmt, out
    fmt = fmt or "wav"
    name = f"point_{index:03d}{'_full' if full else ''}{FORMAT_SUFFIX[fmt]}"
    if name in _own_files(manifest):
        name = f"point_{index:03d}_copy{FORMAT_SUFFIX[fmt]}"
    return fmt, run_dir / name


def _own_files(manifest: dict[str, Any]) -> set[str]:
    """Names of the files the run folder's contract lists."""
    names = {"manifest.json", "reference.wav", "front.png"}
    for entry in manifest["points"]:
        names.update(str(entry[k]) for k in ("wav", "mask") if k in entry)
    return names


def _check_out(run_dir: Path, manifest: dict[str, Any], out: Path, overwrite: bool) -> None:
    """Raise ``MossInputError`` unless ``out`` may be written."""
    if out.is_dir():
        raise MossInputError("is a folder; --out needs a file name", out)
    if out.parent.resolve() == run_dir.resolve() and out.name in _own_files(manifest):
        raise MossInputError("is one of the run folder's own files; choose another --out", out)
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise MossInputError("already exists; choose another --out or pass --overwrite", out)
    existing = next((p for p in [out.parent, *out.parent.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise MossInputError("is not a folder, so no file can be written inside it", existing)


def _write_atomic(out: Path, overwrite: bool, run_dir: Path, manifest: dict[str, Any],
                  write: Callable[[Path], tuple[str, int, int]]) -> tuple[str, int, int]:
    """Call ``write(tmp)`` on a hidden file beside ``out``, then rename it to ``out``; nothing is left on failure."""
    created = _first_missing(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_hidden_file(out)
    except OSError as exc:
        _remove_created(created)
        raise MossInputError(f"cannot write here ({exc.strerror or exc})", out) from None
    try:
        result = write(tmp)
        _check_out(run_dir, manifest, out, overwrite)  # the work may take a while: look again just before the rename
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        _remove_created(created)
        if isinstance(exc, OSError):
            raise MossInputError(f"cannot write the file ({exc.strerror or exc})", out) from None
        if type(exc).__name__ == "LibsndfileError":  # e.g. the disk filled up while encoding
            raise MossError(f"{out}: the file could not be written ({exc})") from None
        raise
    return result


def _new_hidden_file(out: Path) -> Path:
    """Create an empty ``.NAME.XXXXXXXX.moss-tmp`` beside ``out``, with the mode a new file gets (mkstemp's is 0600)."""
    while True:
        tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.moss-tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


def _first_missing(folder: Path) -> Path | None:
    missing = None
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        missing = p
    return missing


def _remove_created(created: Path | None) -> None:
    if created is not None and created.exists() and not any(p.is_file() for p in created.rglob("*")):
        shutil.rmtree(created, ignore_errors=True)


# ------------------------------------------------------------------------------------------------------- --full


def full_song(run_dir: Path, manifest: dict[str, Any], index: int, notices: list[str]
              ) -> tuple[np.ndarray, int, str | None, float]:
    """The whole song with point ``index``'s picture in the run's segment.

    Returns (channels, frames) float32 at the song's rate, that rate, the song's sample format (soundfile's subtype,
    None when ffmpeg decoded it) and the segment's gain against clipping, in dB (0: none).
    """
    import numpy as np
    import soundfile as sf

    from .audio_io import load_audio

    audio = find_input(run_dir, manifest, "audio", "--full")
    image = find_input(run_dir, manifest, "image", "--full")
    song = load_audio(audio, sample_rate=None, start_s=0.0, duration_s=None)
    notices.extend(song.notices)
    try:
        source_subtype: str | None = sf.info(soundfile_name(audio)).subtype
    except (sf.LibsndfileError, RuntimeError):
        source_subtype = None
    samples = song.samples
    delta, (s0, s1) = segment_delta(run_dir, manifest, index, samples, song.sample_rate, audio, image, notices)
    out = samples.copy()
    segment = out[:, s0:s1] + delta
    # the song's own peaks (a lossy decode can pass full scale) are the song's: only what the picture adds beyond them
    # calls for a gain, and only the segment gets it
    gain = segment_gain(segment, peak(samples), round(TAPER_S * song.sample_rate),
                        round(LIMIT_SMOOTHING_S * song.sample_rate), fade_in=s0 > 0, fade_out=s1 < samples.shape[1])
    gain_db = 0.0
    if gain is not None:
        segment *= gain
        gain_db = float(20 * np.log10(np.min(gain)))
        notices.append(f"the segment turned down by {-gain_db:.1f} dB (with {TAPER_S * 1000:.0f} ms fades) so that it "
                       "does not clip; the rest of the song is as it was")
    out[:, s0:s1] = segment
    return out, song.sample_rate, source_subtype, gain_db


def segment_gain(segment: np.ndarray, allowed_peak: float, fade: int, smoothing: int, fade_in: bool = True,
                 fade_out: bool = True) -> np.ndarray | None:
    """(samples,) gain for a (channels, samples) segment of a song that would clip, or None when it would not.

    The segment peaks above both full scale and ``allowed_peak`` (the song's own peak): it gets the gain that brings
    its peak to ``OUTPUT_PEAK_DBFS``, reached over ``fade`` samples (raised cosine) from 1 at the segment's ends that
    lie inside the song (``fade_in``/``fade_out``), so it meets the untouched song without a step. Should a sample in
    a fade still clip, the gain there also follows what each sample needs, smoothed over ``smoothing`` samples (as a
    limiter would), never more than 1 and never letting a sample clip.
    """
    import numpy as np

    top = peak(segment)
    allowed = max(1.0, allowed_peak)
    if top <= allowed:
        return None
    n = segment.shape[-1]
    gain = 10 ** (OUTPUT_PEAK_DBFS / 20) / top
    envelope = np.full(n, gain)
    fade = max(1, min(fade, n // 2))
    ramp = 1.0 - (1.0 - gain) * (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade))
    if fade_in:
        envelope[:fade] = ramp
    if fade_out:
        envelope[n - fade:] = ramp[::-1]
    level = np.max(np.abs(segment), axis=0)
    if np.any(level * envelope > allowed):
        need = np.minimum(1.0, allowed * 10 ** (-0.01 / 20) / np.maximum(level, 1e-12))
        envelope = np.minimum(envelope, _smoothed_minimum(need, 2 * max(1, smoothing // 2) + 1))
    return envelope.astype(np.float32)


def _smoothed_minimum(values: np.ndarray, width: int) -> np.ndarray:
    """A smooth curve never above ``values``: the running minimum over ``width`` samples, then the running mean over
    ``width`` (each mean's window lies inside the minimum's window of every sample it covers)."""
    import numpy as np

    half = width // 2
    padded = np.pad(values, half, mode="edge")
    minimum = np.lib.stride_tricks.sliding_window_view(padded, width).min(axis=1)
    padded = np.pad(minimum, half, mode="edge")
    total = np.concatenate([[0.0], np.cumsum(padded)])
    return (total[width:] - total[:-width]) / width


def keep_from_clipping(samples: np.ndarray, notices: list[str], allowed_peak: float = 1.0) -> float:
    """Turn ``samples`` down in place, if they peak above ``allowed_peak`` (full scale, or the song's own peak where
    that is higher), to peak at ``OUTPUT_PEAK_DBFS``; the gain in dB (0: none).

    One gain for the whole file (never a limiter: the picture's levels stay as they are), said in ``notices``.
    """
    import numpy as np

    gain_db = peak_gain(samples, allowed_peak)
    if gain_db == 0.0:
        return 0.0
    samples *= np.float32(10 ** (gain_db / 20))
    notices.append(f"the whole file turned down by {-gain_db:.1f} dB so that it does not clip "
                   f"(peak {OUTPUT_PEAK_DBFS:g} dBFS)")
    return gain_db


def at_song_level(samples: np.ndarray, run_gain_db: float) -> np.ndarray:
    """A moss-run/1 folder's audio (its ``output_gain_db`` applied) back at the song's own level: a copy, the run's one
    gain undone (0 dB: a moss-run/2 folder's audio already is at the song's level)."""
    import numpy as np

    return (samples * np.float32(10 ** (-run_gain_db / 20))).astype(np.float32)


def work_settings(manifest: dict[str, Any], image: Path, audio: Path, rate: int, window_start_s: float,
                  window_s: float, offset_s: float) -> Any:
    """The run's ``RunSettings`` moved to a window of the song at ``rate``.

    The STFT keeps the run's time-frequency resolution (n_fft and hop scaled by ``rate`` / run rate), the picture
    keeps its band and its place in seconds (shifted by ``offset_s``, where the segment starts in the window).
    """
    import dataclasses

    from .settings import RunSettings

    names = {f.name for f in dataclasses.fields(RunSettings)}
    values = {k: v for k, v in manifest["settings"].items() if k in names}
    run_rate = int(manifest["sample_rate"])
    view = manifest.get("view", {})
    n_fft = int(values.get("n_fft", view.get("n_fft", 1024)))
    hop = int(values.get("hop_length", view.get("hop_length", n_fft // 4)))
    scale = rate / run_rate
    n_fft = min(16384, max(64, 2 * round(n_fft * scale / 2)))
    hop = min(n_fft // 2, max(1, round(hop * scale)))
    place = manifest["placement"]
    values.update(image=image, audio=audio, sample_rate=rate, n_fft=n_fft, hop_length=hop, start_s=window_start_s,
                  duration_s=window_s, time=(place["t0_s"] + offset_s, place["t1_s"] + offset_s),
                  freq=(place["f0_hz"], place["f1_hz"]), device="cpu",
                  mask_shape=tuple(values.get("mask_shape", manifest.get("mask_shape", (64, 128)))))
    return RunSettings(**values)


def segment_delta(run_dir: Path, manifest: dict[str, Any], index: int, song: np.ndarray, song_rate: int,
                  audio_path: Path, image_path: Path, notices: list[str]) -> tuple[np.ndarray, tuple[int, int]]:
    """What point ``index`` adds to the song's segment: (channels, s1 - s0) float32 for the song's samples
    ``s0:s1``, the run's segment.

    The segment plus one window of the song on each side is rendered twice with the same STFT, with the point's mask
    at its picture level (tapered in time at edges inside the song, phase-refined as the point was) and with none;
    their difference is what the picture adds. Only the segment's part is kept, faded in and out over one window at
    ends that lie inside the song (where the tapered picture has all but vanished already), so the song outside the
    segment stays sample-exact.
    """
    import numpy as np
    import soxr
    import torch

    from .audio_io import AudioClip
    from .image_io import load_image
    from .problem import Problem

    entry = manifest["points"][index]
    logits_path = point_file(run_dir, entry, "mask")
    level_db = picture_level_db(entry)
    n = song.shape[1]
    run_rate = int(manifest["sample_rate"])
    f1 = float(manifest["placement"]["f1_hz"])
    rate = song_rate
    if f1 > song_rate / 2:  # the song's rate cannot hold the whole picture: render at the run's, keep what fits
        rate = run_rate
        notices.append(f"the picture reaches {f1:.0f} Hz, above what {song_rate} Hz audio holds "
                       f"({song_rate / 2:.0f} Hz): the part above is lost")
    scale = rate / run_rate
    n_fft_run = int(manifest["settings"].get("n_fft", manifest.get("view", {}).get("n_fft", 1024)))
    margin = math.ceil(min(16384, max(64, 2 * round(n_fft_run * scale / 2))) * song_rate / rate)
    s0 = round(float(manifest["input"]["start_s"]) * song_rate)
    s1 = min(n, s0 + round(float(manifest["input"]["duration_s"]) * song_rate))
    if s0 >= n or s1 - s0 < 1:
        raise MossInputError(f"the run's segment ({manifest['input']['start_s']} s) lies past the end of the song",
                             audio_path)
    a, b = max(0, s0 - margin), min(n, s1 + margin)
    window = song[:, a:b]
    if rate != song_rate:
        window = np.ascontiguousarray(soxr.resample(window.T, song_rate, rate, quality="HQ").T)
    settings = work_settings(manifest, image_path, audio_path, rate,
                             a / song_rate, window.shape[1] / rate, (s0 - a) / song_rate)
    clip = AudioClip(np.ascontiguousarray(window, dtype=np.float32), rate, song_rate, song.shape[0], a / song_rate)
    problem = Problem(clip, load_image(image_path), settings)
    logits = load_logits(logits_path, settings.mask_shape)
    song_s = n / song_rate
    taper = _time_taper(problem, rate, fade_in=a / song_rate + problem.placement.t0_s > 0.5 / song_rate,
                        fade_out=a / song_rate + problem.placement.t1_s < song_s - 0.5 / song_rate)
    with torch.no_grad():
        mask = problem.point_mask(logits) * torch.from_numpy(taper)[None, :]
        iterations = int(entry.get("phase_iterations", 0) or 0)
        rotation = problem.phase_rotation(mask, iterations, level_db) if iterations > 0 else None
        delta = problem.render(mask, rotation, level_db) - problem.render(torch.zeros_like(mask), None, level_db)
    if rate != song_rate:
        delta = soxr.resample(np.ascontiguousarray(delta.T), rate, song_rate, quality="HQ").T
        delta = np.pad(delta, ((0, 0), (0, max(0, (b - a) - delta.shape[1]))))[:, : b - a]
    delta = np.asarray(delta[:, s0 - a:s1 - a], dtype=np.float32)
    fade = max(1, min(margin, (s1 - s0) // 2))
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(np.float32)
    if s0 > 0:
        delta[:, :fade] *= ramp
    if s1 < n:
        delta[:, delta.shape[1] - fade:] *= ramp[::-1]
    return delta, (s0, s1)


def _time_taper(problem: Any, rate: int, fade_in: bool, fade_out: bool) -> np.ndarray:
    """(frames,) raised-cosine fades over ``TAPER_S`` at the placement's start and end (where asked), else 1."""
    import numpy as np

    place = problem.placement
    c0, c1 = place.frames
    times = np.arange(c0, c1) * problem.settings.hop_length / rate
    length = min(TAPER_S, (place.t1_s - place.t0_s) / 4)
    taper = np.ones(c1 - c0)
    if fade_in:
        taper *= 0.5 - 0.5 * np.cos(np.pi * np.clip((times - place.t0_s) / length, 0, 1))
    if fade_out:
        taper *= 0.5 - 0.5 * np.cos(np.pi * np.clip((place.t1_s - times) / length, 0, 1))
    return taper.astype(np.float32)


# ----------------------------------------------------------------------------------------------------- encoding


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
        return {None: "PCM_16", "PCM_U8": "PCM_S8", "PCM_32": "PCM_24", "FLOAT": "PCM_24",
                "DOUBLE": "PCM_24"}.get(source, source)
    raise ValueError(f"{fmt} has no PCM sample format")


def encode(path: Path, samples: np.ndarray, rate: int, fmt: str, source_subtype: str | None = None,
           full: bool = False, notices: list[str] | None = None) -> tuple[str, int, int]:
    """Write (channels, frames) float32 ``samples`` at ``rate`` to ``path`` as ``fmt``.

    Returns what was written: the encoding in words, its rate and its length in frames (Opus and some MP3 rates
    are resampled). ``full`` picks ``full_pcm_subtype(source_subtype)`` for WAV and FLAC, else 32-bit float WAV and
    24-bit FLAC.

    ``path``'s suffix is not looked at (the atomic write uses a temporary name).
    """
    import numpy as np
    import soundfile as sf

    notices = notices if notices is not None else []
    data = np.ascontiguousarray(samples.T, dtype=np.float32)
    if fmt in ("wav", "flac"):
        subtype = full_pcm_subtype(source_subtype, fmt) if full else ("FLOAT" if fmt == "wav" else "PCM_24")
        sf.write(soundfile_name(path), data, rate, subtype=subtype, format=fmt.upper())
        return f"{fmt.upper()} {_subtype_words(subtype)}", rate, len(data)
    if fmt == "ogg":
        sf.write(soundfile_name(path), data, rate, format="OGG", subtype="VORBIS",
                 compression_level=1.0 - VORBIS_QUALITY)
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
            sf.write(soundfile_name(path), data, mp3_rate, format="MP3", subtype="MPEG_LAYER_III",
                     compression_level=level, bitrate_mode="CONSTANT")
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
            sf.write(soundfile_name(path), data, _OPUS_RATE, format="OGG", subtype="OPUS", compression_level=level)
            return f"Opus {OPUS_KBPS} kb/s (libsndfile/libopus)", _OPUS_RATE, len(data)
        _ffmpeg_encode(path, data, _OPUS_RATE, ["-c:a", "libopus", "-b:a", f"{OPUS_KBPS}k", "-f", "ogg"])
        return f"Opus {OPUS_KBPS} kb/s (ffmpeg/libopus)", _OPUS_RATE, len(data)
    raise MossInputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")


def _subtype_words(subtype: str) -> str:
    return {"FLOAT": "32-bit float", "DOUBLE": "64-bit float", "PCM_U8": "8-bit", "PCM_S8": "8-bit",
            "PCM_16": "16-bit", "PCM_24": "24-bit", "PCM_32": "32-bit"}.get(subtype, subtype)


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
    command = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "f32le", "-ar", str(rate),
               "-ac", str(data.shape[1]), "-i", "-", *codec, ffmpeg_path(path)]
    flags = subprocess.CREATE_NO_WINDOW if sys.platform == "win32" else 0
    result = subprocess.run(command, input=data.astype("<f4").tobytes(), capture_output=True, creationflags=flags)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise MossError(f"ffmpeg could not encode {codec[1]}: {message[-1] if message else result.returncode}")
