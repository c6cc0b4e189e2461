"""The main window: inputs and the run on the left, the live front and the selected point's views on the right."""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSlider,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from moss_engine.device import available_devices, describe, resolve_device
from moss_engine.errors import MossError, MossInputError
from moss_engine.io.atomic import write_file
from moss_engine.io.audio import probe_audio
from moss_engine.io.image import load_image
from moss_engine.reporting import NOTICE_GPU_MEMORY, FrontSnapshot
from moss_engine.run.export import render_point
from moss_engine.run.folder import write_run_folder
from moss_engine.run.morph import MORPH_FILES, write_morph
from moss_engine.run.plot import plot_front
from moss_engine.run.reader import read_run
from moss_engine.settings import PRESETS, RunSettings, make_settings

from . import autosave
from .about import about_text
from .background import BackgroundJob
from .player import Player, listening_pair
from .settings_store import SettingsStore
from .ui.advanced_panel import AdvancedPanel, explain
from .ui.drop_zone import MUSIC_SUFFIXES, PICTURE_SUFFIXES, DropZone, reason
from .ui.front_plot import FrontPlot, point_summary
from .ui.keys import SpaceForControls
from .ui.mask_view import MaskView
from .ui.placement_view import Placement, PlacementView
from .ui.spectrogram_view import SpectrogramView
from .ui.transport import TransportBar
from .worker import FrontRunner

log = logging.getLogger(__name__)

#: (image, audio, quality, **overrides) -> the run's settings; the Advanced section's changes come as keywords
#: (none when nothing was changed). Tests pass one that makes tiny runs.
SettingsFactory = Callable[..., RunSettings]

#: The Advanced fields that name the segment: a new song forgets them.
SEGMENT_FIELDS = ("start_s", "duration_s")
PRESET_HINTS = {
    "preview": "22 kHz, 8 points, up to 80 steps: a quick look (a few minutes on a CPU)",
    "standard": "44.1 kHz, 16 points, up to 300 steps: for a GPU",
    "high": "44.1 kHz, 32 points, up to 1000 steps: a fine front, slow",
}


def default_settings_factory(image: Path, audio: Path, quality: str, **overrides) -> RunSettings:
    """The app's runs: the chosen preset on the best device found, with the Advanced section's changes."""
    return make_settings(image, audio, quality=quality, **{"device": "auto", **overrides})


def _seconds(value: float) -> str:
    value = max(0.0, value)
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def _refusal(path: Path, picture_error: MossInputError, music_error: MossInputError) -> str:
    """One line on why a file dropped on the window went to neither zone: by its suffix, the reason that fits."""
    suffix = path.suffix.lower()
    if suffix in PICTURE_SUFFIXES or suffix in MUSIC_SUFFIXES:
        return f"Refused {path.name}: {reason(picture_error if suffix in PICTURE_SUFFIXES else music_error, path)}"
    return f"Refused {path.name}: neither a picture nor music MOSS can read"


