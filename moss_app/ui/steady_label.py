"""A status line of a fixed height: two lines at most, longer text cut with an ellipsis and whole in its tooltip, so
the controls around it never jump as the text changes (issue 16.9)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

#: Lines the label keeps room for.
LINES = 2


class SteadyLabel(QLabel):
    """``text()`` is the whole text; what is drawn is cut to ``LINES`` lines of the label's width."""

    def __init__(self, text: str = "", tip: str = "", parent=None):
        super().__init__(parent)
        self._full, self._tip = "", tip
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(LINES * self.fontMetrics().lineSpacing() + 4)
        self.setText(text)

    def text(self) -> str:  # noqa: D102 (the whole text, not the cut one on screen)
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = str(text)
        self._show()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._show()

    def _show(self) -> None:
        metrics = self.fontMetrics()
        room = max(1, LINES * self.width() - 3 * metrics.averageCharWidth() * LINES)  # word wrap wastes line ends
        shown = metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else self._tip)
