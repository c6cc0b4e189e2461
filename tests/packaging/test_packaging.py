"""The packaging, checked without building (a real build takes minutes: packaging/build_linux.sh does it).

The spec runs with stand-ins for PyInstaller's Analysis, EXE, COLLECT and BUNDLE, so what it asks for (data files,
hidden imports, excludes, what it drops from the bundle) is checked in seconds; the desktop entry validates; the
.deb's control template names the libraries Qt and PortAudio need; the runtime hook and the smoke-test script work.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
LINUX = sys.platform.startswith("linux")
PORTAUDIO_HOOK = PACKAGING / "rthooks" / "pyi_rth_moss_portaudio.py"


# --- the spec --------------------------------------------------------------------------------------------------------


class _Recorded:
    """A stand-in for PyInstaller's build targets: keeps its arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def _fake_binaries(folder: Path) -> list[tuple[str, str, str]]:
    """What PyInstaller's hooks would collect, in part: kept, dropped and moved entries (files under ``folder``)."""
    names = [
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",
        "torch/bin/test_api",
        "torch/lib/libtorch_cpu.a",
        "torch/lib/libjitbackend_test.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/plugins/generic/libqtuiotouchplugin.so",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "libpango-1.0.so.0",
        "libglib-2.0.so.0",
        "libportaudio.so.2",
        "libjack.so.0",
        "libasound.so.2",
        "libmvec.so.1",
    ]
    entries = []
    for name in names:
        path = folder / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x7fELF")
        entries.append((name, str(path), "BINARY"))
    return entries


#: Modules the fake Analysis found (setuptools, say, is not among them: the spec excludes it).
_BUNDLED_MODULES = (
    "torch",
    "numpy",
    "numpy.linalg",
    "PySide6.QtCore",
    "pymoo",
    "moocore",
    "soundfile",
    "imageio_ffmpeg",
    "moss_app",
)

#: Which fake binary links to what (the ldd closure), for the spec's pruning of what only dropped plugins needed.
_LINKS = {
    "libqxcb.so": {"libQt6Gui.so.6", "libglib-2.0.so.0"},
    "libqwayland.so": {"libQt6Gui.so.6"},
    "libqoffscreen.so": {"libQt6Gui.so.6"},
    "libqxdgdesktopportal.so": {"libQt6Gui.so.6"},
    "libqeglfs.so": {"libQt6Gui.so.6", "libQt6EglFSDeviceIntegration.so.6"},
    "libqvnc.so": {"libQt6Gui.so.6", "libQt6Network.so.6"},
    "libqtuiotouchplugin.so": {"libQt6Network.so.6"},
    "libqgtk3.so": {"libpango-1.0.so.0", "libglib-2.0.so.0", "libQt6Gui.so.6"},
    "libportaudio.so.2": {"libjack.so.0", "libasound.so.2"},
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    """The spec, run with stand-ins: {"analysis", "exe", "collect", "bundle", "workpath", "namespace"}."""
    pytest.importorskip("PyInstaller", reason="pip install -e .[packaging]")
    from PyInstaller.depend import bindepend

    folder = tmp_path_factory.mktemp("spec")
    workpath = folder / "build"
    binaries = _fake_binaries(folder)
    made: dict[str, _Recorded] = {}

    class Analysis(_Recorded):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.datas = [
                *kwargs["datas"],
                ("PySide6/Qt/translations/qtbase_de.qm", "x", "DATA"),
                ("torch/include/ATen/ATen.h", "x", "DATA"),
                ("torch/share/cmake/Torch.cmake", "x", "DATA"),
                ("matplotlib/mpl-data/matplotlibrc", "x", "DATA"),
            ]
            self.binaries = list(binaries)
            self.pure = [(name, "x", "PYMODULE") for name in _BUNDLED_MODULES]
            self.scripts = []
            made["analysis"] = self

    def recorder(name):
        def make(*args, **kwargs):
            made[name] = _Recorded(*args, **kwargs)
            return made[name]

        return make

    def get_imports(filename, search_paths=None):
        return {(name, None) for name in _LINKS.get(Path(filename).name, set())}

    namespace = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(workpath),
        "Analysis": Analysis,
        "PYZ": recorder("pyz"),
        "EXE": recorder("exe"),
        "COLLECT": recorder("collect"),
        "BUNDLE": recorder("bundle"),
        "__name__": "__main__",
        "__file__": str(PACKAGING / "moss.spec"),
    }
    original = bindepend.get_imports
    bindepend.get_imports = get_imports
    try:
        exec(compile((PACKAGING / "moss.spec").read_text(encoding="utf-8"), "moss.spec", "exec"), namespace)
    finally:
        bindepend.get_imports = original
    return {**made, "workpath": workpath, "namespace": namespace}


