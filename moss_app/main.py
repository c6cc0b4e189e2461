"""Entry point of the MOSS desktop app: ``python main.py`` and the ``moss-app`` script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Open the main window with the bundled sample loaded (so Start works at once) and run the event loop."""
    from PySide6.QtWidgets import QApplication

    from moss_engine.cli import sample_paths

    from . import crash
    from .main_window import MainWindow

    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("MOSS")
    app.setApplicationName("MOSS")
    crash.install()
    picture, music = sample_paths()
    window = MainWindow(picture=picture, music=music)
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
