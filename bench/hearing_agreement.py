"""The hearing model against Zimtohrli, on the pairs its constants were chosen on and on pairs never used.

Run by hand (not in the tests; the fronts take about 2 minutes a pair on two cores the first time, then come from a
cache; the table itself takes seconds a variant):

    python bench/hearing_agreement.py                     # today's constants, every pair of bench/hearing_split.json
    python bench/hearing_agreement.py --variants all      # and every variant below, on the same points
    python bench/hearing_agreement.py --pairs page speech # some pairs
    python bench/hearing_agreement.py --zimtohrli-response  # the sensitivity Zimtohrli's own front end measures

The split (``bench/hearing_split.json``, committed before the checked-on pairs were first measured): *chosen on*, the
pairs the constants of ``moss_engine/dsp/hearing.py`` were chosen on (issue 13's five) or seen with (issue 21's two);
*checked on*, pairs never used before issue 23. For each pair the default CPU front (the Preview preset, seed 0, a
20 s segment or the whole song where shorter, as ``bench/quality.py`` makes it) is computed once into a run folder
under ``~/.cache/moss-bench/hearing/`` and scored by ``score_run.py --listen`` (Zimtohrli for every point and both
crossfades).

Two figures a pair, both over (1 - SSIM, neurogram distance, Zimtohrli distance) of every point:

- *agree*: score_run's ``order_agreement`` (the figure of issue 13 and ``bench/quality.py``'s "agree" column): the share
  of (MOSS point, crossfade point) pairs within 0.05 SSIM that the neurogram distance orders as Zimtohrli does (the
  seed's and the loudness-matched crossfade both);
- *agree all*: the same over every two points within 0.05 SSIM (MOSS against MOSS and the seed's crossfade against the
  loudness-matched one at the same mix too): a harder figure, since a MOSS point is often far better than a crossfade.

A half's figure pools its pairs (agreeing pairs over compared pairs). A *variant* evaluates the same points with some
of ``hearing``'s constants replaced (the fronts stay those of today's constants): the sources and standards that
docs/quality.md "issue 23: the hearing model's constants" weighs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPLIT = ROOT / "bench" / "hearing_split.json"
DATA = ROOT / "tests" / "data"
#: score_run.py as the repository carries it (a byte-identical copy of ../shared/tools', which CI checks).
TOOLS = ROOT / "tests" / "tools"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "moss-bench" / "hearing"
RESULTS = ROOT / "bench" / "results" / "hearing-agreement-cpu2.json"
WINDOW = 0.05


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quality_bench():
    """``bench/quality.py`` as a module (the crossfades and scoring it shares with this bench)."""
    return load_module("quality_bench", ROOT / "bench" / "quality.py")


def split(path: Path = SPLIT) -> dict[str, dict[str, dict]]:
    """{"chosen_on": {name: pair}, "checked_on": {name: pair}} from the committed split."""
    raw = json.loads(path.read_text())
    return {half: raw[half] for half in ("chosen_on", "checked_on")}


def pair_files(pair: dict, data_dir: Path = DATA) -> tuple[Path, Path]:
    """(picture, song) of a split entry; ``loud_master`` is bench/quality.py's made loud master."""
    audio = quality_bench().loud_master() if pair["audio"] == "loud_master" else data_dir / pair["audio"]
    return data_dir / pair["image"], audio


def hearing_digest() -> str:
    """A short digest of ``hearing``'s constants: a cached front says which constants made it."""
    from moss_engine.dsp import hearing

    names = sorted(k for k in vars(hearing) if k.isupper())
    text = repr([(k, getattr(hearing, k)) for k in names])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def make_front(pair: dict, out: Path, data_dir: Path = DATA, listen_workers: int = 1, **overrides) -> Path:
    """The pair's default CPU front (``overrides`` beyond the pair's own settings) written into ``out`` and scored
    by score_run --listen (``out/score.json``); returns the run folder."""
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.pipeline import compute_front, load_inputs
    from moss_engine.settings import make_settings

    quality = quality_bench()
    image, audio = pair_files(pair, data_dir)
    values = {"duration_s": quality.SEGMENT_S, "seed": 0, **pair["settings"], **overrides}
    settings = make_settings(image, audio, device_type="cpu", device="cpu", **values)
    started = time.perf_counter()
    result = compute_front(settings, inputs=load_inputs(settings), listen_workers=listen_workers)
    front_s = time.perf_counter() - started
    run_dir = write_run_folder(result, out, overwrite=True)
    quality.score(quality.load_score_run(TOOLS), run_dir, image, audio)
    (run_dir / "bench_meta.json").write_text(
        json.dumps({"hearing": hearing_digest(), "front_s": round(front_s, 1), "settings": values}, indent=1) + "\n"
    )
    return run_dir


