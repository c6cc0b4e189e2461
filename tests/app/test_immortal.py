"""The PySide6 6.12 / CPython 3.11 reference loss on None, and moss_app's guard against it (moss_app/immortal.py)."""

import subprocess
import sys
import textwrap

import PySide6
import pytest

from moss_app import immortal

#: Many more void Qt calls than None has references in a fresh interpreter (about 16 000 before the guard).
CALLS = 200_000

_SCRIPT = textwrap.dedent(f"""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if sys.argv[1] == "guard":
        import moss_app  # noqa: F401  (installs the guard)
    from PySide6.QtCore import QObject
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range({CALLS}):
        obj.setObjectName("x")  # returns void
    print(before - sys.getrefcount(None))
""")


def _run(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, timeout=120)


def test_the_guard_tops_up_once_and_only_where_needed():
    if immortal.needed():
        # moss_app is imported: the guard ran (PySide6 has drained some references since, far fewer than the top-up)
        assert sys.getrefcount(None) > immortal.TOP_UP // 2
        assert not immortal.make_singletons_immortal()  # once per process
    else:
        assert not immortal.make_singletons_immortal()


@pytest.mark.skipif(not immortal.needed(), reason="None is immortal on this Python (3.12+): nothing to guard")
def test_void_qt_calls_no_longer_abort_the_interpreter():
    guarded = _run("guard")
    assert guarded.returncode == 0, guarded.stderr
    lost = int(guarded.stdout.strip())
    # one of the two bindings we know, nothing in between: 6.12.0 loses one reference per void call, a fixed one none
    leaks = abs(lost - CALLS) <= CALLS // 100
    assert leaks or abs(lost) <= CALLS // 100, f"{lost} references lost in {CALLS} calls: a binding we do not know"
    if PySide6.__version__ == "6.12.0":
        assert leaks, f"PySide6 6.12.0 is known to lose one reference per void call, this run lost {lost}"
    unguarded = _run("plain")
    if leaks:  # where the binding loses, the unguarded interpreter dies of it, and only the guard keeps it alive
        assert unguarded.returncode != 0 and "deallocating None" in unguarded.stderr
    else:
        assert unguarded.returncode == 0, unguarded.stderr
