"""NSGA-II's contract: what STCH gives (anchors, full-shape logits, a non-dominated front), seeded, cancellable."""

import json
import subprocess
import sys
from dataclasses import replace
from unittest.mock import Mock

import numpy as np
import pytest
import torch

from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.optimise.nsga2 import COARSE_SHAPE, Nsga2Optimiser, constant_logits, population_size, upsample
from moss_engine.run.folder import write_run_folder
from moss_engine.run.pipeline import assemble_result, load_inputs, refine_phases, select_front
from moss_engine.run.plot import plot_front
from moss_engine.settings import make_settings


@pytest.fixture(scope="module")
def small(data_dir):
    settings = make_settings(
        data_dir / "img_portrait_skimage_astronaut.png",
        data_dir / "music_orchestral_wesnoth_transience.ogg",
        quality="preview",
        device="cpu",
        duration_s=2.5,
        steps=3,
        points=6,
        seed=1,
    )
    problem = HidingProblem(*load_inputs(settings), ProblemSettings.from_run(settings))
    return settings, problem


@pytest.fixture(scope="module")
def finished(small):
    settings, problem = small
    reporter = Mock()
    reporter.should_stop.return_value = False
    opt = Nsga2Optimiser(problem, settings, reporter)
    return opt, opt.run(), reporter


def dominated(p: np.ndarray, others: np.ndarray) -> bool:
    return bool(np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1)))


def test_population_size_is_twice_the_points_and_at_least_16():
    assert population_size(2) == 16 and population_size(8) == 16 and population_size(12) == 24


def test_upsampled_constant_grid_is_the_uniform_crossfade(small):
    settings, problem = small
    coarse = torch.full((2, *COARSE_SHAPE), 0.7)
    coarse[1] = -1.3
    fine = upsample(coarse, settings.mask_shape)
    assert fine.shape == (2, *settings.mask_shape)
    assert torch.allclose(fine[0], torch.tensor(0.7)) and torch.allclose(fine[1], torch.tensor(-1.3))
    levels = torch.sigmoid(torch.tensor([0.7, -1.3])).numpy()
    with torch.no_grad():
        v1, a1, _ = problem.objectives(problem.masks(fine))
        v2, a2, _ = problem.objectives(problem.masks(constant_logits(levels, settings.mask_shape, problem.device)))
    assert torch.allclose(v1, v2, atol=1e-5) and torch.allclose(a1, a2, rtol=1e-4)


def test_seeded_population_starts_from_spread_constant_masks(small):
    settings, problem = small
    opt = Nsga2Optimiser(problem, settings)
    x = opt._initial_population()
    assert x.shape == (16, 128) and x.min() >= -8 and x.max() <= 8
    constants = x[:8]
    assert np.all(constants == constants[:, :1])  # each one constant
    levels = 1 / (1 + np.exp(-constants[:, 0]))
    assert levels[0] < 0.001 and levels[-1] > 0.999 and np.allclose(np.diff(levels), np.diff(levels)[0])
    assert np.all(np.std(x[8:], axis=1) > 0.2)  # the rest carry noise


def test_result_has_both_anchors_and_a_nondominated_front_of_full_logits(small, finished):
    settings, problem = small
    opt, result, reporter = finished
    kinds = [c.kind for c in result.candidates]
    assert kinds[:2] == ["music", "image"] and kinds.count("optimised") >= 1
    assert len(result.candidates) <= settings.points + 1  # anchors + at most ``points`` spread picks
    assert result.steps_done == 3 and not result.cancelled and not result.stopped_early
    assert result.candidates[0].visual == pytest.approx(result.anchors.music_visual)
    assert result.candidates[0].audio == pytest.approx(result.anchors.music_audio)
    assert len(result.crossfade_levels) == 9 and result.crossfade_levels[[0, -1]].tolist() == [0.0, 1.0]

    losses = np.array([[c.visual, c.audio] for c in result.candidates])
    for k, c in enumerate(result.candidates):
        assert c.logits.shape == settings.mask_shape and c.logits.dtype == np.float32
        if c.kind == "optimised":
            assert not dominated(losses[k], np.delete(losses, k, axis=0))
            assert np.all(np.abs(c.logits) <= 8.0 + 1e-5)
    chosen, alphas = select_front(result.candidates, settings.points)
    assert result.candidates[chosen[0]].kind == "music" and alphas[0] == 0.0 and alphas[-1] == 1.0

    # a candidate's logits give back its losses
    best = min((c for c in result.candidates if c.kind == "optimised"), key=lambda c: c.visual)
    with torch.no_grad():
        v, a, _ = problem.objectives(
            problem.masks(torch.as_tensor(best.logits)[None]), torch.as_tensor(best.level_db)[None]
        )
    assert float(v) == pytest.approx(best.visual, abs=1e-5) and float(a) == pytest.approx(best.audio, rel=1e-4)

    # the archive only grows; the selected front is what was reported last
    assert np.all(np.diff(opt.archive_hypervolume_history) >= 0)
    assert len(result.hypervolume_history) == 4 and 0 < result.hypervolume_history[-1] <= 1.1**2
    snapshot = reporter.partial.call_args.args[0]
    assert snapshot.step == 3 and snapshot.hypervolume == pytest.approx(result.hypervolume_history[-1])
    assert np.all(np.diff(snapshot.visual) < 0) and np.all(np.diff(snapshot.audio) > 0)
    assert reporter.progress.call_args.args[0] == pytest.approx(1.0)
    assert opt.evaluations == 3 * 16


