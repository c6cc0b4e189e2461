"""The optimiser's contract: batch = single, same seed = same front, cancel, early stop, presets, chunk sizes."""

from unittest.mock import Mock

import numpy as np
import pytest
import torch

from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.optimise.memory import choose_chunk_size, mask_bytes
from moss_engine.optimise.stch import StchOptimiser, preference_move, preference_vectors, smooth_tchebycheff
from moss_engine.options import PRESETS
from moss_engine.reporting import NOTICE_GPU_MEMORY
from moss_engine.run.pipeline import compute_front, load_inputs
from moss_engine.settings import make_settings


@pytest.fixture(scope="module")
def small(data_dir):
    settings = make_settings(
        data_dir / "img_text_skimage_page.png",
        data_dir / "speech_apollo11_a11wlk01.wav",
        quality="preview",
        device="cpu",
        duration_s=3.0,
        steps=6,
        points=5,
        seed=3,
    )
    return settings, load_inputs(settings)


def test_presets_match_design_table():
    assert PRESETS["preview"] == {
        "sample_rate": 22050,
        "n_fft": 1024,
        "hop_length": 256,
        "mask_shape": (64, 128),
        "points": 8,
        "steps": 80,
    }
    assert PRESETS["standard"] == {
        "sample_rate": 44100,
        "n_fft": 2048,
        "hop_length": 512,
        "mask_shape": (128, 256),
        "points": 16,
        "steps": 300,
    }
    assert PRESETS["high"]["points"] == 32 and PRESETS["high"]["steps"] == 1000
    s = make_settings("a.png", "b.wav", quality=None, device_type="cpu", points=12)
    assert s.quality == "preview" and s.points == 12 and s.sample_rate == 22050
    assert make_settings("a.png", "b.wav", quality=None, device_type="cuda").quality == "standard"


def test_preference_vectors_span_visual_to_audio():
    w = preference_vectors(4)
    assert np.allclose(w[0], [1, 0]) and np.all(w[:, 1] < 1) and np.allclose(np.linalg.norm(w, axis=1), 1)
    assert np.all(np.diff(w[:, 1]) > 0)


def test_smooth_tchebycheff_approaches_max():
    f = torch.tensor([[0.3, 0.8]])
    w = torch.tensor([[1.0, 1.0]])
    assert smooth_tchebycheff(f, w, mu=1e-3).item() == pytest.approx(0.8 + 0.05, abs=1e-3)


