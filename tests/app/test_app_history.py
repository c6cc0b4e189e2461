"""The autosave history (issue 16.3): a folder per run, the last ten within a disk cap, File > Recent Runs."""

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from moss_app import autosave
from moss_engine.run.folder import is_run_folder, write_run_folder

MB = 1024 * 1024


@pytest.fixture(scope="module")
def template(tiny_result, tmp_path_factory) -> Path:
    """One run folder of the tiny result, copied into the history by ``add_run``."""
    return write_run_folder(tiny_result, tmp_path_factory.mktemp("history") / "run")


def add_run(template: Path, minutes_ago: float, pad_mb: float = 0.0) -> Path:
    """A run in the history written ``minutes_ago`` (its manifest's time), optionally ``pad_mb`` bigger."""
    when = dt.datetime.now() - dt.timedelta(minutes=minutes_ago)
    folder = autosave.new_run_dir(when)
    shutil.copytree(template, folder)
    if pad_mb:
        (folder / "morph.mp4").write_bytes(b"\0" * int(pad_mb * MB))
    os.utime(folder / "manifest.json", (when.timestamp(), when.timestamp()))
    return folder


def test_each_run_gets_a_fresh_folder_named_by_its_time(autosave_dir):
    when = dt.datetime(2025, 3, 14, 9, 30, 5)
    first = autosave.new_run_dir(when)
    assert first == autosave_dir / "run-20250314-093005" and not first.exists()
    first.mkdir(parents=True)
    assert autosave.new_run_dir(when) == autosave_dir / "run-20250314-093005-2"


def test_the_history_lists_runs_newest_first_and_says_which_were_cancelled(template, autosave_dir):
    old, new = add_run(template, 30), add_run(template, 5)
    (autosave_dir / ".run-staging").mkdir()  # a write in progress, and a folder of the user's, are not runs
    (autosave_dir / "notes").mkdir()
    autosave.mark(new, cancelled=True)
    autosave.mark(old, cancelled=False)
    runs = autosave.history()
    assert [r.folder for r in runs] == [new, old]
    assert [r.cancelled for r in runs] == [True, False]
    assert runs[0].picture == "astronaut.png" and runs[0].song == "metal_madness_sectoid.ogg" and runs[0].points == 4
    assert runs[0].label().endswith("· astronaut.png + metal_madness_sectoid.ogg · 4 points · cancelled")
    assert runs[1].label().endswith("· done")
    assert autosave.saved_run() == (new, runs[0].written)


def test_pruning_keeps_the_last_ten_and_removes_the_oldest_first(template, autosave_dir):
    folders = [add_run(template, 100 - i) for i in range(12)]  # oldest first
    assert autosave.prune(cap_mb=10_000) == folders[:2]
    assert [r.folder for r in autosave.history()] == folders[:1:-1]


def test_pruning_keeps_within_the_cap_but_never_the_newest_or_the_run_in_use(template, autosave_dir):
    shown, middle, newest = (
        add_run(template, 30, pad_mb=3),
        add_run(template, 20, pad_mb=3),
        add_run(template, 10, pad_mb=3),
    )
    removed = autosave.prune(cap_mb=5, keep=(shown,))  # 9 MB of runs in a 5 MB cap: the middle one goes
    assert removed == [middle] and is_run_folder(shown) and is_run_folder(newest)
    assert autosave.prune(cap_mb=1, keep=(None,)) == [shown]  # the newest alone stays, even above the cap
    assert [r.folder for r in autosave.history()] == [newest]


def test_recent_runs_lists_the_history_and_opens_a_run(qtbot, window, template, autosave_dir):
    old, new = add_run(template, 60), add_run(template, 1)
    autosave.mark(old, cancelled=True)
    menu = window.recent_runs_menu
    menu.rebuild()
    entries = menu.run_actions()
    assert [a.data() for a in entries] == [str(new), str(old)]
    assert entries[1].text().endswith("4 points · cancelled")
    assert "2 of 10 runs" in menu.limit_action.text() and "2.0 GB)" in menu.limit_action.text()
    entries[1].trigger()
    assert window.result is not None and len(window.result.points) == 4
    assert window.exports.run_dir == old  # exports render from the run opened, nothing rewritten


def test_the_history_limit_is_asked_kept_and_applied(qtbot, window, store, template, autosave_dir):
    shown, other, newest = (
        add_run(template, 30, pad_mb=2),
        add_run(template, 20, pad_mb=2),
        add_run(template, 10, pad_mb=2),
    )
    assert window.open_run(shown)
    dialog = window.recent_runs_menu.ask_limit()
    assert dialog.isVisible() and dialog.intValue() == store.autosave_cap_mb == 2048
    dialog.setIntValue(100)
    dialog.accept()
    assert store.autosave_cap_mb == 100 and len(autosave.history()) == 3  # 100 MB holds all three
    assert "of 100 MB)" in window.recent_runs_menu.limit_action.text()
    assert window.recent_runs_menu.set_limit(50) == [] and store.autosave_cap_mb == 100  # 100 MB at least
    # a cap below what the runs take: the oldest goes, but never the run shown nor the newest
    assert autosave.prune(1, keep=(window.exports.run_dir,)) == [other]
    assert is_run_folder(shown) and is_run_folder(newest)


@pytest.mark.slow
def test_a_cancelled_run_does_not_replace_the_finished_one(qtbot, window, monkeypatch, autosave_dir):
    from moss_engine.run import pipeline

    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.start_run()
    real = pipeline.compute_front

    def cancelled(settings, reporter=None, inputs=None, listen_workers=1):
        result = real(settings, reporter, inputs, listen_workers)
        return dataclasses.replace(result, optimisation=dataclasses.replace(result.optimisation, cancelled=True))

    monkeypatch.setattr(pipeline, "compute_front", cancelled)
    qtbot.wait(1100)  # the folders are named by the second
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.start_run()
    runs = autosave.history()
    assert len(runs) == 2 and [r.cancelled for r in runs] == [True, False]
    assert window.exports.run_dir == runs[0].folder
    window.recent_runs_menu.aboutToShow.emit()  # as opening the menu does
    assert [a.data() for a in window.recent_runs_menu.run_actions()] == [str(r.folder) for r in runs]
