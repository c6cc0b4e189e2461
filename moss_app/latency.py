"""Measure the event loop's worst latency while a short run optimises: ``python -m moss_app.latency``.

Opens the window offscreen on the bundled sample, starts a preview run (6 s of music, 15 steps by default) and ticks
a 5 ms QTimer meanwhile; the worst latency is the longest gap between two ticks minus the 5 ms asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TICK_MS = 5


class GapRecorder:
    """Counts the gaps between ticks of a ``TICK_MS`` timer on the GUI thread: a long gap is a frozen event loop."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start(TICK_MS)

    def stop(self) -> None:
        self.timer.stop()

    def worst_ms(self) -> tuple[float, int]:
        """(worst latency in ms, ticks counted), leaving out the first tick (the run's start) and the last two (its
        end, when the GUI thread draws the result)."""
        during = self.gaps[1:-2]
        return (1000 * (max(during) - TICK_MS / 1000) if during else float("nan")), len(during)


def measure(duration_s: float = 6.0, steps: int = 15, warm_up: bool = True) -> tuple[float, int, float]:
    """(worst latency in ms, ticks counted, run seconds) of one run on the sample, in a fresh offscreen window."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from moss_engine.resources import sample_paths
    from moss_engine.settings import make_settings

    from . import autosave
    from .heap import settle_heap
    from .main_window import MainWindow
    from .settings_store import SettingsStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # the offscreen platform's own complaint about window hints is noise here; anything else is still printed
    qInstallMessageHandler(
        lambda _mode, _ctx, msg: None if "propagateSizeHints" in msg else print(msg, file=sys.stderr))
    scratch = tempfile.TemporaryDirectory(prefix="moss-latency-")
    autosave.BASE_DIR = Path(scratch.name) / "autosave"  # the user's last run stays as it is
    store = SettingsStore(QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat))

    def factory(image, audio, quality, **overrides):
        return make_settings(image, audio, **{"device": "auto", **overrides, "quality": "preview",
                                              "duration_s": duration_s, "steps": steps})

    window = MainWindow(store, factory, *sample_paths())
    window.show()
    settle_heap()  # as the app does once its window is up

    def run_once() -> None:
        loop = QEventLoop()
        window.runner.finished.connect(loop.quit)
        window.runner.failed.connect(loop.quit)
        if not window.start_run():
            raise SystemExit("the run could not start")
        loop.exec()
        window.runner.finished.disconnect(loop.quit)
        window.runner.failed.disconnect(loop.quit)

    if warm_up:  # the first run of a process warms torch up; what users feel run after run is the warm case
        run_once()
    recorder = GapRecorder()
    started = time.perf_counter()
    recorder.start()
    run_once()
    seconds = time.perf_counter() - started
    recorder.stop()
    window.close()
    scratch.cleanup()
    del app
    worst_ms, ticks = recorder.worst_ms()
    return worst_ms, ticks, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moss_app.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of music (default 6)")
    parser.add_argument("--steps", type=int, default=15, help="optimisation steps (default 15)")
    parser.add_argument("--cold", action="store_true", help="measure the process's first run (no warm-up run)")
    args = parser.parse_args(argv)
    worst_ms, ticks, seconds = measure(args.duration, args.steps, warm_up=not args.cold)
    print(f"worst event-loop latency during the run: {worst_ms:.1f} ms over {ticks} ticks ({seconds:.1f} s run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
