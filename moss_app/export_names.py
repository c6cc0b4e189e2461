"""What an export dialog proposes: a file name that says which song it came from, and the point format last used.

The decisions (issue 22, app 6):

- Names start with the song's own name (its file name without the suffix), so that exports of several songs kept in
  one folder tell themselves apart: ``<song> - point 3.flac``, ``<song> - point 3 (whole song).flac``,
  ``<song> - morph.mp4`` and the run folder ``<song> - moss-run-20250101-120000``. The point's number is DESIGN's
  (0 at the music end), as the front, ``point_003.wav`` and ``moss render --point 3`` count.
- Characters Windows, macOS or Linux refuse in a file name (``<>:"/\\|?*``, control characters) become ``_``; the
  song's part is cut to ``STEM_CHARS`` characters; a song without a usable name gives ``moss``.
- Export Point proposes the format last chosen in its dialog (remembered across sessions in the settings store),
  WAV the first time.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from moss_engine.io.encode import FORMAT_SUFFIX, SUFFIX_FORMAT

#: The formats Export Point offers, in the dialog's order (the engine's ``encode`` writes them): name, format.
POINT_FORMATS = (("WAV", "wav"), ("FLAC", "flac"), ("MP3", "mp3"), ("Opus", "opus"), ("Ogg Vorbis", "ogg"))
POINT_FILTERS = ";;".join(f"{name} (*{FORMAT_SUFFIX[fmt]})" for name, fmt in POINT_FORMATS)
#: The format proposed before any was chosen.
DEFAULT_FORMAT = "wav"
#: The most characters of the song's name a proposed name keeps.
STEM_CHARS = 80
_REFUSED = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def song_stem(song: Path | str | None) -> str:
    """The song's file name without its suffix, safe in a file name on every system (``moss`` when none is left)."""
    stem = _REFUSED.sub("_", Path(song).stem if song else "")[:STEM_CHARS].strip(" .")
    return stem or "moss"


def point_name(song: Path | str | None, index: int, fmt: str, full: bool = False) -> str:
    """``<song> - point 3.wav``, or for the whole song ``<song> - point 3 (whole song).wav``."""
    return f"{song_stem(song)} - point {index}{' (whole song)' if full else ''}{FORMAT_SUFFIX[fmt]}"


def morph_name(song: Path | str | None) -> str:
    """``<song> - morph.mp4``."""
    return f"{song_stem(song)} - morph.mp4"


def run_folder_name(song: Path | str | None, now: _dt.datetime | None = None) -> str:
    """``<song> - moss-run-YYYYmmdd-HHMMSS`` (the time the dialog opened)."""
    return f"{song_stem(song)} - moss-run-{(now or _dt.datetime.now()):%Y%m%d-%H%M%S}"


def point_format(stored: str) -> str:
    """The format Export Point proposes: ``stored`` (the last chosen) when it is one it offers, else WAV."""
    return stored if stored in dict(POINT_FORMATS).values() else DEFAULT_FORMAT


def format_filter(fmt: str) -> str:
    """The dialog's filter for ``fmt`` (``FLAC (*.flac)``)."""
    return next(f"{name} (*{FORMAT_SUFFIX[f]})" for name, f in POINT_FORMATS if f == point_format(fmt))


def point_file_name(name: str, chosen_filter: str) -> tuple[Path, str]:
    """The file and format of a point export: the suffix typed, if it names a format, else the filter's."""
    out = Path(name)
    by_suffix = SUFFIX_FORMAT.get(out.suffix.lower())
    if by_suffix is not None and by_suffix in dict(POINT_FORMATS).values():
        return out, by_suffix
    fmt = next((f for n, f in POINT_FORMATS if chosen_filter.startswith(f"{n} (")), DEFAULT_FORMAT)
    return out.with_name(out.name + FORMAT_SUFFIX[fmt]) if out.suffix.lower() != FORMAT_SUFFIX[fmt] else out, fmt
