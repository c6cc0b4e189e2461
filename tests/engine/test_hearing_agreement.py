"""Where it matters, the optimiser's ear agrees with Zimtohrli: over every pair of a MOSS point and a crossfade point
(the seed's and the loudness-matched one) that a viewer sees alike (SSIM within 0.05), the neurogram distance orders
them as Zimtohrli does, as the reference scorer ``score_run.py`` defines it (``order_agreement``; tests/tools holds a
copy of the team's shared tool), on a real run."""

import importlib.util
from pathlib import Path

import pytest

from moss_engine.run.folder import write_run_folder
from moss_engine.run.listening import available
from moss_engine.run.pipeline import compute_front, load_inputs
from moss_engine.settings import make_settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not available(), reason="zimtohrli (the ear checked against) has no wheel here")


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_objective_orders_a_real_front_and_the_crossfades_as_zimtohrli_does(data_dir, tools_dir, tmp_path):
    quality = load("quality_bench", ROOT / "bench" / "quality.py")
    score_run = quality.load_score_run(tools_dir)
    image, audio = data_dir / "img_text_skimage_page.png", data_dir / "music_orchestral_wesnoth_transience.ogg"
    settings = make_settings(image, audio, device_type="cpu", device="cpu", duration_s=8.0, steps=40, coarse_steps=20)
    result = compute_front(settings, inputs=load_inputs(settings))
    run_dir = write_run_folder(result, tmp_path / "run")
    scored = quality.score(score_run, run_dir, image, audio)
    agreement = quality.objective_agreement(score_run, run_dir, image, audio, scored)
    assert agreement is not None and agreement >= 0.9
    # and the front it made sounds more like the song than the loudness-matched crossfade, by Zimtohrli
    assert scored["hv_ratio_zimtohrli_matched"] > 1.0