def triples(run_dir: Path, pair: dict, data_dir: Path = DATA, score_run=None) -> tuple[list, list]:
    """(MOSS's points, the crossfades' points) as (1 - SSIM, neurogram distance, Zimtohrli distance), the neurogram
    distance with ``hearing``'s constants as they are now (a variant patches them first)."""
    quality = quality_bench()
    score_run = score_run or quality.load_score_run(TOOLS)
    image, audio = pair_files(pair, data_dir)
    scored = json.loads((run_dir / "score.json").read_text())
    return quality.objective_triples(score_run, run_dir, image, audio, scored)


def counts(points: list, base: list, window: float = WINDOW) -> tuple[int, int]:
    """(agreeing, compared) as score_run's ``order_agreement`` counts them."""
    agree = total = 0
    for a in points:
        for b in base:
            if abs(a[0] - b[0]) > window or a[2] == b[2] or a[1] == b[1]:
                continue
            total += 1
            agree += (a[1] < b[1]) == (a[2] < b[2])
    return agree, total


def counts_all(every: list, window: float = WINDOW) -> tuple[int, int]:
    """(agreeing, compared) over every two points within ``window`` of SSIM."""
    agree = total = 0
    for i, a in enumerate(every):
        for b in every[i + 1 :]:
            if abs(a[0] - b[0]) > window or a[2] == b[2] or a[1] == b[1]:
                continue
            total += 1
            agree += (a[1] < b[1]) == (a[2] < b[2])
    return agree, total


def terhardt_threshold_db(f_hz):
    """The threshold in quiet (dB SPL), Terhardt (1979), the usual closed form of ISO 226's threshold curve."""
    import torch

    k = f_hz.double().clamp(min=1.0) / 1000.0
    return 3.64 * k**-0.8 - 6.5 * torch.exp(-0.6 * (k - 3.3) ** 2) + 1e-3 * k**4


def zimtohrli_response(freqs_hz: np.ndarray | None = None) -> list[tuple[float, float, float]]:
    """[(Hz, threshold in dBFS, channel weight)] measured through Zimtohrli itself (1 s sines at 48 kHz): the
    amplitude of a sine whose energy in Zimtohrli's channel at its frequency equals that channel's noise floor, and
    the weight that channel's log-energy is multiplied by. Zimtohrli's ``analyze`` gives log(energy + floor) x weight
    per channel; the weight is found from two levels (-20 and -40 dBFS), the floor from silence, so no table of
    Zimtohrli's is copied."""
    import zimtohrli

    z, rate = zimtohrli.Pyohrli(), 48000
    t = np.arange(rate) / rate

    def levels(amplitude, f):
        return z.analyze((amplitude * np.sin(2 * np.pi * f * t)).astype(np.float32))[20:-20].mean(axis=0)

    if freqs_hz is None:
        freqs_hz = np.geomspace(25.0, 19000.0, 64)
    silent = levels(0.0, 1000.0)
    out = []
    for f in freqs_hz:
        loud, quiet = levels(0.1, f), levels(0.01, f)
        moved = int(np.argmax(loud - silent))
        best = (-math.inf, 0.0)
        for k in range(max(0, moved - 3), min(len(loud), moved + 4)):  # the channel with the most energy near it
            weight = (loud[k] - quiet[k]) / math.log(100.0)  # energy grows 20 dB between the two levels
            floor = math.exp(silent[k] / weight)
            energy = math.exp(loud[k] / weight) - floor
            if energy > 0:
                best = max(best, (10 * math.log10(energy / floor), weight))
        out.append((float(f), float(20 * math.log10(0.1) - best[0]), float(best[1])))
    return out


