"""How the command line meets Ctrl-C, SIGTERM and SIGHUP around a run: held back while the engine is imported, and
ignored once the result is in place (``finished``)."""

from __future__ import annotations

import signal
from typing import Any

#: The signals a run ends cleanly on (exit 128 + the signal): Ctrl-C, and where the system has them, SIGTERM and SIGHUP.
STOP_SIGNALS = tuple(
    number for number in (getattr(signal, name, None) for name in ("SIGINT", "SIGTERM", "SIGHUP")) if number is not None
)

_owned = [False]


def own_signals() -> None:
    """Say that the command line answers the signals in this process (``moss``'s ``main``), so that ``finished`` may
    change what they do; a program that calls a command's function itself (a test) keeps its own handlers."""
    _owned[0] = True


def hold(held: list[int]) -> dict[int, Any]:
    """Make the stop signals only note themselves in ``held`` (while the engine is imported: an import cut in half
    cannot be retried in the process, and a signal's default action would end it with no word); returns the handlers
    to put back (none when not on the main thread: an embedding program's are left alone)."""
    previous: dict[int, Any] = {}
    for number in STOP_SIGNALS:
        try:
            previous[number] = signal.signal(number, lambda signum, frame: held.append(signum))
        except ValueError:
            break
    return previous


def restore(previous: dict[int, Any]) -> None:
    """Put back the handlers ``hold`` replaced."""
    for number, handler in previous.items():
        signal.signal(number, handler)


def finished() -> None:
    """The command's result is in place: from here the stop signals are ignored (what follows, a summary, takes
    milliseconds), so that none can end a finished command with "nothing was written" or a traceback."""
    if not _owned[0]:
        return
    for number in STOP_SIGNALS:
        try:
            signal.signal(number, signal.SIG_IGN)
        except ValueError:  # not the main thread
            return
