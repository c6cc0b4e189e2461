"""The publishing codecs (MP3 128, AAC 128, Opus 96) through the real bundled ffmpeg, and every point's SSIM after
them, against the reference definition (``tests/tools/codec_survival.py``, a copy of the team's shared tool)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import welch

from moss_engine.dsp import viewer_ssim
from moss_engine.errors import MossError, MossInputError
from moss_engine.io.audio import load_audio
from moss_engine.io.codec import CODEC_CUTOFFS_HZ, CODECS, Codec, codec, round_trip, round_trips
from moss_engine.run.codec_ssim import SeenPicture, codec_ssim, codec_ssim_of_folder, per_point

ROCK = "music_rock_sectoid_metal_madness_30s.ogg"
ORCHESTRAL = "music_orchestral_wesnoth_transience.ogg"


def clip(data_dir: Path, name: str, rate: int, seconds: float, start_s: float = 3.0) -> np.ndarray:
    return load_audio(data_dir / name, sample_rate=rate, start_s=start_s, duration_s=seconds).samples


def test_names_as_users_and_the_manifest_say_them():
    assert [c.name for c in CODECS.values()] == ["mp3-128", "aac-128", "opus-96"]
    assert list(CODECS) == ["mp3_128", "aac_128", "opus_96"]
    for c in CODECS.values():
        assert codec(c.name) is c and codec(c.key) is c and codec(c.name.upper()) is c
    with pytest.raises(MossInputError) as caught:
        codec("mp3-320")
    assert "\n" not in str(caught.value) and "mp3-128, aac-128, opus-96" in str(caught.value)


def test_the_rate_each_codec_is_given():
    assert [c.encode_rate(22050) for c in CODECS.values()] == [44100, 44100, 48000]
    assert [c.encode_rate(48000) for c in CODECS.values()] == [48000, 48000, 48000]
    # below 44.1 kHz the codec's low-pass is above the run's Nyquist frequency: it keeps the run's whole band
    assert all(c.cutoff_hz(22050, ch) == 11025 for c in CODECS.values() for ch in (1, 2))
    assert 16000 <= CODECS["mp3_128"].cutoff_hz(44100, 2) <= 17000  # issue 24: "MP3 128 cuts near 16 kHz"


@pytest.mark.parametrize(("rate", "channels"), [(22050, 2), (44100, 1)])
def test_a_round_trip_keeps_length_rate_and_channels_and_the_music(data_dir, rate, channels):
    x = clip(data_dir, ROCK, rate, 2.0)
    x = x[:channels] if channels <= x.shape[0] else np.repeat(x, channels, axis=0)
    for c in CODECS.values():
        y = round_trip(x, rate, c)
        assert y.shape == x.shape and y.dtype == np.float32
        # no lag (ffmpeg trims the priming) and the music kept: the decoded file is the point, up to the codec's noise
        lag = np.argmax(np.correlate(y[0, 4000:12000], x[0, 4000 - 50 : 12000 + 50], mode="valid")) - 50
        assert lag == 0, c.key
        error = np.sqrt(np.mean((y - x) ** 2)) / np.sqrt(np.mean(x**2))
        assert error < 0.35, (c.key, error)


def test_a_tone_survives_and_what_lies_above_the_low_pass_does_not():
    rate, n = 44100, 44100
    t = np.arange(n) / rate
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t)
    rng = np.random.default_rng(0)
    for channels in (1, 2):
        x = np.vstack([tone] * channels).astype(np.float32)
        noise = rng.uniform(-0.5, 0.5, (channels, n)).astype(np.float32)
        f, p_in = welch(noise.astype(np.float64), rate, nperseg=4096)
        for c in CODECS.values():
            y = round_trip(x, rate, c)
            inner = slice(4410, -4410)
            gain_db = 20 * np.log10(np.std(y[:, inner]) / np.std(x[:, inner]))
            assert abs(gain_db) < 0.5, (c.key, channels, gain_db)
            assert np.corrcoef(y[:, inner].ravel(), x[:, inner].ravel())[0, 1] > 0.999
            cutoff = c.cutoff_hz(rate, channels)
            _, p_out = welch(round_trip(noise, rate, c).astype(np.float64), rate, nperseg=4096)
            ratio_db = 10 * np.log10(p_out.mean(axis=0) / p_in.mean(axis=0))
            kept = (f > 1000) & (f < cutoff - 1000)
            assert np.median(ratio_db[kept]) > -1.5, (c.key, channels)
            removed = (f > cutoff + 500) & (f < rate / 2 - 500)
            if removed.any():
                assert ratio_db[removed].max() < -30, (c.key, channels, cutoff)


def test_the_measured_cutoffs_are_written_down_for_every_codec():
    assert set(CODEC_CUTOFFS_HZ) == set(CODECS)
    for table in CODEC_CUTOFFS_HZ.values():
        assert all(15000 < hz <= rate / 2 for rate, both in table.items() for hz in both)


def test_a_stop_ends_ffmpeg_and_leaves_the_rest_unmeasured(data_dir):
    x = clip(data_dir, ROCK, 22050, 2.0)
    assert round_trip(x, 22050, "mp3-128", should_stop=lambda: True) is None  # ffmpeg not even started
    asked = []

    def while_encoding() -> bool:  # asked first before ffmpeg starts, then every POLL_S while it encodes
        asked.append(time.monotonic())
        return len(asked) > 1

    long = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 48000 * 60)).astype(np.float32)  # about a second's work
    assert round_trip(long, 48000, "mp3-128", should_stop=while_encoding) is None
    assert len(asked) == 2
    stop, got = [False], []

    def done(i: int, key: str, decoded: np.ndarray) -> None:
        got.append((i, key, decoded.shape))
        stop[0] = True

    out = round_trips([x, x, x], 22050, ["opus-96"], should_stop=lambda: stop[0], workers=1, done=done)
    assert got == [(0, "opus_96", x.shape)] and out == {"opus_96": [None, None, None]}  # done() took it
    stop[0] = False
    out = round_trips([x, x[:1]], 22050, ["opus-96", "mp3-128"])
    assert [[y.shape for y in ys] for ys in out.values()] == [[x.shape, (1, x.shape[1])]] * 2


def test_ffmpeg_failing_is_one_line():
    broken = Codec("nope_1", "nope-1", "Nope 1 kb/s", "no_such_encoder", 1, ".mp3")
    with pytest.raises(MossError) as caught:
        round_trip(np.zeros((1, 4410), np.float32), 44100, broken)
    assert str(caught.value).startswith("Nope 1 kb/s: encoding: ffmpeg failed") and "\n" not in str(caught.value)


def test_the_viewer_ssim_is_score_runs(data_dir, tools_dir, monkeypatch):
    pytest.importorskip("skimage")
    monkeypatch.syspath_prepend(str(tools_dir))
    import score_run

    rng = np.random.default_rng(0)
    for shape in [(300, 500), (60, 90), (1000, 40)]:
        a = rng.random(shape)
        assert np.array_equal(viewer_ssim.resize(a, (128, 256)), score_run.resize(a, (128, 256), anti_aliasing=True))
    for name in ("img_portrait_skimage_astronaut.png", "img_linedrawing_openclipart_crawfish_graya.png"):
        ours, theirs = viewer_ssim.picture_gray(data_dir / name), score_run.image_gray(data_dir / name, (128, 256))
        assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])
    x = clip(data_dir, ORCHESTRAL, 22050, 4.0).mean(axis=0).astype(np.float64)
    img, alpha = score_run.image_gray(data_dir / "img_linedrawing_openclipart_crawfish_graya.png", (128, 256))
    for scale, f0 in (("linear", 0.0), ("log", 60.0)):
        view = {"n_fft": 1024, "hop_length": 256, "db_range": 80.0, "freq_scale": scale}
        placement = {"t0_s": 0.5, "t1_s": 3.5, "f0_hz": f0, "f1_hz": 9000.0}
        seen = viewer_ssim.viewer_picture(x, 22050, view, placement)
        assert np.array_equal(seen, score_run.view(x, 22050, view, placement, (128, 256)))
        ours = viewer_ssim.picture_ssim(seen, img, alpha)
        assert ours == pytest.approx(score_run.picture_ssim(seen, img, alpha), abs=1e-12)


def reference_codec_survival(tools_dir: Path, run_dir: Path, image: Path, out: Path, monkeypatch) -> list[dict]:
    """``codec_survival.py RUN --image IMG --json OUT``, its own ``main``, in this process (scikit-image loads once)."""
    monkeypatch.syspath_prepend(str(tools_dir))
    import codec_survival

    monkeypatch.setattr(sys, "argv", ["codec_survival.py", str(run_dir), "--image", str(image), "--json", str(out)])
    codec_survival.main()
    return json.loads(out.read_text())["points"]


def crossfade_folder(data_dir: Path, tools_dir: Path, image: Path, out: Path) -> Path:
    """A run folder with what codec_survival.py reads: the seed's uniform crossfade (score_run's) of a stereo clip of
    the orchestral piece (2 s) at three levels, each channel crossfaded, the view and placement of a preview run."""
    sys.path.insert(0, str(tools_dir))
    try:
        import score_run
    finally:
        sys.path.remove(str(tools_dir))
    rate = 22050
    music = clip(data_dir, ORCHESTRAL, rate, 2.0, start_s=5.0).astype(np.float64)
    view = {"n_fft": 1024, "hop_length": 256, "window": "hann", "db_range": 80.0, "freq_scale": "linear"}
    placement = {"t0_s": 0.0, "t1_s": 2.0, "f0_hz": 0.0, "f1_hz": 10500.0}
    levels = (0.3, 0.6, 0.9)
    per_channel = [score_run.crossfade_baseline(ch, rate, view, placement, str(image), levels)[0] for ch in music]
    out.mkdir()
    points = []
    for i in range(len(levels)):
        samples = np.stack([per_channel[ch][i] for ch in range(len(music))], axis=1)
        sf.write(out / f"point_{i:03d}.wav", samples.astype(np.float32), rate, subtype="FLOAT")
        points.append({"wav": f"point_{i:03d}.wav"})
    sf.write(out / "reference.wav", music.T.astype(np.float32), rate, subtype="FLOAT")
    manifest = {"sample_rate": rate, "view": view, "placement": placement, "points": points}
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_codec_ssim_agrees_with_codec_survival(data_dir, tools_dir, tmp_path, monkeypatch):
    pytest.importorskip("skimage")
    image = data_dir / "img_text_skimage_page.png"
    run_dir = crossfade_folder(data_dir, tools_dir, image, tmp_path / "run")
    said = []
    ours = codec_ssim_of_folder(run_dir, image, progress=lambda done, total: said.append((done, total)))
    theirs = reference_codec_survival(tools_dir, run_dir, image, tmp_path / "ref.json", monkeypatch)
    assert sorted(said) == [(n, 9) for n in range(1, 10)]
    for key in CODECS:
        for i, row in enumerate(theirs):
            assert abs(ours[key][i] - row[key]) <= 0.02, (key, i, ours[key][i], row[key])
    # a codec costs the picture something, and what it costs grows with the picture's share of the point
    wav = [row["wav_ssim"] for row in theirs]
    assert wav[0] < wav[1] < wav[2]
    assert all(ours[key][i] <= wav[i] + 0.01 for key in CODECS for i in range(3))
    assert per_point(ours)[0] == {key: round(ours[key][0], 4) for key in CODECS}


def test_a_stopped_measurement_leaves_the_rest_none(data_dir, tmp_path):
    x = clip(data_dir, ROCK, 22050, 2.0)
    view = {"n_fft": 1024, "hop_length": 256, "db_range": 80.0, "freq_scale": "linear"}
    seen = SeenPicture(
        data_dir / "img_text_skimage_page.png", 22050, view, {"t0_s": 0, "t1_s": 2, "f0_hz": 0, "f1_hz": 8000}
    )
    stop = [False]

    def progress(done, total):
        stop[0] = True

    out = codec_ssim([x, x, x], seen, ["aac-128"], should_stop=lambda: stop[0], progress=progress, workers=1)
    assert isinstance(out["aac_128"][0], float) and out["aac_128"][1:] == [None, None]
    assert per_point(out) == [{"aac_128": round(out["aac_128"][0], 4)}, {}, {}]


@pytest.mark.slow
def test_codec_ssim_of_a_real_run_agrees_with_codec_survival(data_dir, tools_dir, tmp_path, monkeypatch):
    pytest.importorskip("skimage")
    from moss_engine.run.folder import write_run_folder
    from moss_engine.run.pipeline import compute_front
    from moss_engine.settings import make_settings

    image = data_dir / "img_portrait_skimage_astronaut.png"
    settings = make_settings(
        image,
        data_dir / ORCHESTRAL,
        quality="preview",
        device="cpu",
        duration_s=4.0,
        start_s=5.0,
        steps=20,
        points=4,
        seed=1,
    )
    result = compute_front(settings)
    run_dir = write_run_folder(result, tmp_path / "run")
    ours = codec_ssim_of_folder(run_dir, image)
    # the run measured its points itself (pipeline.measure_codecs) and wrote the figures: those of its files
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for i, (p, entry) in enumerate(zip(result.points, manifest["points"], strict=True)):
        assert entry["codec_ssim"] == {k: round(v, 4) for k, v in p.codec_ssim.items()}
        assert all(abs(p.codec_ssim[key] - ours[key][i]) <= 1e-4 for key in CODECS)
    theirs = reference_codec_survival(tools_dir, run_dir, image, tmp_path / "ref.json", monkeypatch)
    assert len(theirs) == len(result.points)
    for key in CODECS:
        gaps = [abs(entry["codec_ssim"][key] - row[key]) for entry, row in zip(manifest["points"], theirs, strict=True)]
        assert max(gaps) <= 0.02, (key, gaps)
