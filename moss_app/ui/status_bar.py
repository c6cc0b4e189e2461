"""The window's status bar: passing messages, and beside them the device runs use, a notice that stays for the rest
of a run, and a busy bar while an export renders."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from moss_engine.reporting import NOTICE_GPU_MEMORY

NOTICE_TIPS = {NOTICE_GPU_MEMORY: "The GPU ran out of memory: the run goes on in smaller chunks (then on the CPU), "
                                  "slower but with the same result"}


class RunStatusBar(QStatusBar):
    """A status bar with three permanent parts: ``device_label``, ``gpu_notice`` and ``export_busy``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.device_label = QLabel("")  # which device the next run goes to (Advanced > Device), always shown
        self.device_label.setToolTip("Where MOSS optimises: an NVIDIA GPU (CUDA), Apple Metal, or the CPU.\n"
                                     "Change it in Advanced > Device.")
        self.gpu_notice = QLabel("")  # stays, unlike the progress messages: the run went on in smaller chunks or CPU
        self.gpu_notice.setStyleSheet("color: #d9534f;")
        self.gpu_notice.hide()
        self.export_busy = QProgressBar()  # a busy bar while the morph video renders off the GUI thread
        self.export_busy.setRange(0, 0)
        self.export_busy.setMaximumWidth(120)
        self.export_busy.setToolTip("Rendering the morph video")
        self.export_busy.hide()
        for widget in (self.device_label, self.gpu_notice, self.export_busy):
            self.addPermanentWidget(widget)

    def show_notice(self, kind: str, message: str) -> None:
        """A notice of ``kind`` (``moss_engine.reporting``'s) that stays until ``clear_notice``."""
        self.gpu_notice.setText(message[0].upper() + message[1:])
        if kind in NOTICE_TIPS:
            self.gpu_notice.setToolTip(NOTICE_TIPS[kind])
        self.gpu_notice.show()

    def clear_notice(self) -> None:
        self.gpu_notice.hide()
