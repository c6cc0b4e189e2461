"""One slow call (an export) off the GUI thread, its answer back on it as a signal."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal


class BackgroundJob(QObject):
    """Runs ``work()`` on a Python thread; ``done(result)`` or ``failed(exception)`` arrive on the owner's thread.

    ``work`` must not touch widgets. What a failure means to the user is the owner's to say (``exports.py`` says it
    the same way for every export).

    Args:
        work: the call.
        target: what it writes (a path), for the owner's failure message.

    Signals:
        done(object): what ``work()`` returned.
        failed(object): the exception ``work()`` raised.
    """

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Callable[[], object], target: object = "", parent: QObject | None = None):
        super().__init__(parent)
        self._work = work
        self.target = target
        self._thread = threading.Thread(target=self._run, name="moss-export", daemon=True)

    def start(self) -> BackgroundJob:
        self._thread.start()
        return self

    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (closing the window); whether it did."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # noqa: BLE001 (the owner shows it in one dialog)
            self.failed.emit(exc)
        else:
            self.done.emit(result)
