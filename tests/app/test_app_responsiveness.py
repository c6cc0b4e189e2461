"""The event loop stays responsive while the worker optimises (issue 4 acceptance 3)."""

import pytest

from moss_app.dev.latency import GapRecorder
from moss_app.heap import settle_heap

#: The aim is under 50 ms; the bound here leaves room for a loaded CI machine.
WORST_ALLOWED_MS = 250


@pytest.mark.slow
def test_event_loop_latency_during_a_run(qtbot, window, tiny_settings, record_property):
    window.settings_factory = lambda image, audio, quality: tiny_settings(
        image, audio, quality, steps=15, duration_s=4.0
    )
    # The engine's first run in a process warms torch up (lazy initialisation that holds the GIL for up to ~170 ms
    # on two cores); what the user feels run after run is the warm case, measured here.
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        window.start_run()
    settle_heap()  # as the app does once its window is up: without it a full collection of pytest's big heap
    # (130-350 ms) can land in the measured run
    recorder = GapRecorder()
    try:
        with qtbot.waitSignal(window.runner.finished, timeout=120000):
            window.start_run()
            recorder.start()
    finally:
        recorder.stop()
    worst_ms, ticks = recorder.worst_ms()
    record_property("worst_event_loop_latency_ms", round(worst_ms, 1))
    print(f"worst event-loop latency during the run: {worst_ms:.1f} ms over {ticks} ticks")
    assert ticks > 20
    assert worst_ms < WORST_ALLOWED_MS


def test_settling_the_heap_freezes_what_lives_and_keeps_collecting_the_rest():
    import gc

    try:
        frozen = settle_heap()
        assert frozen > 10_000 and gc.get_freeze_count() == frozen  # the modules, classes and widgets loaded so far
        cycle = []
        cycle.append(cycle)  # new garbage after the freeze is still collected
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


# --- issue 16.5 and 16.11: cancel and quit within a second ------------------------------------------------------

#: The aim is under a second (``python -m moss_app.dev.latency`` measures it); the bound leaves room for a loaded
#: machine.
CANCEL_BOUND_S = 3.0


def run_and_cancel(qtbot, window, stage: str, at_step: int = 0):
    """Start the window's run and press Cancel when its progress first reports ``stage`` (the optimiser: at step
    ``at_step``): (seconds from Cancel to the worker's ``finished``, the result)."""
    import time

    asked: list[float] = []

    def on_progress(progress) -> None:  # a RunProgress: its stage and step are read, never its words
        if asked or progress.stage != stage:
            return
        if stage == "optimising" and (progress.step or 0) < at_step:
            return
        asked.append(time.perf_counter())
        window.cancel_run()

    window.runner.progress.connect(on_progress)
    with qtbot.waitSignal(window.runner.finished, timeout=300000) as done:
        assert window.start_run()
    ended = time.perf_counter()
    assert asked, f"the run never reached {stage}"
    return ended - asked[0], done.args[0]


def assert_said_cancelled(window, result) -> None:
    assert result.optimisation.cancelled and window.result is result
    assert window.status_label.text().startswith("Cancelled")
    assert window.statusBar().currentMessage().startswith("Run cancelled")
    assert "Run finished" not in window.statusBar().currentMessage()


@pytest.mark.slow
def test_cancel_in_the_middle_of_optimisation_ends_within_the_bound(qtbot, window, tiny_settings):
    window.settings_factory = lambda image, audio, quality, **o: tiny_settings(
        image, audio, quality, steps=200, duration_s=8.0
    )
    seconds, result = run_and_cancel(qtbot, window, "optimising", at_step=3)
    print(f"cancel latency while optimising: {seconds:.2f} s")
    assert seconds < CANCEL_BOUND_S
    assert_said_cancelled(window, result)
    assert 3 <= result.optimisation.steps_done < 200 and 2 <= len(result.points) <= result.settings.points
    assert window.progress_bar.value() < 1000  # the bar stays where the run stopped
    # the autosave is whole at once; its front.png is drawn a moment later, whole or not at all
    folder = window.exports.run_dir
    assert folder is not None and (folder / "manifest.json").is_file()
    qtbot.waitUntil(lambda: (folder / "front.png").is_file(), timeout=15000)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["refining", "listening"])
def test_cancel_in_a_later_stage_ends_within_the_bound(qtbot, window, tiny_settings, stage):
    """Refinement is long here (40 Griffin-Lim iterations of 8 s); listening runs in worker processes, which a cancel
    ends rather than waits for."""
    from moss_engine.run.listening import available

    if stage == "listening" and not available():
        pytest.skip("no Zimtohrli on this platform")
    window.settings_factory = lambda image, audio, quality, **o: tiny_settings(
        image, audio, quality, steps=3, duration_s=8.0, phase_iterations=40 if stage == "refining" else 2
    )
    seconds, result = run_and_cancel(qtbot, window, stage)
    print(f"cancel latency while {stage}: {seconds:.2f} s")
    assert seconds < CANCEL_BOUND_S
    assert_said_cancelled(window, result)
    assert result.points[0].kind == "music" and all(p.mos is None for p in result.points[1:])


@pytest.mark.slow
def test_quitting_during_a_run_closes_within_the_bound_and_saves_nothing_of_it(qtbot, window, tiny_settings):
    import time

    window.settings_factory = lambda image, audio, quality, **o: tiny_settings(
        image, audio, quality, steps=200, duration_s=8.0
    )
    ended: list = []
    window.runner.finished.connect(ended.append)
    window.runner.failed.connect(ended.append)
    with qtbot.waitSignal(window.runner.snapshot, timeout=120000, check_params_cb=lambda s: s.step >= 2):
        assert window.start_run()
    started = time.perf_counter()
    window.close()
    seconds = time.perf_counter() - started
    print(f"quit time: {seconds:.2f} s")
    assert seconds < CANCEL_BOUND_S and not window.isVisible()
    assert window.shutdown(60000) and not window.runner.qthread.isRunning()
    qtbot.wait(50)  # anything the worker emitted would be delivered now
    assert ended == [] and not window.runner.autosave_dir.exists()  # the abandoned run is neither shown nor saved


def test_a_cancel_ends_the_listening_processes_instead_of_waiting_for_them():
    """Zimtohrli cannot be interrupted: a cancel ends its worker processes (else a cancel waited seconds for them)."""
    import time

    import numpy as np

    from moss_engine.run.listening import Listener, Scorer, available

    if not available():
        pytest.skip("no Zimtohrli on this platform")
    rate = 22050
    song = np.random.default_rng(0).normal(0, 0.1, (2, 20 * rate)).astype(np.float32)
    listener = Listener(song, rate, (0.0, 20.0))
    with Scorer(listener, 2) as scorer:
        for gain in (0.5, 0.6, 0.7, 0.8):
            scorer.submit(song * gain)
        # its own processes: an earlier test's run (quit drops it, its thread ends later) may still have some
        own = list(scorer._pool._processes.values())
        started = time.perf_counter()
        heard = scorer.results(lambda: time.perf_counter() - started > 0.3)
        stopped = time.perf_counter() - started
    left = time.perf_counter() - started
    assert heard == [None, None, None, None]
    assert stopped < 1.0 and left < 1.5
    # ended: none alive within 2 s of the cancel, however loaded the machine (SIGTERM, then SIGKILL)
    while [p for p in own if p.is_alive()] and time.perf_counter() - started < 2.0:
        time.sleep(0.05)
    assert own and not [p for p in own if p.is_alive()]
