"""The play/pause/stop buttons, the A/B switch to the original music, and the play time."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

AB_TIP = (
    "Play the original music instead of the selected point, as it is: every point is made at the song's "
    "loudness, so A/B compares the sound, not the volume"
)


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class TransportBar(QWidget):
    """Buttons only: the window wires them to a ``Player``.

    Signals:
        play_pause_clicked(): Play/Pause was pressed.
        stop_clicked(): Stop was pressed.
        ab_toggled(bool): the A/B switch: True = the original music (as it is).
    """

    play_pause_clicked = Signal()
    stop_clicked = Signal()
    ab_toggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause the selected point (Space)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop and go back to the start")
        self.ab_button = QPushButton("A/B: original")
        self.ab_button.setCheckable(True)
        self.ab_button.setToolTip(AB_TIP)
        self.time_label = QLabel(_clock(0))
        self.time_label.setMinimumWidth(110)
        self.reason_label = QLabel("")  # why nothing can play (no audio device), in sight rather than in a tooltip
        self.reason_label.setStyleSheet("color: #d9534f;")
        self.reason_label.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.play_button, self.stop_button, self.ab_button):
            layout.addWidget(widget)
        layout.addWidget(self.time_label)
        layout.addWidget(self.reason_label)
        layout.addStretch(1)
        self.play_button.clicked.connect(self.play_pause_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self.ab_button.toggled.connect(self.ab_toggled)
        self._play_tip = self.play_button.toolTip()

    def set_state(self, state: str) -> None:
        self.play_button.setText("Pause" if state == "playing" else "Play")

    def set_time(self, position_s: float, duration_s: float) -> None:
        self.time_label.setText(f"{_clock(position_s)} / {_clock(duration_s)}")

    def set_enabled(self, can_play: bool, reason: str = "") -> None:
        """Enable the buttons when there is audio and a device; ``reason`` (when not) becomes Play's tooltip."""
        for button in (self.play_button, self.stop_button, self.ab_button):
            button.setEnabled(can_play)
        self.play_button.setToolTip(self._play_tip if can_play or not reason else reason)
        # the short form beside the buttons ("No audio output device found"), the details in its tooltip
        self.reason_label.setText(reason.split(" (")[0] if reason and not can_play else "")
        self.reason_label.setToolTip(reason)
        self.reason_label.setVisible(bool(reason) and not can_play)
