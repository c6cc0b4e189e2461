"""What the next run is made of: the picture with its controls, the song with the picture's place in it, the quality
and the Advanced section, kept in step with each other and remembered between sessions.

Every change (a file, the preset, an Advanced field, the rectangle, the picture's controls) is checked again at once,
both ways: a problem shows (its text, the field's red outline, Start greyed) as soon as it is made, and goes as soon as
it is fixed. A refusal message in a drop zone answers one action and goes with the next one: a file accepted, a click
on the zone, or any change to the inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QComboBox, QFormLayout, QFrame, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from moss_engine.device import available_devices, describe, resolve_device
from moss_engine.errors import MossError, MossInputError
from moss_engine.io.audio import probe_audio
from moss_engine.io.codec import codec
from moss_engine.io.image import load_image
from moss_engine.options import MIN_SEGMENT_S, PRESETS, PUBLISH
from moss_engine.run.publish import check_publish_band
from moss_engine.settings import RunSettings, check_song_band, lowered_band_note

from ..preset_times import expected_time
from .advanced_panel import SEGMENT, AdvancedPanel, explain, narrow_combo
from .drop_zone import MUSIC_SUFFIXES, PICTURE_SUFFIXES, DropZone, reason
from .picture_controls import DEFAULTS as PICTURE_DEFAULTS
from .picture_controls import PictureControls, PicturePreview
from .placement_view import DrawnPlacement, PlacementView
from .steady_label import SteadyLabel
from .wheel_guard import WheelGuard, guard_wheel

if TYPE_CHECKING:
    from ..settings_store import SettingsStore

#: The Advanced fields that name the segment: a new song forgets them.
SEGMENT_FIELDS = SEGMENT
#: The Advanced fields the placement rectangle shows (the segment and the band).
PLACEMENT_FIELDS = (*SEGMENT_FIELDS, "f0_hz", "f1_hz")
#: What each preset is; its expected time on this machine (``moss_app.preset_times``) is added to it.
#: The thinnest band a clamp leaves (Hz): a band moved under a lower limit keeps at least this much height.
MIN_BAND_HZ = 1000.0
#: The song's view stays this tall at most, so that at 1280x800 the picture, its controls, the song, the quality with
#: its hint, "Publish as" and the Advanced toggle are all in sight with Advanced closed (pyqtgraph's own size hint,
#: 480 px, pushed the quality out of sight; at 240 px the hint's second line was cut at the column's bottom; 192 px
#: until "Publish as" took a row of 30 px). The column keeps its preferred height (a wrapped label gives it
#: height-for-width), so the view keeps this height and a refusal shown above it makes the column scroll rather than
#: the view jump.
PLACEMENT_MAX_HEIGHT = 162
PRESET_HINTS = {
    "preview": "22 kHz, 8 points, up to 80 steps: a quick look",
    "standard": "44.1 kHz, 16 points, up to 300 steps: made for a GPU",
    "high": "44.1 kHz, 32 points, up to 1000 steps: a fine front",
}
#: "Publish as": each of the engine's ``PUBLISH`` values as users name it.
PUBLISH_NAMES = {name: "Lossless (WAV, FLAC)" if name == "lossless" else codec(name).label for name in PUBLISH}
PUBLISH_TIP = (
    "Where the result will be published. With a codec, the front is made so that a spectrogram viewer\n"
    "still shows the picture after that codec, and its points are chosen on what the real codec leaves\n"
    "(the picture as a viewer shows it, the sound as a listener hears it). The files written stay lossless.\n"
    "The amber line on the song is the highest frequency the codec keeps: the band must stay under it."
)


def _refusal(path: Path, picture_error: MossInputError, music_error: MossInputError) -> str:
    """One line on why a file dropped on the window went to neither zone: by its suffix, the reason that fits."""
    suffix = path.suffix.lower()
    if suffix in PICTURE_SUFFIXES or suffix in MUSIC_SUFFIXES:
        return f"Refused {path.name}: {reason(picture_error if suffix in PICTURE_SUFFIXES else music_error, path)}"
    return f"Refused {path.name}: neither a picture nor music MOSS can read"


def local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """The files a drag brings, or none when it brings anything that is not a local file."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile()] if all(u.isLocalFile() for u in urls) else []


