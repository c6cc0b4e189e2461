"""Where the last finished run is autosaved, so that the next start can offer it back."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import platformdirs

from moss_engine.run.folder import MANIFEST, is_run_folder

#: The folder under which autosaves go; tests point it at a temporary folder (``monkeypatch.setattr``).
BASE_DIR: Path | None = None


def base_dir() -> Path:
    """The autosave folder: ``BASE_DIR`` when set, else ``<user data dir>/autosave``."""
    return BASE_DIR if BASE_DIR is not None else Path(platformdirs.user_data_dir("MOSS", "MOSS")) / "autosave"


def last_run_dir() -> Path:
    """The run folder that holds the last finished run (it may not exist yet)."""
    return base_dir() / "last-run"


def saved_run() -> tuple[Path, _dt.datetime] | None:
    """The autosaved run folder and when it was written, or None when there is no MOSS run there."""
    folder = last_run_dir()
    if not is_run_folder(folder):
        return None
    written = _dt.datetime.fromtimestamp((folder / MANIFEST).stat().st_mtime)
    return folder, written