def variants() -> dict[str, tuple[str, dict]]:
    """name -> (what it is, {hearing attribute: value}). Functions replace ``sensitivity_db`` / ``band_emphasis``."""
    import torch

    from moss_engine.dsp import hearing

    def sensitivity_from_threshold(threshold_db):
        # the floor (FLOOR_DB SPL, flat) is at the threshold in quiet when each frequency is weighted by
        # FLOOR_DB - threshold(f): energy counts as far as it rises above the threshold at its frequency
        return lambda f_hz: hearing.FLOOR_DB - threshold_db(f_hz)

    table = zimtohrli_response()
    zimtohrli_sensitivity = tuple((f, hearing.FLOOR_DB - hearing.FULL_SCALE_SINE_DB - thr) for f, thr, _ in table)
    zimtohrli_weights = tuple((f, w) for f, _, w in table)
    # the knots issue 13 chose, before issue 23 replaced their low end (a boost) by Zimtohrli's measured threshold
    issue13 = ((20.0, 2.0), (500.0, 1.0)) + tuple(k for k in hearing.SENSITIVITY_KNOTS if k[0] >= 700.0)

    def two_sided(self, signal, known=None):
        # Zimtohrli's own form: both neurograms move toward each other whichever peak is louder
        frame_power = hearing.power(self.stft.frames(signal)) if known is None else known
        heard = self.neurogram(frame_power)
        ratio = hearing.soft_max(heard, hearing.PEAK_SOFTNESS) / self.ref_peak
        heard = heard * ratio.pow(-hearing.PEAK_ADAPTATION)[:, None, None]
        ref = self.ref * ratio.pow(hearing.PEAK_ADAPTATION)[:, None, None]
        return hearing.nsim_distance(heard, ref, self.patch)

    return {
        "today": ("the constants as committed", {}),
        "sens-terhardt": (
            "sensitivity: the floor at Terhardt's threshold in quiet (ISO 226's curve)",
            {"sensitivity_db": sensitivity_from_threshold(terhardt_threshold_db)},
        ),
        "sens-flat": ("sensitivity: none (0 dB at every frequency)", {"sensitivity_db": torch.zeros_like}),
        "sens-zimtohrli": (
            "sensitivity: the floor at Zimtohrli's own threshold, measured through it (no smoothing)",
            {"sensitivity_db": lambda f_hz: hearing._on_erb_scale(zimtohrli_sensitivity, f_hz)},
        ),
        "sens-issue13": (
            "sensitivity: issue 13's knots (below 500 Hz a boost, +2 dB at 20 Hz)",
            {"SENSITIVITY_KNOTS": issue13},
        ),
        "emph-flat": ("band emphasis: none (1 everywhere, as ViSQOL's NSIM)", {"band_emphasis": torch.ones_like}),
        "emph-zimtohrli": (
            "band emphasis: Zimtohrli's channel weights, measured through it (no smoothing)",
            {"band_emphasis": lambda f_hz: hearing._on_erb_scale(zimtohrli_weights, f_hz)},
        ),
        "peak-none": ("no peak adaptation", {"PEAK_ADAPTATION": 0.0}),
        "peak-two-sided": (
            "peak adaptation both ways, as Zimtohrli's (also when the result is quieter than the song)",
            {"NeurogramDistance.distance": two_sided},
        ),
        "nsim-zimtohrli": (
            "NSIM constants unrounded, as Zimtohrli 0.2.1 has them (C1 26.43, C3 1.952, floor 0.6325, exponent 0.2581)",
            {
                "INTENSITY_C": 26.426389124321354,
                "STRUCTURE_C": 1.9522719384622791,
                "STRUCTURE_FLOOR": 0.6325126087671703,
                "STRUCTURE_EXPONENT": 0.25808223975919764,
            },
        ),
        "nsim-plain": (
            "structure term as ViSQOL's NSIM: no floor (clamped at 0 only) and exponent 1",
            {"STRUCTURE_FLOOR": 1e-6, "STRUCTURE_EXPONENT": 1.0},
        ),
    }


@contextlib.contextmanager
def patched(changes: dict):
    """``hearing``'s attributes replaced for the duration (its functions read them at call time)."""
    from moss_engine.dsp import hearing

    def owner(key):  # "NAME" is the module's, "Class.name" a class's
        head, _, tail = key.rpartition(".")
        return (getattr(hearing, head) if head else hearing), tail

    saved = {k: getattr(*owner(k)) for k in changes}
    try:
        for k, v in changes.items():
            setattr(*owner(k), v)
        yield
    finally:
        for k, v in saved.items():
            setattr(*owner(k), v)


def evaluate(runs: dict[str, tuple[str, Path, dict]], changes: dict, score_run) -> list[dict]:
    """One row a pair: its half, both figures and their counts, with ``changes`` applied."""
    rows = []
    with patched(changes):
        for name, (half, run_dir, pair) in runs.items():
            points, base = triples(run_dir, pair, score_run=score_run)
            a, n = counts(points, base)
            reference = score_run.order_agreement(points, base)
            assert (reference is None and n == 0) or abs(reference - a / n) < 1e-12, "counts differ from score_run's"
            a_all, n_all = counts_all(points + base)
            rows.append(
                {"pair": name, "half": half, "agree": a, "compared": n, "agree_all": a_all, "compared_all": n_all}
            )
    return rows


