"""A run's result on screen: the front (live while it runs), the alpha slider, and the selected point's mask,
spectrogram and sound. The mask and spectrogram views count the song's time (the segment's start in the song plus
the time into it), as the music view does, and share one zoom."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractSlider, QComboBox, QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from moss_engine.reporting import FrontSnapshot

from ..player import listening_pair
from . import colour_maps
from .front_plot import FrontPlot
from .mask_view import MaskView
from .readout import FrequencyScale
from .spectrogram_view import SpectrogramView
from .transport import TransportBar
from .view_tools import link_zoom
from .wheel_guard import WheelGuard, guard_wheel

if TYPE_CHECKING:
    from ..player import Player
    from ..settings_store import SettingsStore

#: An arrow or page key on the alpha slider: one point along the front, not 0.01 of alpha (often the same point).
_SLIDER_STEPS = {
    QAbstractSlider.SliderAction.SliderSingleStepAdd.value: 1,
    QAbstractSlider.SliderAction.SliderPageStepAdd.value: 1,
    QAbstractSlider.SliderAction.SliderSingleStepSub.value: -1,
    QAbstractSlider.SliderAction.SliderPageStepSub.value: -1,
}


#: The least room each result view keeps (px): at the window's minimum size the front, the mask and the spectrogram
#: stay readable (at 955x235 they were a few pixels tall, axes over each other); the window's minimum follows.
VIEW_MIN_SIZE = 150


def _slider_value(alpha: float) -> int:
    return round(100 * float(np.clip(alpha, 0, 1)))


def _stacked(main: QWidget, below: QWidget | QHBoxLayout) -> QWidget:
    """``main`` above ``below``, edge to edge; ``main`` takes the spare height."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(main, 1)
    if isinstance(below, QWidget):
        layout.addWidget(below)
    else:
        layout.addLayout(below)
    return box


