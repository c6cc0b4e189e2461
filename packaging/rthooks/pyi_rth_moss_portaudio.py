"""PyInstaller runtime hook (Linux): let sounddevice find a PortAudio library in the frozen app.

sounddevice asks ``ctypes.util.find_library("portaudio")``, which on Linux reads the system's linker cache. Where the
system has PortAudio (Debian's ``libportaudio2``, which the .deb depends on), that library is used: it was built for
the user's ALSA/JACK/PulseAudio set-up. Where it has none (the .tar.gz on a bare system), find_library returns None
and sounddevice would fail; then this hook answers with the copy that moss.spec put in ``portaudio/``, off the
library path so that it never shadows the system's, after loading the bundled libjack where the system has none.
``MOSS_PORTAUDIO=bundled`` forces the bundled copy (the build script tests the fallback with it).
"""

import sys


def _install() -> None:
    import contextlib
    import ctypes
    import ctypes.util
    import os

    folder = os.path.join(sys._MEIPASS, "portaudio")
    original = ctypes.util.find_library

    def find_library(name):
        found = None if name == "portaudio" and os.environ.get("MOSS_PORTAUDIO") == "bundled" else original(name)
        library = os.path.join(folder, "libportaudio.so.2")
        if name != "portaudio" or found is not None or not os.path.isfile(library):
            return found
        jack = os.path.join(folder, "libjack.so.0")
        if os.path.isfile(jack) and original("jack") is None:
            # loaded first, globally, so that the bundled PortAudio's link to libjack.so.0 resolves to it
            with contextlib.suppress(OSError):
                ctypes.CDLL(jack, mode=ctypes.RTLD_GLOBAL)
        return library

    ctypes.util.find_library = find_library


if sys.platform.startswith("linux") and getattr(sys, "frozen", False):
    _install()