def _dests(entries) -> set[str]:
    return {entry[0] for entry in entries}


def test_the_spec_builds_a_onedir_windowed_app_without_upx(spec):
    exe, collect = spec["exe"].kwargs, spec["collect"]
    assert exe["exclude_binaries"] is True  # onedir: the binaries go to COLLECT, not into the executable
    assert exe["upx"] is False and collect.kwargs["upx"] is False and exe["console"] is False
    import torch

    expected = "MOSS" if torch.version.cuda is None else "MOSS-cuda"
    assert collect.kwargs["name"] == expected
    assert exe["name"] == {"win32": "MOSS", "darwin": "MOSS"}.get(sys.platform, "moss-app")
    assert ("bundle" in spec) == (sys.platform == "darwin")


def test_the_spec_starts_at_main_py_with_the_runtime_hook(spec):
    analysis = spec["analysis"]
    assert analysis.args[0] == [str(ROOT / "main.py")]
    assert analysis.kwargs["runtime_hooks"] == [str(PORTAUDIO_HOOK)]
    hidden = analysis.kwargs["hiddenimports"]
    for module in (
        "moss_app.self_test",
        "moss_app.main_window",
        "moss_engine.run.pipeline",
        "moss_engine.optimise.nsga2",
    ):
        assert module in hidden
    assert any(module.startswith("pymoo.functions") for module in hidden)
    # the developers' tools are not part of the app: neither asked for nor let in
    assert "moss_app.dev" in analysis.kwargs["excludes"]
    assert not [module for module in hidden if module == "moss_app.dev" or module.startswith("moss_app.dev.")]


def test_the_spec_bundles_the_sample_icons_notices_and_moocore_metadata(spec):
    datas = spec["analysis"].kwargs["datas"]
    by_dest = {}
    for source, dest in datas:
        by_dest.setdefault(dest, []).append(Path(source))
    assert ROOT / "resources" / "sample" in by_dest["resources/sample"]
    assert ROOT / "resources" / "icons" in by_dest["resources/icons"]
    assert PACKAGING / "THIRD_PARTY_NOTICES.md" in by_dest["."]  # sys._MEIPASS: where the About box looks
    assert PACKAGING / "licenses" in by_dest["notices/licenses"]
    assert ROOT / "resources" / "sample" / "NOTICE.md" in by_dest["notices/sample"]
    # moocore reads its own metadata at import: without the dist-info the frozen app crashed
    assert any(dest.startswith("moocore-") and dest.endswith(".dist-info") for dest in by_dest)
    assert any(dest.startswith("moocore") and not dest.endswith(".dist-info") for dest in by_dest)
    record = json.loads((spec["workpath"] / "moss_build.json").read_text(encoding="utf-8"))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    import torch

    assert record["version"] == version and record["torch"] == torch.__version__
    assert record["variant"] == ("cuda" if torch.version.cuda else "cpu")
    table = (spec["workpath"] / "python-licenses" / "PYTHON_PACKAGES.md").read_text(encoding="utf-8")
    packages = {
        line.split("|")[1].strip().lower().replace("_", "-"): line.split("|")[3].strip()
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| package |")
    }
    # the fake Analysis's modules, and matplotlib for its data files
    assert set(packages) == {
        "torch",
        "numpy",
        "pyside6-essentials",
        "pymoo",
        "moocore",
        "soundfile",
        "imageio-ffmpeg",
        "matplotlib",
    }
    assert packages["moocore"] == "LGPL-2.1-or-later" and "LGPL-3.0-only" in packages["pyside6-essentials"]
    collected = _dests(spec["collect"].args[2])
    assert "notices/PYTHON_PACKAGES.md" in collected
    assert any(dest.startswith("notices/licenses/python/moocore/") for dest in collected)


