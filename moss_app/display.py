"""Whether the window can be shown at all: on Linux (and the other X11/Wayland systems) without a display Qt aborts
with its xcb message (exit 134); ``moss-app`` says what is missing in one line instead and exits 2."""

from __future__ import annotations

import sys
from collections.abc import Mapping

#: Exit status of ``moss-app`` when there is no display (2: the command cannot run as invoked, as ``moss`` uses it).
NO_DISPLAY_STATUS = 2
#: The line ``moss-app`` prints on stderr then.
NO_DISPLAY_MESSAGE = (
    "moss-app: no display: set DISPLAY (an X server, or xvfb-run moss-app) or WAYLAND_DISPLAY, "
    "or run the command-line `moss`"
)
#: Qt's platform plugins that need a display server, and the variable that names it (the others, offscreen,
#: minimal, vnc, eglfs, linuxfb..., draw without one).
_NEEDS = {"xcb": "DISPLAY", "wayland": "WAYLAND_DISPLAY", "wayland-egl": "WAYLAND_DISPLAY"}


def missing_display(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """The line to print when the window cannot be shown (None: it can, or Qt decides).

    The decision: only X11/Wayland systems are checked (Windows and macOS always have their own platform). There,
    ``QT_QPA_PLATFORM`` may name plugins in order of preference (``wayland;xcb``); the window can be shown when one
    of them needs no display server (``offscreen``) or finds the variable naming its server set. Unset, Qt picks
    Wayland or X11 by itself, so either ``WAYLAND_DISPLAY`` or ``DISPLAY`` will do.
    """
    if platform.startswith(("win", "darwin", "cygwin", "emscripten")):
        return None
    asked = [part.split(":", 1)[0].strip().lower() for part in environ.get("QT_QPA_PLATFORM", "").split(";")]
    asked = [name for name in asked if name] or ["wayland", "xcb"]
    for name in asked:
        variable = _NEEDS.get(name)
        if variable is None or environ.get(variable):
            return None
    return NO_DISPLAY_MESSAGE
