"""Space plays and pauses, except where the focused control uses Space itself (a button, a list, a field)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QWidget,
)

#: Controls whose own Space (press, open, type) wins over the window's Play/Pause shortcut.
TAKES_SPACE = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider)


class SpaceForControls(QObject):
    """Lets the controls of ``window`` keep their Space: Qt asks the focus widget first (ShortcutOverride), and a
    window-wide Space shortcut otherwise fires even on a focused button, pressing Play instead of the button.

    Watches the window's controls only (not the whole application: a Python filter on every event of the GUI thread
    would cost latency while a run holds the interpreter); call ``watch`` again after adding controls.
    """

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = window
        self.watch()

    def watch(self) -> None:
        """Install on every control of the window that takes Space (installing twice is harmless in Qt)."""
        for widget in self._window.findChildren(QWidget):
            if isinstance(widget, TAKES_SPACE):
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            event.accept()  # the control wants the key: it arrives as a normal key press, the shortcut stays quiet
            return True
        return False
