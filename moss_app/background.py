"""One slow call (an export) off the GUI thread, its answer back on it as a signal."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from moss_engine.errors import MossError


class BackgroundJob(QObject):
    """Runs ``work()`` on a Python thread; ``done(result)`` or ``failed(message)`` arrive on the owner's thread.

    ``work`` must not touch widgets. A ``MossError`` fails with its own one-line message, an ``OSError`` with
    ``"could not write <target>: <reason>"``; anything else is a bug and fails with its type and text.
    """

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[], object], target: object = "", parent: QObject | None = None):
        super().__init__(parent)
        self._work = work
        self._target = target
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
        except MossError as exc:
            self.failed.emit(str(exc))
        except OSError as exc:
            self.failed.emit(f"could not write {self._target}: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 (shown to the user in one dialog, logged by the caller)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