def ratio(a: int, n: int) -> float | None:
    return a / n if n else None


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per half: pooled figures and the lowest pair's."""
    out = {}
    for half in ("chosen_on", "checked_on"):
        mine = [r for r in rows if r["half"] == half]
        if not mine:
            continue
        per_pair = [ratio(r["agree"], r["compared"]) for r in mine]
        out[half] = {
            "agree": ratio(sum(r["agree"] for r in mine), sum(r["compared"] for r in mine)),
            "agree_min": min((p for p in per_pair if p is not None), default=None),
            "agree_all": ratio(sum(r["agree_all"] for r in mine), sum(r["compared_all"] for r in mine)),
            "pairs": len(mine),
        }
    return out


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown(results: dict[str, dict]) -> str:
    """Per variant, per pair: agree (compared) and agree all (compared), then each half's pooled figures."""
    first = next(iter(results.values()))["rows"]
    names = [r["pair"] for r in first]
    halves = {r["pair"]: r["half"].replace("_", " ") for r in first}
    lines = [
        "| pair | half | " + " | ".join(results) + " |",
        "|---|---|" + "---|" * len(results),
    ]
    for name in names:
        cells = []
        for res in results.values():
            r = next(x for x in res["rows"] if x["pair"] == name)
            cells.append(
                f"{fmt(ratio(r['agree'], r['compared']))} ({r['compared']}) / "
                f"{fmt(ratio(r['agree_all'], r['compared_all']))} ({r['compared_all']})"
            )
        lines.append(f"| {name} | {halves[name]} | " + " | ".join(cells) + " |")
    for half in ("chosen_on", "checked_on"):
        cells = []
        for res in results.values():
            s = res["summary"].get(half)
            cells.append(
                "-" if s is None else f"**{fmt(s['agree'])}** (min {fmt(s['agree_min'])}) / {fmt(s['agree_all'])}"
            )
        lines.append(f"| **{half.replace('_', ' ')}** | pooled | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    the_split = split()
    every = {name: (half, pair) for half, pairs in the_split.items() for name, pair in pairs.items()}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", choices=list(every), default=list(every))
    parser.add_argument("--variants", nargs="+", default=["today"], help="names, or 'all'")
    parser.add_argument("--remake", action="store_true", help="compute the fronts again (else the cached ones)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--zimtohrli-response", action="store_true", help="print Zimtohrli's measured threshold")
    args = parser.parse_args()
    if args.zimtohrli_response:
        import torch

        from moss_engine.dsp import hearing

        print("threshold in dBFS (a full-scale sine = 80 dB SPL): Zimtohrli's, MOSS's floor, Terhardt's;")
        print("channel weight: Zimtohrli's, MOSS's band emphasis")
        print("      Hz  zimtohrli   moss terhardt   weight   emphasis")
        for f, thr, weight in zimtohrli_response():
            at = torch.tensor([f])
            moss = hearing.FLOOR_DB - hearing.FULL_SCALE_SINE_DB - float(hearing.sensitivity_db(at))
            terhardt = float(terhardt_threshold_db(at)) - hearing.FULL_SCALE_SINE_DB
            emphasis = float(hearing.band_emphasis(at))
            print(f"{f:8.0f} {thr:+10.1f} {moss:+6.1f} {terhardt:+8.1f} {weight:8.2f} {emphasis:10.2f}")
        return 0
    from moss_engine.run.listening import default_workers

    known = variants()
    chosen = list(known) if args.variants == ["all"] else args.variants
    quality = quality_bench()
    score_run = quality.load_score_run(TOOLS)
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}", flush=True)
    runs, made = {}, {}
    for name in args.pairs:
        half, pair = every[name]
        run_dir = args.cache / f"{name}-seed0"
        if args.remake or not (run_dir / "score.json").is_file():
            print(f"making the front of {name} ...", flush=True)
            make_front(pair, run_dir, listen_workers=default_workers())
        meta = json.loads((run_dir / "bench_meta.json").read_text())
        if meta["hearing"] != hearing_digest():
            print(f"note: {name}'s front was made with other hearing constants ({meta['hearing']})", flush=True)
        made[name] = meta
        runs[name] = (half, run_dir, pair)
    results = {}
    for v in chosen:
        what, changes = known[v]
        rows = evaluate(runs, changes, score_run)
        results[v] = {"what": what, "rows": rows, "summary": summary(rows)}
        print(v, json.dumps(results[v]["summary"]), flush=True)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"machine": platform.machine(), "cpus": os.cpu_count(), "commit": head.strip(), "fronts": made, **results},
            indent=1,
        )
        + "\n"
    )
    print(markdown(results))
    today = results.get("today", {}).get("summary", {}).get("checked_on", {})
    return 0 if today.get("agree") is None or today["agree"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
