"""Hidden staging folders (a run folder or a morph being written) and what a hard kill leaves of them.

A writer makes a hidden ``.NAME.XXXX.moss-tmp`` (or ``.moss-old``) folder next to its destination, claims it with
an owner file (this process's PID and host), and renames it into place at the end; an error, Ctrl-C, SIGTERM or
SIGHUP removes it. Only SIGKILL or a power cut can leave one behind: the next writer in the same place removes
those whose owner is gone (same host, PID no longer running), never one a running MOSS still owns, nor one without
an owner file (not known to be MOSS's).
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

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
        if entry.name.startswith(prefix) and entry.name.endswith(SUFFIXES) and entry.is_dir() \
                and not entry.is_symlink() and _owner_gone(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
