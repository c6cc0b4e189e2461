"""Where each file dialog starts: the folder last used for that purpose, else the user's Music, Pictures or Documents.

Purposes: "picture" (Open Picture, Pictures), "music" (Open Music, Music), "export" (a point or the morph video,
Music) and "run" (File > Open Run and Export Run Folder, which share it: Documents the first time; issue 22).

Never inside MOSS's installation (or its source checkout) or the autosave history: a song chosen from the bundled
sample or a run reopened from the history must not send the next export there.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths

from . import autosave

if TYPE_CHECKING:
    from .settings_store import SettingsStore

#: The standard folder each purpose starts in the first time.
_DEFAULTS = {
    "picture": QStandardPaths.StandardLocation.PicturesLocation,
    "music": QStandardPaths.StandardLocation.MusicLocation,
    "export": QStandardPaths.StandardLocation.MusicLocation,
    "run": QStandardPaths.StandardLocation.DocumentsLocation,
}


def _off_limits() -> list[Path]:
    """The folders no dialog starts in: the installation (frozen or the checkout) and the autosave folder."""
    roots = [Path(__file__).resolve().parents[1], autosave.base_dir()]
    if getattr(sys, "frozen", False):
        roots += [Path(sys.executable).resolve().parent, Path(getattr(sys, "_MEIPASS", sys.executable))]
    return [r.resolve() for r in roots]


def allowed(folder: Path) -> bool:
    """Whether a dialog may start in ``folder``: it exists and is outside the installation and the autosaves."""
    try:
        folder = folder.resolve()
    except OSError:
        return False
    return folder.is_dir() and not any(folder == r or r in folder.parents for r in _off_limits())


def default_folder(purpose: str) -> Path:
    """The user's Music (music, point and morph exports), Pictures (pictures) or Documents folder (run folders, the
    rest), else home."""
    location = _DEFAULTS.get(purpose, QStandardPaths.StandardLocation.DocumentsLocation)
    found = QStandardPaths.writableLocation(location)
    return Path(found) if found and Path(found).is_dir() else Path.home()


def start_folder(store: SettingsStore, purpose: str) -> Path:
    """Where the ``purpose`` ("picture", "music", "run", "export") dialog starts."""
    last = store.last_dir(purpose)
    if last is not None and allowed(last):
        return last
    return default_folder(purpose)


def remember(store: SettingsStore, purpose: str, chosen: Path) -> None:
    """The dialog for ``purpose`` starts in ``chosen``'s folder (a file's parent, a run folder's parent) next time,
    unless that folder is off limits (then the last allowed one stays)."""
    folder = Path(chosen).parent
    if allowed(folder):
        store.set_last_dir(purpose, folder)
