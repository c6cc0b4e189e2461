"""``moss-app --self-test [REPORT]``: the flag's parsing, a real self-test in this process, and its failures."""

import json
import time
from pathlib import Path

import pytest

from moss_app import main as app_main
from moss_app import self_test


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["moss-app"], (False, None, ["moss-app"])),
        (["moss-app", "--self-test"], (True, None, ["moss-app"])),
        (["moss-app", "--self-test", "r.json"], (True, Path("r.json"), ["moss-app"])),
        (
            ["moss-app", "--self-test=r.json", "-style", "fusion"],
            (True, Path("r.json"), ["moss-app", "-style", "fusion"]),
        ),
        (["moss-app", "--self-test", "-platform", "xcb"], (True, None, ["moss-app", "-platform", "xcb"])),
        (["moss-app", "--self-test="], (True, None, ["moss-app"])),
    ],
)
def test_the_flag_and_its_report_path_are_taken_out_of_argv(argv, expected):
    assert app_main.split_self_test(argv) == expected


def test_main_with_the_flag_runs_the_self_test_and_returns_its_status(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(self_test, "run_self_test", lambda report: calls.append(report) or 7)
    assert app_main.main(["moss-app", "--self-test", str(tmp_path / "r.json")]) == 7
    assert calls == [tmp_path / "r.json"]


def test_the_process_age_is_a_few_seconds_at_most_after_a_test_started():
    age, source = self_test.process_age_s()
    if source == "unavailable":
        pytest.skip("this OS does not say when a process started")
    assert source in ("/proc/self/stat", "psutil")
    assert 0.0 < age < 24 * 3600  # this pytest process started before this test and less than a day ago


def test_a_self_test_on_this_machine_passes_and_reports_each_check(qapp, tmp_path):
    path = tmp_path / "report.json"
    before = time.time()
    assert self_test.run_self_test(path) == 0
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["format"] == self_test.FORMAT and report["ok"] is True and report["failures"] == []
    checks = report["checks"]
    assert list(checks) == ["environment", "resources", "window", "engine_run", "ffmpeg", "audio_devices", "close"]
    assert all(check["ok"] for check in checks.values())
    assert checks["environment"]["frozen"] is False and checks["environment"]["build"] is None
    assert checks["environment"]["qt_platform"] == "offscreen"
    assert checks["resources"]["files"] == 4 and checks["resources"]["about_notices"].endswith("THIRD_PARTY_NOTICES.md")
    window = checks["window"]
    assert window["title"].startswith("MOSS")
    assert 256 in window["icon_sizes"] and window["device_text"].startswith(("CPU (", "GPU: "))
    assert before <= window["shown_at_unix"] <= time.time()
    run = checks["engine_run"]
    assert run["points"] == len(run["alphas"]) == len(run["visual"]) == len(run["audio"])
    assert 2 <= run["points"] <= self_test.RUN["points"]
    assert run["alphas"][0] == 0.0 and run["alphas"] == sorted(run["alphas"])
    assert run["device"].startswith(("cpu", "cuda", "mps")) and run["steps_done"] == self_test.RUN["steps"]
    assert "front.png" in run["run_folder_files"] and run["settings"] == self_test.RUN
    assert checks["ffmpeg"]["version"].startswith("ffmpeg version") and checks["ffmpeg"]["bundled"] is False
    assert checks["audio_devices"]["portaudio"].startswith("PortAudio")
    assert checks["audio_devices"]["outputs"] <= checks["audio_devices"]["devices"]
    assert checks["close"]["worker_stopped"] is True
    assert report["uncaught_exceptions"] == []


class _NoWindow:
    def __init__(self, _app, _scratch):
        raise RuntimeError("no display for you")


def test_a_failed_check_gives_status_1_and_says_which(qapp, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(self_test, "_WindowSession", _NoWindow)

    def no_ffmpeg():
        raise self_test.CheckFailed("ffmpeg binary not found at /nowhere")

    monkeypatch.setattr(self_test, "check_ffmpeg", no_ffmpeg)
    path = tmp_path / "sub" / "report.json"
    assert self_test.run_self_test(path) == 1
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["ok"] is False
    assert report["failures"] == [
        "window: RuntimeError: no display for you",
        "engine_run: not run: no window",
        "ffmpeg: ffmpeg binary not found at /nowhere",
    ]
    assert "no display for you" in report["checks"]["window"]["traceback"]
    assert "traceback" not in report["checks"]["ffmpeg"]  # a CheckFailed says what was wrong by itself
    assert report["checks"]["audio_devices"]["ok"] is True and "close" not in report["checks"]
    assert capsys.readouterr().out.startswith("MOSS self-test FAILED (window: RuntimeError: no display for you;")


def test_a_report_that_cannot_be_written_gives_status_2(qapp, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(self_test, "_WindowSession", _NoWindow)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert self_test.run_self_test(blocker / "report.json") == 2
    assert capsys.readouterr().out.startswith(f"MOSS self-test: report: could not write {blocker / 'report.json'}")


def test_the_default_report_lies_beside_the_log_file():
    from moss_app.crash import log_path

    assert self_test.default_report_path() == log_path().parent / "self-test.json"
