"""``moss-app --self-test [REPORT]``: open the window offscreen, make a 2 s run of the sample, check ffmpeg and audio.

The installers run it on the frozen app, and a user can run it when something is wrong. A windowed Windows build has
no stdout, so the result is a JSON report (by default ``self-test.json`` beside the app's log file); the exit status
is 0 when every check passed, 1 when one failed, 2 when the report itself could not be written. Nothing of the user's
is touched: the window gets temporary preferences and the run's autosave goes to a temporary folder.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The self-test's run: two seconds of the sample, a handful of points and steps (a few seconds on a 2-core CPU).
RUN = {"quality": "preview", "duration_s": 2.0, "steps": 4, "points": 4, "phase_iterations": 2, "device": "auto"}
#: Longer than any sane machine needs for ``RUN``; a run still going then counts as a failure.
RUN_TIMEOUT_S = 300.0
#: How long the window may take to be shown.
WINDOW_TIMEOUT_S = 30.0
REPORT_NAME = "self-test.json"
#: Report format; bump when a key changes meaning.
FORMAT = "moss-self-test/1"
#: Qt messages that only say the offscreen platform lacks a window-manager feature.
HARMLESS_QT_MESSAGES = ("This plugin does not support",)


class CheckFailed(Exception):
    """A check saw something wrong (the message says what); any other exception is a failure too."""


def default_report_path() -> Path:
    """``self-test.json`` in the folder of the app's log file (``platformdirs.user_log_dir``)."""
    from .crash import log_path

    return log_path().parent / REPORT_NAME


