"""``moss-app`` without a display (issue 22, app defect 7): one line saying what is missing and exit 2, not Qt's xcb
abort (exit 134); offscreen still opens the window."""

import os
import subprocess
import sys

import pytest

from moss_app.display import NO_DISPLAY_MESSAGE, NO_DISPLAY_STATUS, missing_display

#: What the ``moss-app`` script runs (``[project.gui-scripts]``), and ``python -m moss_app.main``.
AS_SCRIPT = [sys.executable, "-c", "import sys; from moss_app.main import main; sys.exit(main())"]
AS_MODULE = [sys.executable, "-m", "moss_app.main"]
#: The window opened offscreen, then closed once the event loop runs.
OPEN_AND_QUIT = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from moss_app.main import main

app = QApplication(["moss-app"])

def done():
    print("shown:", [w.windowTitle() for w in app.topLevelWidgets() if w.isVisible()], flush=True)
    app.closeAllWindows()
    app.quit()

QTimer.singleShot(300, done)
sys.exit(main(["moss-app"]))
"""


def headless_env(tmp_path, **extra) -> dict[str, str]:
    """This environment with no display named and no Qt platform asked for; the user's folders in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(tmp_path / name.lower())
    return {**env, **extra}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Windows and macOS always have a display")
@pytest.mark.parametrize("command", [AS_SCRIPT, AS_MODULE], ids=["moss-app", "python -m moss_app.main"])
def test_no_display_says_so_in_one_line_and_exits_2(tmp_path, command):
    out = subprocess.run(command, env=headless_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == NO_DISPLAY_STATUS == 2, out.stderr[-2000:]
    assert out.stderr.splitlines() == [NO_DISPLAY_MESSAGE] and out.stdout == ""
    assert "DISPLAY" in NO_DISPLAY_MESSAGE and "xvfb-run" in NO_DISPLAY_MESSAGE and "`moss`" in NO_DISPLAY_MESSAGE


def test_offscreen_still_opens_the_window(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", OPEN_AND_QUIT],
        env=headless_env(tmp_path, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "shown: ['MOSS: hide a picture in music']" in out.stdout and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("environ", "ok"),
    [
        ({}, False),
        ({"DISPLAY": ":0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "offscreen"}, True),
        ({"QT_QPA_PLATFORM": "minimal"}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, False),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, False),  # asked for X11 and no X server
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}, True),  # the second choice finds its server
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, True),
        ({"DISPLAY": ""}, False),
    ],
)
def test_which_environments_have_a_display(environ, ok):
    assert (missing_display(environ, "linux") is None) is ok
    assert missing_display({}, "win32") is None and missing_display({}, "darwin") is None