def _kind_of(path: Path) -> tuple[str, str]:
    """("picture" or "music", "") if the engine reads ``path`` as one (a picture first), else ("", why not)."""
    try:
        load_image(path)
        return "picture", ""
    except MossInputError as picture_error:
        try:
            probe_audio(path)
            return "music", ""
        except MossInputError as music_error:
            return "", _refusal(path, picture_error, music_error)


def _same_file(a: Path | None, b: Path | None) -> bool:
    """Whether ``a`` and ``b`` name the same file (False when either is None or cannot be resolved)."""
    if a is None or b is None:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


class InputsPanel(QWidget):
    """The picture and music drop zones (the music's with the placement view), the quality preset and the Advanced
    section, in a column that scrolls when Advanced is taller than the screen.

    The placement rectangle and the Advanced segment and band fields are two views of the same four numbers (the
    fields hold them); a new song forgets the segment. Every change is written to ``store`` at once.

    Args:
        store: where the last files, the preset, "Publish as" and the Advanced changes are remembered.

    Signals:
        changed(): something the next run depends on changed (a file, the preset, a field, the rectangle).
        refused(list, str): files given to ``route`` that are neither a picture nor music: their names, and why
            (a line each).
    """

    changed = Signal()
    refused = Signal(list, str)

    def __init__(self, store: SettingsStore, parent=None):
        super().__init__(parent)
        self.store = store
        self.picture_preview = PicturePreview()
        self.picture_zone = DropZone("picture", preview=self.picture_preview)
        self.picture_controls = PictureControls()
        self.picture_controls.options_changed.connect(self._on_picture_options)
        self._routing = False  # True while ``route`` gives several files out: their refusals stay
        self._limit_hz: float | None = None  # the run's Nyquist limit last shown: a fall clamps the band
        self._song_said: Path | None = None  # the song whose limits were last said in the status bar
        self.placement_view = PlacementView()
        self.placement_view.setMaximumHeight(PLACEMENT_MAX_HEIGHT)
        self.placement_view.placement_changed.connect(self._on_placement)
        self.placement_view.reset_requested.connect(self._on_placement_reset)
        self.music_zone = DropZone("music", preview=self.placement_view)
        self.picture_zone.file_changed.connect(self._on_picture)
        self.music_zone.file_changed.connect(self._on_music)

        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(name.capitalize(), name)
        self.preset_combo.setToolTip("How fine the front is, and so how long the run takes")
        narrow_combo(self.preset_combo)
        self.preset_hint = SteadyLabel(tip="How long a run of this preset should take here, at most")
        self._wheel_guard = WheelGuard(self)
        guard_wheel(self.preset_combo, self._wheel_guard)
        self.preset_combo.currentIndexChanged.connect(self._on_preset)
        self.publish_combo = QComboBox()
        for name, words in PUBLISH_NAMES.items():
            self.publish_combo.addItem(words, name)
        self.publish_combo.setToolTip(PUBLISH_TIP)
        narrow_combo(self.publish_combo)
        guard_wheel(self.publish_combo, self._wheel_guard)
        self.publish_combo.currentIndexChanged.connect(self._on_publish)
        # under the preset, on a row of its own: beside it, the two lists and their labels made the column 350 px
        # wide in a 271 px viewport at 1280x800 (cut at its right edge)
        form = QFormLayout()
        form.addRow("Quality", self.preset_combo)
        form.addRow(self.preset_hint)
        form.addRow("Publish as", self.publish_combo)
        form.labelForField(self.publish_combo).setToolTip(PUBLISH_TIP)
        self.advanced = AdvancedPanel(available_devices())
        self.advanced.overrides_changed.connect(self._on_overrides)
        # opened: scroll it into sight (its fields below the toggle, as many as fit)
        self.advanced.toggle.toggled.connect(
            lambda on: on and QTimer.singleShot(0, self, lambda: self.scroll.ensureWidgetVisible(self.advanced))
        )

        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(self.picture_zone)
        column_layout.addWidget(self.picture_controls)
        column_layout.addWidget(self.music_zone)
        column_layout.addLayout(form)
        column_layout.addWidget(self.advanced)
        column_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(column)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the column's width stays when it outgrows the viewport (a refusal, Advanced opened): a scroll bar coming
        # and going would re-wrap its labels and make the controls jump
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

    def restore(self, picture: Path | None = None, music: Path | None = None) -> None:
        """Show the remembered preset (the first time: Preview on a CPU, else Standard) and Advanced changes, and the
        files: those given, else the last ones used (a file that cannot be read any more is skipped).

        A remembered segment (start and length) comes back only on the song it was set on (``store.segment_song``):
        the app starts on the bundled sample, and the last run's segment in another song means nothing there (issue
        22), so the sample shows the preset's segment. The band and the other Advanced changes come back as they were.
        """
        preset = self.store.preset or ("preview" if available_devices()[0] == "cpu" else "standard")
        index = self.preset_combo.findData(preset)
        self.preset_combo.setCurrentIndex(max(0, index))
        self.advanced.set_preset(self.preset_combo.currentData())
        self.publish_combo.setCurrentIndex(max(0, self.publish_combo.findData(self.store.publish)))
        self.advanced.set_overrides(self.store.advanced_overrides)
        self.picture_controls.set_options(self.store.picture_options)
        self.picture_preview.set_options(self.picture_controls.options())
        for zone, given, last in (
            (self.picture_zone, picture, self.store.last_picture),
            (self.music_zone, music, self.store.last_music),
        ):
            for candidate in (given, last):
                if candidate is not None and zone.set_file(candidate, notify=False):
                    break
        if not _same_file(self.store.segment_song, self.music):
            self._keep_overrides_but(SEGMENT_FIELDS)
        self._show_placement()

    # --- what the next run uses ---------------------------------------------------------------------------------------

    @property
    def picture(self) -> Path | None:
        return self.picture_zone.path

    @property
    def music(self) -> Path | None:
        return self.music_zone.path

    @property
    def ready(self) -> bool:
        """Whether both files are chosen."""
        return self.picture is not None and self.music is not None

    @property
    def quality(self) -> str:
        return self.preset_combo.currentData()

    @property
    def publish(self) -> str:
        """Where the result will be published, by the engine's name (``options.PUBLISH``: "lossless", "mp3-128"...)."""
        return self.publish_combo.currentData()

    def settings_overrides(self) -> dict[str, Any]:
        """The Advanced changes, the picture's controls changed and "Publish as" (when not lossless, the default), as
        ``make_settings`` keywords."""
        publish = {} if self.publish == "lossless" else {"publish": self.publish}
        return {**self.advanced.settings_overrides(), **self.picture_controls.settings_overrides(), **publish}

    def check(self, make: Callable[[], RunSettings]) -> tuple[RunSettings | None, str]:
        """The settings ``make`` builds from these inputs (None when they cannot be made) and why they cannot, in
        words ("" if they can), the Advanced fields at fault marked. Checked on every change, so the message comes
        before Start and goes once the value is fixed."""
        settings, problem, fields = None, "", ()
        if self.ready:
            try:
                settings = make()
                self._check_song(settings)
            except MossInputError as exc:
                problem, fields = explain(exc, self._rate_from(), self.publish)
            except MossError:
                pass  # said when Start is pressed
        self.advanced.mark_invalid(fields)
        return settings, problem

    def _check_song(self, settings: RunSettings) -> None:
        """What the engine would refuse of the song only once it reads it, refused now: a band above the song's own
        Nyquist frequency (``settings.check_song_band``), a band above what the codec of "Publish as" keeps of a song
        with its channels (``publish.check_publish_band``), a segment starting less than ``MIN_SEGMENT_S`` before the
        song's end."""
        rate = getattr(self.placement_view, "song_rate", None)
        if rate is not None:
            check_song_band(settings, rate)
        check_publish_band(settings, self.placement_view.song_channels)
        length = self.placement_view.song_length
        if settings.start_s > length - MIN_SEGMENT_S:
            raise MossInputError(
                f"the segment must start {MIN_SEGMENT_S:g} s or more before the song's end "
                f"({length:.1f} s): start it earlier",
                field="start_s",
                reason="past_end",
            )

    def _rate_from(self) -> str | None:
        """What sets the run's sample rate, in words: the preset ("Preview"), or None for an Advanced rate."""
        return None if "sample_rate" in self.advanced.overrides() else self.quality.capitalize()

    def device_text(self) -> str:
        """The device the next run uses, in words (``GPU: NVIDIA H100 (cuda:0)``, ``CPU (8 threads)``)."""
        try:
            device = resolve_device(str(self.advanced.value("device")))
        except MossError as exc:
            return f"Device unavailable: {exc}"
        return describe(device, for_people=True)

    def set_editable(self, editable: bool) -> None:
        """Lock the inputs while a run uses them (the column still scrolls)."""
        for widget in (
            self.picture_zone,
            self.picture_controls,
            self.music_zone,
            self.placement_view,
            self.preset_combo,
            self.publish_combo,
            self.advanced,
        ):
            widget.setEnabled(editable)

    def open_file(self, kind: str, path: Path) -> bool:
        """Put ``path`` in the ``kind`` ("picture" or "music") zone; False (the zone says why) if it is refused."""
        return (self.picture_zone if kind == "picture" else self.music_zone).set_file(path)

    def show_settings(self, quality: str, overrides: dict[str, Any]) -> None:
        """Show the preset ``quality`` with the Advanced ``overrides`` (a reopened run's), remembered as if typed;
        ``overrides["publish"]`` is "Publish as" (lossless when absent: a run made before it was asked)."""
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(quality)))
        self.publish_combo.setCurrentIndex(max(0, self.publish_combo.findData(overrides.get("publish", "lossless"))))
        self.advanced.set_overrides(overrides)
        self.picture_controls.set_options({k: v for k, v in overrides.items() if k in PICTURE_DEFAULTS})
        self.store.picture_options = self.picture_controls.changed()
        self.picture_preview.set_options(self.picture_controls.options())
        self._on_overrides(self.advanced.overrides())

    def take_drops(self, window: QWidget) -> None:
        """Files dropped anywhere on ``window`` go to their zones: a picture and a song together, which a zone (one
        file at a time) leaves to the window."""
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() not in (QEvent.Type.DragEnter, QEvent.Type.Drop):
            return False
        paths = local_files(event)
        if not paths or not self.picture_zone.isEnabled():  # locked while a run uses the inputs
            event.ignore()
            return True
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            self.route(paths)
        return True

    def route(self, paths: list[Path]) -> list[str]:
        """Give each file to the zone it fits: a picture if the engine reads it as one, else music if it reads it as
        audio. Returns the zone each went to ("picture", "music" or "" when neither); ``refused`` says the others."""
        routed: list[str] = []
        reasons: list[str] = []
        self._dismiss_refusals()  # a new drop is a new action; its own refusals stay until the next one
        self._routing = True
        try:
            for path in paths:
                kind, why = _kind_of(path)
                if why:
                    reasons.append(why)
                zone = {"picture": self.picture_zone, "music": self.music_zone}.get(kind)
                if zone is not None and not zone.set_file(path):
                    reasons.append(zone.error)
                    kind = ""
                routed.append(kind)
        finally:
            self._routing = False
        refused = [p.name for p, k in zip(paths, routed, strict=True) if not k]
        if refused:
            self.refused.emit(refused, "\n".join(reasons))
        return routed

    # --- keeping the inputs in step -----------------------------------------------------------------------------------

    def _dismiss_refusals(self) -> None:
        """The zones' refusal messages are old news once the user does something else (not while ``route`` is
        still handing out the files of the same drop)."""
        if not self._routing:
            for zone in (self.picture_zone, self.music_zone):
                zone.clear_refusal()

    @Slot(object)
    def _on_picture(self, path: Path) -> None:
        self._dismiss_refusals()
        self.store.last_picture = path
        self.store.add_recent("picture", path)
        self.changed.emit()

    @Slot(object)
    def _on_music(self, path: Path) -> None:
        # a segment chosen in another song means nothing in this one (the band still does)
        self._dismiss_refusals()
        self._keep_overrides_but(SEGMENT_FIELDS)
        self.store.last_music = path
        self.store.add_recent("music", path)
        self.changed.emit()

    @Slot(int)
    def _on_preset(self, _index: int) -> None:
        self._dismiss_refusals()
        self.store.preset = self.quality
        self.advanced.set_preset(self.quality)
        self._show_placement()
        self.changed.emit()

    @Slot(int)
    def _on_publish(self, _index: int) -> None:
        self._dismiss_refusals()
        self.store.publish = self.publish
        self._show_placement()
        self.changed.emit()

    @Slot(dict)
    def _on_overrides(self, overrides: dict) -> None:
        self._dismiss_refusals()
        self._remember_overrides(overrides)
        self._show_placement()
        self.changed.emit()

    @Slot(dict)
    def _on_picture_options(self, options: dict) -> None:
        """Invert, gamma or fit changed: the preview shows it, the store remembers the changes from the defaults."""
        self._dismiss_refusals()
        self.store.picture_options = self.picture_controls.changed()
        self.picture_preview.set_options(options)
        self.changed.emit()

    def _show_placement(self) -> None:
        """Draw the rectangle where the Advanced segment and band put it, under the run's Nyquist limit (half the
        preset's or the Advanced sample rate, or the song's own Nyquist frequency when that is lower: the view clamps
        the rectangle to it), say what the song itself changed, and say the presets' times.

        The song bounds what the fields show (``AdvancedPanel.set_song``): the segment is never longer than the song
        after its start, the default band stays under 95 % of the song's own Nyquist frequency, as the engine does
        (``settings.song_band``); a band the user set above that is lowered to it (``_clamp_band``)."""
        view = self.placement_view
        song_rate = getattr(view, "song_rate", None) if self.music is not None else None
        self.advanced.set_song(view.song_length if self.music is not None else None, song_rate)
        value = self.advanced.value
        run_limit = float(value("sample_rate")) / 2
        # the song's Nyquist frequency in whole Hz (5512.5 Hz for 11.025 kHz): the band fields hold whole Hz, and one
        # rounded up would be above what the engine accepts
        limit = run_limit if song_rate is None else min(run_limit, float(song_rate // 2))
        said: list[str] = []
        if self._limit_hz is not None and limit < self._limit_hz:
            said.append(self._clamp_band(limit, song_rate if limit < run_limit else None))
        self._limit_hz = limit
        set_limit = getattr(view, "set_limit_hz", None)  # PlacementView's, from issue 16.2 on
        if set_limit is not None:
            set_limit(limit)
        if self.publish == "lossless":
            view.set_codec_limit(None)
        else:  # the codec's low-pass of this song at the run's rate (the view draws it where it is below the rate's)
            published = codec(self.publish)
            view.set_codec_limit(published.cutoff_hz(int(value("sample_rate")), view.song_channels), published.label)
        # the segment asked (the whole song's rest for 30 s of a 1.4 s song): the view bounds it to the song exactly
        view.set_placement(
            DrawnPlacement(
                float(value("start_s")),
                float(self.advanced.asked("duration_s")),
                float(value("f0_hz")),
                float(value("f1_hz")),
            )
        )
        if self.music is not None and self.music != self._song_said:
            self._song_said = self.music
            said.extend(self._song_notes(song_rate))
        # one line (the status bar shows one): a lowered band first, the thing a user may act on; the segment's end
        # is in sight in the view and the fields
        self._say(next((line for line in said if line), ""))
        self._show_times()

    def _song_notes(self, song_rate: int | None) -> list[str]:
        """What a song just chosen changes, each in one line naming it: a default band lowered under its own Nyquist
        frequency (``settings.lowered_band_note``, the engine's words), a segment longer than the song."""
        notes = []
        name, value = self.music.name, self.advanced.value
        overrides = self.advanced.overrides()
        if song_rate is not None and "f0_hz" not in overrides and "f1_hz" not in overrides:
            top = self.advanced.default_band(song_rate)[1]
            if top < self.advanced.default_band()[1]:
                notes.append(lowered_band_note(name, song_rate, top, int(value("sample_rate"))))
        asked, start = float(self.advanced.asked("duration_s")), float(value("start_s"))
        left = self.placement_view.song_length - start
        if math.isfinite(asked) and MIN_SEGMENT_S <= left < asked - 0.05:
            where = "after the segment's start" if start > 0 else "long"
            notes.append(
                f"{name}: only {left:.1f} s {where}, less than the {asked:g} s segment: the run uses all {left:.1f} s"
            )
        return notes

    def _say(self, line: str) -> None:
        """``line`` in the window's status bar for 10 s (nothing when empty)."""
        window = self.window()
        if line and isinstance(window, QMainWindow):
            window.statusBar().showMessage(line, 10000)

    def _clamp_band(self, limit: float, song_rate: int | None = None) -> str:
        """The limit fell (a preset or a sample rate with less room, or a song sampled lower: ``song_rate``): bring a
        band the user set down under it, rather than refuse the run for a band carried over from a richer preset or
        song. Returns the line that says so ("" when nothing moved).

        The top goes to the limit itself (the most the engine accepts, and where a rectangle drawn past the line
        stops). The bottom stays, unless that would leave less than ``MIN_BAND_HZ``: then the band keeps its height,
        moved down under the limit (12-16 kHz on Standard becomes 7.025-11.025 kHz on Preview). A band the user types
        above the limit later is not clamped: it is refused, with the remedy, as it is typed.
        """
        overrides = self.advanced.overrides()
        if "f0_hz" not in overrides and "f1_hz" not in overrides:
            return ""  # the preset's band follows the rate (and the song's) by itself
        f0, f1 = float(self.advanced.value("f0_hz")), float(self.advanced.value("f1_hz"))
        if f1 <= limit:
            return ""
        if f0 > limit - MIN_BAND_HZ:
            f0 = max(0.0, limit - (f1 - f0))
        overrides.update(f0_hz=f0, f1_hz=limit)
        self.advanced.set_overrides(overrides)
        self._remember_overrides(self.advanced.overrides())
        if song_rate is not None and self.music is not None:
            return lowered_band_note(self.music.name, song_rate, limit, int(self.advanced.value("sample_rate")))
        rate_from = self._rate_from()
        return f"Band top lowered to {rate_from or 'this rate'}'s {limit / 1000:g} kHz"

    def _show_times(self) -> None:
        """Each preset's expected time on the device the run would use, with the Advanced changes and the segment
        (the song's length when known): in its menu entry on a CPU, and in the hint under the menu."""
        try:
            device_type = resolve_device(str(self.advanced.value("device"))).type
        except MossError:
            device_type = "cpu"
        song_s = self.placement_view.song_length if self.music is not None else None
        overrides = self.advanced.overrides()
        for index in range(self.preset_combo.count()):
            name = self.preset_combo.itemData(index)
            short, sentence = expected_time(name, device_type, overrides, song_s)
            self.preset_combo.setItemText(index, f"{name.capitalize()}  ({short})" if short else name.capitalize())
            hint = f"{PRESET_HINTS.get(name, name)}; {sentence}"
            self.preset_combo.setItemData(index, hint, Qt.ItemDataRole.ToolTipRole)
            if index == self.preset_combo.currentIndex():
                self.preset_hint.setText(hint)

    @Slot(object)
    def _on_placement(self, placement: DrawnPlacement) -> None:
        """The user moved or drew the rectangle: it becomes the Advanced segment and band overrides."""
        overrides = self.advanced.overrides()
        overrides.update(
            start_s=placement.start_s, duration_s=placement.duration_s, f0_hz=placement.f0_hz, f1_hz=placement.f1_hz
        )
        self.advanced.set_overrides(overrides)
        self._remember_overrides(self.advanced.overrides())
        self._dismiss_refusals()
        self._show_times()
        self.changed.emit()

    @Slot()
    def _on_placement_reset(self) -> None:
        """Double-click on the song: back to the preset's segment and band (other Advanced changes stay)."""
        self._dismiss_refusals()
        self._keep_overrides_but(PLACEMENT_FIELDS)
        self.changed.emit()

    def _remember_overrides(self, overrides: dict[str, Any]) -> None:
        """Store the Advanced changes, and the song a segment among them was set on (``restore`` reads both)."""
        self.store.advanced_overrides = overrides
        self.store.segment_song = self.music if any(k in overrides for k in SEGMENT_FIELDS) else None

    def _keep_overrides_but(self, fields: tuple[str, ...]) -> None:
        """Forget the Advanced changes of ``fields`` (the preset's values come back) and move the rectangle."""
        overrides = {k: v for k, v in self.advanced.overrides().items() if k not in fields}
        if overrides != self.advanced.overrides():
            self.advanced.set_overrides(overrides)
            self._remember_overrides(overrides)
        self._show_placement()
