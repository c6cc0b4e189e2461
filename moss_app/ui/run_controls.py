"""Start and Cancel, the run's progress bar and its status line: under the inputs, always in sight."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from moss_engine.reporting import FrontSnapshot

from ..eta import TimeLeft
from ..run_status import STATUS_LINES, WIDEST_LINES, running_line, snapshot_gain
from .steady_label import SteadyLabel

STATUS_TIP = (
    "While a run goes on: what it is doing, how much better than a plain crossfade\n"
    "its front is, and about how long the whole run has left (optimising, refining,\n"
    "listening and writing included).\n"
    '"Better than a crossfade": how much more of the trade-off between the picture\n'
    "and the music the front reaches than fading from the music to the picture does\n"
    "(the front's hypervolume against the crossfade's).\n"
    "Runs may end early, once the front stops improving.\n"
    '"5 of 8 points": the others were near-duplicates, or beaten by another point.'
)
#: Room beside the widest status line (px): a line exactly as wide as the label may still wrap.
WIDTH_SLACK = 4
#: The time left is counted down this often between the engine's reports (ms).
TICK_MS = 1000


class RunControls(QWidget):
    """The buttons and the status of a run; the window wires the buttons and says what to show.

    While a run goes on the status line is ``run_status.running_line``: the stage in words (the worker's progress
    line), the front against the crossfade (from the latest snapshot) and one time left (``eta.TimeLeft``, fed the
    progress fraction, counted down every ``TICK_MS``), a line each. The status keeps room for
    ``run_status.STATUS_LINES`` lines and is at least as wide as ``run_status.WIDEST_LINES`` in its font, so each
    line is whole at any window size (issue 22).
    """

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
        self.status_label = SteadyLabel("Ready: press Start", tip=STATUS_TIP, lines=STATUS_LINES)
        # as wide as the widest line it says, in this font: every line whole on its own line, at any window size
        metrics = self.status_label.fontMetrics()
        self.status_label.setMinimumWidth(max(metrics.horizontalAdvance(line) for line in WIDEST_LINES) + WIDTH_SLACK)
        self.time_left = TimeLeft()
        self._stage, self._gain = "", ""
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._show_running)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)

    def set_buttons(self, startable: bool, running: bool) -> None:
        self.start_button.setEnabled(startable)
        self.cancel_button.setEnabled(running)
        if not running:
            self._tick.stop()

    def set_progress(self, fraction: float) -> None:
        """``fraction`` of the run done, 0 to 1 (0: a new run starts, or none is shown)."""
        self.progress_bar.setValue(int(1000 * fraction))
        if fraction <= 0:
            self.time_left.reset()
            self._stage, self._gain = "", ""

    def say(self, text: str) -> None:
        """Show ``text`` instead of the running line (the run's updates stop replacing it: "Cancelling" stays)."""
        self._tick.stop()
        self._stage = ""
        self.status_label.setText(text)

    def show_progress(self, fraction: float, stage: str) -> None:
        """The run is ``fraction`` done and doing ``stage`` (words): the bar, the time left and the status line."""
        self.set_progress(fraction)
        self.time_left.update(fraction, time.monotonic())
        self._stage = stage
        if not self._tick.isActive():
            self._tick.start()
        self._show_running()

    def show_snapshot(self, snapshot: FrontSnapshot) -> None:
        """The front so far against the crossfade, on the status line."""
        self._gain = snapshot_gain(snapshot)
        self._show_running()

    def _show_running(self) -> None:
        if self._stage:
            self.status_label.setText(running_line(self._stage, self._gain, self.time_left.text(time.monotonic())))
