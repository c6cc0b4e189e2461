"""Every run measures its points after MP3 128, AAC 128 and Opus 96 (issue 24, "Measure it, always"): the figures on
the result, in the manifest (``points[].codec_ssim``) and back, in the table, a stage of their own in the progress;
a cancelled run has none, and ffmpeg failing for a codec leaves that codec out with a one-line notice."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from moss_engine.commands.main import _summary, survives
from moss_engine.errors import MossError
from moss_engine.io import codec as codec_module
from moss_engine.io.codec import CODECS, Codec
from moss_engine.reporting import NOTICE_CODEC, STAGES
from moss_engine.resources import sample_paths
from moss_engine.run.folder import write_run_folder
from moss_engine.run.pipeline import compute_front, measure_codecs
from moss_engine.run.plot import plot_front
from moss_engine.run.reader import read_run
from moss_engine.settings import make_settings


class Recorder:
    """A reporter that keeps what it is told, and stops when ``stop_after`` codec reports were made (None: never)."""

    def __init__(self, stop_after: int | None = None):
        self.reports, self.notices, self.stop_after = [], [], stop_after

    def progress(self, fraction, message, status=None):
        self.reports.append((fraction, status))

    def notice(self, kind, message):
        self.notices.append((kind, message))

    def partial(self, snapshot):
        pass

    def should_stop(self):
        said = sum(1 for _, s in self.reports if s is not None and s.stage == "codecs")
        return self.stop_after is not None and said > self.stop_after


@pytest.fixture(scope="module")
def tiny():
    """A real tiny run of the bundled sample (2 s, 3 points) and what its reporter was told."""
    image, audio = sample_paths()
    settings = make_settings(
        image, audio, quality="preview", device="cpu", duration_s=2.0, steps=2, points=3, seed=0, phase_iterations=0
    )
    recorder = Recorder()
    return compute_front(settings, recorder), recorder


def unmeasured(run):
    return dataclasses.replace(run, points=[dataclasses.replace(p, codec_ssim={}) for p in run.points])


def test_every_point_is_measured_after_each_codec_and_written(tiny, tmp_path, tools_dir):
    run, recorder = tiny
    assert all(list(p.codec_ssim) == list(CODECS) for p in run.points)
    assert all(-1.0 <= v <= 1.0 for p in run.points for v in p.codec_ssim.values())
    assert run.timings["codecs_s"] > 0 and not run.notices
    # its own stage, the last, its steps counted to the end, the fraction never going back
    stages = [s.stage for _, s in recorder.reports if s is not None]
    assert stages[-1] == "codecs" == STAGES[-1] and stages.index("codecs") == len(stages) - stages.count("codecs")
    last = recorder.reports[-1]
    assert last[0] == 1.0 and last[1].step == last[1].steps == 3 * len(run.points)
    fractions = [f for f, _ in recorder.reports]
    assert fractions == sorted(fractions)
    out = write_run_folder(run, tmp_path / "run", plot=plot_front)
    check = subprocess.run(
        [sys.executable, str(tools_dir / "check_run.py"), str(out)], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    for entry, p in zip(manifest["points"], run.points, strict=True):
        assert entry["codec_ssim"] == {k: round(v, 4) for k, v in p.codec_ssim.items()}
        assert all(round(v, 4) == v for v in entry["codec_ssim"].values())
    assert [p.codec_ssim for p in read_run(out).points] == [e["codec_ssim"] for e in manifest["points"]]
    # an older folder has none: it still opens, with no figures
    for entry in manifest["points"]:
        del entry["codec_ssim"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert all(p.codec_ssim == {} for p in read_run(out).points)


def test_the_table_says_which_codecs_each_point_survives(tiny, tmp_path):
    run, _ = tiny
    assert survives({"mp3_128": 0.61, "aac_128": 0.49, "opus_96": 0.5}) == "MP3 Opus"
    assert survives({"mp3_128": 0.2, "aac_128": 0.1, "opus_96": 0.3}) == "none" and survives({}) == "n/a"
    text = _summary(run, tmp_path)
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if "survives" in line and "alpha" in line)
    table = lines[head : head + 1 + len(run.points)]
    assert all(len(line) <= 120 for line in table), table
    for line, p in zip(table[1:], run.points, strict=True):
        assert survives(p.codec_ssim) in line
    assert any(line.startswith("survives: ") and "SSIM >= 0.5" in line for line in lines)
    assert "survives: not measured" in _summary(unmeasured(run), tmp_path)


def test_a_cancelled_run_is_not_measured(tiny):
    run, _ = tiny
    before = unmeasured(run)
    cancelled = dataclasses.replace(before, optimisation=dataclasses.replace(run.optimisation, cancelled=True))
    assert measure_codecs(cancelled, Recorder(stop_after=10**6)) is cancelled  # skipped: nothing asked, nothing said
    recorder = Recorder(stop_after=1)  # cancelled as the first figures come back
    stopped = measure_codecs(before, recorder)
    assert stopped.optimisation.cancelled and all(p.codec_ssim == {} for p in stopped.points)
    assert not recorder.notices and "codecs_s" in stopped.timings


def test_ffmpeg_failing_for_a_codec_leaves_it_out_with_one_notice(tiny, monkeypatch):
    run, _ = tiny
    real = codec_module.round_trip
    broken = Codec("aac_128", "aac-128", "AAC 128 kb/s", "no_such_encoder", 128, ".m4a")
    calls = []

    def round_trip(samples, rate, c, should_stop=lambda: False):
        calls.append(c.key)
        return real(samples, rate, broken if c.key == "aac_128" else c, should_stop)

    monkeypatch.setattr(codec_module, "round_trip", round_trip)
    recorder = Recorder()
    measured = measure_codecs(unmeasured(run), recorder)
    assert not measured.optimisation.cancelled
    assert all(list(p.codec_ssim) == ["mp3_128", "opus_96"] for p in measured.points)
    assert calls.count("aac_128") <= 2  # the codec's other points are not tried again (two threads at once at most)
    assert len(recorder.notices) == 1 and recorder.notices[0][0] == NOTICE_CODEC
    note = recorder.notices[0][1]
    assert "\n" not in note and "AAC 128 kb/s" in note and "ffmpeg failed" in note and "MP3" not in note
    assert measured.notices[-1] == note
    assert survives(measured.points[-1].codec_ssim) != "n/a"

    # no ffmpeg at all: every codec left out, said once
    def missing():
        raise MossError("the codecs need ffmpeg, which is not available (not installed)")

    monkeypatch.setattr(codec_module, "round_trip", real)
    monkeypatch.setattr(codec_module, "_ffmpeg", missing)
    recorder = Recorder()
    measured = measure_codecs(unmeasured(run), recorder)
    assert all(p.codec_ssim == {} for p in measured.points) and not measured.optimisation.cancelled
    assert [kind for kind, _ in recorder.notices] == [NOTICE_CODEC]
    assert "MP3 128 kb/s and AAC 128 kb/s and Opus 96 kb/s" in recorder.notices[0][1]
    assert np.isfinite(measured.hypervolume)
