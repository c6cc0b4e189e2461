"""The result shown, kept: its run folder, one point's audio, the morph video; a failure said the same way for each."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from moss_engine.errors import MossError
from moss_engine.io.atomic import write_file
from moss_engine.run.export import render_point
from moss_engine.run.folder import write_run_folder
from moss_engine.run.morph import MORPH_FILES, write_morph
from moss_engine.run.plot import plot_front

from .background import BackgroundJob
from .dialog_folders import remember, start_folder
from .export_names import (
    POINT_FILTERS,
    format_filter,
    morph_name,
    point_file_name,
    point_format,
    point_name,
    run_folder_name,
)

if TYPE_CHECKING:
    from .settings_store import SettingsStore

log = logging.getLogger(__name__)
T = TypeVar("T")


class Shown(Protocol):
    """What is on screen: a ``RunResult`` (or None) and the index of its selected point (or None)."""

    result: Any
    selected: int | None


def failure_message(exc: BaseException, doing: str) -> str:
    """The one line an export's failure shows: the engine's own words, else ``could not <doing>: <reason>``."""
    if isinstance(exc, MossError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"could not {doing}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"  # a bug: shown all the same, and logged


class ExportController(QObject):
    """Exports the result shown, asking for a name first (``choose_*``) or to a name given (``export_*``).

    The point and morph exports render from a run folder holding the result: the one it was autosaved to, opened
    from or exported to (``adopt``), else one written to a temporary folder when first needed.

    Args:
        window: the parent of the file dialogs and questions.
        shown: the result and the point selected (the result view).
        store: remembers the folder the export dialogs were last used in (``moss_app.dialog_folders``: the user's
            Music folder the first time for a point or the morph video; Export Run Folder shares File > Open Run's
            folder, Documents the first time; never the installation or the autosave history) and the format last
            chosen for a point (``export_names``).

    The names proposed start with the song's name (``moss_app.export_names``).

    Signals:
        failed(str): an export failed, in one line for the window's error dialog.
        message(str, int): a line for the status bar and how long it stays (ms; 0: until the next one). An export
            done says so there until the next message, with the file's name (short enough to be read whole at the
            window's minimum size); the folder is the one just chosen, and the engine's notes go to ``show_notes``.
        busy_changed(bool): the morph video started (True) or stopped (False) rendering off the GUI thread.
        morph_exported(Path): the morph video is complete at its destination.
    """

    failed = Signal(str)
    message = Signal(str, int)
    busy_changed = Signal(bool)
    morph_exported = Signal(object)

    def __init__(self, window: QWidget, shown: Shown, store: SettingsStore):
        super().__init__(window)
        self._window = window
        self._shown = shown
        self._store = store
        self._run_dir: Path | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.morph_job: BackgroundJob | None = None  # the morph video being rendered, if any
        self.notes_box: QMessageBox | None = None  # the engine's notes on the last file written (``show_notes``)

    @property
    def busy(self) -> bool:
        """Whether the morph video is rendering (a new run would replace the folder it reads)."""
        return self.morph_job is not None

    @property
    def run_dir(self) -> Path | None:
        """The run folder known to hold the result shown (None: none yet); the history never removes it."""
        return self._run_dir

    def adopt(self, folder: Path | None) -> None:
        """The result shown now is stored in the run folder ``folder`` (None: in none yet)."""
        self._run_dir = Path(folder) if folder is not None else None

    def ensure_run_dir(self) -> Path:
        """A run folder holding the result shown: the one known, else a new one in a temporary folder."""
        if self._run_dir is not None and (self._run_dir / "manifest.json").is_file():
            return self._run_dir
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="moss-app-")
        result = self._shown.result
        self._run_dir = write_run_folder(
            result,
            Path(self._scratch.name) / f"run-{id(result)}",
            overwrite=True,
            plot=plot_front,
            replaceable=MORPH_FILES,
        )
        return self._run_dir

    def close(self) -> None:
        """Wait for the morph video (a minute at most) and remove the temporary run folder (the window closes)."""
        if self.morph_job is not None and not self.morph_job.wait(60):
            log.warning("the morph export did not finish in time")
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    # --- the one way a failure is said --------------------------------------------------------------------------------

    def _fail(self, exc: BaseException, doing: str) -> None:
        if not isinstance(exc, MossError | OSError):
            log.error("an export failed", exc_info=exc)
        self.failed.emit(failure_message(exc, doing))

    def _attempt(self, doing: str, work: Callable[[], T]) -> T | None:
        """``work()``, or None when it fails as writing files can (the engine's refusal, the disk): said once."""
        try:
            return work()
        except (MossError, OSError) as exc:
            self._fail(exc, doing)
            return None

    # --- asking for a name --------------------------------------------------------------------------------------------

    def _proposed(self, name: str, purpose: str = "export") -> Path:
        return start_folder(self._store, purpose) / name

    def _song(self) -> Path:
        return self._shown.result.settings.audio

    def _ask_overwrite(self, out: Path, note: str = "") -> bool:
        if not out.exists():
            return True
        answer = QMessageBox.question(self._window, "MOSS", f"{out.name} already exists. Replace it?{note}")
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def choose_export(self) -> None:
        """Ask for a folder name, ask before replacing an earlier run, then export.

        The dialog starts where run folders are kept: File > Open Run's folder (Documents the first time), and the
        folder chosen becomes Open Run's too: a run exported is a run to reopen, not music to play.
        """
        if self._shown.result is None:
            return
        proposed = self._proposed(run_folder_name(self._song()), "run")
        name, _ = QFileDialog.getSaveFileName(self._window, "Export run folder", str(proposed), "Run folder (*)")
        if not name:
            return
        out = Path(name)
        remember(self._store, "run", out)
        exists = out.exists()
        if self._ask_overwrite(out, "\n(MOSS only replaces its own run folders.)"):
            self.export_run(out, overwrite=exists)

    @Slot()
    def choose_export_point(self, full: bool = False) -> Path | None:
        """Ask for a file name (WAV, FLAC, MP3, Opus or Ogg Vorbis, by its filter or suffix), and before replacing a
        file, then export the selected point: its segment at the run's rate, or with ``full`` the whole song at its
        own rate and channels with the point's picture in the segment (``moss render --full``).

        The dialog proposes ``export_names.point_name`` in the format last chosen here (WAV the first time)."""
        if self._shown.result is None or self._shown.selected is None:
            return None
        fmt = point_format(self._store.export_format)
        title = "Export point in the whole song" if full else "Export point (its segment)"
        proposed = self._proposed(point_name(self._song(), self._shown.selected, fmt, full))
        name, chosen = QFileDialog.getSaveFileName(
            self._window,
            title,
            str(proposed),
            POINT_FILTERS,
            selectedFilter=format_filter(fmt),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if not name:
            return None
        out, fmt = point_file_name(name, chosen)
        remember(self._store, "export", out)
        self._store.export_format = fmt
        if self._ask_overwrite(out):
            return self.export_point(out, fmt=fmt, overwrite=True, full=full)
        return None

    @Slot()
    def choose_export_point_full(self) -> Path | None:
        """``choose_export_point`` for the whole song."""
        return self.choose_export_point(full=True)

    @Slot()
    def choose_export_morph(self) -> None:
        """Ask for an .mp4 name (and before replacing a file), then export the morph video."""
        if self._shown.result is None:
            return
        proposed = self._proposed(morph_name(self._song()))
        name, _ = QFileDialog.getSaveFileName(
            self._window,
            "Export morph video",
            str(proposed),
            "Video (*.mp4)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if not name:
            return
        out = Path(name).with_suffix(".mp4")
        remember(self._store, "export", out)
        if self._ask_overwrite(out):
            self.export_morph(out)

    # --- exporting ----------------------------------------------------------------------------------------------------

    def export_run(self, out: Path, overwrite: bool = False) -> Path | None:
        """Write the result shown to ``out`` (the engine's atomic run folder); None (said once) if it fails."""
        result = self._shown.result
        if result is None:
            return None
        written = self._attempt(
            f"write {out}",
            lambda: write_run_folder(
                result, Path(out), overwrite=overwrite, plot=plot_front, hint="free some space or choose another folder"
            ),
        )
        if written is not None:
            self.message.emit(f"Exported the run folder: {written.name}", 0)
            self._run_dir = written
        return written

    def export_point(
        self, out: Path, fmt: str | None = None, overwrite: bool = False, full: bool = False
    ) -> Path | None:
        """Write the selected point's audio to ``out`` (format from ``fmt`` or the suffix): its segment, or with
        ``full`` the whole song with its picture (which needs the run's song and picture, unchanged); None (said
        once) if it fails.

        The whole song takes a second or two (decoding, splicing, encoding), on the GUI thread under a busy cursor:
        the same synchronous call as the segment, so the window cannot start a run on a half-written file.
        """
        index = self._shown.selected
        if self._shown.result is None or index is None:
            return None
        if full:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            rendered = self._attempt(
                f"write {out}",
                lambda: render_point(
                    self.ensure_run_dir(), index, full=full, fmt=fmt, out=Path(out), overwrite=overwrite
                ),
            )
        finally:
            if full:
                QApplication.restoreOverrideCursor()
        if rendered is None:
            return None
        done = f"Exported point {index}{' in the whole song' if full else ''}"
        self.message.emit(f"{done}: {Path(rendered.path).name}", 0)
        if rendered.notices:
            self.show_notes(f"{done} to {rendered.path}", rendered.notices)
        return Path(rendered.path)

    def show_notes(self, done: str, notes: tuple[str, ...]) -> QMessageBox:
        """What the engine noted about a file it wrote (its level moved, peaks limited, a rate changed), in a box that
        does not block: too long for the status bar, where it was cut (issue 22), and worth reading once."""
        if self.notes_box is None:
            self.notes_box = QMessageBox(
                QMessageBox.Icon.Information, "MOSS", "", QMessageBox.StandardButton.Ok, self._window
            )
        self.notes_box.setText(done)
        self.notes_box.setInformativeText("\n".join(f"\u2022 {note[0].upper()}{note[1:]}." for note in notes))
        self.notes_box.open()
        return self.notes_box

    def export_morph(self, out: Path) -> BackgroundJob | None:
        """Render the morph video off the GUI thread and copy it to ``out`` whole (temporary file, then rename).

        Returns the running job (``morph_exported(Path)`` or one ``failed`` follow), or None when there is nothing
        to export or a morph export is already running. ``out`` is only replaced once the video is complete.
        """
        if self._shown.result is None or self.morph_job is not None:
            return None
        out = Path(out)
        run_dir = self._attempt("prepare the run folder", self.ensure_run_dir)
        if run_dir is None:
            return None

        def work() -> Path:
            write_morph(run_dir, overwrite=True)
            write_file(
                out,
                lambda tmp: shutil.copyfile(run_dir / "morph.mp4", tmp),
                hint="free some space or choose another file name",
            )
            return out

        self.morph_job = BackgroundJob(work, target=out, parent=self)
        self.morph_job.done.connect(self._on_morph_done)
        self.morph_job.failed.connect(self._on_morph_failed)
        self.busy_changed.emit(True)
        self.message.emit("Rendering the morph video...", 0)
        return self.morph_job.start()

    def _end_morph_job(self) -> Path:
        job, self.morph_job = self.morph_job, None
        self.busy_changed.emit(False)
        return Path(job.target)

    @Slot(object)
    def _on_morph_done(self, out: Path) -> None:
        self._end_morph_job()
        self.message.emit(f"Exported the morph video: {Path(out).name}", 0)
        self.morph_exported.emit(out)

    @Slot(object)
    def _on_morph_failed(self, exc: BaseException) -> None:
        out = self._end_morph_job()
        self.message.emit("", 0)
        self._fail(exc, f"write {out}")
