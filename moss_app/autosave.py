"""The autosave history: every finished (or cancelled) run in its own folder, the last ``MAX_RUNS`` kept within a
disk cap, so that a cancelled test run never replaces a finished one and the next start can offer the newest back.

Each run is written by the worker to a fresh folder ``<base>/run-YYYYMMDD-HHMMSS`` (``new_run_dir``). After it is
written the window prunes the history (``prune``): the oldest folders go first, until at most ``MAX_RUNS`` remain and
together they take at most the cap (``SettingsStore.autosave_cap_mb``); the folders the window names as in use (the
run shown, the one an export reads) and the newest run are never removed, even if they alone exceed the cap. Only
MOSS run folders directly under the base folder are counted and removed; anything else there is left alone. Whether
a run was cancelled is not in its manifest, so the window records it in ``<base>/history.json`` (``mark``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from moss_engine.run.folder import MANIFEST, is_run_folder

#: The folder under which autosaves go; tests point it at a temporary folder (``monkeypatch.setattr``).
BASE_DIR: Path | None = None
#: How many runs the history keeps.
MAX_RUNS = 10
#: The history's default disk cap, in MB (the user changes it in File > Recent Runs > History Limit...).
DEFAULT_CAP_MB = 2048
#: The file beside the run folders that says which runs were cancelled.
INDEX = "history.json"
_PREFIX = "run-"


def base_dir() -> Path:
    """The autosave folder: ``BASE_DIR`` when set, else ``<user data dir>/autosave``."""
    return BASE_DIR if BASE_DIR is not None else Path(platformdirs.user_data_dir("MOSS", "MOSS")) / "autosave"


def new_run_dir(now: _dt.datetime | None = None) -> Path:
    """A folder name for the next run's autosave, named by the time (not created: the worker writes it whole)."""
    stamp = f"{_PREFIX}{(now or _dt.datetime.now()):%Y%m%d-%H%M%S}"
    folder, n = base_dir() / stamp, 1
    while folder.exists():
        n += 1
        folder = base_dir() / f"{stamp}-{n}"
    return folder


@dataclass(frozen=True)
class SavedRun:
    """One run of the history.

    Args:
        folder: its run folder.
        written: when its manifest was written.
        picture, song: the names of its inputs.
        points: how many points its front has.
        cancelled: whether the run was cancelled (None: not known, e.g. a folder of an older MOSS).
        size_bytes: what its folder takes on disk.
    """

    folder: Path
    written: _dt.datetime
    picture: str
    song: str
    points: int
    cancelled: bool | None
    size_bytes: int

    def label(self) -> str:
        """One line for the menu: ``14 Mar 2025, 09:30 · astronaut.png + song.ogg · 8 points · done``."""
        state = {True: "cancelled", False: "done", None: "finished"}[self.cancelled]
        return f"{self.written:%d %b %Y, %H:%M} · {self.picture} + {self.song} · {self.points} points · {state}"


def folder_size(folder: Path) -> int:
    """The bytes of the files under ``folder`` (what cannot be read counts 0)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


def _read_index() -> dict[str, bool]:
    try:
        value = json.loads((base_dir() / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, bool)} if isinstance(value, dict) else {}


def mark(folder: Path, cancelled: bool) -> None:
    """Record whether the run autosaved in ``folder`` was cancelled (a failure to write is harmless: not known)."""
    index = _read_index()
    index[Path(folder).name] = bool(cancelled)
    names = {p.name for p in base_dir().iterdir()} if base_dir().is_dir() else set()
    index = {k: v for k, v in index.items() if k in names}  # forget removed runs
    with contextlib.suppress(OSError):
        (base_dir() / INDEX).write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")


def _saved(folder: Path, index: dict[str, bool]) -> SavedRun | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        written = _dt.datetime.fromtimestamp((folder / MANIFEST).stat().st_mtime)
        inputs = manifest.get("input", {})
        return SavedRun(
            folder=folder,
            written=written,
            picture=Path(str(inputs.get("image", "?"))).name,
            song=Path(str(inputs.get("audio", "?"))).name,
            points=len(manifest.get("points", [])),
            cancelled=index.get(folder.name),
            size_bytes=folder_size(folder),
        )
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def history() -> list[SavedRun]:
    """The autosaved runs, newest first (hidden folders, such as a write in progress, and foreign ones skipped)."""
    base = base_dir()
    if not base.is_dir():
        return []
    index = _read_index()
    found = [_saved(p, index) for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and is_run_folder(p)]
    return sorted((s for s in found if s is not None), key=lambda s: (s.written, s.folder.name), reverse=True)


def saved_run() -> tuple[Path, _dt.datetime] | None:
    """The newest autosaved run folder and when it was written, or None when there is none."""
    runs = history()
    return (runs[0].folder, runs[0].written) if runs else None


def prune(cap_mb: float = DEFAULT_CAP_MB, keep: tuple[Path | None, ...] = (), max_runs: int = MAX_RUNS) -> list[Path]:
    """Remove the oldest runs until at most ``max_runs`` remain within ``cap_mb``; returns the folders removed.

    The newest run and the folders in ``keep`` (the run shown, the one an export reads) always stay.
    """
    runs = history()
    kept = {Path(k).resolve() for k in keep if k is not None}
    if runs:
        kept.add(runs[0].folder.resolve())
    count, total = len(runs), sum(r.size_bytes for r in runs)
    removed = []
    for run in reversed(runs):  # oldest first
        if count <= max_runs and total <= cap_mb * 1024 * 1024:
            break
        if run.folder.resolve() in kept:
            continue
        shutil.rmtree(run.folder, ignore_errors=True)
        if not run.folder.exists():
            removed.append(run.folder)
            count, total = count - 1, total - run.size_bytes
    return removed
