"""The main window: the inputs and the run on the left, the result on the right; the menus, and the run's state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from moss_engine.errors import MossError, MossInputError
from moss_engine.reporting import FrontSnapshot
from moss_engine.settings import RunSettings, make_settings

from . import autosave
from .about import about_text, notices_markdown
from .exports import ExportController
from .player import Player
from .run_opener import RunOpener
from .run_status import between_runs_line, is_stale, outcome_line
from .settings_store import SettingsStore
from .ui.about_box import AboutBox
from .ui.error_box import ErrorBox
from .ui.front_plot import point_summary
from .ui.inputs_panel import InputsPanel
from .ui.keys import SpaceForControls
from .ui.recent_menu import RecentMenu
from .ui.result_view import ResultView
from .ui.run_controls import RunControls
from .ui.run_history_menu import RecentRunsMenu
from .ui.shortcuts import open_text_box, shortcuts_html
from .ui.status_bar import RunStatusBar
from .worker import FrontRunner, RunProgress

log = logging.getLogger(__name__)

#: (image, audio, quality, **overrides) -> the run's settings; the Advanced section's changes come as keywords
#: (none when nothing was changed). Tests pass one that makes tiny runs.
SettingsFactory = Callable[..., RunSettings]
#: Quitting waits this long for a run to stop before the window closes anyway (ms).
QUIT_WAIT_MS = 800


def default_settings_factory(image: Path, audio: Path, quality: str, **overrides) -> RunSettings:
    """The app's runs: the chosen preset on the best device found, with the Advanced section's changes."""
    return make_settings(image, audio, quality=quality, **{"device": "auto", **overrides})


class MainWindow(QMainWindow):
    """The MOSS window.

    Args:
        store: where preferences live (tests pass one over temporary QSettings).
        settings_factory: builds a run's ``RunSettings`` from the inputs and the preset.
        picture, music: files to start with (else the last ones used, else nothing).
    """

    def __init__(
        self,
        store: SettingsStore | None = None,
        settings_factory: SettingsFactory | None = None,
        picture: Path | None = None,
        music: Path | None = None,
    ):
        super().__init__()
        self.store = store if store is not None else SettingsStore()
        self.settings_factory = settings_factory or default_settings_factory
        self._cancelling = False  # Cancel was pressed and the run has not ended yet
        self._outcome = ""  # the last run's outcome line ("Done: ...", "Failed: ..."), shown between runs
        self._autosaved_dir: Path | None = None  # where the run going on was autosaved, once it is
        self.setWindowTitle("MOSS: hide a picture in music")

        self.runner = FrontRunner(self)
        self.runner.snapshot.connect(self._on_snapshot)
        self.runner.progress.connect(self._on_progress)
        self.runner.notice.connect(self._on_notice)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.autosaved.connect(self._on_autosaved)
        self.status_bar = RunStatusBar()
        self.setStatusBar(self.status_bar)
        self.device_label, self.gpu_notice = self.status_bar.device_label, self.status_bar.gpu_notice
        self.errors = ErrorBox(self)
        self.player = Player(self)
        self.inputs = InputsPanel(self.store)
        self.inputs.changed.connect(self._on_inputs_changed)
        self.inputs.refused.connect(self._on_refused)
        self.inputs.take_drops(self)  # a picture and a song dropped together anywhere go to their zones
        self.results = ResultView(self.player)
        self.results.point_shown.connect(self._on_point_shown)
        self.results.playable_changed.connect(self._on_playable)
        self.exports = ExportController(self, self.results, self.store)
        self.exports.failed.connect(self.errors.show)
        self.exports.message.connect(self.statusBar().showMessage)
        self.exports.busy_changed.connect(self._on_export_busy)
        # Open Run, Recent Runs, the last run offered back: it tells the window what to show through signals
        self.opener = RunOpener(self, self.store, self.inputs, lambda: self.running, lambda: self.result is not None)
        self.opener.opening.connect(self.player.stop)
        self.opener.opened.connect(self._on_run_opened)
        self.opener.failed.connect(self.errors.show)
        self.opener.message.connect(self.statusBar().showMessage)
        self._name_parts()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_run_column())
        splitter.addWidget(self.results)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([300, 980])
        self.setCentralWidget(splitter)
        self._build_menu()
        self.space_guard = SpaceForControls(self)  # Space plays, but a focused button or list keeps its Space
        self._restore(picture, music)
        self.recent_menu.rebuild()
        self._update_device_label()
        self._update_actions()
        QTimer.singleShot(0, self, self.offer_last_run)  # once the window is up: the question is about it

    # --- building -------------------------------------------------------------------------------------------------

    def _name_parts(self) -> None:
        """The panels' parts by the names the window has always given them (tests, the self-test, tools)."""
        inputs, results, exports = self.inputs, self.results, self.exports
        self.picture_zone, self.music_zone, self.placement_view = (
            inputs.picture_zone,
            inputs.music_zone,
            inputs.placement_view,
        )
        self.preset_combo, self.advanced = inputs.preset_combo, inputs.advanced
        self.front_plot, self.alpha_slider, self.alpha_label = (
            results.front_plot,
            results.alpha_slider,
            results.alpha_label,
        )
        self.mask_view, self.spectrogram_view, self.transport = (
            results.mask_view,
            results.spectrogram_view,
            results.transport,
        )
        self.export_run, self.export_point, self.export_morph = (
            exports.export_run,
            exports.export_point,
            exports.export_morph,
        )
        # what the window has always done, done by its parts
        self.select_point, self.playback_audio, self.route_files = (
            results.select_point,
            results.playback_audio,
            self.inputs.route,
        )
        self.picture_zone.dialog_store = self.music_zone.dialog_store = self.store  # Open... remembers its folder

    def _build_run_column(self) -> QWidget:
        """The inputs (they scroll), then Start and Cancel, the progress and the status line, always in sight."""
        self.controls = RunControls()
        self.controls.start_button.clicked.connect(self.start_run)
        self.controls.cancel_button.clicked.connect(self.cancel_run)
        self.start_button, self.cancel_button = self.controls.start_button, self.controls.cancel_button
        self.progress_bar, self.status_label = self.controls.progress_bar, self.controls.status_label
        column = QWidget()
        column.setMaximumWidth(380)
        layout = QVBoxLayout(column)
        layout.addWidget(self.inputs, 1)
        layout.addWidget(self.controls)
        # at least 260 px, and as wide as the status line needs to hold each of its lines whole (issue 22)
        margins = layout.contentsMargins()
        column.setMinimumWidth(max(260, self.controls.minimumSizeHint().width() + margins.left() + margins.right()))
        return column

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip)
        act.triggered.connect(slot)
        self.addAction(act)  # shortcuts work even where the menu bar is hidden
        return act

    def _build_menu(self) -> None:
        action = self._action
        self.open_picture_action = action(
            "Open &Picture...", self.picture_zone.choose_file, QKeySequence.StandardKey.Open
        )
        self.open_music_action = action("Open &Music...", self.music_zone.choose_file, "Ctrl+Alt+O")
        self.open_run_action = action(
            "Open R&un...", self.choose_run, "Ctrl+Shift+O", "Reopen a run folder: its front, masks and audio"
        )
        self.play_action = action("&Play/Pause", self.player.toggle, "Space", "Play or pause the selected point")
        self.stop_action = action("&Stop", self.player.stop, "Shift+Space", "Stop and go back to the start")
        self.ab_action = action(
            "&A/B: Original",
            lambda: self.transport.ab_button.toggle(),
            "A",
            "Switch between the point and the original music at the same loudness",
        )
        self.export_action = action(
            "&Export Run Folder...",
            self.exports.choose_export,
            "Ctrl+E",
            "Write the front (WAV per point, masks, manifest, plot) to a folder",
        )
        self.export_point_action = action(
            "Export P&oint...",
            self.exports.choose_export_point,
            "Ctrl+Shift+E",
            "The selected point's segment as WAV, FLAC, MP3, Opus or Ogg Vorbis",
        )
        self.export_full_action = action(
            "Export Point in the &Whole Song...",
            self.exports.choose_export_point_full,
            None,
            "The whole song at its own rate, the selected point's picture inside",
        )
        self.export_morph_action = action(
            "Export Morp&h Video...",
            self.exports.choose_export_morph,
            None,
            "A video that glides along the front from the music to the picture",
        )
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.start_action = action("&Start", self.start_run, "Ctrl+Return")
        self.cancel_action = action("&Cancel", self.cancel_run, "Esc")
        self.about_action = action("&About MOSS", self.show_about)
        self.shortcuts_action = action("&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self.recent_menu = RecentMenu(self.store, self.inputs.open_file, self)
        self.recent_runs_menu = RecentRunsMenu(self.store, self.open_run, lambda: (self.exports.run_dir,), self)
        menus = {
            "&File": (
                self.open_picture_action,
                self.open_music_action,
                self.recent_menu,
                self.open_run_action,
                self.recent_runs_menu,
                None,
                self.export_action,
                self.export_point_action,
                self.export_full_action,
                self.export_morph_action,
                None,
                self.quit_action,
            ),
            "&Run": (self.start_action, self.cancel_action),
            "&Playback": (self.play_action, self.stop_action, self.ab_action),
            "&Help": (self.shortcuts_action, self.about_action),
        }
        for title, entries in menus.items():
            menu = self.menuBar().addMenu(title)
            for entry in entries:
                if entry is None:
                    menu.addSeparator()
                elif isinstance(entry, QMenu):
                    menu.addMenu(entry)
                else:
                    menu.addAction(entry)

    def _restore(self, picture: Path | None, music: Path | None) -> None:
        geometry = self.store.geometry
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        self.inputs.restore(picture, music)

    # --- inputs ---------------------------------------------------------------------------------------------------

    @Slot()
    def _on_inputs_changed(self) -> None:
        self.recent_menu.rebuild()
        self._update_device_label()
        self._update_actions()

    def recent_actions(self) -> list[QAction]:
        """The entries of File > Open Recent that open a file."""
        return self.recent_menu.file_actions()

    @Slot(list, str)
    def _on_refused(self, names: list[str], reasons: str) -> None:
        # one file: its own reason ("Refused dot.png: 1 x 1 pixels is too small..."), which is not always that it is
        # unreadable; several: their names
        lines = reasons.splitlines()
        self.statusBar().showMessage(lines[0] if len(names) == 1 and lines else f"Refused {', '.join(names)}", 8000)
        self.errors.show(reasons)  # a status-bar message alone goes unseen after a drop

    def device_text(self) -> str:
        """The device the next run uses, in words (``InputsPanel.device_text``)."""
        return self.inputs.device_text()

    def _update_device_label(self) -> None:
        self.device_label.setText(self.device_text())

    @Slot()
    def show_about(self) -> AboutBox:
        """The About box (non-blocking): version, the device runs use, the libraries' versions, the notices."""
        box = AboutBox(about_text(self.device_text()), notices_markdown(), self)
        box.open()
        return box

    def show_shortcuts(self) -> QMessageBox:
        """Help > Keyboard Shortcuts: every shortcut of the window's actions (non-blocking)."""
        return open_text_box(self, "Keyboard Shortcuts", shortcuts_html(self.actions()))

    # --- the run --------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.runner.busy

    @property
    def result(self):
        """The ``RunResult`` shown (None before the first run and while one runs)."""
        return self.results.result

    @property
    def selected(self) -> int | None:
        """The index of the selected point of ``result``."""
        return self.results.selected

    def next_settings(self) -> RunSettings:
        """The settings Start would run with now (``MossInputError`` for an impossible Advanced combination)."""
        return self.settings_factory(
            self.inputs.picture, self.inputs.music, self.inputs.quality, **self.inputs.settings_overrides()
        )

    def _update_actions(self) -> None:
        running = self.running
        settings, problem = (None, "") if running else self.inputs.check(self.next_settings)
        # a new run would replace the autosaved folder the morph export may be reading: it waits for the export
        startable = self.inputs.ready and not running and not self.exports.busy and not problem
        self.controls.set_buttons(startable, running)
        self.start_action.setEnabled(startable)
        self.cancel_action.setEnabled(running)
        for act in (self.open_picture_action, self.open_music_action, self.open_run_action, self.recent_runs_menu):
            act.setEnabled(not running)
        for act in (self.export_action, self.export_point_action, self.export_full_action, self.export_morph_action):
            act.setEnabled(self.result is not None and not running)
        self.export_morph_action.setEnabled(self.export_morph_action.isEnabled() and not self.exports.busy)
        self.inputs.set_editable(not running)
        self.results.set_running(running)
        if not running:  # the status line between runs; a run says its own
            stale = self.result is not None and is_stale(self.result.settings, settings)
            self.controls.say(between_runs_line(problem, self.inputs.ready, self._outcome, stale))

    @Slot()
    def start_run(self) -> bool:
        """Start a run on the current inputs and preset; False (with the reason shown) if it cannot start."""
        if self.running or self.exports.busy or not self.inputs.ready:
            return False
        try:
            settings = self.next_settings()
        except MossInputError:  # an impossible Advanced combination: said in place (no dialog), fields marked
            self._update_actions()
            return False
        except MossError as exc:
            self.errors.show(str(exc))
            return False
        self.results.clear(settings.audio_objective)
        self.controls.set_progress(0)
        self._outcome = ""
        self.status_bar.clear_notice()
        self._autosaved_dir = None
        self.runner.autosave_dir = autosave.new_run_dir()  # a folder of its own: the history keeps the last runs
        self.controls.say(
            f"Starting: loading the inputs ({settings.quality}, {settings.points} points, up to {settings.steps} steps)"
        )
        self.runner.start(settings)
        self._update_actions()
        return True

    @Slot()
    def cancel_run(self) -> None:
        if self.running:
            self.runner.cancel()
            self._cancelling = True  # the words stay until the run ends: later progress does not overwrite them
            self.controls.say("Cancelling: keeping the best front so far...")

    @Slot(object)
    def _on_snapshot(self, snapshot: FrontSnapshot) -> None:
        self.results.show_snapshot(snapshot)
        if not self._cancelling:
            self.controls.show_snapshot(snapshot)

    @Slot(object)
    def _on_progress(self, progress: RunProgress) -> None:
        if not self._cancelling:
            self.controls.show_progress(progress.fraction, progress.line)
            self.statusBar().clearMessage()  # the stage is said once, on the status line above

    @Slot(str, str)
    def _on_notice(self, kind: str, message: str) -> None:
        self.status_bar.show_notice(kind, message)

    @Slot(object)
    def _on_autosaved(self, folder: Path) -> None:
        self._autosaved_dir = Path(folder)
        autosave.prune(self.store.autosave_cap_mb, keep=(self._autosaved_dir, self.exports.run_dir))

    @Slot(object)
    def _on_finished(self, result) -> None:
        if self._autosaved_dir is not None:  # File > Recent Runs says which runs were cancelled
            autosave.mark(self._autosaved_dir, result.optimisation.cancelled)
        self.show_result(result)
        self.exports.adopt(self._autosaved_dir)  # the exports render from the autosave
        self._autosaved_dir = None

    def show_result(self, result) -> None:
        """Show a finished (or cancelled) run: its front, clickable, with its middle point selected."""
        self.exports.adopt(None)
        self._cancelling = False
        cancelled = result.optimisation.cancelled
        if not cancelled:  # after a cancel the bar stays where the run stopped
            self.controls.set_progress(1)
            self.statusBar().showMessage(f"Run finished ({result.device})", 5000)
        self._outcome = outcome_line(result)
        self.results.show_result(result)
        if cancelled:  # said after the selected point's line, which would replace it
            self.statusBar().showMessage(
                f"Run cancelled at step {result.optimisation.steps_done}: the best front so far is shown", 8000
            )
        self._update_actions()

    @Slot(int)
    def _on_point_shown(self, index: int) -> None:
        summary = point_summary(index, self.result.points[index])
        self.statusBar().showMessage(summary[0].upper() + summary[1:])

    @Slot(bool)
    def _on_playable(self, playable: bool) -> None:
        for act in (self.play_action, self.stop_action, self.ab_action):
            act.setEnabled(playable)

    @Slot(bool)
    def _on_export_busy(self, busy: bool) -> None:
        self.status_bar.export_busy.setVisible(busy)
        self._update_actions()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._cancelling = False
        self.controls.set_progress(0)
        self._outcome = f"Failed: {message}"
        self._update_actions()
        self.errors.show(message)

    # --- reopening a run (moss_app.run_opener) -----------------------------------------------------------------------

    @Slot()
    def choose_run(self) -> None:
        self.opener.choose()

    def open_run(self, run_dir: Path, remember: bool = True) -> bool:
        """Show the run in ``run_dir`` with its own picture, song and settings (``RunOpener.open``)."""
        return self.opener.open(run_dir, remember)

    @Slot(object, object)
    def _on_run_opened(self, result, run_dir: Path) -> None:
        self.show_result(result)
        self.exports.adopt(run_dir)  # the exports render from the run's own folder

    @Slot()
    def offer_last_run(self) -> QMessageBox | None:
        """Ask, without blocking, whether to reopen the newest autosaved run (``RunOpener.offer_last``)."""
        return self.opener.offer_last()

    @property
    def reopen_box(self) -> QMessageBox | None:
        return self.opener.reopen_box

    # --- closing --------------------------------------------------------------------------------------------------

    def shutdown(self, timeout_ms: int = 60000) -> bool:
        """Drop any run (nothing of it rendered or saved) and stop the worker thread, waiting up to ``timeout_ms``;
        True once it has stopped (idempotent: call it again to wait longer)."""
        return not self.runner.qthread.isRunning() or self.runner.shutdown(timeout_ms, abandon=True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Quit at once: a run going on is abandoned (``QUIT_WAIT_MS``).

        The decision: quitting is not cancelling. A cancel keeps the best front so far and autosaves it; a quit drops
        the run at its next check, renders and saves nothing of it (the runs autosaved before stay as they were), and
        the window closes within ``QUIT_WAIT_MS``. Should the engine still be in a long step, or writing an autosave
        (which ``io.atomic`` writes whole or not at all), the window closes anyway and the process waits for the
        worker once its event loop has ended (``aboutToQuit``), so nothing is left half-written.
        """
        self.store.geometry = self.saveGeometry()
        self.store.sync()
        self.player.close()
        if not self.shutdown(QUIT_WAIT_MS):
            log.info("the run had not stopped %d ms after quitting: the process waits for it", QUIT_WAIT_MS)
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.shutdown)
        self.exports.close()
        super().closeEvent(event)
