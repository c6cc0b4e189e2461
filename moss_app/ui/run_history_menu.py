"""File > Recent Runs: the autosaved runs, newest first, each opened with a click; and the history's disk limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from .. import autosave

if TYPE_CHECKING:
    from ..settings_store import SettingsStore


def megabytes(size_bytes: float) -> str:
    """``12 MB``, ``1.4 GB``."""
    mb = size_bytes / (1024 * 1024)
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


class RecentRunsMenu(QMenu):
    """The runs ``autosave.history()`` lists (built afresh each time the menu opens), each opening with
    ``open_run(folder)``, then "History Limit...", which says what the history takes and asks for its cap in MB.

    Args:
        store: where the cap is kept (``autosave_cap_mb``).
        open_run: opens a run folder (the window's ``open_run``).
        in_use: the folders that must stay when a lower cap prunes the history (the run shown, an export's).
    """

    def __init__(
        self,
        store: SettingsStore,
        open_run: Callable[[Path], object],
        in_use: Callable[[], tuple[Path | None, ...]],
        parent: QWidget | None = None,
    ):
        super().__init__("Rece&nt Runs", parent)
        self._store = store
        self._open_run = open_run
        self._in_use = in_use
        self.limit_dialog: QInputDialog | None = None
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        runs = autosave.history()
        for run in runs:
            act = self.addAction(run.label())
            act.setData(str(run.folder))
            act.setStatusTip(str(run.folder))
            act.triggered.connect(lambda _checked=False, f=run.folder: self._open_run(f))
        if not runs:
            self.addAction("(no runs yet)").setEnabled(False)
        self.addSeparator()
        used = sum(r.size_bytes for r in runs)
        self.limit_action = self.addAction(
            f"History Limit... ({len(runs)} of {autosave.MAX_RUNS} runs, "
            f"{megabytes(used)} of {megabytes(self._store.autosave_cap_mb * 2**20)})"
        )
        self.limit_action.setStatusTip("How much disk the history of autosaved runs may take; the oldest go first")
        self.limit_action.triggered.connect(self.ask_limit)

    def run_actions(self) -> list[QAction]:
        """The entries that open a run, newest first."""
        return [a for a in self.actions() if a.data()]

    def ask_limit(self) -> QInputDialog:
        """Ask (without blocking) for the history's cap in MB; a lower one prunes the history at once."""
        dialog = QInputDialog(self.parentWidget())
        dialog.setWindowTitle("MOSS: run history")
        dialog.setLabelText(f"Keep the last {autosave.MAX_RUNS} runs within (MB of disk):")
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(100, 1_000_000)
        dialog.setIntStep(100)
        dialog.setIntValue(self._store.autosave_cap_mb)
        dialog.intValueSelected.connect(self.set_limit)
        dialog.finished.connect(dialog.deleteLater)
        self.limit_dialog = dialog
        dialog.open()
        return dialog

    def set_limit(self, cap_mb: int) -> list[Path]:
        """Keep the history within ``cap_mb`` from now on; returns the runs this removed."""
        self._store.autosave_cap_mb = cap_mb
        removed = autosave.prune(self._store.autosave_cap_mb, keep=self._in_use())
        self.rebuild()
        return removed
