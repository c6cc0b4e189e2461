"""`moss blend --alpha`: one result whose measured alpha is the asked one, faster than a whole front."""

import json
import subprocess
import sys

import pytest

from moss_engine.commands.blend import compute_blend
from moss_engine.errors import MossInputError
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import make_settings

pytestmark = pytest.mark.slow

PAIRS = [("img_portrait_skimage_astronaut.png", "music_orchestral_wesnoth_transience.ogg"),
         ("img_text_skimage_page.png", "awkward_48k_stereo_etr_calmrace_30s.ogg")]


@pytest.mark.parametrize("picture,music", PAIRS)
def test_blend_lands_on_the_asked_alpha_and_orders(data_dir, picture, music):
    settings = make_settings(data_dir / picture, data_dir / music, quality="preview", device="cpu", duration_s=4.0,
                             steps=25, start_s=2.0)
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


def test_blend_rejects_alpha_outside_unit_interval(data_dir):
    settings = make_settings(data_dir / PAIRS[0][0], data_dir / PAIRS[0][1], quality="preview", device="cpu",
                             duration_s=2.0, steps=2)
    with pytest.raises(MossInputError, match="--alpha"):
        compute_blend(settings, 1.5)


def test_blend_command_writes_a_valid_run_folder(tools_dir, data_dir, tmp_path):
    out = tmp_path / "blend"
    cmd = [sys.executable, "-m", "moss_engine.cli", "blend", "--image", str(data_dir / PAIRS[0][0]), "--audio",
           str(data_dir / PAIRS[0][1]), "--alpha", "0.4", "--out", str(out), "--duration", "3", "--steps", "10",
           "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    tool = tools_dir / "check_run.py"
    check = subprocess.run([sys.executable, str(tool), str(out)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["points_requested"] == 3 or len(manifest["points"]) == 3
    assert abs(manifest["points"][1]["alpha"] - 0.4) <= 0.05
    bad = subprocess.run(cmd[:-8] + ["--alpha", "-0.1", "--out", str(tmp_path / "x")], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--alpha" in bad.stderr
    assert not (tmp_path / "x").exists()