def test_the_spec_excludes_tools_and_unused_qt_but_not_what_pyqtgraph_imports(spec):
    excludes = set(spec["analysis"].kwargs["excludes"])
    assert {
        "tkinter",
        "pytest",
        "hypothesis",
        "PySide6.QtNetwork",
        "PySide6.QtQml",
        "PySide6.QtWebEngineCore",
    } <= excludes
    # pyqtgraph imports QtOpenGL and QtOpenGLWidgets at import: excluding them broke the frozen app
    assert not excludes & {"PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtWidgets", "PySide6.QtSvg"}


def test_the_spec_drops_torch_build_files_qt_translations_and_embedded_plugins(spec):
    binaries, datas = _dests(spec["collect"].args[1]), _dests(spec["collect"].args[2])
    assert {
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/lib/libQt6Gui.so.6",
        "libglib-2.0.so.0",
    } <= binaries
    assert not binaries & {
        "torch/bin/test_api",
        "torch/lib/libtorch_cpu.a",
        "torch/lib/libjitbackend_test.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "libmvec.so.1",
        "PySide6/Qt/plugins/generic/libqtuiotouchplugin.so",
    }
    assert "matplotlib/mpl-data/matplotlibrc" in datas
    assert not datas & {
        "PySide6/Qt/translations/qtbase_de.qm",
        "torch/include/ATen/ATen.h",
        "torch/share/cmake/Torch.cmake",
    }


@pytest.mark.skipif(not LINUX, reason="the library pruning and the PortAudio move are Linux only")
def test_on_linux_the_libraries_only_dropped_plugins_needed_go_and_portaudio_moves_off_the_library_path(spec):
    binaries = _dests(spec["collect"].args[1])
    # needed only by eglfs, vnc, tuio and gtk3: gone; libglib is needed by the kept xcb plugin too: kept
    assert not binaries & {
        "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "libpango-1.0.so.0",
    }
    assert {"portaudio/libportaudio.so.2", "portaudio/libjack.so.0"} <= binaries
    assert not binaries & {"libportaudio.so.2", "libjack.so.0", "libasound.so.2"}


# --- the runtime hook ------------------------------------------------------------------------------------------------


@pytest.fixture
def portaudio_hook(tmp_path, monkeypatch):
    """The hook installed over a stand-in find_library in a fake bundle; (bundle folder, the libraries "found")."""
    import ctypes
    import ctypes.util
    import runpy

    system: dict[str, str | None] = {"portaudio": "libportaudio.so.2", "jack": "libjack.so.0"}
    loaded: list[str] = []
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: system.get(name))
    monkeypatch.setattr(ctypes, "CDLL", lambda path, mode=0: loaded.append(path))
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delenv("MOSS_PORTAUDIO", raising=False)
    (tmp_path / "portaudio").mkdir()
    for name in ("libportaudio.so.2", "libjack.so.0"):
        (tmp_path / "portaudio" / name).write_bytes(b"\x7fELF")
    runpy.run_path(str(PORTAUDIO_HOOK))["_install"]()
    return tmp_path, system, loaded


def test_the_hook_leaves_the_system_portaudio_first(portaudio_hook):
    import ctypes.util

    _bundle, _system, loaded = portaudio_hook
    assert ctypes.util.find_library("portaudio") == "libportaudio.so.2"
    assert ctypes.util.find_library("sndfile") is None and loaded == []


def test_the_hook_answers_with_the_bundled_portaudio_where_the_system_has_none(portaudio_hook):
    import ctypes.util

    bundle, system, loaded = portaudio_hook
    system["portaudio"] = None
    assert ctypes.util.find_library("portaudio") == str(bundle / "portaudio" / "libportaudio.so.2")
    assert loaded == []  # the system has libjack: the bundled one stays unloaded
    system["jack"] = None
    assert ctypes.util.find_library("portaudio") == str(bundle / "portaudio" / "libportaudio.so.2")
    assert loaded == [str(bundle / "portaudio" / "libjack.so.0")]