class MainWindow(QMainWindow):
    """The MOSS window.

    Args:
        store: where preferences live (tests pass one over temporary QSettings).
        settings_factory: builds a run's ``RunSettings`` from the inputs and the preset.
        picture, music: files to start with (else the last ones used, else nothing).
    """

    morph_exported = Signal(object)  # Path: the morph video is complete at its destination

    def __init__(self, store: SettingsStore | None = None, settings_factory: SettingsFactory | None = None,
                 picture: Path | None = None, music: Path | None = None):
        super().__init__()
        self.store = store if store is not None else SettingsStore()
        self.settings_factory = settings_factory or default_settings_factory
        self.result = None
        self._outcome = ""  # the last run's outcome line ("Done: ...", "Failed: ..."), shown between runs
        self.selected: int | None = None
        self._error_box: QMessageBox | None = None
        self.reopen_box: QMessageBox | None = None
        self._offered_run: Path | None = None
        # a run folder that holds ``self.result`` (the autosave, the folder it was opened from or exported to), which
        # the point and morph exports render from; None until one is needed and written
        self._run_dir: Path | None = None
        self._autosaved_dir: Path | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.morph_job: BackgroundJob | None = None  # the morph video being rendered, if any
        self.setAcceptDrops(True)  # a picture and a song dropped together anywhere go to their zones
        self.setWindowTitle("MOSS: hide a picture in music")

        self.runner = FrontRunner(self)
        self.runner.snapshot.connect(self._on_snapshot)
        self.runner.progress.connect(self._on_progress)
        self.runner.notice.connect(self._on_notice)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.autosaved.connect(self._on_autosaved)
        self.runner.autosave_dir = autosave.last_run_dir()
        self.player = Player(self)
        self.player.state_changed.connect(self._on_player_state)
        self.player.position_changed.connect(self._on_player_position)
        self.player.unavailable.connect(self._update_transport)

        self._build_inputs()
        self._build_views()
        self._build_menu()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.left)
        splitter.addWidget(self.right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([300, 980])
        self.setCentralWidget(splitter)
        self.device_label = QLabel("")  # which device the next run goes to (Advanced > Device), always shown
        self.device_label.setToolTip("Where MOSS optimises: an NVIDIA GPU (CUDA), Apple Metal, or the CPU.\n"
                                     "Change it in Advanced > Device.")
        self.statusBar().addPermanentWidget(self.device_label)
        self.gpu_notice = QLabel("")  # stays, unlike the progress messages: the run went on in smaller chunks or CPU
        self.gpu_notice.setStyleSheet("color: #d9534f;")
        self.gpu_notice.hide()
        self.statusBar().addPermanentWidget(self.gpu_notice)
        self.morph_busy = QProgressBar()  # a busy bar while the morph video renders off the GUI thread
        self.morph_busy.setRange(0, 0)
        self.morph_busy.setMaximumWidth(120)
        self.morph_busy.setToolTip("Rendering the morph video")
        self.morph_busy.hide()
        self.statusBar().addPermanentWidget(self.morph_busy)

        self.space_guard = SpaceForControls(self)  # Space plays, but a focused button or list keeps its Space
        self._restore(picture, music)
        self._rebuild_recent_menu()
        self._update_device_label()
        self._update_actions()
        QTimer.singleShot(0, self, self.offer_last_run)  # once the window is up: the question is about it

    # --- building -------------------------------------------------------------------------------------------------

    def _build_inputs(self) -> None:
        self.picture_zone = DropZone("picture")
        # the music's spectrogram, the whole song, with the rectangle the picture goes into: its span is the Advanced
        # segment (start, length), its height the band (F0, F1); those four fields are the one source of truth
        self.placement_view = PlacementView()
        self.placement_view.placement_changed.connect(self._on_placement)
        self.placement_view.reset_requested.connect(self._on_placement_reset)
        self.music_zone = DropZone("music", preview=self.placement_view)
        self.picture_zone.file_changed.connect(self._on_picture)
        self.music_zone.file_changed.connect(self._on_music)

        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(name.capitalize(), name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, PRESET_HINTS.get(name, ""),
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip("How fine the front is, and so how long the run takes")
        self.preset_combo.currentIndexChanged.connect(self._on_preset)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Compute the front of trade-offs between music and picture (Ctrl+Return)")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now and keep the best front so far (Esc)")
        self.cancel_button.clicked.connect(self.cancel_run)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.status_label = QLabel("Ready: press Start")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip(
            "HV (hypervolume): how much of the loss plane the front dominates, measured against\n"
            "the song and the picture alone. It grows as the front improves; it compares runs\n"
            "of the same picture and song, not different ones. ETA is an upper bound: runs\n"
            "stop early once the front stops improving.")

        form = QFormLayout()
        form.addRow("Quality", self.preset_combo)
        self.advanced = AdvancedPanel(available_devices())
        self.advanced.overrides_changed.connect(self._on_overrides)
        # opened: scroll it into sight (its fields below the toggle, as many as fit)
        self.advanced.toggle.toggled.connect(
            lambda on: on and QTimer.singleShot(0, self, lambda: self.inputs_scroll.ensureWidgetVisible(self.advanced)))

        # the inputs scroll (Advanced open is taller than a 800 px screen); Start and the status stay in sight below
        inputs = QWidget()
        inputs_layout = QVBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        inputs_layout.addWidget(self.picture_zone)
        inputs_layout.addWidget(self.music_zone)
        inputs_layout.addLayout(form)
        inputs_layout.addWidget(self.advanced)
        inputs_layout.addStretch(1)
        self.inputs_scroll = QScrollArea()
        self.inputs_scroll.setWidget(inputs)
        self.inputs_scroll.setWidgetResizable(True)
        self.inputs_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.inputs_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.left = QWidget()
        self.left.setMinimumWidth(260)
        self.left.setMaximumWidth(380)
        layout = QVBoxLayout(self.left)
        layout.addWidget(self.inputs_scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)

    def _build_views(self) -> None:
        self.front_plot = FrontPlot()
        self.front_plot.point_selected.connect(self.select_point)
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal)
        self.alpha_slider.setRange(0, 100)
        self.alpha_slider.setToolTip("alpha: 0 is the music, 1 the clearest picture the run found; the slider picks "
                                     "the front point nearest to it")
        self.alpha_slider.valueChanged.connect(self._on_alpha)
        self.alpha_slider.actionTriggered.connect(self._on_alpha_step)
        self._stepping_to: int | None = None  # the point an arrow press on the slider goes to
        self.alpha_label = QLabel("alpha -")
        self.alpha_label.setMinimumWidth(150)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("music"))
        slider_row.addWidget(self.alpha_slider, 1)
        slider_row.addWidget(QLabel("picture"))
        slider_row.addWidget(self.alpha_label)

        self.mask_view = MaskView()
        self.spectrogram_view = SpectrogramView()
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.mask_view)
        bottom.addWidget(self.spectrogram_view)
        bottom.setSizes([330, 650])
        self.transport = TransportBar()
        self.transport.play_pause_clicked.connect(self.player.toggle)
        self.transport.stop_clicked.connect(self.player.stop)
        self.transport.ab_toggled.connect(self._on_ab)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(bottom, 1)
        lower_layout.addWidget(self.transport)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.front_plot, 1)
        top_layout.addLayout(slider_row)

        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(top)
        self.right.addWidget(lower)
        self.right.setSizes([430, 330])

    def _build_menu(self) -> None:
        def action(text: str, slot, shortcut=None, tip: str = "") -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.addAction(act)  # shortcuts work even where the menu bar is hidden
            return act

        self.open_picture_action = action("Open &Picture...", self.picture_zone.choose_file,
                                          QKeySequence.StandardKey.Open)
        self.open_music_action = action("Open &Music...", self.music_zone.choose_file, "Ctrl+Alt+O")
        self.open_run_action = action("Open R&un...", self.choose_run, "Ctrl+Shift+O",
                                      "Reopen a run folder: its front, masks and audio")
        self.play_action = action("&Play/Pause", self.player.toggle, "Space", "Play or pause the selected point")
        self.stop_action = action("&Stop", self.player.stop, "Shift+Space", "Stop and go back to the start")
        self.ab_action = action("&A/B: Original", lambda: self.transport.ab_button.toggle(), "A",
                                "Switch between the point and the original music at the same loudness")
        self.export_action = action("&Export Run Folder...", self.choose_export, "Ctrl+E",
                                    "Write the front (WAV per point, masks, manifest, plot) to a folder")
        self.export_point_action = action("Export P&oint...", self.choose_export_point, "Ctrl+Shift+E",
                                          "Write the selected point's audio as a WAV or FLAC file")
        self.export_morph_action = action("Export Morp&h Video...", self.choose_export_morph, None,
                                          "A video that glides along the front from the music to the picture")
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.start_action = action("&Start", self.start_run, "Ctrl+Return")
        self.cancel_action = action("&Cancel", self.cancel_run, "Esc")
        file_menu = self.menuBar().addMenu("&File")
        self.recent_menu = QMenu("Open Re&cent", self)
        for act in (self.open_picture_action, self.open_music_action, self.recent_menu, self.open_run_action, None,
                    self.export_action, self.export_point_action, self.export_morph_action, None, self.quit_action):
            if act is None:
                file_menu.addSeparator()
            elif isinstance(act, QMenu):
                file_menu.addMenu(act)
            else:
                file_menu.addAction(act)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addAction(self.start_action)
        run_menu.addAction(self.cancel_action)
        playback_menu = self.menuBar().addMenu("&Playback")
        for act in (self.play_action, self.stop_action, self.ab_action):
            playback_menu.addAction(act)
        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = action("&About MOSS", self.show_about)
        help_menu.addAction(self.about_action)

    def _restore(self, picture: Path | None, music: Path | None) -> None:
        geometry = self.store.geometry
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        preset = self.store.preset or ("preview" if available_devices()[0] == "cpu" else "standard")
        index = self.preset_combo.findData(preset)
        self.preset_combo.setCurrentIndex(max(0, index))
        self.advanced.set_preset(self.preset_combo.currentData())
        self.advanced.set_overrides(self.store.advanced_overrides)
        for zone, given, last in ((self.picture_zone, picture, self.store.last_picture),
                                  (self.music_zone, music, self.store.last_music)):
            for candidate in (given, last):
                if candidate is not None and zone.set_file(candidate, notify=False):
                    break
        self._update_placement_view()

    # --- inputs ---------------------------------------------------------------------------------------------------

    @Slot(object)
    def _on_picture(self, path: Path) -> None:
        self.store.last_picture = path
        self.store.add_recent("picture", path)
        self._rebuild_recent_menu()
        self._update_actions()

    @Slot(object)
    def _on_music(self, path: Path) -> None:
        # a segment chosen in another song means nothing in this one (the band still does)
        overrides = {k: v for k, v in self.advanced.overrides().items() if k not in SEGMENT_FIELDS}
        if overrides != self.advanced.overrides():
            self.advanced.set_overrides(overrides)
            self.store.advanced_overrides = overrides
        self._update_placement_view()
        self.store.last_music = path
        self.store.add_recent("music", path)
        self._rebuild_recent_menu()
        self._update_actions()

    def _rebuild_recent_menu(self) -> None:
        """File > Open Recent: the last pictures, then the last songs, newest first."""
        self.recent_menu.clear()
        for kind, zone in (("picture", self.picture_zone), ("music", self.music_zone)):
            paths = self.store.recent(kind)
            if paths and not self.recent_menu.isEmpty():
                self.recent_menu.addSeparator()
            for path in paths:
                act = self.recent_menu.addAction(path.name)
                act.setToolTip(str(path))
                act.setStatusTip(str(path))
                act.setData((kind, str(path)))
                act.triggered.connect(lambda _checked=False, z=zone, p=path: z.set_file(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def recent_actions(self) -> list[QAction]:
        """The entries of File > Open Recent that open a file."""
        return [a for a in self.recent_menu.actions() if a.data()]

    @staticmethod
    def _local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [Path(u.toLocalFile()) for u in urls if u.isLocalFile()] if all(u.isLocalFile() for u in urls) else []

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        # what the zones refuse (two files at once) reaches the window
        if self._local_files(event) and not self.running:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = self._local_files(event)
        if not paths or self.running:
            event.ignore()
            return
        event.acceptProposedAction()
        self.route_files(paths)

    def route_files(self, paths: list[Path]) -> list[str]:
        """Give each file to the zone it fits: a picture if the engine reads it as one, else music if it reads it as
        audio; returns the zone each went to ("picture", "music" or "" when neither), said in the status bar."""
        routed: list[str] = []
        reasons: list[str] = []
        for path in paths:
            kind = ""
            try:
                load_image(path)
                kind = "picture"
            except MossInputError as picture_error:
                try:
                    probe_audio(path)
                    kind = "music"
                except MossInputError as music_error:
                    reasons.append(_refusal(path, picture_error, music_error))
            zone = {"picture": self.picture_zone, "music": self.music_zone}.get(kind)
            if zone is not None and not zone.set_file(path):
                reasons.append(zone.error)
                kind = ""
            routed.append(kind)
        refused = [p.name for p, k in zip(paths, routed, strict=True) if not k]
        if refused:
            self.statusBar().showMessage(f"Neither a picture nor music MOSS can read: {', '.join(refused)}", 8000)
            self._show_error("\n".join(reasons))  # a status-bar message alone goes unseen after a drop
        return routed

    @Slot(int)
    def _on_preset(self, _index: int) -> None:
        self.store.preset = self.preset_combo.currentData()
        self.advanced.set_preset(self.preset_combo.currentData())
        self._update_placement_view()
        self._update_actions()

    @Slot(dict)
    def _on_overrides(self, overrides: dict) -> None:
        self.store.advanced_overrides = overrides
        self._update_placement_view()
        self._update_device_label()
        self._update_actions()

    def device_text(self) -> str:
        """The device the next run uses, in words (``GPU: NVIDIA H100 (cuda:0)``, ``CPU (8 threads)``)."""
        try:
            device = resolve_device(str(self.advanced.value("device")))
        except MossError as exc:
            return f"Device unavailable: {exc}"
        return describe(device, for_people=True)

    def _update_device_label(self) -> None:
        self.device_label.setText(self.device_text())

    @Slot()
    def show_about(self) -> QMessageBox:
        """The About box: version, the device runs use, the libraries' versions, the licence notices' place."""
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About MOSS", about_text(self.device_text()),
                          QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _update_placement_view(self) -> None:
        """Draw the rectangle where the Advanced segment and band put it."""
        value = self.advanced.value
        self.placement_view.set_placement(Placement(float(value("start_s")), float(value("duration_s")),
                                                    float(value("f0_hz")), float(value("f1_hz"))))

    @Slot(object)
    def _on_placement(self, placement: Placement) -> None:
        """The user moved or drew the rectangle: it becomes the Advanced segment and band overrides."""
        overrides = self.advanced.overrides()
        overrides.update(start_s=placement.start_s, duration_s=placement.duration_s, f0_hz=placement.f0_hz,
                         f1_hz=placement.f1_hz)
        self.advanced.set_overrides(overrides)
        self.store.advanced_overrides = self.advanced.overrides()

    @Slot()
    def _on_placement_reset(self) -> None:
        """Double-click on the song: back to the preset's segment and band (other Advanced changes stay)."""
        overrides = {k: v for k, v in self.advanced.overrides().items() if k not in (*SEGMENT_FIELDS, "f0_hz", "f1_hz")}
        self.advanced.set_overrides(overrides)
        self.store.advanced_overrides = overrides
        self._update_placement_view()

    # --- the run --------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.runner.busy

    def next_settings(self) -> RunSettings:
        """The settings Start would run with now (``MossInputError`` for an impossible Advanced combination)."""
        return self.settings_factory(self.picture_zone.path, self.music_zone.path, self.preset_combo.currentData(),
                                     **self.advanced.settings_overrides())

    def _check_settings(self) -> tuple[RunSettings | None, str]:
        """The settings Start would use (None when they cannot be made) and why they cannot, in words ("" if they
        can; the fields at fault marked). Checked on every change, so the message comes before Start and goes once
        the value is fixed."""
        settings, problem, fields = None, "", ()
        if self.picture_zone.path is not None and self.music_zone.path is not None:
            try:
                settings = self.next_settings()
            except MossInputError as exc:
                problem, fields = explain(exc)
            except MossError:
                pass  # said when Start is pressed
        self.advanced.mark_invalid(fields)
        return settings, problem

    def _refresh_status(self, settings: RunSettings | None, problem: str) -> None:
        """The status line between runs: what is missing or wrong, else the last run's outcome, else ready."""
        if self.running:
            return
        if problem:
            text = f"Cannot start: {problem[0].upper()}{problem[1:]}."
        elif self.picture_zone.path is None or self.music_zone.path is None:
            text = "Choose a picture and a song: drop them on the window, or File > Open"
        elif self.result is not None and self._result_is_stale(settings):
            text = f"{self._outcome}  ·  from the earlier inputs: press Start for the new ones"
        else:
            text = self._outcome or "Ready: press Start"
        self.status_label.setText(text)

    def _result_is_stale(self, now: RunSettings | None) -> bool:
        """Whether the result shown was made from other inputs or placement than ``now`` (Start's settings)."""
        if now is None:
            return True
        then = self.result.settings
        same_files = all(Path(a).resolve() == Path(b).resolve()
                         for a, b in ((then.image, now.image), (then.audio, now.audio)))
        keys = ("start_s", "duration_s", "freq", "sample_rate", "freq_scale", "db_range")
        return not same_files or any(getattr(then, k) != getattr(now, k) for k in keys)

    def _update_actions(self) -> None:
        ready = self.picture_zone.path is not None and self.music_zone.path is not None
        running = self.running
        settings, problem = (None, "") if running else self._check_settings()
        # a new run would replace the autosaved folder the morph export may be reading: it waits for the export
        startable = ready and not running and self.morph_job is None and not problem
        self.start_button.setEnabled(startable)
        self.start_action.setEnabled(startable)
        self.cancel_button.setEnabled(running)
        self.cancel_action.setEnabled(running)
        for act in (self.export_action, self.export_point_action, self.export_morph_action):
            act.setEnabled(self.result is not None and not running)
        self.export_morph_action.setEnabled(self.export_morph_action.isEnabled() and self.morph_job is None)
        for widget in (self.picture_zone, self.music_zone, self.placement_view, self.preset_combo, self.advanced,
                       self.open_picture_action,
                       self.open_music_action, self.open_run_action):
            widget.setEnabled(not running)
        self.alpha_slider.setEnabled(self.result is not None and not running)
        self._update_transport()
        self._refresh_status(settings, problem)

    @Slot()
    def start_run(self) -> bool:
        """Start a run on the current inputs and preset; False (with the reason shown) if it cannot start."""
        if self.running or self.morph_job is not None or self.picture_zone.path is None or self.music_zone.path is None:
            return False
        try:
            settings = self.next_settings()
        except MossInputError:  # an impossible Advanced combination: said in place (no dialog), fields marked
            self._update_actions()
            return False
        except MossError as exc:
            self._show_error(str(exc))
            return False
        self.player.stop()
        self.player.set_audio(None, 1)
        self.result, self.selected = None, None
        self.front_plot.clear_front(settings.audio_objective)
        self.mask_view.clear_mask()
        self.spectrogram_view.clear_view()
        self.alpha_label.setText("alpha -")
        self.alpha_slider.blockSignals(True)
        self.alpha_slider.setValue(0)
        self.alpha_slider.blockSignals(False)
        self.progress_bar.setValue(0)
        self._outcome = ""
        self.gpu_notice.hide()
        self._autosaved_dir = None
        self.status_label.setText(f"Starting: loading the inputs ({settings.quality}, {settings.points} points, "
                                  f"up to {settings.steps} steps)")
        self.runner.start(settings)
        self._update_actions()
        return True

    @Slot()
    def cancel_run(self) -> None:
        if self.running:
            self.runner.cancel()
            self.status_label.setText("Cancelling: keeping the best front so far...")

    @Slot(object)
    def _on_snapshot(self, snapshot: FrontSnapshot) -> None:
        self.front_plot.show_snapshot(snapshot)
        rate = snapshot.step / snapshot.elapsed_s if snapshot.elapsed_s > 0 else 0.0
        parts = [f"step {snapshot.step}/{snapshot.steps}", f"HV {snapshot.hypervolume:.3f}"]
        if rate > 0:
            parts.append(f"{rate:.2f} steps/s")
            parts.append(f"ETA ≤ {_seconds((snapshot.steps - snapshot.step) / rate)}")
        # each part whole on its line ("ETA" and "≤ 1 s" were wrapped apart in the narrow column)
        self.status_label.setText("  ·  ".join(part.replace(" ", "\u00a0") for part in parts))
        self.progress_bar.setValue(int(1000 * snapshot.step / max(1, snapshot.steps)))

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(int(1000 * fraction))
        self.statusBar().showMessage(message)

    @Slot(str, str)
    def _on_notice(self, kind: str, message: str) -> None:
        """A notice that stays for the rest of the run, shown under the progress bar."""
        self.gpu_notice.setText(message[0].upper() + message[1:])
        if kind == NOTICE_GPU_MEMORY:
            self.gpu_notice.setToolTip("The GPU ran out of memory: the run goes on in smaller chunks (then on the "
                                       "CPU), slower but with the same result")
        self.gpu_notice.show()

    @Slot(object)
    def _on_autosaved(self, folder: Path) -> None:
        self._autosaved_dir = Path(folder)

    @Slot(object)
    def _on_finished(self, result) -> None:
        self.show_result(result)
        self._run_dir, self._autosaved_dir = self._autosaved_dir, None

    def show_result(self, result) -> None:
        """Show a finished (or cancelled) run: its front, clickable, with its middle point selected."""
        self.result = result
        self._run_dir = None
        opt = result.optimisation
        self.progress_bar.setValue(1000)
        how = "Cancelled, best front so far" if opt.cancelled else (
            "Converged early" if opt.stopped_early else "Done")
        count = f"{len(result.points)} points"
        if len(result.points) < result.settings.points:  # near-duplicates and beaten points are not offered twice
            count = f"{len(result.points)} of {result.settings.points} points (the others were duplicates or beaten)"
        steps = f"{opt.steps_done} step{'s' if opt.steps_done != 1 else ''}"
        self._outcome = (f"{how}: {count} after {steps} in {_seconds(opt.elapsed_s)}"
                         f"  ·  HV\u00a0{result.hypervolume:.3f}")
        self.statusBar().showMessage(f"Run finished ({result.device})", 5000)
        self.front_plot.show_result(result)
        self._update_actions()
        if result.points:
            self.select_point(len(result.points) // 2)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.progress_bar.setValue(0)
        self._outcome = f"Failed: {message}"
        self._update_actions()
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        """One non-blocking error dialog at a time: a second error replaces the text of the open one."""
        if self._error_box is not None and self._error_box.isVisible():
            self._error_box.setText(message)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "MOSS", message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget_error_box)
        self._error_box = box
        box.open()

    @Slot()
    def _forget_error_box(self) -> None:
        self._error_box = None

    # --- exploring ------------------------------------------------------------------------------------------------

    @Slot(int)
    def select_point(self, index: int) -> None:
        """Show point ``index`` of the finished front: ring it, its mask, its spectrogram, and the slider's alpha."""
        if self.result is None or not 0 <= index < len(self.result.points):
            return
        self.selected = index
        point = self.result.points[index]
        s = self.result.settings
        self.front_plot.set_selected(index)
        self.mask_view.show_mask(point.logits)
        self.spectrogram_view.show_audio(point.samples, self.result.sample_rate, s.n_fft, s.hop_length, s.db_range,
                                         s.freq_scale, self.result.placement)
        self.alpha_slider.blockSignals(True)
        self.alpha_slider.setValue(round(100 * float(np.clip(point.alpha, 0, 1))))
        self.alpha_slider.blockSignals(False)
        figures = [f"alpha {point.alpha:.2f}", f"point {index + 1}/{len(self.result.points)}",
                   "sounds like: not measured" if point.mos is None else f"sounds like {point.mos:.1f}/5"]
        if point.loudness_lu is not None:
            figures.append(f"{point.loudness_lu:+.1f} LU")
        self.alpha_label.setText("  ·  ".join(figures))
        summary = point_summary(index, point)
        self.statusBar().showMessage(summary[0].upper() + summary[1:])
        self._load_player(keep_position=True)

    @Slot(int)
    def _on_alpha_step(self, action: int) -> None:
        """An arrow or page key on the slider: the neighbouring point, not 0.01 of alpha (often the same point)."""
        step = {QAbstractSlider.SliderAction.SliderSingleStepAdd.value: 1,
                QAbstractSlider.SliderAction.SliderPageStepAdd.value: 1,
                QAbstractSlider.SliderAction.SliderSingleStepSub.value: -1,
                QAbstractSlider.SliderAction.SliderPageStepSub.value: -1}.get(int(action))
        if step is None or self.result is None or not self.result.points or self.selected is None:
            return
        target = min(len(self.result.points) - 1, max(0, self.selected + step))
        self._stepping_to = target
        # the slider applies this position after the signal (Qt's documented way to change an action's outcome)
        self.alpha_slider.setSliderPosition(round(100 * float(np.clip(self.result.points[target].alpha, 0, 1))))
        if self.alpha_slider.sliderPosition() == self.alpha_slider.value():  # no change: no valueChanged follows
            self._stepping_to = None
            self.select_point(target)

    @Slot(int)
    def _on_alpha(self, value: int) -> None:
        if self.result is None or not self.result.points:
            return
        if self._stepping_to is not None:
            target, self._stepping_to = self._stepping_to, None
            if target != self.selected:
                self.select_point(target)
            return
        alphas = np.array([p.alpha for p in self.result.points])
        nearest = int(np.argmin(np.abs(alphas - value / 100)))
        if nearest != self.selected:
            self.select_point(nearest)

    # --- listening ------------------------------------------------------------------------------------------------

    def playback_audio(self) -> np.ndarray | None:
        """What Play plays now: the selected point at the song's level, or (A/B on) the original at its loudness.

        See ``listening_pair``: both at the song's level, and only a pair that would clip is turned down.
        """
        if self.result is None or self.selected is None:
            return None
        point, original = listening_pair(self.result.points[self.selected].samples, self.result.reference)
        return original if self.transport.ab_button.isChecked() else point

    def _load_player(self, keep_position: bool) -> None:
        audio = self.playback_audio()
        self.player.set_audio(audio, self.result.sample_rate if audio is not None else 1, keep_position)
        self._update_transport()

    @Slot(bool)
    def _on_ab(self, _original: bool) -> None:
        # same place in the song, so A/B compares the same bar of music
        self._load_player(keep_position=True)

    @Slot()
    def _update_transport(self, *_args) -> None:
        has_audio = self.player.has_audio and not self.running
        self.transport.set_enabled(self.player.available and has_audio,
                                   self.player.unavailable_reason if not self.player.available else "")
        for act in (self.play_action, self.stop_action, self.ab_action):
            act.setEnabled(self.player.available and has_audio)
        self.transport.set_time(self.player.position_s, self.player.duration_s)

    @Slot(str)
    def _on_player_state(self, state: str) -> None:
        self.transport.set_state(state)
        if state == "stopped":
            self.spectrogram_view.set_playhead(None)

    @Slot(float)
    def _on_player_position(self, seconds: float) -> None:
        if self.player.state != "stopped":
            self.spectrogram_view.set_playhead(seconds)
        self.transport.set_time(seconds, self.player.duration_s)

    # --- reopening a run ------------------------------------------------------------------------------------------

    @Slot()
    def choose_run(self) -> None:
        start = str(self.store.last_run_dir or Path.home())
        name = QFileDialog.getExistingDirectory(self, "Open run folder", start)
        if name:
            self.open_run(Path(name))

    def open_run(self, run_dir: Path, remember: bool = True) -> bool:
        """Show the run stored in ``run_dir``; a foreign or damaged folder shows a dialog and changes nothing.

        ``remember``: File > Open Run starts in its folder next time (not for the autosave offered back).
        """
        if self.running:
            return False
        try:
            result = read_run(run_dir)  # everything is read before anything on screen changes
        except MossError as exc:
            self._show_error(str(exc))
            return False
        if remember:
            self.store.last_run_dir = Path(run_dir).parent
        self.player.stop()
        self.selected = None
        self.show_result(result)
        self._run_dir = Path(run_dir)
        self.statusBar().showMessage(f"Opened {run_dir}", 8000)
        return True

    @Slot()
    def offer_last_run(self) -> QMessageBox | None:
        """Ask, without blocking, whether to reopen the autosaved run (when there is one and nothing is shown)."""
        saved = autosave.saved_run()
        if saved is None or self.result is not None or self.running:
            return None
        folder, written = saved
        box = QMessageBox(QMessageBox.Icon.Question, "MOSS", f"Reopen your last run from {written:%d %b %Y, %H:%M}?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.finished.connect(self._on_reopen_answer)
        self.reopen_box, self._offered_run = box, folder
        box.open()
        return box

    @Slot(int)
    def _on_reopen_answer(self, _result: int) -> None:
        box, self.reopen_box = self.reopen_box, None
        if box is None:
            return
        yes = box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes
        box.deleteLater()
        if yes:
            self.open_run(self._offered_run, remember=False)

    # --- export ---------------------------------------------------------------------------------------------------

    @Slot()
    def choose_export(self) -> None:
        """Ask for a folder name, ask before replacing an earlier run, then export."""
        if self.result is None:
            return
        base = self.picture_zone.path.parent if self.picture_zone.path is not None else Path.home()
        proposed = base / f"moss-run-{_dt.datetime.now():%Y%m%d-%H%M%S}"
        name, _ = QFileDialog.getSaveFileName(self, "Export run folder", str(proposed), "Run folder (*)")
        if not name:
            return
        out = Path(name)
        overwrite = False
        if out.exists():
            answer = QMessageBox.question(self, "MOSS", f"{out.name} already exists. Replace it?\n(MOSS only "
                                          "replaces its own run folders.)")
            if answer != QMessageBox.StandardButton.Yes:
                return
            overwrite = True
        self.export_run(out, overwrite)

    def export_run(self, out: Path, overwrite: bool = False) -> Path | None:
        """Write the finished run to ``out`` (the engine's atomic run folder); errors go to one dialog."""
        if self.result is None:
            return None
        try:
            written = write_run_folder(self.result, Path(out), overwrite=overwrite, plot=plot_front)
        except MossError as exc:
            self._show_error(str(exc))
            return None
        except OSError as exc:
            self._show_error(f"could not write {out}: {exc.strerror or exc}")
            return None
        self.statusBar().showMessage(f"Exported to {written}", 8000)
        self._run_dir = written
        return written

    def _ensure_run_dir(self) -> Path:
        """A run folder holding ``self.result``: the one known, else a new one in a temporary folder."""
        if self._run_dir is not None and (self._run_dir / "manifest.json").is_file():
            return self._run_dir
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="moss-app-")
        self._run_dir = write_run_folder(self.result, Path(self._scratch.name) / f"run-{id(self.result)}",
                                         overwrite=True, plot=plot_front, replaceable=MORPH_FILES)
        return self._run_dir

    def _ask_overwrite(self, out: Path) -> bool:
        if not out.exists():
            return True
        answer = QMessageBox.question(self, "MOSS", f"{out.name} already exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def choose_export_point(self) -> None:
        """Ask for a WAV or FLAC file name (and before replacing a file), then export the selected point."""
        if self.result is None or self.selected is None:
            return
        base = self.picture_zone.path.parent if self.picture_zone.path is not None else Path.home()
        proposed = base / f"moss-point-{self.selected + 1}.wav"
        name, chosen = QFileDialog.getSaveFileName(self, "Export point", str(proposed), "WAV (*.wav);;FLAC (*.flac)",
                                                   options=QFileDialog.Option.DontConfirmOverwrite)
        if not name:
            return
        out = Path(name)
        if out.suffix.lower() not in (".wav", ".flac"):
            out = out.with_suffix(".flac" if "FLAC" in chosen else ".wav")
        if self._ask_overwrite(out):
            self.export_point(out, overwrite=True)

    def export_point(self, out: Path, fmt: str | None = None, overwrite: bool = False) -> Path | None:
        """Write the selected point's audio to ``out`` (format from ``fmt`` or the suffix); errors go to one dialog."""
        if self.result is None or self.selected is None:
            return None
        try:
            rendered = render_point(self._ensure_run_dir(), self.selected, fmt=fmt, out=Path(out), overwrite=overwrite)
        except MossError as exc:
            self._show_error(str(exc))
            return None
        except OSError as exc:
            self._show_error(f"could not write {out}: {exc.strerror or exc}")
            return None
        self.statusBar().showMessage(f"Exported point {self.selected + 1} to {rendered.path}", 8000)
        return Path(rendered.path)

    @Slot()
    def choose_export_morph(self) -> None:
        """Ask for an .mp4 name (and before replacing a file), then export the morph video."""
        if self.result is None:
            return
        base = self.picture_zone.path.parent if self.picture_zone.path is not None else Path.home()
        name, _ = QFileDialog.getSaveFileName(self, "Export morph video", str(base / "moss-morph.mp4"),
                                              "Video (*.mp4)", options=QFileDialog.Option.DontConfirmOverwrite)
        if not name:
            return
        out = Path(name).with_suffix(".mp4")
        if self._ask_overwrite(out):
            self.export_morph(out)

    def export_morph(self, out: Path) -> BackgroundJob | None:
        """Render the morph video off the GUI thread and copy it to ``out`` whole (temporary file, then rename).

        Returns the running job (``morph_exported(Path)`` or one error dialog follow), or None when there is nothing
        to export or a morph export is already running. ``out`` is only replaced once the video is complete.
        """
        if self.result is None or self.morph_job is not None:
            return None
        out = Path(out)
        try:
            run_dir = self._ensure_run_dir()
        except MossError as exc:
            self._show_error(str(exc))
            return None
        except OSError as exc:
            self._show_error(f"could not prepare the run folder: {exc.strerror or exc}")
            return None

        def work() -> Path:
            write_morph(run_dir, overwrite=True)
            write_file(out, lambda tmp: shutil.copyfile(run_dir / "morph.mp4", tmp))
            return out

        self.morph_job = BackgroundJob(work, target=out, parent=self)
        self.morph_job.done.connect(self._on_morph_done)
        self.morph_job.failed.connect(self._on_morph_failed)
        self.morph_busy.show()
        self.statusBar().showMessage("Rendering the morph video...")
        self._update_actions()
        return self.morph_job.start()

    def _end_morph_job(self) -> None:
        self.morph_job = None
        self.morph_busy.hide()
        self._update_actions()

    def _on_morph_done(self, out: Path) -> None:
        self._end_morph_job()
        self.statusBar().showMessage(f"Exported the morph video to {out}", 8000)
        self.morph_exported.emit(out)

    def _on_morph_failed(self, message: str) -> None:
        self._end_morph_job()
        self.statusBar().clearMessage()
        self._show_error(message)

    # --- closing --------------------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel any run and stop the worker thread, waiting for it (idempotent)."""
        if self.runner.qthread.isRunning() and not self.runner.shutdown():
            log.warning("the worker thread did not stop in time")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.store.geometry = self.saveGeometry()
        self.store.sync()
        self.player.close()
        self.shutdown()
        if self.morph_job is not None and not self.morph_job.wait(60):
            log.warning("the morph export did not finish in time")
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        super().closeEvent(event)
