"""Fixtures of the app's tests: offscreen Qt, Qt warnings fail a test, temporary settings, tiny runs."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import: no display needed, none touched

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, QtMsgType, qInstallMessageHandler  # noqa: E402

from moss_engine.resources import sample_paths  # noqa: E402
from moss_engine.settings import make_settings  # noqa: E402

#: Messages of the offscreen platform itself, not of our code.
IGNORED_QT_MESSAGES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
)
_FAILING = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)

#: A run small enough for tests (a few seconds on two CPU cores).
TINY = {"quality": "preview", "duration_s": 2.0, "steps": 3, "points": 4, "device": "cpu", "phase_iterations": 0}


@pytest.fixture(autouse=True)
def fail_on_qt_warnings():
    """Any Qt warning (or worse) during a test, its fixtures' teardown included, fails it (qutebrowser's rule)."""
    messages: list[str] = []

    def handler(mode, _context, message):
        if mode in _FAILING and not message.startswith(IGNORED_QT_MESSAGES):
            messages.append(f"{mode.name}: {message}")

    qInstallMessageHandler(handler)
    yield messages
    qInstallMessageHandler(None)
    assert not messages, "Qt warnings:\n" + "\n".join(messages)


@pytest.fixture(autouse=True, scope="session")
def _no_user_settings(tmp_path_factory):
    """Any QSettings made without an explicit file lands in a temporary folder, never the user's."""
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)


@pytest.fixture(autouse=True)
def autosave_dir(tmp_path, monkeypatch) -> Path:
    """Autosaves go to the test's own temporary folder, never the user's data folder."""
    from moss_app import autosave

    folder = tmp_path / "autosave-base"
    monkeypatch.setattr(autosave, "BASE_DIR", folder)
    return folder


@pytest.fixture
def temp_qsettings(tmp_path) -> QSettings:
    """A QSettings in an .ini file of the test's own temporary folder."""
    return QSettings(str(tmp_path / "moss-test.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def store(temp_qsettings):
    from moss_app.settings_store import SettingsStore

    return SettingsStore(temp_qsettings)


def tiny_settings(image, audio, quality="preview", **overrides):
    return make_settings(image, audio, **{**TINY, "quality": quality, **overrides})


@pytest.fixture(name="tiny_settings")
def tiny_settings_fixture():
    """``tiny_settings(image, audio, quality="preview", **overrides)``: the settings of a test-sized run."""
    return tiny_settings


@pytest.fixture(scope="session")
def sample() -> tuple[Path, Path]:
    return sample_paths()


@pytest.fixture(scope="session")
def tiny_result(sample):
    """One finished tiny run of the sample, shared by the tests that only need a result to show."""
    from moss_engine.run.pipeline import compute_front

    return compute_front(tiny_settings(*sample))


@pytest.fixture
def runner(qapp):
    """A started FrontRunner, stopped and waited for in teardown."""
    from moss_app.worker import FrontRunner

    thread = FrontRunner()
    yield thread
    assert thread.shutdown(60000), "the worker thread did not stop"
    thread.deleteLater()


@pytest.fixture
def window(qtbot, store, sample):
    """The main window on the sample, making tiny runs, its worker thread stopped in teardown."""
    from moss_app.main_window import MainWindow

    win = MainWindow(store, lambda image, audio, quality, **o: tiny_settings(image, audio, quality, **o), *sample)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    assert not win.runner.qthread.isRunning()
