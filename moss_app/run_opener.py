"""Reopening a run: File > Open Run, File > Recent Runs and the offer of the newest autosave at start.

A reopened run brings back what it was made of: its picture and song go back into their zones (found where the run
recorded them, else in or beside its folder, and checked against the manifest's SHA-256), and its settings become
the quality preset and the Advanced changes (not the device: the run may come from another machine). When a file
has moved or changed, the run's front is still shown; that zone keeps the file it had (a zone is never emptied: the
user's own choice stays, and the status line says the result came from other inputs), and one non-blocking message
names the file and says so. The run's segment then comes back only with its song.

Whether the run was cancelled is not in its manifest; for a run of the autosave history the history knows
(``autosave.mark``), and the status line then says "Done" or "Cancelled" as it did live. Any other folder's run is not
known to be either ("Finished", ``run_status.outcome_line``).

The opener knows nothing of the window (which imports it): it is handed the inputs panel and two questions, and hands
what it opened, and what to say, back through signals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from moss_engine.errors import MossError
from moss_engine.run.reader import read_run

from . import autosave
from .dialog_folders import remember, start_folder
from .run_inputs import advanced_state, find_run_inputs
from .settings_store import SettingsStore
from .ui.inputs_panel import InputsPanel


def with_known_cancel(result, run_dir: Path):
    """``result`` with whether it was cancelled, taken from the autosave history when its folder does not say and
    the folder is one of the history's (else left not known: None)."""
    if result.optimisation.cancelled is not None:
        return result
    folder = run_dir.resolve()
    known = next((run.cancelled for run in autosave.history() if run.folder.resolve() == folder), None)
    return dataclasses.replace(result, optimisation=dataclasses.replace(result.optimisation, cancelled=known))


class RunOpener(QObject):
    """Opens run folders: their picture, song and settings go back into ``inputs``, their result out by ``opened``.

    Args:
        parent: the widget its dialogs belong to (the window).
        store: the preferences (where File > Open Run starts).
        inputs: the panel the run's picture, song and settings go back into.
        busy: whether a run goes on (nothing is opened then).
        showing: whether a result is shown (the newest autosave is offered back only when none is).

    Signals:
        opening(): a run folder was read and its inputs are about to replace those shown (playback stops).
        opened(RunResult, Path): show this result, read from that folder (the exports then render from it).
        failed(str): a folder could not be opened (foreign, damaged): the one-line reason, for a dialog.
        message(str, int): a status-bar message and how long it stays (ms).

    Attributes:
        reopen_box: the question offering the newest autosave back, while it is open.
        inputs_box: the message saying which of a reopened run's files did not come back, while it is open.
    """

    opening = Signal()
    opened = Signal(object, object)
    failed = Signal(str)
    message = Signal(str, int)

    def __init__(
        self,
        parent: QWidget,
        store: SettingsStore,
        inputs: InputsPanel,
        busy: Callable[[], bool],
        showing: Callable[[], bool],
    ):
        super().__init__(parent)
        self._parent, self._store, self._inputs = parent, store, inputs
        self._busy, self._showing = busy, showing
        self.reopen_box: QMessageBox | None = None
        self.inputs_box: QMessageBox | None = None
        self._offered: Path | None = None

    @Slot()
    def choose(self) -> None:
        """Ask for a run folder (starting where the last one was chosen, else Documents) and open it."""
        start = str(start_folder(self._store, "run"))
        name = QFileDialog.getExistingDirectory(self._parent, "Open run folder", start)
        if name:
            self.open(Path(name))

    def open(self, run_dir: Path, remember_folder: bool = True) -> bool:
        """Show the run stored in ``run_dir`` with its own inputs; a foreign or damaged folder shows a dialog and
        changes nothing. ``remember_folder``: File > Open Run starts beside it next time (not for an autosave)."""
        if self._busy():
            return False
        try:
            result = read_run(run_dir)  # everything is read (and the inputs hashed) before anything changes
            found = find_run_inputs(run_dir)
            result = with_known_cancel(result, Path(run_dir))
        except MossError as exc:
            self.failed.emit(str(exc))
            return False
        if remember_folder:
            remember(self._store, "run", Path(run_dir))
        self.opening.emit()
        for zone, path in found.files.items():
            self._inputs.open_file(zone, path)
        self._inputs.show_settings(*advanced_state(result.settings, with_segment="music" in found.files))
        # the run's settings name the files where they were found now, so that they match the zones
        paths = {k: found.files[z] for k, z in (("image", "picture"), ("audio", "music")) if z in found.files}
        result = dataclasses.replace(result, settings=dataclasses.replace(result.settings, **paths))
        self.opened.emit(result, Path(run_dir))
        self._say_missing(found.problems)
        if not found.problems:
            self.message.emit(f"Opened {run_dir} with its picture and song", 8000)
        return True

    def _say_missing(self, problems: dict[str, str]) -> None:
        """The files that did not come back, in the status line and one non-blocking message."""
        if not problems:
            return
        inputs = self._inputs
        lines = []
        for zone, problem in problems.items():
            kept = inputs.picture if zone == "picture" else inputs.music
            keeps = (
                f"the {zone.capitalize()} zone keeps {kept.name}"
                if kept
                else f"the {zone.capitalize()} zone stays empty"
            )
            lines.append(f"{problem[0].upper()}{problem[1:]}: {keeps}.")
        text = "\n".join(lines)
        self.message.emit(" ".join(lines), 15000)
        if self.inputs_box is not None:
            self.inputs_box.close()
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "MOSS",
            "The run is shown, but not all of its files came back.",
            QMessageBox.StandardButton.Ok,
            self._parent,
        )
        box.setInformativeText(text)
        box.finished.connect(box.deleteLater)
        self.inputs_box = box
        box.open()

    @Slot()
    def offer_last(self) -> QMessageBox | None:
        """Ask, without blocking, whether to reopen the newest autosaved run (when there is one and nothing is
        shown)."""
        runs = autosave.history()
        if not runs or self._showing() or self._busy():
            return None
        run = runs[0]
        state = {True: ", cancelled", False: "", None: ""}[run.cancelled]
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "MOSS",
            f"Reopen your last run from {run.written:%d %b %Y, %H:%M} ({run.picture} in {run.song}, "
            f"{run.points} points{state})?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self._parent,
        )
        box.finished.connect(self._on_answer)
        self.reopen_box, self._offered = box, run.folder
        box.open()
        return box

    @Slot(int)
    def _on_answer(self, _result: int) -> None:
        box, self.reopen_box = self.reopen_box, None
        if box is None:
            return
        yes = box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes
        box.deleteLater()
        if yes:
            self.open(self._offered, remember_folder=False)