def test_batched_objectives_equal_one_at_a_time(small):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    logits = torch.randn(3, *settings.mask_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        levels = problem.matched_level_db + torch.tensor([-3.0, 0.0, 8.0])
        v, a, x = problem.objectives(problem.masks(logits), levels)
        singles = [problem.objectives(problem.masks(logits[i : i + 1]), levels[i : i + 1]) for i in range(3)]
    assert torch.allclose(v, torch.cat([s[0] for s in singles]), atol=1e-5)
    assert torch.allclose(a, torch.cat([s[1] for s in singles]), atol=1e-4)
    assert torch.allclose(x, torch.cat([s[2] for s in singles]), atol=1e-3)
    assert a[2] > a[1]  # a louder picture is further from the song


@pytest.mark.slow
def test_same_seed_same_front_and_chunking_does_not_change_it(small):
    settings, inputs = small
    first = compute_front(settings, inputs=inputs)
    second = compute_front(settings, inputs=inputs)
    assert [p.visual for p in first.points] == [p.visual for p in second.points]
    assert all(np.array_equal(p.samples, q.samples) for p, q in zip(first.points, second.points, strict=True))
    chunked = compute_front(settings.__class__(**{**settings.__dict__, "memory_limit_gb": 0.05}), inputs=inputs)
    assert chunked.optimisation.chunk_size < first.optimisation.chunk_size
    assert np.allclose([p.visual for p in chunked.points], [p.visual for p in first.points], atol=1e-4)


def test_cancel_stops_between_chunks_and_keeps_the_front(small):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    reporter = Mock()
    reporter.should_stop.side_effect = [False] * 3 + [True] * 100
    opt = StchOptimiser(problem, settings.__class__(**{**settings.__dict__, "steps": 50}), reporter)
    result = opt.run()
    assert result.cancelled and result.steps_done < 5
    assert len(result.candidates) == 2 + (settings.points - 2)
    assert reporter.partial.called and reporter.progress.called
    snapshot = reporter.partial.call_args.args[0]
    assert snapshot.visual[0] == pytest.approx(result.anchors.music_visual)
    assert np.all(np.diff(snapshot.visual) < 0)


@pytest.mark.slow
def test_early_stop_when_front_settles(small):
    settings, inputs = small
    settled = settings.__class__(**{**settings.__dict__, "steps": 200, "learning_rate": 1e-6, "patience": 3})
    result = compute_front(settled, inputs=inputs)
    assert result.optimisation.stopped_early
    assert result.optimisation.steps_done < 200


def test_chunk_size_respects_memory_limit(small):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    per_mask = mask_bytes(problem)  # bytes_per_mask, times the CPU's allocator slack
    assert choose_chunk_size(problem, 64, memory_limit_gb=3 * per_mask / 1024**3) == 3
    assert choose_chunk_size(problem, 2, memory_limit_gb=100) == 2


def test_adaptive_preferences_fill_the_widest_gap(small):
    """A crowded preference ray moves into the front's widest gap; the pure-visual ray never moves."""
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    opt = StchOptimiser(problem, settings.__class__(**{**settings.__dict__, "points": 6}))
    an = opt.anchors
    # four archive points crowded near the image end, a wide gap next to the music end
    v = an.image_visual + np.array([0.05, 0.10, 0.12, 0.14]) * (an.music_visual - an.image_visual)
    a = an.music_audio + np.array([0.95, 0.6, 0.55, 0.5]) * (an.image_audio - an.music_audio)
    opt.archive.visual[:], opt.archive.audio[:] = v, a
    before = opt.weights.clone()
    assert opt._adapt_preferences()
    moved = [k for k in range(4) if not torch.equal(opt.weights[k], before[k])]
    assert len(moved) == 1 and moved[0] != 0
    k = moved[0]
    assert opt.archive.scalarised[k] == np.inf
    w = opt.weights[k].numpy()
    assert w[1] > w[0]  # the new ray favours audio: it points into the gap by the music end


def test_the_preference_move_is_a_pure_function_of_the_front():
    # normalised losses: (1, 0) is the music end, (0, 1) the image end; rays 1-3 crowd near the image end
    front = np.array([[0.05, 0.95], [0.10, 0.60], [0.12, 0.55], [0.14, 0.50]])
    k, weight, ends = preference_move(front)
    assert k in (1, 2) and ends == (-1, 3)  # the widest gap: from the music anchor to ray 3, along the front
    assert weight[1] > weight[0] and np.isclose(np.linalg.norm(weight), 1.0)
    spread = np.array([[0.1, 0.9], [0.35, 0.6], [0.6, 0.35], [0.85, 0.12]])  # evenly spread: nothing moves
    assert preference_move(spread) is None
    assert preference_move(front[:1]) is None  # too few gaps to compare


def test_out_of_memory_halves_the_chunk_and_carries_on(small, monkeypatch):
    """A GPU out-of-memory error in a chunk of several masks retries in smaller chunks (tested with a fake error)."""
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    real = problem.objectives
    calls = []

    def flaky(masks, level_db=None, checkpointed=False):
        calls.append(len(masks))
        if len(masks) > 1:
            raise torch.OutOfMemoryError("fake: CUDA out of memory")
        return real(masks, level_db, checkpointed)

    monkeypatch.setattr(problem, "objectives", flaky)
    reporter = Mock()
    reporter.should_stop.return_value = False
    opt = StchOptimiser(problem, settings.__class__(**{**settings.__dict__, "steps": 2}), reporter)
    result = opt.run()
    assert result.chunk_size == 1 and result.steps_done == 2
    first_one = calls.index(1)
    assert calls[:first_one] == sorted(calls[:first_one], reverse=True)  # halved until it fits ...
    assert set(calls[first_one:]) == {1}  # ... and it stays there
    notices = [c.args for c in reporter.notice.call_args_list]
    assert notices and all(kind == NOTICE_GPU_MEMORY and "out of GPU memory" in m for kind, m in notices)
