"""`moss blend --alpha`: one result whose measured alpha is the asked one, faster than a whole front."""

import json
import subprocess
import sys

import numpy as np
import pytest

from moss_engine.errors import MossInputError
from moss_engine.run.blend import compute_blend
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import make_settings

PAIRS = [
    ("img_portrait_skimage_astronaut.png", "music_orchestral_wesnoth_transience.ogg"),
    ("img_text_skimage_page.png", "awkward_48k_stereo_etr_calmrace_30s.ogg"),
]


@pytest.mark.slow
@pytest.mark.parametrize("picture,music", PAIRS)
def test_blend_lands_on_the_asked_alpha_and_orders(data_dir, picture, music):
    settings = make_settings(
        data_dir / picture, data_dir / music, quality="preview", device="cpu", duration_s=4.0, steps=25, start_s=2.0
    )
    inputs = load_inputs(settings)
    results = {a: compute_blend(settings, a, inputs=inputs) for a in (0.25, 0.5, 0.75)}
    blends = []
    for asked, run in results.items():
        assert [p.kind for p in run.points][0] == "music" and len(run.points) == 3
        point = run.points[1]
        assert abs(point.alpha - asked) <= 0.05, (asked, point.alpha)
        assert run.extra["blend"]["alpha_requested"] == asked
        blends.append(point)
    visual = [p.visual for p in blends]
    audio = [p.audio for p in blends]
    assert visual == sorted(visual, reverse=True)  # more picture as alpha rises ...
    assert audio == sorted(audio)  # ... and further from the music


@pytest.mark.slow
def test_blend_rejects_alpha_outside_unit_interval(data_dir):
    settings = make_settings(
        data_dir / PAIRS[0][0], data_dir / PAIRS[0][1], quality="preview", device="cpu", duration_s=2.0, steps=2
    )
    with pytest.raises(MossInputError, match="--alpha"):
        compute_blend(settings, 1.5)


@pytest.mark.slow
def test_blend_command_writes_a_valid_run_folder(tools_dir, data_dir, tmp_path):
    out = tmp_path / "blend"
    cmd = [
        sys.executable,
        "-m",
        "moss_engine.cli",
        "blend",
        "--image",
        str(data_dir / PAIRS[0][0]),
        "--audio",
        str(data_dir / PAIRS[0][1]),
        "--alpha",
        "0.4",
        "--out",
        str(out),
        "--duration",
        "3",
        "--steps",
        "10",
        "--quiet",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    tool = tools_dir / "check_run.py"
    check = subprocess.run([sys.executable, str(tool), str(out)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["points_requested"] == 3 or len(manifest["points"]) == 3
    assert abs(manifest["points"][1]["alpha"] - 0.4) <= 0.05
    bad = subprocess.run(
        cmd[:-8] + ["--alpha", "-0.1", "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=300
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--alpha" in bad.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_blend_costs_one_point_not_a_front(data_dir, monkeypatch):
    """Why a blend costs a fraction of a front: one mask optimised (coarse-to-fine, as a front's), no phase twins of
    candidates, no points between neighbours, three points rendered and two heard (the music end is the song)."""
    import moss_engine.run.pipeline as pipeline
    from moss_engine.optimise.stch import StchOptimiser
    from moss_engine.run.listening import Scorer

    populations, hops, rendered, heard = [], [], [], []
    step = StchOptimiser.next

    def next_step(self):
        populations.append(self.population)
        hops.append(self.problem.settings.hop_length)
        step(self)

    def render_chosen(renderer, chosen, *args):
        rendered.append(len(chosen))
        return real_render(renderer, chosen, *args)

    def submit(self, samples):
        heard.append(samples.shape)
        return real_submit(self, samples)

    def not_for_one_point(*args, **kwargs):
        raise AssertionError("a front's stage ran for one point")

    real_render, real_submit = pipeline.render_chosen, Scorer.submit
    monkeypatch.setattr(StchOptimiser, "next", next_step)
    monkeypatch.setattr(pipeline, "render_chosen", render_chosen)
    monkeypatch.setattr(Scorer, "submit", submit)
    for stage in ("refine_phases", "in_between", "select_front", "compute_front"):
        monkeypatch.setattr(pipeline, stage, not_for_one_point)
    settings = make_settings(
        data_dir / PAIRS[0][0],
        data_dir / PAIRS[0][1],
        quality="preview",
        device="cpu",
        duration_s=3.0,
        steps=8,
        start_s=2.0,
    )
    assert settings.points == 8 and settings.coarse_steps == 4
    run = compute_blend(settings, 0.5)
    assert populations and set(populations) == {1}  # one mask, where the front optimises points - 2 = 6
    coarse = [h for h in hops if h > settings.hop_length]
    assert 1 <= len(coarse) <= settings.coarse_steps  # the coarse stage ran, at a step about half the price
    assert len(hops) - len(coarse) <= settings.steps - len(coarse)  # the fine stage: the rest of the steps at most
    assert rendered == [3] and len(run.points) == 3
    assert len(heard) <= 2  # the blend and the image end; the music end's MOS is the song's own


class _LineRenderer:
    """A stand-in for ``PointRenderer.score_point``: the visual loss falls smoothly (not linearly) with the mask's
    mean, as it does along the line from a mask to an end."""

    def __init__(self):
        self.scorings = 0

    def score_point(self, logits, level, iterations):
        self.scorings += 1
        share = float(1 / (1 + np.exp(-np.asarray(logits, dtype=np.float64))).mean())
        return 0.9 - 0.85 * share**0.7, 0.05 * share, 0.0


@pytest.mark.parametrize("v_goal", [0.75, 0.6, 0.45, 0.3, 0.12])
def test_landing_on_the_asked_alpha_takes_few_scorings(v_goal):
    from moss_engine.optimise.base import Candidate
    from moss_engine.run.blend import ALPHA_TOLERANCE, LANDING_STEPS, _land

    renderer = _LineRenderer()
    shape = (4, 8)
    music = Candidate(np.full(shape, -30.0, np.float32), 0.9, 0.0, "music")
    image = Candidate(np.full(shape, 30.0, np.float32), 0.05, 0.05, "image+phase", 16)
    best_logits = np.full(shape, 0.2, np.float32)
    v_best, a_best, _ = renderer.score_point(best_logits, 0.0, 16)
    best = Candidate(best_logits, v_best, a_best, "optimised")
    renderer.scorings = 0
    found = _land(renderer, best, music, image, v_goal, music.visual)
    assert abs(found.visual - v_goal) / (music.visual - image.visual) <= ALPHA_TOLERANCE
    assert found.kind == "blend" and found.phase_iterations == 16
    # the start scored as it is rendered, then regula falsi (halving the bracket took up to 6 here, 7 on the sample)
    assert renderer.scorings <= 4 < LANDING_STEPS
