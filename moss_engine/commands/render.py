"""``moss render``: one front point of a run folder as a file to keep, alone or inside the whole song
(``moss_engine.run.export`` does the work)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from moss_engine.commands import stops
from moss_engine.errors import MossError, MossInputError
from moss_engine.io.encode import FORMATS
from moss_engine.run.export import render_point


def add_render_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``render`` to ``moss``'s sub-commands (``subparsers`` from ``add_subparsers``, whose parser_class is used).

    ``run_render(args)`` runs it.
    """
    p = subparsers.add_parser(
        "render",
        help="write one point of a run folder as a file to keep (or the whole song with its picture)",
        description="Write one front point of a run folder as a WAV, FLAC, MP3, Ogg Vorbis or Opus file. With "
        "--full, the whole song at its own rate, channels and bit depth, the point's picture in the "
        "run's segment and the song untouched elsewhere.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by moss front/demo/blend")
    p.add_argument(
        "--point",
        type=int,
        required=True,
        metavar="K",
        help="the point, as listed by the run (0 = the music end); negative counts from the image end "
        "(-1 = the image end)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="the whole song, with the point's picture in the segment (needs the run's song and picture, unchanged)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="file format (default: from --out's suffix, else wav); mp3 is 192 kb/s, opus 128 kb/s",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="the file to write (default: RUN_DIR/point_KKK[_full].EXT)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def run_render(args: argparse.Namespace) -> int:
    """Run ``moss render`` with parsed arguments; returns the exit status (0). Bad input raises MossInputError."""
    result = render_point(
        args.run_dir,
        args.point,
        full=bool(getattr(args, "full", False)),
        fmt=getattr(args, "format", None),
        out=getattr(args, "out", None),
        overwrite=bool(getattr(args, "overwrite", False)),
    )
    stops.finished()
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
    """``moss render`` on its own
    (``python -c "from moss_engine.commands.render import _main; raise SystemExit(_main())"``).

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