class ResultView(QWidget):
    """The front plot and the alpha slider above, the selected point's mask and spectrogram and the transport below.

    A finished ``RunResult`` is shown with ``show_result``; a point is selected by clicking it, by the arrow keys on
    the plot or the slider, by dragging the slider (the point nearest its alpha) or by ``select_point``.

    The "Colours" box beside the transport picks the colour map of the mask, spectrogram and music views at once;
    it is remembered in ``store`` (given, or else the window's own ``store`` once the view is shown in it).

    Args:
        player: plays the selected point (with A/B, the original music as it is); the transport drives it.
        store: where the colour map is remembered (None: the window's, see above).

    Signals:
        point_shown(int): point ``index`` of the result is selected and shown.
        playable_changed(bool): whether Play can play now (a point's audio, an output device, no run going on).
    """

    point_shown = Signal(int)
    playable_changed = Signal(bool)

    def __init__(self, player: Player, parent=None, store: SettingsStore | None = None):
        super().__init__(parent)
        self.player = player
        self.store = store
        self.result = None
        self.selected: int | None = None
        self._running = False
        self._stepping_to: int | None = None  # the point an arrow press on the slider goes to
        self._build()
        if store is not None:
            self._restore_colour_map()
        self.player.state_changed.connect(self._on_player_state)
        self.player.position_changed.connect(self._on_player_position)
        self.player.unavailable.connect(self._update_transport)

    def _build(self) -> None:
        self.front_plot = FrontPlot()
        self.front_plot.point_selected.connect(self.select_point)
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal)
        self.alpha_slider.setRange(0, 100)
        self.alpha_slider.setToolTip(
            "alpha: 0 is the music, 1 the clearest picture the run found; the slider picks "
            "the front point nearest to it"
        )
        self.alpha_slider.valueChanged.connect(self._on_alpha)
        self.alpha_slider.actionTriggered.connect(self._on_alpha_step)
        self.alpha_label = QLabel("alpha -")
        self.alpha_label.setMinimumWidth(150)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("music"))
        slider_row.addWidget(self.alpha_slider, 1)
        slider_row.addWidget(QLabel("picture"))
        slider_row.addWidget(self.alpha_label)

        self.mask_view = MaskView()
        self.spectrogram_view = SpectrogramView()
        # one zoom for both: the same time and frequency under the pointer in each (both span the segment, in the
        # song's time, and every frequency)
        link_zoom(self.mask_view, self.spectrogram_view)
        for view in (self.front_plot, self.mask_view, self.spectrogram_view):
            view.setMinimumSize(VIEW_MIN_SIZE, VIEW_MIN_SIZE)
        pictures = QSplitter(Qt.Orientation.Horizontal)
        pictures.addWidget(self.mask_view)
        pictures.addWidget(self.spectrogram_view)
        pictures.setSizes([330, 650])
        pictures.setChildrenCollapsible(False)  # a drag of the handle stops at a view's minimum, never hides it
        self.transport = TransportBar()
        self.transport.play_pause_clicked.connect(self.player.toggle)
        self.transport.stop_clicked.connect(self.player.stop)
        self.transport.ab_toggled.connect(self._on_ab)

        below = QHBoxLayout()
        below.addWidget(self.transport, 1)
        below.addWidget(self._colour_box())

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(_stacked(self.front_plot, slider_row))
        splitter.addWidget(_stacked(pictures, below))
        splitter.setSizes([430, 330])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _colour_box(self) -> QWidget:
        """ "Colours: [Inferno]": the colour map of every spectrogram-like view."""
        self.colour_combo = QComboBox()
        for name, label in colour_maps.COLOUR_MAPS.items():
            self.colour_combo.addItem(label, name)
        self.colour_combo.setCurrentIndex(self.colour_combo.findData(colour_maps.current()))
        self.colour_combo.setToolTip(
            "The colours of the mask, the spectrogram and the music's view: Inferno,\n"
            "Magma and Viridis are even to the eye (each step of level looks the same);\n"
            "Grey is black to white"
        )
        self._wheel_guard = WheelGuard(self)
        guard_wheel(self.colour_combo, self._wheel_guard)  # the wheel changes it only when it has the focus
        self.colour_combo.currentIndexChanged.connect(self._on_colour_map)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Colours")
        label.setBuddy(self.colour_combo)
        row.addWidget(label)
        row.addWidget(self.colour_combo)
        return box

    @Slot(int)
    def _on_colour_map(self, _index: int) -> None:
        name = self.colour_combo.currentData()
        colour_maps.choose(name)
        if self.store is not None:
            self.store.colour_map = name

    def _restore_colour_map(self) -> None:
        name = self.store.colour_map
        if name not in colour_maps.COLOUR_MAPS:  # a damaged or future name: the default, and nothing stored
            name = colour_maps.DEFAULT
        self.colour_combo.blockSignals(True)
        self.colour_combo.setCurrentIndex(self.colour_combo.findData(name))
        self.colour_combo.blockSignals(False)
        colour_maps.choose(name)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Shown in the window for the first time: adopt the window's settings store for the colour map."""
        if self.store is None and getattr(self.window(), "store", None) is not None:
            self.store = self.window().store
            self._restore_colour_map()
        super().showEvent(event)

    # --- the result -----------------------------------------------------------------------------------------------

    def clear(self, objective: str) -> None:
        """Forget the result shown (a run starts, optimising with the audio ``objective``): silence, empty views."""
        self.player.stop()
        self.player.set_audio(None, 1)
        self.result, self.selected = None, None
        self.front_plot.clear_front(objective)
        self.mask_view.clear_mask()
        self.spectrogram_view.clear_view()
        self.alpha_label.setText("alpha -")
        self.alpha_slider.blockSignals(True)
        self.alpha_slider.setValue(0)
        self.alpha_slider.blockSignals(False)

    def show_snapshot(self, snapshot: FrontSnapshot) -> None:
        """The front so far of the run going on."""
        self.front_plot.show_snapshot(snapshot)

    def show_result(self, result) -> None:
        """Show a finished (or cancelled) run's front, clickable, with its middle point selected."""
        self.result, self.selected = result, None
        self.front_plot.show_result(result)
        self.set_running(self._running)
        if result.points:
            self.select_point(len(result.points) // 2)

    def set_running(self, running: bool) -> None:
        """While a run goes on, the slider and the transport rest (the front shown is the run's, live)."""
        self._running = running
        self.alpha_slider.setEnabled(self.result is not None and not running)
        self._update_transport()

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
        # both views count the song's time, as the music view does: the segment from its start in the song
        start, duration = self.result.start_s, point.samples.shape[-1] / self.result.sample_rate
        self.mask_view.show_mask(
            point.logits,
            self.result.placement,
            FrequencyScale(s.view_axis()),
            start,
            duration,
        )
        self.spectrogram_view.show_audio(
            point.samples,
            self.result.sample_rate,
            s.n_fft,
            s.hop_length,
            s.db_range,
            s.view_axis(),
            self.result.placement,
            start,
        )
        self.alpha_slider.blockSignals(True)
        self.alpha_slider.setValue(_slider_value(point.alpha))
        self.alpha_slider.blockSignals(False)
        figures = [
            f"alpha {point.alpha:.2f}",
            f"point {index} of 0-{len(self.result.points) - 1}",
            # two decimals, as the status bar and the tooltip give it
            "sounds like: not measured" if point.mos is None else f"sounds like {point.mos:.2f}/5",
        ]
        if point.loudness_lu is not None:
            figures.append(f"{point.loudness_lu:+.1f} LU")
        self.alpha_label.setText("  ·  ".join(figures))
        self.point_shown.emit(index)
        self._load_player(keep_position=True)

    @Slot(int)
    def _on_alpha_step(self, action: int) -> None:
        """An arrow or page key on the slider: the neighbouring point, not 0.01 of alpha (often the same point)."""
        step = _SLIDER_STEPS.get(int(action))
        if step is None or self.result is None or not self.result.points or self.selected is None:
            return
        target = min(len(self.result.points) - 1, max(0, self.selected + step))
        self._stepping_to = target
        # the slider applies this position after the signal (Qt's documented way to change an action's outcome)
        self.alpha_slider.setSliderPosition(_slider_value(self.result.points[target].alpha))
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
        """What Play plays now: the selected point, or (A/B on) the original, both as their files are.

        See ``listening_pair``: no makeup gain, and only a pair that would clip is turned down, by one gain.
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
        playable = self.player.available and self.player.has_audio and not self._running
        self.transport.set_enabled(playable, self.player.unavailable_reason if not self.player.available else "")
        self.transport.set_time(self.player.position_s, self.player.duration_s)
        self.playable_changed.emit(playable)

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
