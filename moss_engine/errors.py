"""The errors the engine raises for things a user can fix (bad files, bad options)."""

from __future__ import annotations

from pathlib import Path


def shown(name: str | Path) -> str:
    """A file name as text that can be drawn or printed anywhere: bytes that are not UTF-8 (kept in a ``str`` path as
    surrogates) become U+FFFD, the replacement character, as file managers show them."""
    return str(name).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class MossError(Exception):
    """Base of every error that carries a message meant for the user (one line, no traceback)."""


class MossInputError(MossError, ValueError):
    """A bad input file or option. The message names the file (or option) and the problem.

    Args:
        message: what is wrong, in one line.
        path: the offending file, put in front of the message when given.
    """

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        text = f"{self.path}: {message}" if path is not None else message
        super().__init__(" ".join(text.split()))


class MossCancelled(MossError):
    """The run was asked to stop before it finished (Ctrl-C, Cancel)."""
