"""The reporter's channels carry data: a stage's steps are offset as numbers, notices by kind, errors by field."""

from unittest.mock import Mock

import pytest

from moss_engine.errors import OUT_OF_MEMORY, MossInputError, MossOutOfMemory, is_out_of_memory
from moss_engine.optimise.coarse import StageReporter
from moss_engine.reporting import NOTICE_GPU_MEMORY, Status
from moss_engine.settings import make_settings


def test_a_stage_counts_its_steps_as_part_of_the_run_without_reading_its_words():
    outer = Mock()
    stage = StageReporter(outer, first=40, steps=40, total=80, label="full resolution")
    status = Status("optimising", 4, 40, "generation", "HV 1.016  2.39 generations/s")
    stage.progress(0.1, "whatever the words say", status)
    fraction, message, passed = outer.progress.call_args.args
    assert fraction == pytest.approx(44 / 80)
    assert (passed.stage, passed.step, passed.steps, passed.unit) == ("optimising", 44, 80, "generation")
    assert message == "full resolution: generation 44/80  HV 1.016  2.39 generations/s"
    stage.progress(0.0, "measuring the two ends", Status("measuring"))  # no steps: the words pass as they are
    assert outer.progress.call_args.args[1] == "full resolution: measuring the two ends"
    stage.notice(NOTICE_GPU_MEMORY, "out of GPU memory: retrying in chunks of 2")
    outer.notice.assert_called_once_with(NOTICE_GPU_MEMORY, "out of GPU memory: retrying in chunks of 2")


@pytest.mark.parametrize(
    ("overrides", "field", "option", "reason"),
    [
        ({"freq": (9000.0, 2000.0)}, "freq", "--freq", "order"),
        ({"freq": (2000.0, 14700.0)}, "freq", "--freq", "above_nyquist"),
        ({"freq": (0.0, 5000.0), "freq_scale": "log"}, "freq", "--freq", "log_needs_positive"),
        ({"duration_s": 0.2}, "duration_s", "--duration", "too_short"),
        ({"hop_length": 1}, "hop_length", "--hop", "range"),
        ({"db_range": float("nan")}, "db_range", "--db-range", "not_finite"),
    ],
)
def test_a_settings_error_names_its_field_option_and_reason(data_dir, overrides, field, option, reason):
    with pytest.raises(MossInputError) as caught:
        make_settings(
            data_dir / "img_portrait_skimage_astronaut.png",
            data_dir / "music_rock_sectoid_metal_madness_30s.ogg",
            "preview",
            **overrides,
        )
    err = caught.value
    assert (err.field, err.option, err.reason) == (field, option, reason)
    assert str(err).startswith(option + " ")
    if reason == "above_nyquist":
        assert err.details == {"nyquist_hz": 11025.0, "higher_quality": "standard"}


def test_a_file_error_keeps_its_problem_apart_from_the_file_name(tmp_path):
    path = tmp_path / "a song.wav"
    err = MossInputError("not an   audio\nfile", path, reason="unreadable")
    assert (err.path, err.problem, err.reason) == (path, "not an audio file", "unreadable")
    assert str(err) == f"{path}: {err.problem}"  # the one line a log or the command line shows
    assert MossInputError("no file here").problem == str(MossInputError("no file here")) == "no file here"


def test_out_of_memory_is_known_by_type_or_by_torchs_allocator():
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 37 GB"
        )
    )
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert MossOutOfMemory("out of memory on cpu").kind == OUT_OF_MEMORY


@pytest.mark.parametrize("name", ["", "  ", "gpu"])
def test_an_empty_or_unknown_device_is_refused(name):
    from moss_engine.device import resolve_device

    with pytest.raises(MossInputError, match="unknown device; expected auto, cpu, cuda, cuda:N or mps"):
        resolve_device(name)


def test_a_cancel_reaches_phase_refinement_through_the_callable_its_caller_hands_it():
    """The phase refinement asks the ``should_stop`` its renderer was given before every iteration and ends with
    ``Stopped`` at the first True; a renderer is never made without saying whether its work can be cancelled."""
    from pathlib import Path

    import numpy as np

    from moss_engine.dsp.point_render import PointRenderer
    from moss_engine.dsp.problem import HidingProblem, ProblemSettings
    from moss_engine.reporting import Stopped
    from moss_engine.run.pipeline import load_inputs

    sample = Path(__file__).resolve().parents[2] / "resources" / "sample"
    settings = make_settings(
        sample / "astronaut.png", sample / "metal_madness_sectoid.ogg", quality="preview", device="cpu", duration_s=2.0
    )
    problem = HidingProblem(*load_inputs(settings), ProblemSettings.from_run(settings))
    logits = np.zeros(settings.mask_shape, dtype=np.float32)
    asked = []

    def stop_at_the_fourth_question() -> bool:
        asked.append(True)
        return len(asked) >= 4

    with pytest.raises(Stopped):
        PointRenderer(problem, should_stop=stop_at_the_fourth_question).score_point(logits, None, 10)
    assert len(asked) == 4  # asked before each iteration, stopped at once
    # None: not cancelled (said, not assumed); the refinement runs to its end
    refined = PointRenderer(problem, should_stop=None).score_point(logits, None, 2)
    assert refined != PointRenderer(problem, should_stop=None).score_point(logits, None, 0)
    with pytest.raises(TypeError, match="should_stop"):
        PointRenderer(problem)  # no silent default
