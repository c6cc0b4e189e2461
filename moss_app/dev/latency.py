"""Measure how the window responds while a run goes on: ``python -m moss_app.dev.latency``.

Three figures, each in a fresh offscreen window:

- the event loop's worst stall: a preview run on the bundled sample (6 s of music, 15 steps by default) with a 5 ms
  QTimer ticking meanwhile; the worst latency is the longest gap between two ticks minus the 5 ms asked for;
- the cancel latency in every stage of a run (Cancel pressed -> the worker's ``finished``): preview runs on the test
  data's portrait and orchestral piece (30 s, 8 steps so that the later stages come soon; a step costs the same
  however many there are), cancelled when each stage first reports (the optimiser at its third step);
- the quit time: ``close()`` on the window while the optimiser steps -> ``close()`` returned.
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


#: The stages a cancel is measured in (``reporting.STAGES``: a progress report's ``status.stage``).
CANCEL_STAGES = ("optimising", "refining", "between", "rendering", "listening")
#: The cancel and quit runs: the preview preset on the test data (``/work/shared/data`` beside the checkout).
DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
PICTURE, MUSIC = "img_portrait_skimage_astronaut.png", "music_orchestral_wesnoth_transience.ogg"
#: Steps of the cancel and quit runs, and the step the optimiser is cancelled (or the window closed) at: this long
#: after it reported (ms), in the middle of the next step's masks rather than between two steps.
RUN_STEPS, AT_STEP, AFTER_MS = 8, 3, 350


def _window(settings_overrides: dict, picture: Path | None = None, music: Path | None = None):
    """(app, window, scratch folder): a fresh offscreen window whose runs use the preview preset with
    ``settings_overrides``, autosaving into the scratch folder (the user's runs stay as they are)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from moss_engine.resources import sample_paths
    from moss_engine.settings import make_settings

    from .. import autosave
    from ..heap import settle_heap
    from ..main_window import MainWindow
    from ..settings_store import SettingsStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # the offscreen platform's own complaint about window hints is noise here; anything else is still printed
    qInstallMessageHandler(
        lambda _mode, _ctx, msg: None if "propagateSizeHints" in msg else print(msg, file=sys.stderr)
    )
    scratch = tempfile.TemporaryDirectory(prefix="moss-latency-")
    autosave.BASE_DIR = Path(scratch.name) / "autosave"
    store = SettingsStore(QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat))

    def factory(image, audio, quality, **overrides):
        return make_settings(
            image, audio, **{"device": "auto", **overrides, "quality": "preview", **settings_overrides}
        )

    if picture is None:
        picture, music = sample_paths()
    window = MainWindow(store, factory, picture, music)
    window.show()
    settle_heap()  # as the app does once its window is up
    return app, window, scratch


def _run_until(window, wanted: str, act) -> bool:
    """Start a run and call ``act()`` on the GUI thread when it first reports stage ``wanted`` (the optimiser:
    ``AFTER_MS`` after step ``AT_STEP``); True if it did before the run ended. Returns once the run ended, or once
    ``act()`` returned True (it ended the run without a signal: a quit)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, acted = QEventLoop(), []

    def on_progress(progress) -> None:  # a ``worker.RunProgress``: its stage and step, as data
        if acted or progress.stage != wanted or (wanted == "optimising" and (progress.step or 0) < AT_STEP):
            return
        acted.append(True)
        QTimer.singleShot(AFTER_MS if wanted == "optimising" else 0, acting)

    def acting() -> None:
        if window.runner.busy and act():
            QTimer.singleShot(0, loop.quit)

    def on_end(*_args) -> None:
        QTimer.singleShot(0, loop.quit)

    window.runner.progress.connect(on_progress)
    window.runner.finished.connect(on_end)
    window.runner.failed.connect(on_end)
    if not window.start_run():
        raise SystemExit("the run could not start")
    if window.runner.busy:
        loop.exec()
    return bool(acted)


def measure_cancel(stage: str) -> tuple[float, float, bool]:
    """(seconds from Cancel to the worker's ``finished``, to the window showing the result, whether the run reached
    ``stage``), in a fresh window."""
    from PySide6.QtCore import Qt

    app, window, scratch = _window({"steps": RUN_STEPS}, DATA_DIR / PICTURE, DATA_DIR / MUSIC)
    asked: list[float] = []
    ended: list[float] = []
    emitted: list[float] = []  # on the worker thread, as the signal leaves it
    window.runner.worker.finished.connect(
        lambda _result: emitted.append(time.perf_counter()), Qt.ConnectionType.DirectConnection
    )
    window.runner.finished.connect(lambda _result: ended.append(time.perf_counter()))  # after the window's slot

    def cancel() -> None:
        asked.append(time.perf_counter())
        window.cancel_run()

    reached = _run_until(window, stage, cancel)
    window.close()
    window.shutdown()
    scratch.cleanup()
    del app
    if not (reached and asked and ended and emitted):
        return float("nan"), float("nan"), False
    return emitted[0] - asked[0], ended[0] - asked[0], True


def measure_quit() -> float:
    """Seconds ``close()`` takes on a window whose run is at the optimiser's step ``AT_STEP``."""
    app, window, scratch = _window({"steps": RUN_STEPS}, DATA_DIR / PICTURE, DATA_DIR / MUSIC)
    took: list[float] = []

    def close() -> bool:
        started = time.perf_counter()
        window.close()
        took.append(time.perf_counter() - started)
        return True  # the abandoned run emits nothing: the wait ends here

    _run_until(window, "optimising", close)
    window.shutdown()
    scratch.cleanup()
    del app
    return took[0] if took else float("nan")


def measure(duration_s: float = 6.0, steps: int = 15, warm_up: bool = True) -> tuple[float, int, float]:
    """(worst latency in ms, ticks counted, run seconds) of one run on the sample, in a fresh offscreen window."""
    from PySide6.QtCore import QEventLoop

    app, window, scratch = _window({"duration_s": duration_s, "steps": steps})

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
    parser = argparse.ArgumentParser(prog="python -m moss_app.dev.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of music of the stall's run (default 6)")
    parser.add_argument("--steps", type=int, default=15, help="optimisation steps of the stall's run (default 15)")
    parser.add_argument("--cold", action="store_true", help="measure the process's first run (no warm-up run)")
    parser.add_argument("--only", choices=("stall", "cancel", "quit"), help="measure only this")
    parser.add_argument(
        "--stages", default=",".join(CANCEL_STAGES), help=f"the stages to cancel in (default {','.join(CANCEL_STAGES)})"
    )
    args = parser.parse_args(argv)
    if args.only in (None, "stall"):
        worst_ms, ticks, seconds = measure(args.duration, args.steps, warm_up=not args.cold)
        print(
            f"worst event-loop latency during the run: {worst_ms:.1f} ms over {ticks} ticks ({seconds:.1f} s run)",
            flush=True,
        )
    if args.only in (None, "cancel"):
        for stage in args.stages.split(","):
            emitted, shown, reached = measure_cancel(stage)
            print(
                f"cancel latency while {stage}: "
                + (
                    f"{emitted:.2f} s to the worker's finished, {shown:.2f} s to the result on screen"
                    if reached
                    else "(stage not reached)"
                ),
                flush=True,
            )
    if args.only in (None, "quit"):
        print(f"quit time while optimising: {measure_quit():.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
