"""Atomic writes: one file (``write_file``) or a staging folder (a run folder or a morph being written), and
what a hard kill leaves of them.

A writer makes a hidden ``.NAME.XXXXXXXX.moss-tmp`` (or ``.moss-old``) folder next to its destination, claims it
with an owner file (this process's PID and host), and renames it (a run folder) or the file inside it (one file)
into place at the end; an error, Ctrl-C, SIGTERM or SIGHUP removes it. Only SIGKILL or a power cut can leave one
behind: the next command that checks the same place removes, before its work (``sweep_for``), those whose owner is
gone (same host, PID no longer running), never one a running MOSS still owns, nor one without an owner file (not
known to be MOSS's). What a dead writer leaves is bounded: one staging folder, at most the size of what it was
writing (a run folder, a file), and the next run frees it before it measures the free space.

``NAME`` is the destination's name, cut so that the staging name fits the file system's limit on a name
(``hidden_prefix``): a destination may use the whole limit (255 bytes on Linux).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from moss_engine.errors import MossInputError

T = TypeVar("T")

OWNER = ".moss-owner"
SUFFIXES = (".moss-tmp", ".moss-old")
#: The probe that a folder can be made in a place (created and removed at once).
PROBE = ".moss-probe"
#: What a staging name adds to the destination's: two dots, mkdtemp's 8 random characters and the longest suffix.
_STAGING_EXTRA = 2 + 8 + max(len(x) for x in (*SUFFIXES, PROBE))
#: A name's limit where the file system does not say (Linux, macOS and Windows all allow 255).
DEFAULT_NAME_MAX = 255
#: The errors of a full disk and of a used-up quota.
NO_SPACE = tuple(getattr(errno, name) for name in ("ENOSPC", "EDQUOT") if hasattr(errno, name))


def claim(folder: Path) -> None:
    """Mark ``folder`` as this process's staging folder."""
    (Path(folder) / OWNER).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")


def release(folder: Path) -> None:
    """Remove the owner mark (before the folder becomes the real thing)."""
    (Path(folder) / OWNER).unlink(missing_ok=True)


def _existing(folder: Path) -> Path | None:
    return next((p for p in [Path(folder), *Path(folder).parents] if p.exists()), None)


