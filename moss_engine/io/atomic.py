"""Atomic writes: one file (``write_file``) or a staging folder (a run folder or a morph being written), and
what a hard kill leaves of them.

A writer makes a hidden ``.NAME.XXXX.moss-tmp`` (or ``.moss-old``) folder next to its destination, claims it with
an owner file (this process's PID and host), and renames it into place at the end; an error, Ctrl-C, SIGTERM or
SIGHUP removes it. Only SIGKILL or a power cut can leave one behind: the next writer in the same place removes
those whose owner is gone (same host, PID no longer running), never one a running MOSS still owns, nor one without
an owner file (not known to be MOSS's).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from moss_engine.errors import MossInputError

T = TypeVar("T")

OWNER = ".moss-owner"
SUFFIXES = (".moss-tmp", ".moss-old")


def claim(folder: Path) -> None:
    """Mark ``folder`` as this process's staging folder."""
    (Path(folder) / OWNER).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")


def release(folder: Path) -> None:
    """Remove the owner mark (before the folder becomes the real thing)."""
    (Path(folder) / OWNER).unlink(missing_ok=True)


def _owner_gone(folder: Path) -> bool:
    try:
        pid_text, host = (folder / OWNER).read_text(encoding="utf-8").split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return False  # no owner file, or not ours to judge: leave it
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # a process of another user has that PID now: alive
    return False


def sweep(parent: Path, prefix: str) -> list[Path]:
    """Remove the staging folders under ``parent`` whose names start with ``prefix`` and whose owner is gone;
    returns what was removed."""
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if (
            entry.name.startswith(prefix)
            and entry.name.endswith(SUFFIXES)
            and entry.is_dir()
            and not entry.is_symlink()
            and _owner_gone(entry)
        ):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def write_file(out: Path, write: Callable[[Path], T], recheck: Callable[[], None] | None = None) -> T:
    """Call ``write(tmp)`` on a hidden ``.NAME.XXXXXXXX.moss-tmp`` beside ``out``, then rename it to ``out``: the file
    appears whole or not at all. Every writer of a single file uses this (exports, renders, the app's copies).

    ``recheck()`` runs just before the rename (the work may take a while: it may raise if ``out`` became taken).
    Folders created for ``out`` are removed again on failure. An ``OSError`` or a libsndfile error (a full disk, a
    folder that cannot be written) becomes a ``MossInputError`` naming ``out``; anything else (Ctrl-C included)
    propagates after the clean-up.
    """
    out = Path(out)
    created = first_missing(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_hidden_file(out)
    except OSError as exc:
        remove_if_empty(created)
        raise MossInputError(f"cannot write here ({exc.strerror or exc})", out) from None
    try:
        result = write(tmp)
        if recheck is not None:
            recheck()
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        remove_if_empty(created)
        if isinstance(exc, OSError):
            raise MossInputError(f"cannot write the file ({exc.strerror or exc})", out) from None
        if type(exc).__name__ == "LibsndfileError":  # e.g. the disk filled up while encoding
            raise MossInputError(f"the file could not be written ({exc})", out) from None
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


def first_missing(folder: Path) -> Path | None:
    """The outermost of ``folder`` and its parents that does not exist yet (None: ``folder`` exists)."""
    missing = None
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        missing = p
    return missing


def remove_if_empty(created: Path | None) -> None:
    """Remove the folders a write created (``created``: the first of them) if no file ended up inside."""
    if created is not None and created.exists() and not any(p.is_file() for p in created.rglob("*")):
        shutil.rmtree(created, ignore_errors=True)
