"""Fields take the mouse wheel only when they have the keyboard focus, as most desktop apps do: scrolling a form
over a number field or a list scrolls the form, and never edits the setting under the pointer (issue 16.1)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget


class WheelGuard(QObject):
    """An event filter that passes a wheel event on to the scroll area behind an unfocused field."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # the parent (the scroll area) gets it
            return True
        return False


def guard_wheel(widget: QWidget, guard: WheelGuard) -> None:
    """Let ``widget`` take the wheel only when focused (it takes the focus by click or Tab, not by the wheel)."""
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    widget.installEventFilter(guard)
