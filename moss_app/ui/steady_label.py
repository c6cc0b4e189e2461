"""A status line of a fixed height: a given number of lines, longer text cut with an ellipsis and whole in its
tooltip, so the controls around it never jump as the text changes (issue 16.9).

What fits is measured the way the label draws it (word wrap at the label's width, explicit line breaks kept), not
guessed from a count of characters: a text that fits is shown whole, to its last line (issue 22: the third line of
the run's status, the time left, was drawn half under the label's bottom edge).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

#: Lines the label keeps room for, unless told otherwise.
LINES = 2
#: Above and below the lines (px).
PADDING = 4
_WRAP = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)


class SteadyLabel(QLabel):
    """``text()`` is the whole text; what is drawn (``shown()``) is cut to ``lines`` lines of the label's width.

    Args:
        text: the first text.
        tip: the tooltip while the whole text is shown (a cut text's tooltip is the whole text).
        lines: the lines the label keeps room for (its fixed height).
    """

    def __init__(self, text: str = "", tip: str = "", parent=None, lines: int = LINES):
        super().__init__(parent)
        self._full, self._tip, self.lines = "", tip, int(lines)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # measured as drawn: never taken for rich text
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.lines * self.fontMetrics().lineSpacing() + PADDING)
        self.setText(text)

    def text(self) -> str:  # noqa: D102 (the whole text, not the cut one on screen)
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = str(text)
        self._show()

    def shown(self) -> str:
        """The text drawn: ``text()`` whole, or cut with an ellipsis."""
        return super().text()

    def is_cut(self) -> bool:
        return self.shown() != self._full

    def fits(self, text: str, width: int | None = None) -> bool:
        """Whether ``text`` wrapped at ``width`` (the label's own, by default) takes ``lines`` lines or fewer."""
        return self.text_height(text, width) <= self.lines * self.fontMetrics().lineSpacing()

    def text_height(self, text: str, width: int | None = None) -> int:
        """The height ``text`` takes wrapped at ``width`` (the label's own, by default), as the label draws it."""
        width = self.contentsRect().width() if width is None else width
        return self.fontMetrics().boundingRect(QRect(0, 0, max(1, width), 1 << 20), _WRAP, text).height()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._show()

    def _show(self) -> None:
        shown = self._full if self.fits(self._full) else self._cut()
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else self._tip)

    def _cut(self) -> str:
        """The longest start of the text that fits with an ellipsis after it (found by halving)."""
        low, high = 0, len(self._full)
        while low < high:
            middle = (low + high + 1) // 2
            if self.fits(self._full[:middle].rstrip() + "\u2026"):
                low = middle
            else:
                high = middle - 1
        return self._full[:low].rstrip() + "\u2026"
