"""Start and Cancel, the run's progress bar and its status line: under the inputs, always in sight."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from moss_engine.reporting import FrontSnapshot

from ..run_status import snapshot_line
from .steady_label import SteadyLabel

HV_TIP = ("HV (hypervolume): how much of the loss plane the front dominates, measured against\n"
          "the song and the picture alone. It grows as the front improves; it compares runs\n"
          "of the same picture and song, not different ones. ETA is an upper bound: runs\n"
          "stop early once the front stops improving.")


class RunControls(QWidget):
    """The buttons and the status of a run; the window wires the buttons and says what to show."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Compute the front of trade-offs between music and picture (Ctrl+Return)")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now and keep the best front so far (Esc)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.status_label = SteadyLabel("Ready: press Start", tip=HV_TIP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)

    def set_buttons(self, startable: bool, running: bool) -> None:
        self.start_button.setEnabled(startable)
        self.cancel_button.setEnabled(running)

    def set_progress(self, fraction: float) -> None:
        """``fraction`` of the run done, 0 to 1."""
        self.progress_bar.setValue(int(1000 * fraction))

    def say(self, text: str) -> None:
        self.status_label.setText(text)

    def show_snapshot(self, snapshot: FrontSnapshot) -> None:
        """The run's step, hypervolume, speed and time left."""
        self.say(snapshot_line(snapshot))
        self.progress_bar.setValue(int(1000 * snapshot.step / max(1, snapshot.steps)))
