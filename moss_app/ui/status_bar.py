"""The window's status bar: passing messages, and beside them the device runs use, a notice that stays for the rest
of a run, and a busy bar while an export renders."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from moss_engine.reporting import NOTICE_GPU_MEMORY

#: The most of a notice the bar shows; the rest is in its tooltip.
NOTICE_CHARS = 90
NOTICE_TIPS = {
    NOTICE_GPU_MEMORY: "The GPU ran out of memory: the run goes on in smaller chunks (then on the CPU), "
    "slower but with the same result"
}


class RunStatusBar(QStatusBar):
    """A status bar with three permanent parts: ``device_label``, ``gpu_notice`` and ``export_busy``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.device_label = QLabel("")  # which device the next run goes to (Advanced > Device), always shown
        self.device_label.setToolTip(
            "Where MOSS optimises: an NVIDIA GPU (CUDA), Apple Metal, or the CPU.\nChange it in Advanced > Device."
        )
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
        text = message[0].upper() + message[1:]
        # a long notice (a transparent picture's band, say) is cut on the bar and whole in its tooltip
        self.gpu_notice.setText(text if len(text) <= NOTICE_CHARS else text[: NOTICE_CHARS - 1].rstrip() + "\u2026")
        self.gpu_notice.setToolTip(
            "\n".join(part for part in (text if len(text) > NOTICE_CHARS else "", NOTICE_TIPS.get(kind, "")) if part)
        )
        self.gpu_notice.show()

    def clear_notice(self) -> None:
        self.gpu_notice.hide()
