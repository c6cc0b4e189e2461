"""``--publish``: the front made to survive a codec (issue 24 items 2 and 3): the codec's proxy (its spread, its
calibration against the real encoder), a real publish run (its points chosen and recorded after the real codec), and
the band refused above what the codec keeps."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from moss_engine.dsp.codec_proxy import OFFSETS_DB, CodecProxy, proxied_levels, spread_factors, spread_matrix
from moss_engine.errors import MossInputError
from moss_engine.io.codec import round_trip
from moss_engine.resources import sample_paths
from moss_engine.run.codec_ssim import seen_of_result
from moss_engine.run.folder import write_run_folder
from moss_engine.run.pipeline import compute_front
from moss_engine.run.plot import plot_front
from moss_engine.run.publish import check_publish_band, fit_offset, predicted_ssim
from moss_engine.settings import make_settings

FREQS = np.arange(487) * 22050 / 1024


def test_the_spread_factors_are_close_to_the_spread_they_stand_for():
    read, gather = spread_factors(FREQS)
    exact = spread_matrix(FREQS)
    assert read.shape[1] == gather.shape[0] < len(FREQS) / 4  # the point: far fewer products
    assert np.allclose(exact.sum(axis=1), 1.0) and np.allclose((read @ gather).sum(axis=1), 1.0)
    assert np.abs(read @ gather - exact).sum(axis=1).max() < 0.25  # each row within a quarter of its mass
    # narrow at the bottom (a few bins), wide at the top (tens of bins): the critical bands' shape
    assert (exact[5] > 1e-3).sum() <= 7 and (exact[-5] > 1e-3).sum() >= 30


def test_the_proxy_is_the_identity_without_error_and_differentiable():
    spec = torch.randn(2, len(FREQS), 40, dtype=torch.complex64, requires_grad=True)
    quiet = CodecProxy(FREQS, 40, -200.0, seed=0)
    assert torch.allclose(quiet(spec), spec.abs() ** 2, rtol=1e-4, atol=1e-6)
    loud = CodecProxy(FREQS, 40, -10.0, seed=0)
    out = loud(spec)
    out.sum().backward()
    assert torch.isfinite(spec.grad).all() and float(spec.grad.abs().sum()) > 0
    # the same draw for every mask of a population, and from the seed
    assert torch.equal(CodecProxy(FREQS, 40, -10.0, seed=0).draw, loud.draw)
    assert not torch.equal(CodecProxy(FREQS, 40, -10.0, seed=1).draw, loud.draw)


@pytest.fixture(scope="module")
def tiny_publish():
    """A real tiny publish run of the bundled sample (2 s, 3 points, MP3 128)."""
    image, audio = sample_paths()
    settings = make_settings(
        image,
        audio,
        quality="preview",
        device="cpu",
        duration_s=2.0,
        steps=2,
        points=3,
        seed=0,
        phase_iterations=0,
        publish="mp3-128",
    )
    return compute_front(settings)


def test_the_calibration_matches_the_real_codec_and_recovers_a_known_offset(tiny_publish):
    record = tiny_publish.extra["publish"]
    assert record["codec"] == "mp3_128" and record["proxy_offset_db"] in OFFSETS_DB
    decoded, predicted = record["ssim_decoded"], record["ssim_predicted"]
    assert len(decoded) == len(predicted) >= 1
    assert max(abs(a - b) for a, b in zip(decoded, predicted, strict=True)) < 0.05
    # the search finds the offset that made the figures it is given (the proxy's own, at -18 dB)
    seen = seen_of_result(tiny_publish)
    from moss_engine.dsp.viewer_ssim import viewer_spectrum

    spectrum = viewer_spectrum(
        tiny_publish.points[-1].samples.astype(np.float64).mean(axis=0), seen.sample_rate, seen.view
    )
    target = predicted_ssim(seen, spectrum, -18.0, 0)
    offset, (prediction,) = fit_offset(seen, [spectrum], [target], 0)
    assert abs(prediction - target) < 0.01 and abs(offset - (-18.0)) <= 4.5
    # more error, less picture: the prediction falls as the offset grows
    lows = [predicted_ssim(seen, spectrum, o, 0) for o in (-40.0, -20.0, -5.0)]
    assert lows[0] > lows[1] > lows[2]
    block = spectrum[0][:10]
    level, audible = proxied_levels(block, spectrum[1][:10], -200.0, 0), np.abs(block) > 1e-6
    assert np.allclose(level[audible], 20 * np.log10(np.abs(block[audible])), atol=1e-3)


def test_a_publish_run_chooses_and_records_its_points_after_the_real_codec(tiny_publish, tmp_path):
    run = tiny_publish
    assert all(set(p.codec_mos) == {"mp3_128"} for p in run.points)
    assert all(set(p.codec_ssim) == {"mp3_128", "aac_128", "opus_96"} for p in run.points)
    # the figure describes the file: the point's WAV through the real encoder again gives the same SSIM
    seen = seen_of_result(run)
    for p in run.points:
        assert seen.ssim(round_trip(p.samples, run.sample_rate, "mp3_128")) == pytest.approx(
            p.codec_ssim["mp3_128"], abs=1e-3
        )
    # the music end is the song as written (MOS 5), and the song after the codec is heard as less than that
    music = run.points[0]
    assert music.kind == "music" and music.mos == pytest.approx(5.0) and music.codec_mos["mp3_128"] < 5.0
    # no kept point is beaten after the codec on both what a viewer shows and what a listener hears
    after = [(p.codec_ssim["mp3_128"], p.codec_mos["mp3_128"]) for p in run.points]
    for i, (s, m) in enumerate(after):
        assert not any(s2 > s + 1e-9 and m2 > m + 1e-9 for j, (s2, m2) in enumerate(after) if j != i)
    manifest = json.loads((write_run_folder(run, tmp_path / "run", plot=plot_front) / "manifest.json").read_text())
    assert manifest["settings"]["publish"] == "mp3-128" and manifest["publish"]["codec"] == "mp3_128"
    assert [p["codec_mos"]["mp3_128"] for p in manifest["points"]] == [
        round(p.codec_mos["mp3_128"], 4) for p in run.points
    ]


def test_a_lossless_run_has_no_publish_record_nor_proxy():
    image, audio = sample_paths()
    settings = make_settings(
        image, audio, quality="preview", device="cpu", duration_s=1.0, steps=1, points=2, phase_iterations=0
    )
    run = compute_front(settings)
    assert "publish" not in run.extra and all(not p.codec_mos for p in run.points)


def test_a_band_above_what_the_codec_keeps_is_refused_in_one_line(tmp_path):
    image, audio = sample_paths()
    wide = make_settings(image, audio, sample_rate=44100, freq=(0.0, 18000.0), publish="mp3-128")
    with pytest.raises(MossInputError) as refused:
        check_publish_band(wide, channels=2)
    message = str(refused.value)
    assert "16550" in message and "MP3 128" in message and "\n" not in message
    assert refused.value.reason == "above_codec" and refused.value.details["cutoff_hz"] == 16550.0
    check_publish_band(wide, channels=1)  # LAME keeps 20 kHz in mono at 128 kb/s
    check_publish_band(make_settings(image, audio, sample_rate=44100, freq=(0.0, 16000.0), publish="mp3-128"), 2)
    check_publish_band(make_settings(image, audio, sample_rate=44100, freq=(0.0, 18000.0)), 2)  # lossless
    check_publish_band(make_settings(image, audio, sample_rate=44100, publish="aac-128"), 2)  # the default band
    out = tmp_path / "run"
    cli = [sys.executable, "-m", "moss_engine.cli", "front", "--image", str(image), "--audio", str(audio)]
    cli += ["--out", str(out), "--sample-rate", "44100", "--freq", "0:18000", "--publish", "mp3-128"]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and "--publish lossless" in done.stderr and not out.exists()


def test_the_table_shows_what_a_viewer_and_a_listener_get_after_the_codec(tiny_publish, tmp_path):
    from moss_engine.commands.main import _summary

    table = _summary(tiny_publish, tmp_path)
    assert "after MP3 SSIM/MOS" in table and "--publish mp3-128" in table
    for i, p in enumerate(tiny_publish.points):
        row = next(line for line in table.splitlines() if line.endswith(f"point_{i:03d}.wav"))
        assert f"{p.codec_ssim['mp3_128']:.2f} / {p.codec_mos['mp3_128']:.2f}" in row
