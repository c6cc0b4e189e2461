"""The engine imports with no Qt and no sounddevice (STYLE.md: engine and UI stay apart, and a tool says so)."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import moss_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_engine_module_imports_without_qt_or_sounddevice():
    modules = [m.name for m in pkgutil.walk_packages(moss_engine.__path__, "moss_engine.")]
    assert {"moss_engine.run.pipeline", "moss_engine.cli", "moss_engine.dsp.problem"} <= set(modules)
    assert len(modules) > 30
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'sounddevice', 'moss_app'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_import_linter_contracts_hold():
    """The Qt-free engine, its stage layers (commands > run > optimise > dsp > io > settings > errors), the app's
    entry point on top, no import circle in the app, and the shipped app free of the developers' tools."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 kept, 0 broken" in proc.stdout
