"""Where it matters, the optimiser's ear agrees with Zimtohrli, on a pair its constants were chosen on and on pairs
never used to choose them (``bench/hearing_split.json``): over every pair of a MOSS point and a crossfade point (the
seed's and the loudness-matched one) that a viewer sees alike (SSIM within 0.05), the neurogram distance orders them as
Zimtohrli does, as the reference scorer ``score_run.py`` defines it (``order_agreement``; tests/tools holds a copy of
the team's shared tool), on short real fronts of the repository's own data. ``bench/hearing_agreement.py`` measures
the same on every pair of both halves, at the default length."""

import importlib.util
from pathlib import Path

import pytest

from moss_engine.run.listening import available

ROOT = Path(__file__).resolve().parents[2]

#: The pairs of each half run here (short songs and segments keep both halves within the suite's time).
PAIRS = {"chosen_on": ("page",), "checked_on": ("speech", "freedroid")}
SHORT = {"duration_s": 4.0, "steps": 20, "coarse_steps": 10}

pytestmark = pytest.mark.skipif(not available(), reason="zimtohrli (the ear checked against) has no wheel here")


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_split_names_pairs_of_the_repositorys_own_data_and_no_pair_twice(data_dir):
    bench = load("hearing_bench", ROOT / "bench" / "hearing_agreement.py")
    halves = bench.split()
    assert set(halves["chosen_on"]).isdisjoint(halves["checked_on"])
    assert len(halves["checked_on"]) >= 4
    for half, names in PAIRS.items():
        for name in names:
            pair = halves[half][name]
            assert (data_dir / pair["image"]).is_file() and (data_dir / pair["audio"]).is_file()


@pytest.mark.slow
@pytest.mark.parametrize("half", list(PAIRS))
def test_the_objective_orders_real_fronts_and_the_crossfades_as_zimtohrli_does(half, data_dir, tools_dir, tmp_path):
    bench = load("hearing_bench", ROOT / "bench" / "hearing_agreement.py")
    score_run = bench.quality_bench().load_score_run(tools_dir)
    agree = compared = 0
    for name in PAIRS[half]:
        pair = bench.split()[half][name]
        run_dir = bench.make_front(pair, tmp_path / name, data_dir=data_dir, **SHORT)
        a, n = bench.counts(*bench.triples(run_dir, pair, data_dir=data_dir, score_run=score_run))
        agree, compared = agree + a, compared + n
    assert compared >= 5, "too few points a viewer sees alike to judge the order"
    assert agree / compared >= 0.9, (half, agree, compared)