def process_age_s() -> tuple[float | None, str]:
    """Seconds since this process was launched and how that was measured (None where the OS does not say)."""
    try:  # Linux: the start time in clock ticks after boot, against the uptime
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(stat[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - started, "/proc/self/stat"
    except (OSError, ValueError, IndexError):
        pass
    try:  # Windows and macOS, when psutil is there
        import psutil

        return time.time() - psutil.Process().create_time(), "psutil"
    except Exception:
        return None, "unavailable"


def _resources() -> Path:
    from moss_engine.resources import sample_paths

    return sample_paths()[0].parent.parent


def _bundle_root() -> Path | None:
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) if getattr(sys, "frozen", False) else None


def environment() -> dict[str, Any]:
    """What this app is and where it runs: versions, the build record of a frozen bundle, the torch devices."""
    import PySide6
    import torch
    from PySide6.QtCore import qVersion

    from moss_engine.device import available_devices

    root = _bundle_root()
    build = None
    if root is not None and (root / "moss_build.json").is_file():
        build = json.loads((root / "moss_build.json").read_text(encoding="utf-8"))
    try:
        from importlib.metadata import version

        moss_version = version("moss")
    except Exception:  # a frozen app without the metadata: the build record has it
        moss_version = (build or {}).get("version", "unknown")
    return {
        "moss": moss_version,
        "frozen": root is not None,
        "executable": sys.executable,
        "build": build,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "devices": available_devices(),
        "pyside6": PySide6.__version__,
        "qt": qVersion(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
    }


def check_resources() -> dict[str, Any]:
    """The sample, the icons and (in a bundle) the licence notices are where the app looks for them."""
    resources = _resources()
    wanted = [
        resources / "sample" / "astronaut.png",
        resources / "sample" / "metal_madness_sectoid.ogg",
        resources / "sample" / "NOTICE.md",
        resources / "icons" / "moss-256.png",
    ]
    root = _bundle_root()
    if root is not None:
        wanted += [
            root / "THIRD_PARTY_NOTICES.md",
            root / "notices" / "PYTHON_PACKAGES.md",
            root / "notices" / "licenses" / "GPL-3.0.txt",
            root / "notices" / "sample" / "NOTICE.md",
        ]
    missing = [str(path) for path in wanted if not path.is_file()]
    if missing:
        raise CheckFailed(f"missing: {', '.join(missing)}")
    from .about import notices_path

    about = notices_path()
    if root is not None and about != root / "THIRD_PARTY_NOTICES.md":
        raise CheckFailed(f"the About box points to {about}, not the bundle's notices")
    return {"resources": str(resources), "files": len(wanted), "about_notices": str(about)}


def check_ffmpeg() -> dict[str, Any]:
    """imageio-ffmpeg's binary exists and answers ``-version`` (it decodes M4A/AAC and encodes the morph video)."""
    import imageio_ffmpeg

    exe = Path(imageio_ffmpeg.get_ffmpeg_exe())
    if not exe.is_file():
        raise CheckFailed(f"ffmpeg binary not found at {exe}")
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console window flashing up from a windowed app
    done = subprocess.run(
        [str(exe), "-hide_banner", "-version"],
        capture_output=True,
        text=True,
        timeout=60,
        creationflags=flags,
        stdin=subprocess.DEVNULL,
    )
    first_line = (done.stdout or done.stderr).strip().splitlines()[:1]
    if done.returncode != 0 or not first_line or not first_line[0].startswith("ffmpeg version"):
        raise CheckFailed(f"{exe} -version exited with {done.returncode}: {(done.stderr or done.stdout)[-300:]}")
    root = _bundle_root()
    return {"path": str(exe), "version": first_line[0], "bundled": root is not None and root in exe.parents}


def check_audio_devices() -> dict[str, Any]:
    """PortAudio loads and lists the devices. No device at all is reported, not a failure (Play is then disabled)."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        raise CheckFailed(f"PortAudio could not be loaded: {exc}") from exc
    from .player import find_output

    devices = list(sd.query_devices())
    outputs = [d["name"] for d in devices if int(d.get("max_output_channels", 0)) > 0]
    _module, why_not = find_output()
    library = str(getattr(sd, "_libname", ""))
    root = _bundle_root()
    return {
        "portaudio": sd.get_portaudio_version()[1],
        "library": library,
        "bundled": root is not None and Path(library).is_absolute() and root in Path(library).parents,
        "devices": len(devices),
        "outputs": len(outputs),
        "output_names": outputs[:8],
        "playback": why_not or "available",
    }


class _Recorder:
    """Qt messages and uncaught exceptions (in slots, say) during the self-test, restored afterwards."""

    def __init__(self) -> None:
        self.qt_messages: list[str] = []
        self.qt_errors: list[str] = []
        self.exceptions: list[str] = []

    def __enter__(self) -> _Recorder:
        from PySide6.QtCore import QtMsgType, qInstallMessageHandler

        def handler(mode, _context, message: str) -> None:
            if message.startswith(HARMLESS_QT_MESSAGES):
                return
            self.qt_messages.append(f"{mode.name}: {message}")
            if mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
                self.qt_errors.append(message)

        def excepthook(kind, value, tb) -> None:
            self.exceptions.append("".join(traceback.format_exception(kind, value, tb)))

        self._previous_handler = qInstallMessageHandler(handler)
        self._previous_hook, sys.excepthook = sys.excepthook, excepthook
        return self

    def __exit__(self, *_exc: object) -> None:
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(self._previous_handler)
        sys.excepthook = self._previous_hook


def _wait(app, predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Process Qt events until ``predicate()`` holds or ``timeout_s`` passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


class _WindowSession:
    """The main window on the sample, with temporary preferences and autosave folder, making the self-test's run."""

    def __init__(self, app, scratch: Path):
        from PySide6.QtCore import QSettings

        from moss_engine.resources import sample_paths
        from moss_engine.settings import make_settings

        from . import autosave
        from .main_window import MainWindow
        from .settings_store import SettingsStore

        self.app = app
        self.autosave = autosave
        self._previous_autosave_base = autosave.BASE_DIR
        autosave.BASE_DIR = scratch / "autosave"
        self.picture, self.music = sample_paths()
        store = SettingsStore(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))

        def factory(image, audio, _quality, **_overrides):
            return make_settings(image, audio, **RUN)

        self.window = MainWindow(store, factory, picture=self.picture, music=self.music)
        self.finished: list[Any] = []
        self.failed: list[str] = []
        self.autosaved: list[Path] = []
        self.window.runner.finished.connect(self.finished.append)
        self.window.runner.failed.connect(self.failed.append)
        self.window.runner.autosaved.connect(lambda folder: self.autosaved.append(Path(folder)))

    def show(self) -> dict[str, Any]:
        self.window.show()
        handle = self.window.windowHandle()
        if not _wait(self.app, lambda: handle is not None and handle.isExposed(), WINDOW_TIMEOUT_S):
            raise CheckFailed(f"the main window was not shown within {WINDOW_TIMEOUT_S:.0f} s")
        shown_after, source = process_age_s()
        shown_at = time.time()
        self.app.processEvents()
        if self.window.picture_zone.path != self.picture or self.window.music_zone.path != self.music:
            raise CheckFailed(
                f"the sample is not loaded: picture {self.window.picture_zone.path}, "
                f"music {self.window.music_zone.path}"
            )
        sizes = sorted(size.width() for size in self.window.windowIcon().availableSizes())
        if not sizes:
            raise CheckFailed("the window has no icon")
        return {
            "title": self.window.windowTitle(),
            "size": [self.window.width(), self.window.height()],
            "icon_sizes": sizes,
            "status_bar": self.window.statusBar().currentMessage(),
            "device_text": self.window.device_text(),
            "shown_after_launch_s": None if shown_after is None else round(shown_after, 3),
            "launch_time_source": source,
            "shown_at_unix": round(shown_at, 3),
        }

    def run(self) -> dict[str, Any]:
        import math

        from moss_engine.run.folder import is_run_folder

        started = time.perf_counter()
        if not self.window.start_run():
            raise CheckFailed(f"Start did not start a run: {self.window.status_label.text()}")
        if not _wait(self.app, lambda: self.finished or self.failed, RUN_TIMEOUT_S):
            self.window.cancel_run()
            raise CheckFailed(f"the run did not finish within {RUN_TIMEOUT_S:.0f} s")
        seconds = time.perf_counter() - started
        if self.failed:
            raise CheckFailed(f"the run failed: {self.failed[0]}")
        result = self.finished[0]
        _wait(self.app, lambda: self.window.result is result, 5.0)  # the window's own slot shows it
        points = result.points
        losses = [(p.visual, p.audio) for p in points]
        alphas = [p.alpha for p in points]
        if not 2 <= len(points) <= RUN["points"]:
            raise CheckFailed(f"the front has {len(points)} points, expected 2 to {RUN['points']}")
        if not all(math.isfinite(v) for pair in losses for v in pair):
            raise CheckFailed(f"non-finite losses: {losses}")
        if alphas != sorted(alphas) or abs(alphas[0]) > 1e-6:
            raise CheckFailed(f"alphas not ordered from 0: {alphas}")
        if self.window.result is not result:
            raise CheckFailed("the window did not show the finished run")
        folder = self.autosaved[0] if self.autosaved else None
        if folder is None or not is_run_folder(folder) or not (folder / "front.png").is_file():
            raise CheckFailed(f"the run folder was not written (autosave: {folder})")
        return {
            "seconds": round(seconds, 3),
            "device": result.device,
            "points": len(points),
            "steps_done": result.optimisation.steps_done,
            "hypervolume": round(float(result.hypervolume), 4),
            "alphas": [round(a, 3) for a in alphas],
            "visual": [round(v, 4) for v, _ in losses],
            "audio": [round(a, 4) for _, a in losses],
            "run_folder_files": sorted(p.name for p in folder.iterdir()),
            "settings": {k: v for k, v in RUN.items()},
        }

    def close(self) -> dict[str, Any]:
        self.window.close()
        worker_stopped = not self.window.runner.qthread.isRunning()
        self.window.deleteLater()
        self.app.processEvents()
        self.autosave.BASE_DIR = self._previous_autosave_base
        if not worker_stopped:
            raise CheckFailed("the worker thread still runs after the window closed")
        return {"worker_stopped": worker_stopped}


def _check(report: dict[str, Any], name: str, function: Callable[[], dict[str, Any]]) -> bool:
    """Run one check into ``report["checks"][name]``; whether it passed."""
    started = time.perf_counter()
    entry: dict[str, Any] = {"ok": True}
    try:
        entry.update(function())
    except Exception as exc:
        entry["ok"] = False
        entry["error"] = str(exc) if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, CheckFailed):
            entry["traceback"] = traceback.format_exc()
        report["failures"].append(f"{name}: {entry['error']}")
    entry["check_s"] = round(time.perf_counter() - started, 3)
    report["checks"][name] = entry
    return entry["ok"]


