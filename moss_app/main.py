"""Entry point of the MOSS desktop app: ``python main.py`` and the ``moss-app`` script."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .display import NO_DISPLAY_STATUS, missing_display

SELF_TEST_FLAG = "--self-test"


def split_self_test(argv: list[str]) -> tuple[bool, Path | None, list[str]]:
    """``--self-test [REPORT]`` (or ``--self-test=REPORT``) taken out of ``argv``: (asked, report path, the rest).

    ``argv[0]`` is the program. The report path is the word after the flag unless that word is another option.
    """
    rest, asked, report = list(argv[:1]), False, None
    words = iter(argv[1:])
    for word in words:
        if word == SELF_TEST_FLAG:
            asked = True
            following = next(words, None)
            if following is not None and following.startswith("-"):
                rest.append(following)
            elif following is not None:
                report = Path(following)
        elif word.startswith(SELF_TEST_FLAG + "="):
            asked, report = True, Path(word.split("=", 1)[1]) if word.split("=", 1)[1] else None
        else:
            rest.append(word)
    return asked, report, rest


def main(argv: list[str] | None = None) -> int:
    """Open the main window with the bundled sample loaded (so Start works at once) and run the event loop.

    With ``--self-test [REPORT]``: check the app instead (offscreen unless told otherwise) and return its status.
    Without a display (``display.missing_display``): one line on stderr, no window, and ``NO_DISPLAY_STATUS`` (2).
    """
    argv = list(sys.argv if argv is None else argv)
    self_test, report, argv = split_self_test(argv)
    if self_test:
        from .self_test import run_self_test

        return run_self_test(report)
    problem = missing_display(os.environ)
    if problem is not None:
        print(problem, file=sys.stderr)
        return NO_DISPLAY_STATUS

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from moss_engine.resources import sample_paths

    from . import crash
    from .heap import settle_heap
    from .identity import identify_app
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(argv)
    identify_app(app)
    crash.install()
    picture, music = sample_paths()
    window = MainWindow(picture=picture, music=music)
    window.show()
    QTimer.singleShot(0, settle_heap)  # once the window is up: short collector pauses during runs (heap.py)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
