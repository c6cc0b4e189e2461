"""The worker thread: a real tiny run, cancel mid-run, errors, and the throttle of its snapshots."""

import time

import numpy as np
import pytest

from moss_app.worker import MAX_UPDATES_PER_S
from moss_engine.errors import MossInputError
from moss_engine.reporting import FrontSnapshot
from moss_engine.run import pipeline


def test_a_real_run_ends_with_a_front_of_at_most_the_asked_size(qtbot, runner, sample, tiny_settings):
    settings = tiny_settings(*sample)
    snapshots: list[FrontSnapshot] = []
    runner.snapshot.connect(snapshots.append)
    with qtbot.waitSignal(runner.finished, timeout=120000) as done:
        runner.start(settings)
        assert runner.busy
    result = done.args[0]
    assert 2 <= len(result.points) <= settings.points
    assert result.settings is settings and not result.optimisation.cancelled
    alphas = [p.alpha for p in result.points]
    assert alphas == sorted(alphas) and alphas[0] == pytest.approx(0.0)
    assert result.points[0].logits.shape == settings.mask_shape
    assert snapshots, "no live snapshot reached the GUI thread"
    snap = snapshots[-1]
    assert snap.steps == settings.steps and 0 <= snap.step <= settings.steps
    assert snap.visual.shape == snap.audio.shape and not snap.visual.flags.writeable
    qtbot.waitUntil(lambda: not runner.busy, timeout=1000)


def test_cancel_mid_run_keeps_the_front_so_far(qtbot, runner, sample, tiny_settings):
    settings = tiny_settings(*sample, steps=200)
    with qtbot.waitSignal(runner.snapshot, timeout=120000):
        runner.start(settings)
    asked = time.perf_counter()
    with qtbot.waitSignal(runner.finished, timeout=10000) as done:
        runner.cancel()
    assert time.perf_counter() - asked < 5.0
    result = done.args[0]
    assert result.optimisation.cancelled
    assert result.optimisation.steps_done < 200
    assert 2 <= len(result.points) <= settings.points


def test_an_engine_error_is_one_failed_signal(qtbot, runner, sample, monkeypatch, tiny_settings):
    def broken(settings, reporter=None, inputs=None, listen_workers=1):
        raise MossInputError(
            "not an audio file MOSS can read (WAV, FLAC, Ogg, MP3, AIFF, M4A...)", path="/music/song.wav"
        )

    monkeypatch.setattr(pipeline, "compute_front", broken)
    with qtbot.waitSignal(runner.failed, timeout=10000) as failed, qtbot.assertNotEmitted(runner.finished):
        runner.start(tiny_settings(*sample))
    assert failed.args == ["/music/song.wav: not an audio file MOSS can read (WAV, FLAC, Ogg, MP3, AIFF, M4A...)"]


def test_an_unexpected_error_says_internal_error(qtbot, runner, sample, monkeypatch, tiny_settings):
    def broken(settings, reporter=None, inputs=None, listen_workers=1):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(pipeline, "compute_front", broken)
    with qtbot.waitSignal(runner.failed, timeout=10000) as failed:
        runner.start(tiny_settings(*sample))
    assert failed.args == ["internal error: ZeroDivisionError: division by zero"]
    qtbot.waitUntil(lambda: not runner.busy, timeout=1000)


@pytest.mark.parametrize(
    "error",
    [MemoryError(), RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")],
)
def test_running_out_of_memory_on_the_cpu_is_one_plain_message(
    qtbot, runner, sample, monkeypatch, tiny_settings, error
):
    def exhausted(settings, reporter=None, inputs=None, listen_workers=1):
        raise error

    monkeypatch.setattr(pipeline, "compute_front", exhausted)
    with qtbot.waitSignal(runner.failed, timeout=10000) as failed, qtbot.assertNotEmitted(runner.finished):
        runner.start(tiny_settings(*sample))
    assert failed.args[0].startswith("out of memory:") and "shorter segment" in failed.args[0]
    qtbot.waitUntil(lambda: not runner.busy, timeout=1000)


def test_snapshots_are_throttled(qtbot, runner, sample, monkeypatch, tiny_settings):
    """A reporter called 200 times in 0.2 s lets about 10 per second through, the first one included."""

    def chatty(settings, reporter=None, inputs=None, listen_workers=1):
        v = np.linspace(1, 0, 5)
        for step in range(200):
            reporter.partial(FrontSnapshot(step, 200, v, v[::-1], v, v[::-1], 0.5, step * 0.001))
            time.sleep(0.001)
        raise MossInputError("stop here")

    monkeypatch.setattr(pipeline, "compute_front", chatty)
    got: list[FrontSnapshot] = []
    runner.snapshot.connect(got.append)
    started = time.perf_counter()
    with qtbot.waitSignal(runner.failed, timeout=10000):
        runner.start(tiny_settings(*sample))
    elapsed = time.perf_counter() - started
    assert got[0].step == 0
    assert 1 <= len(got) <= MAX_UPDATES_PER_S * elapsed + 1


def test_gpu_out_of_memory_falls_back_to_the_cpu(qtbot, runner, sample, monkeypatch, tiny_settings):
    """Out of GPU memory even in chunks of one mask: the same run again on the CPU, said in a GPU-memory notice."""
    import dataclasses

    import torch

    from moss_engine.reporting import NOTICE_GPU_MEMORY

    real = pipeline.compute_front
    devices = []

    def gpu_then_cpu(settings, reporter=None, inputs=None, listen_workers=1):
        devices.append(settings.device)
        if settings.device != "cpu":
            raise torch.OutOfMemoryError("fake: CUDA out of memory")
        return real(settings, reporter, inputs, listen_workers=listen_workers)

    monkeypatch.setattr(pipeline, "compute_front", gpu_then_cpu)
    messages = []
    runner.notice.connect(lambda kind, message: messages.append((kind, message)))
    settings = dataclasses.replace(tiny_settings(*sample), device="cuda")
    with qtbot.waitSignal(runner.finished, timeout=120000) as done:
        runner.start(settings)
    assert devices == ["cuda", "cpu"]
    assert done.args[0].settings.device == "cpu" and len(done.args[0].points) >= 2
    assert any(kind == NOTICE_GPU_MEMORY and "running on the CPU instead" in m for kind, m in messages)
    qtbot.waitUntil(lambda: not runner.busy, timeout=1000)
