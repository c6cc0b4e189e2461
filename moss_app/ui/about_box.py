"""Help > About: the version and device on top, the licence notices MOSS ships below, in a view that scrolls."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget


class AboutBox(QDialog):
    """A non-modal About dialog, deleted when closed.

    Args:
        rich_text: the top part (``moss_app.about.about_text``).
        notices: the licence notices as Markdown (``moss_app.about.notices_markdown``), shown whole, scrollable,
            their links opening in the browser.
    """

    def __init__(self, rich_text: str, notices: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About MOSS")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.header = QLabel(rich_text)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.notices = QTextBrowser()
        self.notices.setOpenExternalLinks(True)
        self.notices.setMarkdown(notices)
        self.notices.setMinimumSize(560, 300)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.notices, 1)
        layout.addWidget(buttons)
        self.resize(680, 560)

    def text(self) -> str:
        """The top part's rich text (as ``QMessageBox.text`` gives it)."""
        return self.header.text()

    def notices_text(self) -> str:
        """The notices as shown, in plain text."""
        return self.notices.toPlainText()
