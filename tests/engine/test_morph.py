"""The morph: a monotone path along the front, its audio (no clicks), and the video of it."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from moss_engine.errors import MossInputError
from moss_engine.freq_axis import FreqAxis
from moss_engine.run.folder import write_run_folder
from moss_engine.run.morph import MONOTONE_TOLERANCE, write_morph
from moss_engine.run.pipeline import compute_front
from moss_engine.run.plot import plot_front
from moss_engine.run.video import FPS, SPEC_HEIGHT, UNREVEALED, WIDTH, spectrogram_panel
from moss_engine.settings import make_settings
from tests.conftest import as_moss_run_1

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def morphed(data_dir, tmp_path_factory):
    settings = make_settings(
        data_dir / "img_portrait_skimage_astronaut.png",
        data_dir / "awkward_48k_stereo_etr_calmrace_30s.ogg",
        quality="preview",
        device="cpu",
        duration_s=4.0,
        start_s=1.0,
        steps=12,
        points=6,
    )
    run = write_run_folder(compute_front(settings), tmp_path_factory.mktemp("morph") / "run", plot=plot_front)
    states = write_morph(run)
    return run, states


def test_morph_json_is_monotone_from_music_to_picture(morphed):
    run, states = morphed
    doc = json.loads((run / "morph.json").read_text())
    assert len(doc["states"]) == len(states) >= 5
    alpha = [s["alpha"] for s in doc["states"]]
    visual = np.array([s["visual_loss"] for s in doc["states"]])
    audio = np.array([s["audio_loss"] for s in doc["states"]])
    assert alpha[0] == 0.0 and alpha[-1] == 1.0
    v_tol = MONOTONE_TOLERANCE * (visual[0] - visual[-1])
    a_tol = MONOTONE_TOLERANCE * (audio[-1] - audio[0])
    assert np.all(np.diff(visual) <= v_tol + 1e-9)
    assert np.all(np.diff(audio) >= -a_tol - 1e-9)
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(states) > len(manifest["points"])  # interpolated states between the front's points


def test_morph_audio_has_the_clip_length_and_no_clicks(morphed):
    run, _ = morphed
    morph, sr = sf.read(run / "morph.wav", always_2d=True)
    reference, ref_sr = sf.read(run / "reference.wav", always_2d=True)
    assert sr == ref_sr and morph.shape == reference.shape
    assert sf.info(run / "morph.wav").subtype == "FLOAT"
    steps = [np.abs(np.diff(sf.read(p, always_2d=True)[0], axis=0)).max() for p in sorted(run.glob("point_*.wav"))]
    assert np.abs(np.diff(morph, axis=0)).max() <= 1.05 * max(steps)  # no jump bigger than any point's own
    head, song = morph[: sr // 10].mean(axis=1), reference[: sr // 10].mean(axis=1)
    assert np.sqrt(np.mean((head - song) ** 2)) < 0.1 * np.sqrt(np.mean(song**2))  # it starts as the music


def _ffmpeg():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def test_morph_video_streams_duration_and_frames(morphed):
    run, _ = morphed
    video = run / "morph.mp4"
    info = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(video)], capture_output=True, text=True).stderr
    assert len(re.findall(r"Stream #\S+.*: Video: h264", info)) == 1
    assert len(re.findall(r"Stream #\S+.*: Audio: aac", info)) == 1
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info).groups()
    assert abs(int(h) * 3600 + int(m) * 60 + float(s) - 4.0) <= 0.1
    t = 2.0
    raw = subprocess.run(
        [
            _ffmpeg(),
            "-loglevel",
            "error",
            "-ss",
            str(t),
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
    ).stdout
    frame = np.frombuffer(raw, dtype=np.uint8).reshape(720, 1280, 3).astype(float)
    morph, sr = sf.read(run / "morph.wav", always_2d=True)
    manifest = json.loads((run / "manifest.json").read_text())
    view = manifest["view"]
    axis = FreqAxis.viewer(view["freq_scale"], sr)
    panel = spectrogram_panel(morph.T, sr, view["n_fft"], view["hop_length"], view["db_range"], axis).astype(float)
    x = int(round(t / 4.0 * WIDTH))
    heard = frame[:SPEC_HEIGHT, 10 : x - 10].mean(axis=2)
    assert np.abs(heard - panel[:, 10 : x - 10]).mean() < 12  # the spectrogram of what has been heard ...
    assert np.corrcoef(heard.ravel(), panel[:, 10 : x - 10].ravel())[0, 1] > 0.9
    ahead = frame[:SPEC_HEIGHT, x + 10 :].mean(axis=2)
    assert np.abs(ahead - UNREVEALED).mean() < 4  # ... and nothing of what is still to come
    red = frame[:SPEC_HEIGHT, x - 3 : x + 4]
    assert np.median(red[:, :, 0] - red[:, :, 1], axis=0).max() > 100  # the playhead
    assert FPS == 30


def test_morph_command_and_its_bad_inputs(morphed, tmp_path):
    run, _ = morphed
    cmd = [sys.executable, "-m", "moss_engine.cli", "morph"]
    again = subprocess.run(cmd + [str(run)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "already holds" in again.stderr and again.stderr.count("\n") == 1
    missing = subprocess.run(cmd + [str(tmp_path / "nope")], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr
    foreign = tmp_path / "Music"
    foreign.mkdir()
    (foreign / "song.mp3").write_bytes(b"ID3")
    bad = subprocess.run(cmd + [str(foreign)], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "no MOSS manifest" in bad.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["song.mp3"]
    with pytest.raises(MossInputError, match="already holds"):
        write_morph(run)


@pytest.mark.parametrize("damage", ["missing", "wrong-shape", "not-numpy"])
def test_a_damaged_mask_is_one_line_naming_it(morphed, tmp_path, damage):
    import shutil

    run, _ = morphed
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    mask = copy / "point_001.npy"
    if damage == "missing":
        mask.unlink()
    elif damage == "wrong-shape":
        np.save(mask, np.zeros((3, 3), dtype=np.float32))
    else:
        mask.write_text("not numpy")
    with pytest.raises(MossInputError) as exc:
        write_morph(copy, overwrite=True, video=False)
    assert "point_001.npy" in str(exc.value) and "\n" not in str(exc.value)


def test_a_folder_that_cannot_take_the_morph_is_one_line(morphed, tmp_path, monkeypatch):
    import shutil
    import tempfile

    run, _ = morphed
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    before = sorted(p.name for p in copy.iterdir())

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(MossInputError) as exc:
        write_morph(copy, overwrite=True, video=False)
    assert str(copy) in str(exc.value) and "Permission denied" in str(exc.value)
    assert sorted(p.name for p in copy.iterdir()) == before


def test_morph_of_a_moss_run_1_folder(morphed, tmp_path):
    """An older run folder (one run-wide gain, no picture levels) still morphs: its points rebuilt at the level
    moss-run/1 made them at, the morph at the song's level, its peaks limited inside it (never a whole-clip gain)."""
    run, _ = morphed
    old = as_moss_run_1(run, tmp_path / "old", -15.0)
    for name in ("morph.json", "morph.wav", "morph.mp4"):
        (old / name).unlink()
    states = write_morph(old, video=False)
    assert states[0].alpha == 0.0 and states[-1].alpha == 1.0
    assert all(s.level_db == 0.0 for s in states)
    doc = json.loads((old / "morph.json").read_text())
    assert [s["picture_level_db"] for s in doc["states"]] == [0.0] * len(states)
    morph, _ = sf.read(old / "morph.wav", always_2d=True)
    reference, _ = sf.read(run / "reference.wav", always_2d=True)  # the song's level (the old folder's is -15 dB)
    assert np.max(np.abs(morph)) <= max(1.0, np.max(np.abs(reference))) + 1e-6
    head, song = morph[:2000].mean(axis=1), reference[:2000].mean(axis=1)
    gain = float(np.dot(head, song) / np.dot(song, song))  # the song at its own level: no gain for the whole morph
    assert 0.95 < gain < 1.05
    assert np.sqrt(np.mean((head - gain * song) ** 2)) < 0.1 * np.sqrt(np.mean(song**2))