def test_same_seed_same_result_other_seed_other_result(small, finished):
    settings, problem = small
    _, first, _ = finished
    second = Nsga2Optimiser(problem, settings).run()
    assert [(c.visual, c.audio) for c in first.candidates] == [(c.visual, c.audio) for c in second.candidates]
    assert all(np.array_equal(c.logits, d.logits) for c, d in zip(first.candidates, second.candidates, strict=True))
    other = Nsga2Optimiser(problem, replace(settings, seed=2)).run()
    assert [c.visual for c in other.candidates] != [c.visual for c in first.candidates]


def test_cancel_stops_between_chunks_and_keeps_the_front(small):
    settings, problem = small
    reporter = Mock()
    reporter.should_stop.side_effect = [False] * 2 + [True] * 100
    opt = Nsga2Optimiser(problem, replace(settings, steps=50, memory_limit_gb=0.05), reporter)
    assert opt.chunk_size < opt.population  # more than one chunk per generation, so the cancel lands inside one
    result = opt.run()
    assert result.cancelled and result.steps_done <= 1 and not opt.has_next()
    assert [c.kind for c in result.candidates[:2]] == ["music", "image"]
    assert 0 < opt.evaluations < 3 * opt.population
    start = reporter.partial.call_args_list[0].args[0]  # before any generation: the crossfade's front
    assert start.step == 0 and len(start.visual) > 2
    assert start.hypervolume == pytest.approx(opt.hypervolume_history[0]) and start.hypervolume > 0.5
    snapshot = reporter.partial.call_args.args[0]
    assert snapshot.visual[0] == pytest.approx(result.anchors.music_visual)


def test_early_stop_when_the_archive_stops_growing(small):
    settings, problem = small
    result = Nsga2Optimiser(problem, replace(settings, steps=40, patience=1, min_improvement=10.0)).run()
    assert result.stopped_early and result.steps_done == 10  # MIN_STEPS


def test_bad_coarse_shape_is_a_value_error(small):
    settings, problem = small
    with pytest.raises(ValueError, match=r"\(0, 16\)"):
        Nsga2Optimiser(problem, settings, coarse_shape=(0, 16))


def test_result_makes_a_run_folder_that_keeps_the_contract(tools_dir, data_dir, small, finished, tmp_path):
    """What ``compute_front`` does after optimising, on NSGA-II's result: the run folder is the same contract."""
    settings, problem = small
    _, result, _ = finished
    clip, _ = load_inputs(settings)
    renderer = PointRenderer(problem, should_stop=None)
    candidates = result.candidates + refine_phases(renderer, result.candidates, 2)
    chosen, _ = select_front(candidates, settings.points)
    run = assemble_result(settings, problem.device, clip, renderer, result, [candidates[i] for i in chosen], {})
    out = write_run_folder(run, tmp_path / "nsga2", plot=plot_front)
    tool = tools_dir / "check_run.py"
    proc = subprocess.run([sys.executable, str(tool), str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["points"][0]["alpha"] == 0.0 and manifest["points"][-1]["alpha"] == 1.0
    assert np.load(out / "point_001.npy").shape == settings.mask_shape


@pytest.mark.slow
def test_nsga2_end_to_end_through_the_command_line(tools_dir, data_dir, tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "nsga2"
    cmd = [
        sys.executable,
        "-m",
        "moss_engine.cli",
        "front",
        "--image",
        str(data_dir / "img_text_skimage_page.png"),
        "--audio",
        str(data_dir / "speech_apollo11_a11wlk01.wav"),
        "--out",
        str(out),
        "--algorithm",
        "nsga2",
        "--duration",
        "3",
        "--steps",
        "3",
        "--points",
        "6",
        "--device",
        "cpu",
        "--quiet",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run(
        [sys.executable, str(tools_dir / "check_run.py"), str(out)], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["algorithm"] == "nsga2"
    assert manifest["points"][0]["alpha"] == 0.0 and manifest["points"][-1]["alpha"] == 1.0