def name_max(folder: Path) -> int:
    """The longest name, in bytes, that the file system holding ``folder`` (or its nearest existing parent) allows."""
    try:
        return int(os.pathconf(_existing(folder) or ".", "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return DEFAULT_NAME_MAX


def check_name_fits(path: Path) -> None:
    """``MossInputError`` naming the limit when ``path``'s last name is longer than its file system allows."""
    path = Path(path)
    size, limit = len(os.fsencode(path.name)), name_max(path.parent)
    if size > limit:
        raise MossInputError(
            f"the name is {size} bytes long, and this file system allows at most {limit} bytes in a name: choose a "
            "shorter one",
            path,
        )


def hidden_prefix(out: Path) -> str:
    """``.NAME.``: the start of every staging name for ``out``, ``NAME`` cut (at a character) so that the whole
    staging name fits the file system's limit on a name."""
    out = Path(out)
    room = max(1, name_max(out.parent) - _STAGING_EXTRA)
    name = out.name
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}."


def new_staging_folder(out: Path, suffix: str = ".moss-tmp") -> Path:
    """A fresh hidden folder beside ``out`` (``.NAME.XXXXXXXX.moss-tmp``), claimed by this process, readable as the
    umask says (mkdtemp makes it 0700: other users and tools must read a run folder)."""
    out = Path(out)
    folder = Path(tempfile.mkdtemp(prefix=hidden_prefix(out), suffix=suffix, dir=out.parent))
    try:
        claim(folder)
        os.chmod(folder, 0o777 & ~_umask())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def probe(out: Path) -> None:
    """Create and remove a hidden folder beside ``out`` (``OSError`` when the place lets nothing be made)."""
    out = Path(out)
    os.rmdir(tempfile.mkdtemp(prefix=hidden_prefix(out), suffix=PROBE, dir=out.parent))


def sweep_for(out: Path) -> list[Path]:
    """Remove the staging folders beside ``out`` that dead writers of ``out`` left (``sweep``)."""
    out = Path(out)
    return sweep(out.parent, hidden_prefix(out)) if out.parent.is_dir() else []


def kind_of(path: Path) -> str | None:
    """What is at ``path`` in words ("file", "folder", "symbolic link", "FIFO", "socket", "character device",
    "block device"), without following a link; None when nothing is there."""
    try:
        mode = Path(path).lstat().st_mode
    except OSError:
        return None
    for test, words in (
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "folder"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return words
    return "special file"


def check_replaceable_file(out: Path) -> None:
    """``MossInputError`` unless ``out`` is new or a regular file: nothing replaces a device (as root, ``--out
    /dev/null --overwrite`` would replace the system's), a FIFO, a socket, a folder, or a symbolic link (nor what it
    points to)."""
    kind = kind_of(out)
    if kind not in (None, "file"):
        raise MossInputError(
            f"is a {kind}, not a regular file: MOSS writes only a new file or replaces a regular file", out
        )


def megabytes(size: int) -> str:
    """A size in MB, as messages say it."""
    return f"{size / 1024**2:.1f} MB" if size < 10 * 1024**2 else f"{size / 1024**2:.0f} MB"


def free_bytes(folder: Path) -> int | None:
    """Bytes free on the disk that holds ``folder`` (or its nearest existing parent); None where unknown."""
    existing = _existing(folder)
    try:
        return shutil.disk_usage(existing).free if existing is not None else None
    except OSError:
        return None


def write_error(exc: OSError, out: Path, what: str, need: int | None, hint: str) -> MossInputError:
    """One line for an ``OSError`` while writing ``what`` at ``out``: a full disk or a used-up quota says what was
    needed and what is free there, then ``hint`` (what to do, in the words of the command's own options)."""
    reason = exc.strerror or str(exc)
    if exc.errno in NO_SPACE:
        needs = f"the {what} needs about {megabytes(need)}" if need else f"the {what} needs more room"
        free = free_bytes(Path(out).parent)
        where = "" if free is None else f" and {megabytes(free)} are free on that disk"
        if exc.errno == getattr(errno, "EDQUOT", None):
            where = " and your quota on that disk is used up"
        return MossInputError(f"{reason}: {needs}{where}; {hint}", out)
    return MossInputError(f"cannot write the {what} here ({reason})", out)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


def write_file(
    out: Path,
    write: Callable[[Path], T],
    recheck: Callable[[], None] | None = None,
    need: int | None = None,
    hint: str = "free some space or choose another --out",
) -> T:
    """Call ``write(tmp)`` on a file inside a claimed staging folder beside ``out`` (``new_staging_folder``), then
    rename it to ``out``: the file appears whole or not at all, and what a ``kill -9`` leaves is the next writer's
    to sweep. Every writer of a single file uses this (exports, renders, the app's copies).

    ``out`` must be new or a regular file (``check_replaceable_file``), its name within the file system's limit.
    ``recheck()`` runs just before the rename (the work may take a while: it may raise if ``out`` became taken).
    Folders created for ``out`` are removed again on failure. An ``OSError`` or a libsndfile error becomes a
    ``MossInputError`` naming ``out`` (a full disk says what the file needs, about ``need`` bytes, and ``hint``);
    anything else (Ctrl-C included) propagates after the clean-up.
    """
    out = Path(out)
    check_replaceable_file(out)
    if kind_of(out) is None:
        check_name_fits(out)
    created = first_missing(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        sweep_for(out)
        folder = new_staging_folder(out)
    except OSError as exc:
        remove_if_empty(created)
        raise write_error(exc, out, "file", need, hint) from None
    # a short name inside (the destination's may use the whole limit), its suffix kept for tools that look at it
    tmp = folder / ("file" + (out.suffix if len(out.suffix) <= 16 else ""))
    try:
        result = write(tmp)
        if recheck is not None:
            recheck()
        check_replaceable_file(out)
        os.replace(tmp, out)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        remove_if_empty(created)
        if isinstance(exc, OSError):
            raise write_error(exc, out, "file", need, hint) from None
        if type(exc).__name__ == "LibsndfileError":  # e.g. a codec's own failure
            raise MossInputError(f"the file could not be written ({exc})", out) from None
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return result


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