def _summary(report: dict[str, Any], path: Path) -> str:
    checks = report["checks"]
    if not report["ok"]:
        return f"MOSS self-test FAILED ({'; '.join(report['failures'])}); report: {path}"
    window, run, audio = checks["window"], checks["engine_run"], checks["audio_devices"]
    shown = window.get("shown_after_launch_s")
    return (
        f"MOSS self-test passed: window shown {shown if shown is not None else '?'} s after launch, "
        f"{run['points']}-point run in {run['seconds']} s on {run['device']}, ffmpeg ok, audio: "
        f"{audio['outputs']} output device(s); report: {path}"
    )


def run_self_test(report_path: Path | None = None) -> int:
    """Run every check, write the JSON report, print a one-line summary where there is a stdout; the exit status."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    started = time.perf_counter()
    path = Path(report_path) if report_path else default_report_path()
    report: dict[str, Any] = {
        "format": FORMAT,
        "ok": False,
        "failures": [],
        "checks": {},
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    from .identity import identify_app

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "moss-app"])
    identify_app(app)
    with _Recorder() as recorder, tempfile.TemporaryDirectory(prefix="moss-self-test-") as scratch:
        _check(report, "environment", environment)
        _check(report, "resources", check_resources)
        session: _WindowSession | None = None

        def window() -> dict[str, Any]:
            nonlocal session
            session = _WindowSession(app, Path(scratch))
            return session.show()

        if _check(report, "window", window):
            _check(report, "engine_run", session.run)
        else:
            report["checks"]["engine_run"] = {"ok": False, "error": "not run: no window"}
            report["failures"].append("engine_run: not run: no window")
        _check(report, "ffmpeg", check_ffmpeg)
        _check(report, "audio_devices", check_audio_devices)
        if session is not None:
            _check(report, "close", session.close)
    report["qt_messages"] = recorder.qt_messages
    report["uncaught_exceptions"] = recorder.exceptions
    if recorder.qt_errors:
        report["failures"].append(f"qt: {len(recorder.qt_errors)} critical message(s): {recorder.qt_errors[0]}")
    if recorder.exceptions:
        report["failures"].append(f"uncaught exception: {recorder.exceptions[0].strip().splitlines()[-1]}")
    report["ok"] = not report["failures"]
    report["duration_s"] = round(time.perf_counter() - started, 3)
    status = 0 if report["ok"] else 1
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as exc:
        status = 2
        report["failures"].append(f"report: could not write {path}: {exc}")
    if sys.stdout is not None:  # a windowed Windows build has none
        print(_summary(report, path) if status != 2 else f"MOSS self-test: {report['failures'][-1]}", flush=True)
    return status