def test_the_hook_uses_the_bundled_portaudio_when_told(portaudio_hook, monkeypatch):
    import ctypes.util

    bundle, _system, _loaded = portaudio_hook
    monkeypatch.setenv("MOSS_PORTAUDIO", "bundled")
    assert ctypes.util.find_library("portaudio") == str(bundle / "portaudio" / "libportaudio.so.2")


# --- the Linux desktop entry, launcher and .deb control ---------------------------------------------------------------


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(PACKAGING / "linux" / "moss-app.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_entry_starts_the_launcher_with_the_app_icon_and_window_class():
    from moss_app.identity import DESKTOP_FILE_NAME

    entry = _desktop_entry()
    launcher = PACKAGING / "linux" / "moss-app"
    assert entry["Type"] == "Application" and entry["Name"] == "MOSS" and entry["Terminal"] == "false"
    assert entry["Exec"] == entry["TryExec"] == launcher.name == DESKTOP_FILE_NAME
    assert entry["Icon"] == DESKTOP_FILE_NAME  # usr/share/icons/hicolor/NxN/apps/moss-app.png in the .deb
    assert entry["StartupWMClass"] == "MOSS"  # Qt's X11 window class is the application name identify_app sets
    assert entry["Categories"].split(";")[:2] == ["AudioVideo", "Audio"] and entry["Categories"].endswith(";")
    assert os.access(launcher, os.X_OK)
    assert launcher.read_text(encoding="utf-8").splitlines()[-1] == 'exec /opt/moss/moss-app "$@"'


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_the_desktop_entry_passes_desktop_file_validate():
    done = subprocess.run(
        ["desktop-file-validate", str(PACKAGING / "linux" / "moss-app.desktop")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_deb_depends_on_portaudio_and_the_libraries_qt_loads():
    fields = {}
    for line in (PACKAGING / "linux" / "control.in").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(" "):
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    depends = [alternatives.strip() for alternatives in fields["Depends"].split(",")]
    for package in (
        "libportaudio2",
        "libxcb-cursor0",
        "libegl1",
        "libxkbcommon0",
        "libxkbcommon-x11-0",
        "libfontconfig1",
        "libdbus-1-3",
        "libx11-xcb1",
        "libxcb-icccm4",
        "libwayland-cursor0",
    ):
        assert package in depends
    assert "libasound2 | libasound2t64" in depends and "libc6 (>= @GLIBC@)" in depends
    assert fields["Package"] == "@PACKAGE@" and fields["Architecture"] == "amd64"
    assert fields["Conflicts"] == fields["Replaces"] == "@CONFLICTS@"


# --- the build scripts ------------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_linux_build_script_explains_itself_and_refuses_unknown_options():
    script = PACKAGING / "build_linux.sh"
    assert subprocess.run(["bash", "-n", str(script)], timeout=30).returncode == 0
    shown = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0
    for option in (
        "--skip-build",
        "--no-tar",
        "--no-deb",
        "--install-test",
        "DEB_COMPRESSION",
        "dist/MOSS/",
        ".deb",
        "--self-test",
    ):
        assert option in shown.stdout
    wrong = subprocess.run(["bash", str(script), "--frobnicate"], capture_output=True, text=True, timeout=30)
    assert wrong.returncode == 2 and "unknown option --frobnicate" in wrong.stderr
    assert subprocess.run(["bash", "-n", str(PACKAGING / "macos" / "make_dmg.sh")], timeout=30).returncode == 0


def test_the_windows_installer_packs_the_bundle_the_spec_makes():
    script = (PACKAGING / "windows" / "moss.iss").read_text(encoding="utf-8")
    assert 'Source: "..\\..\\dist\\{#Bundle}\\*"' in script and '#define Bundle "MOSS"' in script
    assert 'Filename: "{app}\\MOSS.exe"' in script  # the spec's EXE name on Windows
    assert "PrivilegesRequired=lowest" in script and "ArchitecturesInstallIn64BitMode=x64compatible" in script
    assert (PACKAGING / "windows" / "..\\licenses\\GPL-3.0.txt".replace("\\", "/")).resolve().is_file()


def test_the_installers_workflow_builds_on_each_system():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "installers.yml").read_text(encoding="utf-8"))
    runners = {name: job["runs-on"] for name, job in workflow["jobs"].items()}
    assert runners == {"linux": "ubuntu-22.04", "windows": "windows-latest", "macos": "macos-latest"}
    steps = {name: " ".join(step.get("run", "") for step in job["steps"]) for name, job in workflow["jobs"].items()}
    assert "packaging/build_linux.sh --install-test" in steps["linux"]
    assert "moss.iss" in steps["windows"] and "smoke_frozen.py" in steps["windows"]
    assert "packaging/macos/make_dmg.sh" in steps["macos"]


# --- the smoke test's own script --------------------------------------------------------------------------------------

_FAKE_APP = """import json, sys, time
report = {"format": "moss-self-test/1", "ok": STATUS == 0, "failures": [] if STATUS == 0 else ["window: broken"],
          "checks": {"environment": {"ok": True, "frozen": True, "qt_platform": "offscreen",
                                     "build": {"variant": "cpu"}},
                     "window": {"ok": True, "shown_after_launch_s": 0.25, "launch_time_source": "/proc/self/stat",
                                "shown_at_unix": time.time()},
                     "engine_run": {"ok": True, "seconds": 1.5, "device": "cpu (2 threads)"},
                     "ffmpeg": {"ok": True, "bundled": True},
                     "audio_devices": {"ok": True, "bundled": False}}}
if WRITE:
    open(sys.argv[2], "w").write(json.dumps(report))
sys.exit(STATUS)
"""


def _fake_app(folder: Path, status: int = 0, write: bool = True) -> Path:
    script = folder / "fake_app.py"
    script.write_text(_FAKE_APP.replace("STATUS", str(status)).replace("WRITE", str(write)), encoding="utf-8")
    exe = folder / "fake-moss-app"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return exe


def _smoke(argv: list[str]) -> int:
    import runpy

    return runpy.run_path(str(PACKAGING / "smoke_frozen.py"))["main"](argv)


@pytest.mark.skipif(sys.platform == "win32", reason="the fake app is a shell script")
def test_smoke_frozen_passes_and_writes_the_start_figures(tmp_path, capsys):
    exe = _fake_app(tmp_path)
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "lib.so").write_bytes(b"x" * 5000)
    status = _smoke(
        [
            str(exe),
            "--report",
            str(tmp_path / "r.json"),
            "--json",
            str(tmp_path / "f.json"),
            "--expect",
            "frozen=true",
            "--expect",
            "variant=cpu",
            "--expect",
            "ffmpeg_bundled=true",
            "--label",
            "fake",
            *(["--evict", str(tmp_path / "bundle")] if LINUX else []),
        ]
    )
    assert status == 0
    figures = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert figures["ok"] is True and figures["window_shown_s"] == 0.25 and figures["engine_run_s"] == 1.5
    assert 0.0 < figures["window_shown_outside_s"] < figures["self_test_wall_s"] < 60
    assert figures["unmet_expectations"] == []
    if LINUX:
        assert figures["evicted_files"] == 1 and figures["evicted_mb"] == 0.0
    assert capsys.readouterr().out.startswith("fake: self-test passed; window shown 0.25 s after launch")


@pytest.mark.skipif(sys.platform == "win32", reason="the fake app is a shell script")
def test_smoke_frozen_fails_on_a_failed_self_test_an_unmet_expectation_or_no_report(tmp_path, capsys):
    report = str(tmp_path / "r.json")
    assert _smoke([str(_fake_app(tmp_path, status=1)), "--report", report]) == 1
    assert "window: broken" in capsys.readouterr().err
    assert _smoke([str(_fake_app(tmp_path)), "--report", report, "--expect", "portaudio_bundled=true"]) == 3
    assert "portaudio_bundled is False, expected true" in capsys.readouterr().err
    assert _smoke([str(_fake_app(tmp_path, write=False)), "--report", report]) == 4
