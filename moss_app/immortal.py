"""Keep ``None``, ``True`` and ``False`` alive whatever a C extension does to their reference counts.

Why: PySide6 6.12.0 on CPython 3.11 drops one reference to ``None`` every time a Python call of a Qt method that
returns ``void`` comes back (measured: ``QLabel.setText``, ``QGraphicsItem.setPos``, ``QObject.setObjectName``,
-1.0 reference per call), and some ``bool`` returns do the same to ``True``/``False``. ``None`` starts with about
100 000 references in the app, a live run drains about 240 a second (pyqtgraph repaints), so after a few minutes
CPython reaches zero and aborts with "Fatal Python error: none_dealloc" (the test suite aborted the same way at exit).
CPython 3.12 made these objects immortal (PEP 683), which is why the bug goes unnoticed there.

What: on CPython older than 3.12 we add 2**40 references to each of the three objects once, before any Qt call:
what 3.12 does, done by hand. It never hurts (these objects are static and never freed) and it lasts: at a million
lost references a second it would take twelve days to drain. ``tests/app/test_immortal.py`` shows the loss and the fix.
"""

from __future__ import annotations

import ctypes
import sys

#: References added to each singleton (CPython < 3.12 only).
TOP_UP = 1 << 40
_SINGLETONS = (None, True, False)
_done = False


def needed() -> bool:
    """True where these objects are mortal: CPython before 3.12 (later versions and other interpreters: no)."""
    return sys.implementation.name == "cpython" and sys.version_info < (3, 12)


def make_singletons_immortal() -> bool:
    """Add ``TOP_UP`` references to None, True and False once per process; returns whether it did anything."""
    global _done
    if _done or not needed():
        return False
    for obj in _SINGLETONS:
        # ob_refcnt is the first field of every object in a release build of CPython 3.11 (Py_ssize_t)
        ctypes.c_ssize_t.from_address(id(obj)).value += TOP_UP
    _done = True
    return True
