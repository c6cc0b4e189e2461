"""File > Open Recent: the last pictures, then the last songs, newest first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

if TYPE_CHECKING:
    from ..settings_store import SettingsStore


class RecentMenu(QMenu):
    """The files ``store`` remembers; choosing one calls ``open_file(kind, path)`` ("picture" or "music").

    Call ``rebuild`` when the store's lists may have changed.
    """

    def __init__(self, store: SettingsStore, open_file: Callable[[str, Path], object], parent: QWidget | None = None):
        super().__init__("Open Re&cent", parent)
        self._store = store
        self._open_file = open_file

    def rebuild(self) -> None:
        self.clear()
        for kind in ("picture", "music"):
            paths = self._store.recent(kind)
            if paths and not self.isEmpty():
                self.addSeparator()
            for path in paths:
                act = self.addAction(path.name)
                act.setToolTip(str(path))
                act.setStatusTip(str(path))
                act.setData((kind, str(path)))
                act.triggered.connect(lambda _checked=False, k=kind, p=path: self._open_file(k, p))
        if self.isEmpty():
            self.addAction("(none yet)").setEnabled(False)

    def file_actions(self) -> list[QAction]:
        """The entries that open a file."""
        return [a for a in self.actions() if a.data()]
