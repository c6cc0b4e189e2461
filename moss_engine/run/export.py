"""One front point of a run folder as a file to keep, alone or inside the whole song (``moss render``, the app).

Without ``--full`` the point's audio is written at the run's rate and channels, encoded to the asked format, at the
song's level: a moss-run/3 or /2 point file already is; a moss-run/1 folder's files share one gain against clipping
(``output_gain_db``), set by the loudest point, which a bright picture's image end could make 20 dB or more, and a
file to keep gets that gain undone. A point is never turned down as a whole (DESIGN.md "Exports"): where a format
cannot hold its peaks, they go through the run's limiter (``export_limiter``): an integer format (FLAC) when a sample
passes full scale, a lossy one (MP3, Ogg Vorbis, Opus) above -1 dBTP before the encoder, whose decode would clip
otherwise.

With ``--full`` the whole song is written at its own rate, channel count and (for WAV and FLAC) bit depth, with the
point's picture in the run's segment (``moss_engine.run.splice``); formats as ``moss_engine.io.encode`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moss_engine.dsp.levels import at_song_level
from moss_engine.dsp.limiter import Limiter, format_ceiling_dbtp
from moss_engine.errors import MossInputError
from moss_engine.io import atomic
from moss_engine.io.atomic import write_file
from moss_engine.io.encode import FORMAT_SUFFIX, FORMATS, INTEGER_FORMATS, LOSSY_FORMATS, SUFFIX_FORMAT, encode
from moss_engine.run.folder import own_files, point_file, read_manifest, read_point_audio, run_gain_db
from moss_engine.run.splice import full_song

if TYPE_CHECKING:
    pass


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
        limiter_db: the deepest gain change the limiter made for this format, in dB (0: none was needed).
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
    limiter_db: float = 0.0
    notices: tuple[str, ...] = ()

    def summary(self) -> str:
        what = "the whole song with point" if self.full else "point"
        return (
            f"wrote {self.path}: {what} {self.point} (alpha {self.alpha:.2f}), {self.encoding}, "
            f"{self.sample_rate} Hz, {self.channels} ch, {self.frames / self.sample_rate:.2f} s"
        )


def render_point(
    run_dir: str | Path,
    point: int,
    full: bool = False,
    fmt: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> RenderResult:
    """Write point ``point`` of the run folder ``run_dir`` as a file (the app and ``moss render`` call this).

    Args:
        run_dir: the run folder.
        point: index into the manifest's points; negative counts from the end (-1 = the image end).
        full: the whole song at its own rate, channels and bit depth with the point's picture in the segment, at
            the song's own level; outside the segment it is the song, sample for sample, and the picture's peaks
            inside it go through the limiter (``splice.full_song``). Without ``full``: the point's audio at the
            run's rate and channels, likewise at the song's level (a moss-run/1 folder's ``output_gain_db``, one gain
            for all its points, undone), its peaks limited only where the format cannot hold them
            (``export_limiter``; ``RenderResult.limiter_db``, and a notice).
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
    from moss_engine.io.budget import check_free_space

    segment = round(float(manifest["input"]["duration_s"]) * int(manifest["sample_rate"]))
    check_free_space(out, _file_bytes(int(manifest["channels"]), segment), "file")  # the whole song's: checked again
    notices: list[str] = []
    if full:
        samples, rate, source_subtype, limiter_db = full_song(run_dir, manifest, index, fmt, notices)
    else:
        samples, rate = read_point_audio(point_file(run_dir, entry, "wav"), manifest)
        samples = at_song_level(samples, run_gain_db(manifest))
        source_subtype = None
        limiter = export_limiter(manifest, samples, fmt)
        samples, limiter_db = (samples, 0.0) if limiter is None else limiter.apply(samples, rate)
        if limiter_db < 0:
            notices.append(
                f"its peaks limited by up to {-limiter_db:.1f} dB to {limiter.ceiling_dbtp:g} dBTP, which "
                f"{fmt.upper()} needs (the rest of the point as it is)"
            )
    need = _file_bytes(int(samples.shape[0]), int(samples.shape[-1]))
    if full:
        check_free_space(out, need, "file")
    encoding, written_rate, frames = write_file(
        out,
        lambda path: encode(path, samples, rate, fmt, source_subtype, full, notices),
        recheck=lambda: _check_out(run_dir, manifest, out, overwrite),
        need=need,
    )
    return RenderResult(
        path=out,
        format=fmt,
        point=index,
        alpha=float(entry.get("alpha", float("nan"))),
        full=full,
        sample_rate=written_rate,
        channels=int(samples.shape[0]),
        frames=frames,
        encoding=encoding,
        limiter_db=limiter_db,
        notices=tuple(notices),
    )


