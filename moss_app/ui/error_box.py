"""One error dialog at a time, never blocking: a second error replaces the text of the one open."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QMessageBox, QWidget


class ErrorBox(QObject):
    """Shows errors (``show``) in one dialog over ``window``, opened without waiting for it to be closed."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        self._box: QMessageBox | None = None

    @Slot(str)
    def show(self, message: str) -> None:
        if self._box is not None and self._box.isVisible():
            self._box.setText(message)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "MOSS", message, QMessageBox.StandardButton.Ok, self._window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget)
        self._box = box
        box.open()

    @Slot()
    def _forget(self) -> None:
        self._box = None
