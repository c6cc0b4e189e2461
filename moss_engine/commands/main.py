"""The ``moss`` command line: ``moss front`` computes a front into a run folder; ``moss`` alone runs the sample."""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import math
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from moss_engine.commands import stops
from moss_engine.errors import MossError, MossInputError, MossOutOfMemory, is_out_of_memory
from moss_engine.resources import sample_paths

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_FAILED = 0, 2, 130, 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one line and exit status 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_BAD_INPUT,
            f"moss: error: {message} (see moss {self.prog.split()[-1]} --help)\n"
            if " " in self.prog
            else f"moss: error: {message} (see moss --help)\n",
        )


def _span(text: str) -> tuple[float, float]:
    try:
        a, b = text.split(":")
        return float(a), float(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A:B with two numbers, got {text!r}") from None


def _duration(text: str) -> float:
    if text.lower() in ("all", "full"):
        return float("inf")
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'all', got {text!r}") from None


#: The titles of ``moss front``'s help groups, by ``Option.group`` (each setting's flag, help, type and choices, and
#: its group, from ``options.OPTIONS``).
_GROUPS = {
    "preset": "quality (each flag overrides its preset value)",
    "placement": "segment, placement and mapping",
    "running": "how it runs",
}
_TYPES = {"int": int, "float": float, "span": _span, "seconds_or_all": _duration, "text": str}


def _add_run_options(p: argparse.ArgumentParser) -> None:
    from moss_engine.options import OPTIONS

    g = p
    for group, title in _GROUPS.items():
        g = p.add_argument_group(title)
        for name, option in OPTIONS.items():
            if option.group != group:
                continue
            if option.kind == "switch":
                g.add_argument(option.flag, dest=name, action="store_true", default=None, help=option.help)
            elif option.kind == "choice":
                g.add_argument(option.flag, dest=name, choices=option.choices, help=option.help)
            else:
                metavar = option.metavar or option.unit.upper() or ("N" if option.kind == "int" else name.upper())
                g.add_argument(option.flag, dest=name, type=_TYPES[option.kind], metavar=metavar, help=option.help)
    g.add_argument("--overwrite", action="store_true", help="replace --out if it is an earlier MOSS run folder")
    g.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="moss",
        description="Hide a picture in a piece of music: compute the whole trade-off "
        "from pure music to pure picture, as a folder of audio files.",
    )
    from moss_engine import __version__

    parser.add_argument("--version", action="version", version=f"moss {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    front = sub.add_parser("front", help="compute a Pareto front into a run folder")
    front.add_argument("--image", type=Path, required=True, help="the picture (any format Pillow reads)")
    front.add_argument("--audio", type=Path, required=True, help="the music (WAV, FLAC, OGG, MP3, AIFF, M4A, ...)")
    front.add_argument("--out", type=Path, required=True, help="the run folder to create")
    _add_run_options(front)
    blend = sub.add_parser("blend", help="one result at an asked blend ratio (faster than a whole front)")
    blend.add_argument("--image", type=Path, required=True, help="the picture (any format Pillow reads)")
    blend.add_argument("--audio", type=Path, required=True, help="the music (WAV, FLAC, OGG, MP3, AIFF, M4A, ...)")
    blend.add_argument(
        "--alpha",
        type=float,
        required=True,
        help="0 = pure music ... 1 = as much picture as possible; 0.7 means 'blend 70 %%'",
    )
    blend.add_argument(
        "--out", type=Path, required=True, help="the run folder to create (music end, result, image end)"
    )
    _add_run_options(blend)
    morph = sub.add_parser("morph", help="morph.json, morph.wav and morph.mp4 for a run folder: music to picture")
    morph.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder made by moss front")
    morph.add_argument("--overwrite", action="store_true", help="replace earlier morph files of this run")
    morph.add_argument("--no-video", action="store_true", help="only morph.json and morph.wav")
    from moss_engine.commands.render import add_render_parser  # here: ``main`` holds the signals from its start

    add_render_parser(sub)
    demo = sub.add_parser("demo", help="run the bundled sample into ./moss-output/<timestamp> (the default)")
    demo.add_argument("--image", type=Path, help="another picture instead of the sample's")
    demo.add_argument("--audio", type=Path, help="other music instead of the sample's")
    demo.add_argument("--out", type=Path, help="the run folder (default: a new one under ./moss-output/)")
    _add_run_options(demo)
    return parser


class ConsoleReporter:
    """Progress bar on stderr (redrawn in place on a terminal, a line per 10 % otherwise)."""

    def __init__(self, stream: Any = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self._started = time.perf_counter()

    def progress(self, fraction: float, message: str, status: Any = None) -> None:
        if self.quiet:
            return
        width = 28
        filled = int(round(fraction * width))
        elapsed = time.perf_counter() - self._started
        line = f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f} %  {message}  {elapsed:5.0f} s"
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
            self.stream.flush()
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(line + "\n")
            self.stream.flush()

    def notice(self, kind: str, message: str) -> None:
        if not self.quiet:
            self.stream.write(("\n" if self.tty else "") + f"moss: note: {message}\n")
            self.stream.flush()

    def partial(self, snapshot: Any) -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def done(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()


def _new_demo_folder(base: Path) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = base / stamp
    n = 2
    while out.exists():
        out = base / f"{stamp}-{n}"
        n += 1
    return out


def survives(codec_ssim: dict[str, float]) -> str:
    """The codecs after which a point's picture stays visible (SSIM >= ``VISIBLE_SSIM``), by their short names:
    ``MP3 AAC Opus``; ``none`` when none keeps it, ``n/a`` when not measured."""
    from moss_engine.dsp.viewer_ssim import VISIBLE_SSIM
    from moss_engine.io.codec import CODECS

    if not codec_ssim:
        return "n/a"
    kept = [CODECS[key].label.split()[0] for key in CODECS if codec_ssim.get(key, -1.0) >= VISIBLE_SSIM]
    return " ".join(kept) or "none"


def _summary(result: Any, out: Path) -> str:
    from moss_engine.dsp.viewer_ssim import VISIBLE_SSIM
    from moss_engine.io.codec import CODECS
    from moss_engine.options import OBJECTIVE_NAMES
    from moss_engine.run.listening import available

    published = next((key for p in result.points for key in getattr(p, "codec_mos", {})), None)
    after = f"after {CODECS[published].label.split()[0]} SSIM/MOS" if published else ""
    lines = [
        f"run folder: {out}",
        f"device {result.device}, {result.optimisation.steps_done} steps"
        f"{' (front settled early)' if result.optimisation.stopped_early else ''}, "
        f"{sum(result.timings.values()):.1f} s; hypervolume {result.hypervolume:.4f} (anchor-normalised)",
        f"{'point':>5}  {'alpha':>5}  {'visual loss':>11}  {'survives':<12}  {'sounds like (MOS)':>17}  "
        f"{'loudness (LU)':>13}  {'limiter (dB)':>12}  {'audio loss':>10}  {after + '  ' if after else ''}file",
    ]
    for i, p in enumerate(result.points):
        mos = "n/a" if p.mos is None else f"{p.mos:.2f}"
        limiter = f"{p.limiter_db:.1f}" if p.limiter_db < 0 else "-"
        shown = ""
        if published:
            ssim, heard = p.codec_ssim.get(published), p.codec_mos.get(published)
            figures = "n/a" if ssim is None or heard is None else f"{ssim:.2f} / {heard:.2f}"
            shown = f"{figures:>{len(after)}}  "
        lines.append(
            f"{i:>5}  {p.alpha:5.2f}  {p.visual:11.4f}  {survives(p.codec_ssim):<12}  {mos:>17}  "
            f"{p.loudness_lu:+13.1f}  {limiter:>12}  {p.audio:10.4f}  {shown}point_{i:03d}.wav"
        )
    measured = [key for key in CODECS if any(key in p.codec_ssim for p in result.points)]
    lines.append(
        f"survives: the codecs after which a viewer still shows the picture clearly (SSIM >= {VISIBLE_SSIM:g} once "
        f"encoded as {', '.join(CODECS[key].label for key in measured)}; figures in manifest.json's codec_ssim)"
        if measured
        else "survives: not measured (a cancelled run, or ffmpeg failed: the notes above say which)"
    )
    lines.append(
        "sounds like: how like the song a listener hears the file, 5 = no difference, 1 = very different "
        "(Zimtohrli, an independent model of hearing); loudness: of the file against the song (BS.1770)"
        if available()
        else "sounds like: not measured (the perceptual model zimtohrli is not installed for this platform)"
    )
    if published:
        lines.append(
            f"{after}: what a viewer shows (SSIM) and a listener hears (MOS) of the file once encoded as "
            f"{CODECS[published].label} and decoded; the front was chosen on these (--publish "
            f"{CODECS[published].name}); the WAVs are what to encode"
        )
    if result.limiter is not None:
        ceiling = result.limiter.ceiling_dbtp
        lines.append(
            f"limiter: the deepest gain change where the picture's peaks passed {ceiling:g} dBTP (a "
            "look-ahead limiter inside the point; no point is turned down as a whole)"
        )
    lines.append(f"audio loss: what the optimiser minimised, the {OBJECTIVE_NAMES[result.settings.audio_objective]}")
    if len(result.points) < result.settings.points:
        lines.append(
            f"{len(result.points)} of the {result.settings.points} points asked: the others were beaten on "
            "both counts by a point kept, or looked and sounded the same as one"
        )
    p = result.placement
    lines.append(
        f"view it with n_fft {result.settings.n_fft}, hop {result.settings.hop_length}, "
        f"{result.settings.db_range:g} dB range, {result.settings.freq_scale} axis; the picture spans "
        f"{p.t0_s:.2f}-{p.t1_s:.2f} s and {p.f0_hz:.0f}-{p.f1_hz:.0f} Hz"
    )
    lines.append(f"next: moss render {out} --point K --format mp3  |  moss morph {out}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``front`` or ``demo`` with parsed arguments; returns the exit status (errors are raised)."""

    from moss_engine.device import resolve_device
    from moss_engine.io.budget import check_free_space, check_memory, run_folder_bytes
    from moss_engine.options import OPTIONS
    from moss_engine.run.folder import check_output_folder, write_run_folder
    from moss_engine.run.pipeline import load_inputs
    from moss_engine.run.plot import plot_front
    from moss_engine.settings import make_settings

    if args.command == "render":
        from moss_engine.commands.render import run_render

        return run_render(args)
    if args.command == "morph":
        return _run_morph(args)
    if args.command == "demo":
        image, audio = sample_paths()
        image = args.image or image
        audio = args.audio or audio
        out = args.out or _new_demo_folder(Path.cwd() / "moss-output")
    else:
        image, audio, out = args.image, args.audio, args.out
    device = resolve_device(args.device)
    # every setting as the command line gave it (None: not given, the preset's or the default)
    values = {name: getattr(args, name) for name in OPTIONS}
    settings = make_settings(image, audio, device_type=device.type, **values)
    alpha = getattr(args, "alpha", None)
    if alpha is not None and not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
        raise MossInputError(
            f"--alpha {alpha}: expected a number from 0 (pure music) to 1 (as much picture as possible)"
        )
    check_output_folder(out, args.overwrite)
    check_memory(settings, device)
    inputs = load_inputs(settings)
    clip = inputs[0]
    check_free_space(
        out, run_folder_bytes(3 if alpha is not None else settings.points, clip.samples.shape[0], clip.samples.shape[1])
    )
    for notice in inputs[0].notices:
        print(f"moss: note: {notice}", file=sys.stderr)
    result = _compute(settings, alpha, device, inputs, args.quiet)
    written = write_run_folder(result, out, overwrite=args.overwrite, plot=plot_front)
    stops.finished()
    print(_summary(result, written))
    return EXIT_OK


def _run_morph(args: argparse.Namespace) -> int:
    from moss_engine.run.morph import write_morph

    states = write_morph(args.run_dir, overwrite=args.overwrite, video=not args.no_video)
    stops.finished()
    print(
        f"{args.run_dir}: morph.json ({len(states)} states, alpha 0 to 1), morph.wav"
        f"{'' if args.no_video else ', morph.mp4'}"
    )
    return EXIT_OK


def _compute(settings: Any, alpha: float | None, device: Any, inputs: Any, quiet: bool) -> Any:
    """The front (or with ``alpha`` one blend) with a console progress bar; running out of memory is one line."""
    from moss_engine.run.listening import default_workers
    from moss_engine.run.pipeline import compute_front

    reporter = ConsoleReporter(quiet=quiet)
    try:
        if alpha is not None:
            from moss_engine.run.blend import compute_blend

            return compute_blend(settings, alpha, reporter, inputs=inputs, listen_workers=default_workers())
        return compute_front(settings, reporter, inputs=inputs, listen_workers=default_workers())
    except (RuntimeError, MemoryError) as exc:  # torch's OutOfMemoryError is a RuntimeError too
        if not is_out_of_memory(exc):
            raise
        raise MossOutOfMemory(
            f"out of memory on {device}: try a smaller --memory-limit, fewer --points, a shorter "
            "--duration" + (" or --device cpu" if device.type != "cpu" else "")
        ) from None
    finally:
        reporter.done()


def _import_engine() -> None:
    """Import torch and the engine (``main`` holds the signals meanwhile)."""
    import torch  # noqa: F401

    from moss_engine.run import folder as run_folder  # noqa: F401


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread as Ctrl-C is, so that every writer removes what it had started
    (the same ``finally`` and ``except BaseException`` paths); the exit status is 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def _catch_termination() -> None:
    """SIGTERM and SIGHUP (where the system has them) become ``Terminated`` in the main thread."""
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            try:
                signal.signal(number, _terminate)
            except ValueError:  # not the main thread (an embedding program): leave its handlers alone
                return


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``moss`` script. Exit status: 0 done, 2 bad input, 130 interrupted (Ctrl-C), 128 + the
    signal for SIGTERM and SIGHUP, 1 other failure.

    From its first line to the end of the imports, Ctrl-C, SIGTERM and SIGHUP are held back (``stops.hold``) and
    answered once the engine is in; only a signal in the interpreter's own start (tens of milliseconds, before this
    module runs) ends the process by the signal's default action, with nothing written either.
    """
    held: list[int] = []
    previous = stops.hold(held)
    ready = False
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        if not argv or argv[0].startswith("--") and argv[0] not in ("--help", "--version"):
            argv = ["demo", *argv]
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if args.command is None:
            args, extra = parser.parse_known_args(["demo", *argv])
        if extra:
            print(
                f"moss: error: unrecognized arguments: {' '.join(extra)} (see moss {args.command} --help)",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        _import_engine()
        ready = True
    finally:
        if not ready:
            stops.restore(previous)
    try:
        # SIGTERM and SIGHUP go straight from holding to ``Terminated`` (put back in between, their default action
        # could end the process without a word), then Ctrl-C gets its own handler back
        _catch_termination()
        stops.restore({n: h for n, h in previous.items() if n == getattr(signal, "SIGINT", None)})
        if held:
            return _stopped(held[0])
        return run(args)
    except Terminated as stop:
        print(f"moss: terminated ({signal.Signals(stop.signum).name}); nothing was written", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("moss: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MossError as err:
        print(f"moss: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT if isinstance(err, MossInputError) else EXIT_FAILED


def _stopped(signum: int) -> int:
    """The line and exit status of a run a signal stopped before it began."""
    if signum == getattr(signal, "SIGINT", None):
        print("moss: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"moss: terminated ({signal.Signals(signum).name}); nothing was written", file=sys.stderr)
    return 128 + signum


def entry() -> None:
    """The ``moss`` script and ``python -m moss_engine.cli``: ``main()``'s status as the process's exit status.

    After Ctrl-C the process ends with ``os._exit(130)`` once its output is flushed (every temporary file is already
    removed by then). A plain ``sys.exit(130)`` was not always enough: in one full test run the process printed its
    "interrupted" line and still ended killed by SIGINT (status -2), which is what CPython does at exit when it
    believes an interrupt went unhandled (likely one that landed in code torch runs through the C API).
    """
    import os

    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed as its own bytes
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    stops.own_signals()
    status = main()
    if status >= 128:
        stops.finished()
        sys.stdout.flush()
        sys.stderr.flush()
        _unlink_semaphores()
        os._exit(status)
    sys.exit(status)


def _unlink_semaphores() -> None:
    """Run multiprocessing's exit-time finalisers (``os._exit`` skips them): they unlink the semaphores a stopped pool
    of listening workers shared. Left linked, multiprocessing's resource tracker, which outlives the process by a
    moment, removes them itself and prints a warning about "leaked semaphore objects" under the one line."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        with contextlib.suppress(Exception):  # ending anyway
            util._run_finalizers(0)  # noqa: SLF001 - no public way; what ``sys.exit`` would have run


if __name__ == "__main__":  # pragma: no cover
    entry()
