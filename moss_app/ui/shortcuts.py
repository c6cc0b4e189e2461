"""Help > Keyboard Shortcuts: the list is read off the window's own actions, so it is never out of date."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(what it does, the keys as this platform writes them) for every action that has a shortcut, in menu order."""
    rows = []
    for act in actions:
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append((act.text().replace("&", "").rstrip("."), keys))
    return rows


def shortcuts_html(actions: list[QAction]) -> str:
    """The rows as a small table, with the one rule that is not an action (Space in a focused control)."""
    cells = "".join(
        f"<tr><td>{html.escape(what)}</td><td>&nbsp;&nbsp;<b>{html.escape(keys)}</b></td></tr>"
        for what, keys in shortcut_rows(actions)
    )
    return (
        f"<table>{cells}</table><p>Space plays and pauses everywhere except in a focused button, list or field, "
        "which keeps its own Space. A number field takes the mouse wheel only once it is clicked.</p>"
    )


def open_text_box(parent: QWidget, title: str, rich_text: str) -> QMessageBox:
    """A non-blocking box of rich text with an OK button (About, Keyboard Shortcuts), deleted when closed."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, title, rich_text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