def export_limiter(manifest: dict[str, Any], samples: Any, fmt: str) -> Limiter | None:
    """The limiter a point exported as ``fmt`` goes through (None: the format holds it as it is): an integer format
    only when a sample passes full scale, a lossy one always (its decode adds peaks of its own, and the ceiling is
    what matters); the run's own limiter (``manifest["limiter"]``; a folder written before moss-run/3, which had none,
    gets its settings with no ceiling of its own) with its ceiling at ``format_ceiling_dbtp``."""
    import dataclasses
    import math

    import numpy as np

    if fmt not in INTEGER_FORMATS + LOSSY_FORMATS:
        return None
    if fmt in INTEGER_FORMATS and float(np.max(np.abs(samples), initial=0.0)) <= 1.0:
        return None
    run = Limiter.from_record(manifest.get("limiter")) or Limiter(ceiling_dbtp=math.inf)
    return dataclasses.replace(run, ceiling_dbtp=format_ceiling_dbtp(fmt, run.ceiling_dbtp))


def resolve_point(manifest: dict[str, Any], point: int) -> int:
    """``point`` as an index into the manifest's points (negative counts from the end), or ``MossInputError``."""
    n = len(manifest["points"])
    if not -n <= point < n:
        raise MossInputError(f"--point {point}: the run has {n} points (0..{n - 1}, or -{n}..-1 from the image end)")
    return point % n


def _output_path(
    run_dir: Path, manifest: dict[str, Any], index: int, full: bool, fmt: str | None, out: str | Path | None
) -> tuple[str, Path]:
    """The format and the file to write, from the options (``MossInputError`` when they disagree)."""
    if fmt is not None and fmt not in FORMATS:
        raise MossInputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if out is not None:
        out = Path(out)
        by_suffix = SUFFIX_FORMAT.get(out.suffix.lower())
        if fmt is None:
            if by_suffix is None:
                raise MossInputError(
                    f"--out {out}: the suffix {out.suffix or '(none)'} names no format MOSS writes; "
                    f"add --format ({', '.join(FORMATS)})"
                )
            fmt = by_suffix
        elif by_suffix is not None and by_suffix != fmt:
            raise MossInputError(f"--out {out}: the suffix says {by_suffix}, --format says {fmt}")
        return fmt, out
    fmt = fmt or "wav"
    name = f"point_{index:03d}{'_full' if full else ''}{FORMAT_SUFFIX[fmt]}"
    if name in own_files(manifest):
        name = f"point_{index:03d}_copy{FORMAT_SUFFIX[fmt]}"
    return fmt, run_dir / name


def _file_bytes(channels: int, frames: int) -> int:
    """What a rendered file takes at most: 32-bit float WAV (every other format is smaller), with room for headers."""
    return channels * frames * 4 + 64 * 1024


def _check_out(run_dir: Path, manifest: dict[str, Any], out: Path, overwrite: bool) -> None:
    """Raise ``MossInputError`` unless ``out`` may be written: new (its name within the file system's limit), or with
    ``overwrite`` a regular file (never a device, a FIFO, a socket or a symbolic link)."""
    atomic.check_name_fits(out)  # first: a longer name cannot even be looked at
    if out.is_dir() and not out.is_symlink():
        raise MossInputError("is a folder; --out needs a file name", out)
    kind = atomic.kind_of(out)
    if kind not in (None, "file"):
        raise MossInputError(
            f"is a {kind}, not a regular file: --overwrite replaces only a regular file (choose another --out)", out
        )
    if out.parent.resolve() == run_dir.resolve() and out.name in own_files(manifest):
        raise MossInputError("is one of the run folder's own files; choose another --out", out)
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise MossInputError("already exists; choose another --out or pass --overwrite", out)
    existing = next((p for p in [out.parent, *out.parent.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise MossInputError("is not a folder, so no file can be written inside it", existing)
