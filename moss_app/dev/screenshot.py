"""Screenshots of the window on the bundled sample (runs offscreen unless a display platform is already chosen).

``python -m moss_app.dev.screenshot OUT.png``: the window after a short preview run.
``python -m moss_app.dev.screenshot --stages docs/screenshots``: the window before, during and after a run, at 1280x800
in a light palette and at 1920x1080 in a dark one (``{before,during,after}-{light-1280x800,dark-1920x1080}.png``), as
the README shows them.
``python -m moss_app.dev.screenshot --publish docs/screenshots/publish-mp3-128-1280x800.png``: the inputs column of the
window at 1280x800, Standard with "Publish as" MP3 128 kb/s, the codec's low-pass drawn on the song (no run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="the PNG (with --stages: the folder)")
    parser.add_argument("--stages", action="store_true", help="before, during and after, light and dark")
    parser.add_argument("--publish", action="store_true", help='the inputs with "Publish as" MP3 128 kb/s')
    parser.add_argument("--start", type=float, default=4.0, help="where the segment starts (s, default 4)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of the song (default 8)")
    parser.add_argument("--steps", type=int, default=60, help="optimiser steps (default 60)")
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if args.stages:
        return _stages(app, args)
    if args.publish:
        return _publish(app, args)
    with tempfile.TemporaryDirectory() as tmp:
        window = _sample_window(Path(tmp), args, (1280, 800))
        if not _run_to_end(app, window):
            return 1
        args.out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(args.out))
        window.shutdown()
        window.close()
    print(args.out if ok else f"could not save {args.out}")
    return 0 if ok else 1


def _sample_window(tmp: Path, args, size: tuple[int, int]):
    """A shown main window with the bundled sample, the Preview preset and the segment, steps, points and device of
    ``args`` set through the Advanced section, as a user would (its settings in a throwaway file under ``tmp``)."""
    from PySide6.QtCore import QSettings

    from moss_engine.resources import sample_paths

    from ..main_window import MainWindow
    from ..settings_store import SettingsStore

    store = SettingsStore(QSettings(str(tmp / "moss.ini"), QSettings.Format.IniFormat))
    store.preset = "preview"
    store.advanced_overrides = {
        "start_s": args.start,
        "duration_s": args.duration,
        "steps": args.steps,
        "points": args.points,
        "device": args.device,
    }
    picture, music = sample_paths()
    store.segment_song = music  # the segment above is the sample's own (a segment from another song is dropped)
    window = MainWindow(store, picture=picture, music=music)
    window.resize(*size)
    window.show()
    return window


def _run_to_end(app, window, on_snapshot=None) -> bool:
    """Start a run in ``window`` and wait for its end; False (said on stderr, the window shut down) if it failed.
    The middle point is selected after it. ``on_snapshot`` gets the run's snapshots as they come."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    failed: list[str] = []
    if on_snapshot is not None:
        window.runner.snapshot.connect(on_snapshot)
    window.runner.finished.connect(lambda _result: QTimer.singleShot(300, loop.quit))
    window.runner.failed.connect(lambda message: (failed.append(message), loop.quit()))
    window.start_run()
    loop.exec()
    if failed:
        print(f"the run failed: {failed[0]}", file=sys.stderr)
        window.shutdown()
        return False
    window.select_point(len(window.result.points) // 2)
    app.processEvents()
    return True


def _publish(app, args) -> int:
    """The inputs column on Standard (44.1 kHz: MP3 128's low-pass of the stereo sample, 16.55 kHz, is under the
    rate's limit) with "Publish as" MP3 128 kb/s chosen as a user would, before any run."""
    with tempfile.TemporaryDirectory() as tmp:
        window = _sample_window(Path(tmp), args, (1280, 800))
        inputs = window.inputs
        inputs.preset_combo.setCurrentIndex(inputs.preset_combo.findData("standard"))
        inputs.publish_combo.setCurrentIndex(inputs.publish_combo.findData("mp3-128"))
        for _ in range(5):
            app.processEvents()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        ok = inputs.grab().save(str(args.out))
        window.shutdown()
        window.close()
    print(args.out if ok else f"could not save {args.out}")
    return 0 if ok else 1


#: The looks the README shows: (name, palette, window size).
LOOKS = (("light-1280x800", "light", (1280, 800)), ("dark-1920x1080", "dark", (1920, 1080)))


def _stages(app, args) -> int:
    """The window before a run (the sample loaded), during it (the optimiser halfway) and after it, in each look."""
    from PySide6.QtCore import QTimer

    from .view_screenshots import _dark_palette

    args.out.mkdir(parents=True, exist_ok=True)
    light = app.palette()
    for look, palette, size in LOOKS:
        app.setPalette(light if palette == "light" else _dark_palette())
        with tempfile.TemporaryDirectory() as tmp:
            window = _sample_window(Path(tmp), args, size)
            for _ in range(5):
                app.processEvents()
            window.grab().save(str(args.out / f"before-{look}.png"))
            taken: list[bool] = []

            def during(snapshot, window=window, taken=taken, path=args.out / f"during-{look}.png") -> None:
                if not taken and snapshot.step >= args.steps // 2:
                    taken.append(True)
                    QTimer.singleShot(300, lambda: window.grab().save(str(path)))

            if not _run_to_end(app, window, during):
                return 1
            window.grab().save(str(args.out / f"after-{look}.png"))
            window.shutdown()
            window.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