def test_morph_states_carry_the_points_picture_levels(morphed):
    run, states = morphed
    manifest = json.loads((run / "manifest.json").read_text())

    def key(level) -> tuple[float, ...]:
        return tuple(np.round(np.atleast_1d(np.asarray(level, dtype=np.float64)), 4))

    levels = {key(p["picture_level_db"]) for p in manifest["points"]}
    assert {key(s.level_db) for s in states} >= levels  # every point's own level (curve) is on the path


@pytest.mark.parametrize("short_of", ["memory", "disk"])
def test_a_morph_the_machine_cannot_hold_is_refused_before_it_is_computed(morphed, tmp_path, monkeypatch, short_of):
    """Like ``moss front``: the memory estimate and the free space are checked before the morph is rendered."""
    import shutil as shutil_module

    from moss_engine.io import budget
    from moss_engine.run import morph

    run, _ = morphed
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for name in ("morph.json", "morph.wav", "morph.mp4"):
        (copy / name).unlink(missing_ok=True)
    rendered = []
    monkeypatch.setattr(morph, "morph_audio", lambda *a: rendered.append(1))
    if short_of == "memory":
        monkeypatch.setattr(budget, "available_memory", lambda: 100 * 1024**2)
        expected = "need about .* GB of memory"
    else:
        usage = shutil_module.disk_usage(copy)
        monkeypatch.setattr(budget.shutil, "disk_usage", lambda p: usage._replace(free=1024))
        expected = r"needs about .* MB and only 0\.0 MB are free"
    with pytest.raises(MossInputError, match=expected):
        write_morph(copy)
    assert rendered == [] and sorted(p.name for p in copy.iterdir()) == sorted(
        p.name for p in run.iterdir() if not p.name.startswith("morph.")
    )
