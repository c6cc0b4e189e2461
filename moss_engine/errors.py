"""The errors the engine raises for things a user can fix (bad files, bad options)."""

from __future__ import annotations

from pathlib import Path


def shown(name: str | Path) -> str:
    """A file name as text that can be drawn or printed anywhere: bytes that are not UTF-8 (kept in a ``str`` path as
    surrogates) become U+FFFD, the replacement character, as file managers show them."""
    return str(name).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


#: ``MossError.kind`` of a run that ran out of memory (the CPU's allocator or the GPU's, in chunks of one mask).
OUT_OF_MEMORY = "out-of-memory"


class MossError(Exception):
    """Base of every error that carries a message meant for the user (one line, no traceback).

    ``kind`` says what sort of failure it is, for a caller that reacts to it (``OUT_OF_MEMORY``; None: a plain one),
    so that nothing has to read the message to decide.
    """

    kind: str | None = None


class MossInputError(MossError, ValueError):
    """A bad input file or option. The message names the file (or option) and the problem.

    Args:
        message: what is wrong, in one line.
        path: the offending file, put in front of the message when given.
        field: the ``RunSettings`` field at fault (a settings error), e.g. ``"freq"``, for a form that marks it.
        option: its command-line option, e.g. ``"--freq"``.
        reason: what is wrong with it, as a code a caller can act on (``"order"``, ``"above_nyquist"``,
            ``"log_needs_positive"``, ``"too_short"``, ``"range"``...).
        details: numbers the reason refers to (``nyquist_hz``, ``higher_quality``...).

    Attributes:
        problem: what is wrong without the file's name in front (the one line ``str()`` gives when there is no
            ``path``), for a caller that names the file itself.
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        *,
        field: str | None = None,
        option: str | None = None,
        reason: str | None = None,
        **details: object,
    ):
        self.path = None if path is None else Path(path)
        self.field, self.option, self.reason, self.details = field, option, reason, details
        self.problem = " ".join(message.split())
        text = f"{self.path}: {message}" if path is not None else message
        super().__init__(" ".join(text.split()))


class MossOutOfMemory(MossError):
    """The machine could not hold the run (the message says what helps)."""

    kind = OUT_OF_MEMORY


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure: torch's ``OutOfMemoryError`` (a GPU), a ``MemoryError``, or the
    ``RuntimeError`` torch's CPU allocator raises ("DefaultCPUAllocator: can't allocate memory"), which has no type
    of its own: the one place that reads an error's text, and it is torch's, not MOSS's."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
