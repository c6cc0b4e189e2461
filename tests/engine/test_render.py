"""``moss render``: a point as a file in every format, the whole song with the picture in it, and bad input."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from moss_engine.commands.render import run_render
from moss_engine.dsp.limiter import CEILING_MARGIN_DB, Limiter, true_peak_db
from moss_engine.dsp.loudness import integrated_loudness
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.dsp.spectral import power
from moss_engine.errors import MossInputError
from moss_engine.io import encode as encode_module
from moss_engine.io.audio import load_audio
from moss_engine.io.encode import FORMATS, OPUS_KBPS, full_pcm_subtype
from moss_engine.run import export
from moss_engine.run.export import render_point
from moss_engine.run.folder import write_run_folder
from moss_engine.run.pipeline import compute_front, load_inputs
from moss_engine.run.splice import EDGE_FADES_S
from moss_engine.settings import make_settings
from tests.conftest import as_moss_run_1

pytestmark = pytest.mark.slow

PORTRAIT = "img_portrait_skimage_astronaut.png"
SONG_48K = "awkward_48k_stereo_etr_calmrace_30s.ogg"  # 30 s, 48 kHz stereo Vorbis
OBOE = "awkward_24bit_csound_oboe.aiff"  # 7.8 s, 44.1 kHz mono, 24-bit
AWAY_S = 0.2  # "away from the seams"


def tiny_run(data_dir: Path, audio: str, out: Path):
    """A real preview run: 4 s from 3 s, 3 steps, 4 points asked."""
    settings = make_settings(
        data_dir / PORTRAIT,
        data_dir / audio,
        quality="preview",
        device="cpu",
        duration_s=4.0,
        start_s=3.0,
        steps=3,
        points=4,
        seed=0,
    )
    inputs = load_inputs(settings)
    result = compute_front(settings, inputs=inputs)
    return settings, inputs, write_run_folder(result, out)


@pytest.fixture(scope="module")
def stereo_run(data_dir, tmp_path_factory):
    return tiny_run(data_dir, SONG_48K, tmp_path_factory.mktemp("render") / "stereo")


@pytest.fixture(scope="module")
def oboe_run(data_dir, tmp_path_factory):
    return tiny_run(data_dir, OBOE, tmp_path_factory.mktemp("render") / "oboe")


def args(run_dir, point, **options) -> argparse.Namespace:
    values = {"full": False, "format": None, "out": None, "overwrite": False, "quiet": True}
    values.update(options)
    return argparse.Namespace(run_dir=Path(run_dir), point=point, **values)


def manifest_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def visual_loss(settings, inputs, signal: np.ndarray) -> float:
    """Re-score (channels, samples) audio at the run's rate with the run's own problem, as a viewer sees it."""
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    with torch.no_grad():
        mix = torch.from_numpy(np.ascontiguousarray(signal.mean(axis=0), dtype=np.float32))[None]
        region = problem.stft(mix)[(slice(None), *problem.region)]
        return problem.visual_loss(power(region)).item()


def segment_of(path: Path, manifest: dict) -> np.ndarray:
    """The run's segment of a written file, decoded and resampled as the run decoded the song."""
    return load_audio(
        path,
        sample_rate=manifest["sample_rate"],
        start_s=manifest["input"]["start_s"],
        duration_s=manifest["input"]["duration_s"],
    ).samples


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# ---------------------------------------------------------------------------------------------- a point, each format


@pytest.mark.parametrize("fmt", FORMATS)
def test_point_in_every_format(stereo_run, tmp_path, fmt):
    settings, inputs, run_dir = stereo_run
    manifest = manifest_of(run_dir)
    stored, rate = sf.read(run_dir / manifest["points"][-1]["wav"], dtype="float32", always_2d=True)
    out = tmp_path / f"image_end.{fmt}"
    assert run_render(args(run_dir, -1, out=out)) == 0  # format from the suffix
    info = sf.info(str(out))
    decoded, decoded_rate = sf.read(out, dtype="float32", always_2d=True)
    assert decoded.shape[1] == 2 and info.channels == 2
    expected_rate = 48000 if fmt == "opus" else rate  # Opus runs at 48 kHz; 22.05 kHz is an MP3 rate
    assert decoded_rate == expected_rate == info.samplerate
    expected_frames = round(len(stored) * expected_rate / rate)
    assert abs(len(decoded) - expected_frames) <= (0 if fmt in ("wav", "flac") else 2048)  # codec padding at most
    seconds = len(stored) / rate
    result = render_point(run_dir, -1, out=tmp_path / f"again.{fmt}")
    if fmt == "wav":  # 32-bit float holds the point as it is, whatever its peaks
        assert info.subtype == "FLOAT" and np.array_equal(decoded, stored) and result.limiter_db == 0.0
    elif fmt == "flac":  # 24-bit: the point as it is unless its samples pass full scale (then limited, not turned down)
        assert info.subtype == "PCM_24"
        if np.max(np.abs(stored)) <= 1.0:
            assert result.limiter_db == 0.0 and np.max(np.abs(decoded - stored)) < 2**-22 + 1e-6
        else:
            assert result.limiter_db < 0 and true_peak_db(decoded.T) <= -CEILING_MARGIN_DB + 0.05
    if fmt in ("mp3", "ogg", "opus"):  # what the encoder is given stays under -1 dBTP, the limiter inside it
        assert result.limiter_db <= 0.0
        assert (result.limiter_db < 0) == (true_peak_db(stored.T) > -1.0 - CEILING_MARGIN_DB + 1e-3)
    elif fmt == "mp3":  # 192 kb/s does not exist at 22.05 kHz (MPEG-2): the most there is, 160
        assert out.stat().st_size * 8 / seconds / 1000 == pytest.approx(160, rel=0.1)
    elif fmt == "opus":
        assert out.stat().st_size * 8 / seconds / 1000 == pytest.approx(OPUS_KBPS, rel=0.15)
    if fmt in ("mp3", "opus", "ogg"):  # the picture survives the lossy codecs (measured, not assumed)
        music = visual_loss(settings, inputs, inputs[0].samples)
        original = visual_loss(settings, inputs, stored.T)
        decoded = load_audio(out, sample_rate=rate).samples[:, : len(stored)]
        lossy = visual_loss(settings, inputs, np.pad(decoded, ((0, 0), (0, len(stored) - decoded.shape[1]))))
        assert original < 0.5 * music
        assert lossy < original + 0.5 * (music - original)


def test_default_names_and_formats(stereo_run):
    _, _, run_dir = stereo_run
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
    result = render_point(run_dir, 1)
    assert result.path == run_dir / "point_001_copy.wav"  # never the run's own point_001.wav
    assert result.format == "wav" and result.point == 1 and not result.full
    result = render_point(run_dir, -1, fmt="flac")
    n = len(manifest_of(run_dir)["points"])
    assert result.path == run_dir / f"point_{n - 1:03d}.flac" and result.point == n - 1
    assert before == {name: (run_dir / name).stat().st_mtime_ns for name in before}  # the run's files untouched
    for name in ("point_001_copy.wav", f"point_{n - 1:03d}.flac"):
        (run_dir / name).unlink()
    assert not any(name.endswith(".moss-tmp") for name in files_in(run_dir))


def test_ffmpeg_encodes_when_libsndfile_cannot(stereo_run, tmp_path, monkeypatch):
    _, _, run_dir = stereo_run
    monkeypatch.setattr(encode_module, "_soundfile_writes", lambda container, subtype: False)
    for fmt, rate in (("mp3", 22050), ("opus", 48000)):
        result = render_point(run_dir, 0, fmt=fmt, out=tmp_path / f"x.{fmt}")
        assert "ffmpeg" in result.encoding
        data, got_rate = sf.read(result.path, dtype="float32", always_2d=True)
        assert got_rate == rate and data.shape[1] == 2 and abs(len(data) - 4.0 * rate) < 0.1 * rate


def test_a_folder_named_like_an_ffmpeg_protocol_is_a_folder(stereo_run, tmp_path, monkeypatch):
    """A relative output path "pipe:1/x.mp3" is a file in a folder named "pipe:1", not ffmpeg's standard output."""
    _, _, run_dir = stereo_run
    monkeypatch.setattr(encode_module, "_soundfile_writes", lambda container, subtype: False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipe:1").mkdir()
    result = render_point(run_dir, 0, fmt="mp3", out=Path("pipe:1") / "x.mp3")
    written = tmp_path / "pipe:1" / "x.mp3"
    assert written.exists() and written.stat().st_size > 10000
    assert Path(result.path).resolve() == written.resolve()
    assert sf.info(written).samplerate == 22050


def test_a_truncated_point_file_is_refused_not_written_as_silence(stereo_run, tmp_path):
    _, _, run_dir = stereo_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    wav = copy / manifest_of(copy)["points"][1]["wav"]
    wav.write_bytes(wav.read_bytes()[:200])  # a header and a few samples: what a broken copy leaves
    with pytest.raises(MossInputError) as exc:
        render_point(copy, 1, fmt="mp3", out=tmp_path / "p.mp3")
    assert wav.name in str(exc.value) and "manifest" in str(exc.value)
    assert not (tmp_path / "p.mp3").exists()


def test_a_point_is_written_at_the_songs_level(stereo_run, tmp_path):
    """moss-run/3 points are stored as finished files: a point written to keep is the stored one, its peaks limited
    only where a format cannot hold them (DESIGN.md "Exports")."""
    _, _, run_dir = stereo_run
    manifest = manifest_of(run_dir)
    reference, _ = sf.read(run_dir / "reference.wav", dtype="float32", always_2d=True)
    music_end = render_point(run_dir, 0, out=tmp_path / "music.wav")
    written, _ = sf.read(music_end.path, dtype="float32", always_2d=True)
    assert music_end.limiter_db == 0.0 and not music_end.notices
    assert np.array_equal(written, reference)  # the music end is the song's segment itself
    image_end = render_point(run_dir, -1, fmt="flac", out=tmp_path / "image.flac")
    written, _ = sf.read(image_end.path, dtype="float32", always_2d=True)
    stored, _ = sf.read(run_dir / manifest["points"][-1]["wav"], dtype="float32", always_2d=True)
    assert float(np.max(np.abs(written))) <= 1.0
    if np.max(np.abs(stored)) <= 1.0:
        assert image_end.limiter_db == 0.0 and np.max(np.abs(written - stored)) < 2**-22 + 1e-6


def test_a_moss_run_1_point_is_written_at_the_songs_level_not_the_runs(stereo_run, tmp_path):
    """A moss-run/1 folder's files share one gain against clipping (``output_gain_db``), which a bright picture made
    20 dB or more: a point written to keep gets it undone, and a file whose peaks a format cannot then hold goes
    through the limiter (never a gain for the whole file)."""
    _, _, run_dir = stereo_run
    old = as_moss_run_1(run_dir, tmp_path / "old", -20.0)
    manifest = manifest_of(old)
    undo = np.float32(10 ** (20.0 / 20))
    music_end = render_point(old, 0, out=tmp_path / "music.wav")
    written, _ = sf.read(music_end.path, dtype="float32", always_2d=True)
    stored, _ = sf.read(old / manifest["points"][0]["wav"], dtype="float32", always_2d=True)
    reference, _ = sf.read(run_dir / "reference.wav", dtype="float32", always_2d=True)
    assert music_end.limiter_db == 0.0 and not music_end.notices
    assert np.allclose(written, stored * undo, rtol=1e-5, atol=1e-7)
    assert np.allclose(written, reference, rtol=1e-5, atol=1e-6)  # as loud as the song's segment

    loud = as_moss_run_1(run_dir, tmp_path / "loud", -20.0, louder_image_end_db=26.0)
    image_end = render_point(loud, -1, fmt="flac", out=tmp_path / "image.flac")
    written, _ = sf.read(image_end.path, dtype="float32", always_2d=True)
    stored, _ = sf.read(loud / manifest["points"][-1]["wav"], dtype="float32", always_2d=True)
    assert float(np.max(np.abs(stored))) * undo > 1.0
    assert true_peak_db(written.T) <= -CEILING_MARGIN_DB + 0.05
    assert image_end.limiter_db < -1.0
    assert any(f"limited by up to {-image_end.limiter_db:.1f} dB" in n for n in image_end.notices)


# ---------------------------------------------------------------------------------------------------- --full


def test_full_song_stereo_48k(stereo_run, data_dir, tmp_path):
    settings, inputs, run_dir = stereo_run
    manifest = manifest_of(run_dir)
    song = load_audio(data_dir / SONG_48K, sample_rate=None)
    results = {}
    for point in (0, -1):
        results[point] = result = render_point(run_dir, point, full=True, out=tmp_path / f"full_{point}.wav")
        info = sf.info(str(result.path))
        assert (info.frames, info.samplerate, info.channels) == (sf.info(str(data_dir / SONG_48K)).frames, 48000, 2)
        assert info.frames == song.samples.shape[1]
        assert info.subtype == "FLOAT"  # a Vorbis song has no bit depth of its own

    # outside the segment the file is the song, sample for sample; at the seams no click: no step from one sample
    # to the next bigger than the song's own steps around it
    rate = 48000
    s0 = round(manifest["input"]["start_s"] * rate)
    s1 = s0 + round(manifest["input"]["duration_s"] * rate)
    away = round(AWAY_S * rate)
    outside = np.r_[0:s0, s1 : song.samples.shape[1]]
    for point, result in results.items():
        written, _ = sf.read(result.path, dtype="float32", always_2d=True)
        assert np.array_equal(written.T[:, outside], song.samples[:, outside]), point
        for seam in (s0, s1):
            step = np.max(np.abs(written[seam] - written[seam - 1]))
            assert step <= np.max(np.abs(np.diff(song.samples[:, seam - away : seam + away], axis=1))), point

    # the music end leaves the song as it is; the image end shows the picture in the segment
    assert results[0].limiter_db == 0.0
    written, _ = sf.read(results[0].path, dtype="float32", always_2d=True)
    assert np.max(np.abs(written.T - song.samples)) < 1e-5
    music = visual_loss(settings, inputs, segment_of(results[0].path, manifest))
    full = segment_of(results[-1].path, manifest)
    image = visual_loss(settings, inputs, full)
    stored_audio = sf.read(run_dir / manifest["points"][-1]["wav"], dtype="float32", always_2d=True)[0].T
    stored = visual_loss(settings, inputs, stored_audio)
    assert music == pytest.approx(manifest["points"][0]["visual_loss"], abs=0.02)
    assert image < 0.5 * music
    # between the fades (the picture fades in and out at the segment's edges, where the song shows through, louder
    # than a quiet picture's white: over 100 ms to 2 s, as long as keeps the level step at the edge small) the picture
    # is the run's own, gain aside
    fade = round(min(max(EDGE_FADES_S), manifest["input"]["duration_s"] / 4) * manifest["sample_rate"])
    inner = stored_audio.copy()
    n = min(inner.shape[1], full.shape[1])
    gain = float(
        np.sum(full[:, fade : n - fade] * stored_audio[:, fade : n - fade])
        / np.sum(stored_audio[:, fade : n - fade] ** 2)
    )
    inner[:, fade : n - fade] = full[:, fade : n - fade] / gain
    assert visual_loss(settings, inputs, inner) < stored + 0.03


def test_full_song_mono_24bit_aiff_keeps_its_format(oboe_run, data_dir, tmp_path):
    settings, inputs, run_dir = oboe_run
    result = render_point(run_dir, -1, full=True, fmt="wav", out=tmp_path / "oboe.wav")
    info = sf.info(str(result.path))
    assert (info.frames, info.samplerate, info.channels, info.subtype) == (344606, 44100, 1, "PCM_24")
    assert result.frames == 344606 and result.channels == 1
    manifest = manifest_of(run_dir)
    s0 = round(manifest["input"]["start_s"] * 44100)
    s1 = s0 + round(manifest["input"]["duration_s"] * 44100)
    as_int = sf.read(result.path, dtype="int32")[0]
    original = sf.read(data_dir / OBOE, dtype="int32")[0]
    for part in (np.s_[:s0], np.s_[s1:]):  # the song's own 24-bit samples outside the segment
        assert np.array_equal(as_int[part], original[part])
    music = visual_loss(settings, inputs, inputs[0].samples)
    assert visual_loss(settings, inputs, segment_of(result.path, manifest)) < 0.5 * music
    flac = render_point(run_dir, 0, full=True, fmt="flac", out=tmp_path / "oboe.flac")
    assert sf.info(str(flac.path)).subtype == "PCM_24"
    assert np.array_equal(sf.read(flac.path, dtype="int32")[0], sf.read(data_dir / OBOE, dtype="int32")[0])


def test_pcm_formats_of_full_files():
    assert full_pcm_subtype("PCM_24", "wav") == "PCM_24" and full_pcm_subtype("PCM_24", "flac") == "PCM_24"
    assert full_pcm_subtype("PCM_16", "flac") == "PCM_16" and full_pcm_subtype("PCM_U8", "wav") == "PCM_U8"
    assert full_pcm_subtype("PCM_U8", "flac") == "PCM_S8" and full_pcm_subtype("PCM_S8", "wav") == "PCM_U8"
    assert full_pcm_subtype("FLOAT", "wav") == "FLOAT" and full_pcm_subtype("FLOAT", "flac") == "PCM_24"
    assert full_pcm_subtype("VORBIS", "wav") == "FLOAT" and full_pcm_subtype("MPEG_LAYER_III", "flac") == "PCM_16"
    assert full_pcm_subtype(None, "wav") == "FLOAT" and full_pcm_subtype(None, "flac") == "PCM_16"


# ------------------------------------------------------------------------------------------------- bad input


@pytest.fixture
def run_copy(stereo_run, data_dir, tmp_path):
    """A copy of the stereo run whose song is a copy of its own, so that the song can be changed or removed."""
    _, _, run_dir = stereo_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    song = tmp_path / "songs" / "my_song.ogg"
    song.parent.mkdir()
    shutil.copy(data_dir / SONG_48K, song)
    manifest = manifest_of(copy)
    manifest["settings"]["audio"] = str(song)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy, song


def expect_error(namespace: argparse.Namespace, *words: str) -> str:
    folder = namespace.out.parent if namespace.out is not None else namespace.run_dir
    before = files_in(folder) if folder.is_dir() else None
    with pytest.raises(MossInputError) as caught:
        run_render(namespace)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    if before is not None:
        assert files_in(folder) == before  # nothing written, nothing left half-written
    return message


def test_bad_input_is_one_line_naming_the_culprit(run_copy, tmp_path):
    run_dir, song = run_copy
    n = len(manifest_of(run_dir)["points"])
    expect_error(args(tmp_path / "nowhere", 0), "nowhere", "not found")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"format": "something-else/1"}')
    expect_error(args(foreign, 0), "foreign", "no MOSS manifest")
    expect_error(args(run_dir, n), f"--point {n}", f"{n} points")
    expect_error(args(run_dir, -n - 1), f"--point {-n - 1}")
    expect_error(args(run_dir, 0, format="aac"), "--format aac")
    expect_error(args(run_dir, 0, out=tmp_path / "x.m4a"), "x.m4a", "--format")
    expect_error(args(run_dir, 0, format="mp3", out=tmp_path / "x.wav"), "x.wav", "mp3")
    taken = tmp_path / "taken.wav"
    taken.write_bytes(b"the user's file")
    expect_error(args(run_dir, 0, out=taken), "taken.wav", "already exists")
    assert taken.read_bytes() == b"the user's file"
    expect_error(args(run_dir, 0, out=run_dir / "point_000.wav", overwrite=True), "point_000.wav", "own files")

    song.write_bytes(song.read_bytes()[:-1000])  # the song changed since the run
    expect_error(args(run_dir, -1, full=True), "my_song.ogg", "changed")
    song.unlink()
    expect_error(args(run_dir, -1, full=True), "my_song.ogg", "not found")
    manifest = manifest_of(run_dir)
    manifest["input"]["image_sha256"] = "0" * 64
    manifest["settings"]["audio"] = manifest["settings"]["image"]  # any existing file; the picture is checked too
    manifest["input"]["audio_sha256"] = ""
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    expect_error(args(run_dir, -1, full=True), PORTRAIT, "changed")


def test_overwrite_replaces_and_a_failed_write_leaves_nothing(stereo_run, tmp_path, monkeypatch):
    _, _, run_dir = stereo_run
    out = tmp_path / "sub" / "dir" / "kept.flac"
    render_point(run_dir, 0, out=out)
    first = out.read_bytes()
    render_point(run_dir, -1, out=out, overwrite=True)
    assert out.read_bytes() != first

    def fail(path, *rest, **options):
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "encode", fail)
    with pytest.raises(KeyboardInterrupt):
        render_point(run_dir, 1, out=tmp_path / "new" / "broken.mp3")
    with pytest.raises(KeyboardInterrupt):
        render_point(run_dir, 1, out=out, overwrite=True)
    assert not (tmp_path / "new").exists()  # the folder it made for the file is gone too
    assert files_in(out.parent) == {"kept.flac"} and out.read_bytes() != first


def test_standalone_command(stereo_run, tmp_path):
    _, _, run_dir = stereo_run
    code = "from moss_engine.commands.render import _main; raise SystemExit(_main())"

    def run(*options):
        proc = subprocess.run(
            [sys.executable, "-c", code, str(run_dir), *map(str, options)], capture_output=True, text=True, timeout=120
        )
        return proc.returncode, proc.stdout, proc.stderr

    rc, stdout, stderr = run("--point", "-1", "--format", "ogg", "--out", tmp_path / "end.ogg")
    assert rc == 0, stderr
    assert "end.ogg" in stdout and sf.info(str(tmp_path / "end.ogg")).format == "OGG"
    rc, stdout, stderr = run("--point", "99")
    assert rc == 2 and stderr.count("\n") == 1 and stderr.startswith("moss: error:") and "--point 99" in stderr
    rc, _, stderr = run("--point", "0", "--format", "aac")
    assert rc == 2 and stderr.count("\n") == 1 and "aac" in stderr
    rc, _, stderr = run("--format", "wav")
    assert rc == 2 and "--point" in stderr


def test_full_music_end_of_a_song_that_peaks_above_full_scale_is_the_song_itself(data_dir, tmp_path):
    """The rock sample's Vorbis decodes to peaks a little above 1.0. The music end of --full is the song: it must not
    be turned down for peaks the song itself has (only what the picture adds may need a gain)."""
    rock = "music_rock_sectoid_metal_madness_30s.ogg"
    song = load_audio(data_dir / rock, sample_rate=None)
    assert np.max(np.abs(song.samples)) > 1.0  # the case this test is about
    _, _, run_dir = tiny_run(data_dir, rock, tmp_path / "rock")
    result = render_point(run_dir, 0, full=True, fmt="wav", out=tmp_path / "music_end.wav")
    written, _ = sf.read(result.path, dtype="float32", always_2d=True)
    assert result.limiter_db == 0.0 and not any("limited" in n for n in result.notices)
    assert np.max(np.abs(written.T - song.samples)) < 1e-3


def test_full_of_a_bright_picture_limits_only_inside_the_segment(data_dir, tmp_path):
    """Issue 12: ``moss render --full --point -1`` of a bright picture (the page) in a loud song leaves the song
    outside the segment sample-exact; the picture's peaks inside the segment are limited (issue 21: never a gain for
    the whole segment), and the segment stays at the song's loudness."""
    rock = "music_rock_sectoid_metal_madness_30s.ogg"
    settings = make_settings(
        data_dir / "img_text_skimage_page.png",
        data_dir / rock,
        quality="preview",
        device="cpu",
        duration_s=4.0,
        start_s=10.0,
        steps=3,
        points=4,
        seed=0,
    )
    run_dir = write_run_folder(compute_front(settings), tmp_path / "page")
    song = load_audio(data_dir / rock, sample_rate=None)
    result = render_point(run_dir, -1, full=True, fmt="wav", out=tmp_path / "full.wav")
    written, _ = sf.read(result.path, dtype="float32", always_2d=True)
    s0, s1 = 10 * 44100, 14 * 44100
    outside = np.r_[0:s0, s1 : song.samples.shape[1]]
    assert np.array_equal(written.T[:, outside], song.samples[:, outside])
    segment_lu = integrated_loudness(written.T[:, s0:s1], 44100) - integrated_loudness(song.samples[:, s0:s1], 44100)
    assert abs(segment_lu) <= 1.0
    bound = max(-1.0, true_peak_db(song.samples[:, s0:s1]))
    assert true_peak_db(written.T[:, s0 + 4410 : s1 - 4410]) <= bound + 0.1
    if result.limiter_db < 0:
        assert any("limited" in n and "rest of the song" in n for n in result.notices)


def brick_walled_master(path: Path) -> Path:
    """A loud, modern master (none of the shared data is one): the bundled rock sample pushed 7 dB into a brick-wall
    limiter whose ceiling is above full scale, as a lossy decode of such a master comes out (true peak +0.6 dBTP)."""
    from moss_engine.resources import sample_paths

    song = load_audio(sample_paths()[1], sample_rate=None, duration_s=20.0)
    hot, _ = Limiter(ceiling_dbtp=0.6, lookahead_ms=2.0, release_ms=50.0).apply(song.samples * 10 ** (7 / 20), 44100)
    sf.write(path, hot.T, 44100, subtype="FLOAT")
    return path


def test_full_of_a_loud_master_keeps_its_loudness_and_its_edges(tmp_path):
    """Issue 21: ``moss render --full --point K`` on a loud master: the segment within +-1 LU of the song's same
    segment, no loudness step at its edges above 1 LU (400 ms windows on each side, against the song's own step
    there), the rest sample-exact; and the run's own points keep the contract's levels."""
    from moss_engine.resources import sample_paths

    song_path = brick_walled_master(tmp_path / "loud_master.wav")
    song = load_audio(song_path, sample_rate=None)
    assert integrated_loudness(song.samples, 44100) > -10.0 and true_peak_db(song.samples) >= 0.0
    settings = make_settings(
        sample_paths()[0],
        song_path,
        quality="preview",
        device="cpu",
        duration_s=6.0,
        start_s=5.0,
        steps=4,
        points=4,
        seed=0,
    )
    run_dir = write_run_folder(compute_front(settings), tmp_path / "run")
    manifest = manifest_of(run_dir)
    reference, _ = sf.read(run_dir / "reference.wav", dtype="float64", always_2d=True)
    for entry in manifest["points"]:  # moss-run/3: each file at the song's loudness, its peaks within the bound
        audio, _ = sf.read(run_dir / entry["wav"], dtype="float64", always_2d=True)
        rate = manifest["sample_rate"]
        lu = integrated_loudness(audio.T, rate) - integrated_loudness(reference.T, rate)
        assert abs(lu) <= 1.0 and entry["loudness_lu"] == pytest.approx(lu, abs=0.05)
        assert true_peak_db(audio.T) <= max(-1.0, true_peak_db(reference.T)) + 0.1
        assert entry["limiter_db"] <= 0.0
    s0, s1 = 5 * 44100, 11 * 44100
    block = round(0.4 * 44100)

    def edge_steps(x: np.ndarray) -> list[float]:
        return [
            integrated_loudness(x[:, e : e + block], 44100) - integrated_loudness(x[:, e - block : e], 44100)
            for e in (s0, s1)
        ]

    for point in range(len(manifest["points"])):
        for fmt in ("wav", "flac"):
            result = render_point(run_dir, point, full=True, fmt=fmt, out=tmp_path / f"full_{point}.{fmt}")
            written = load_audio(result.path, sample_rate=None).samples
            expected_outside = song.samples if fmt == "wav" else np.clip(song.samples, -1.0, 1.0)
            outside = np.r_[0:s0, s1 : song.samples.shape[1]]
            assert np.allclose(written[:, outside], expected_outside[:, outside], atol=2**-22), (point, fmt)
            lu = integrated_loudness(written[:, s0:s1], 44100) - integrated_loudness(song.samples[:, s0:s1], 44100)
            assert abs(lu) <= 1.0, (point, fmt, lu)
            for mine, theirs in zip(edge_steps(written), edge_steps(song.samples), strict=True):
                assert abs(mine - theirs) <= 1.0, (point, fmt, mine, theirs)
            if fmt == "flac":  # the song's own overs are clipped inside the segment as outside it, as a player would
                assert any("clipped" in n for n in result.notices)
            if result.limiter_db < 0:
                assert any("limited" in n for n in result.notices)


def damaged_copy(run_dir: Path, out: Path, change) -> Path:
    shutil.copytree(run_dir, out)
    manifest = json.loads((out / "manifest.json").read_text())
    change(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.mark.parametrize("name", ["../outside.wav", "/etc/passwd", "sub/point_000.wav", "..", ""])
def test_a_point_file_outside_the_run_folder_is_refused_by_every_reader(stereo_run, tmp_path, name):
    from moss_engine.run.morph import rebuild_run as load_for_morph
    from moss_engine.run.reader import read_run as open_in_app

    _, _, run_dir = stereo_run
    (tmp_path / "outside.wav").write_bytes((run_dir / "point_000.wav").read_bytes())  # a file the user can read
    for key in ("wav", "mask"):
        damaged = damaged_copy(
            run_dir, tmp_path / f"run-{key}", lambda m, key=key: m["points"][1].__setitem__(key, name)
        )
        with pytest.raises(MossInputError, match="plain file name"):  # the point reads its wav, --full its mask
            render_point(damaged, 1, full=key == "mask", fmt="wav", out=tmp_path / f"out-{key}.wav")
        assert not (tmp_path / f"out-{key}.wav").exists()
        with pytest.raises(MossInputError, match="plain file name"):
            open_in_app(damaged)
        if key == "mask":
            with pytest.raises(MossInputError, match="plain file name"):
                load_for_morph(damaged)
        shutil.rmtree(damaged)


def test_points_that_are_not_records_are_refused(stereo_run, tmp_path):
    from moss_engine.run.morph import rebuild_run as load_for_morph

    _, _, run_dir = stereo_run
    damaged = damaged_copy(run_dir, tmp_path / "run", lambda m: m.__setitem__("points", ["x", "y"]))
    with pytest.raises(MossInputError, match="not a record"):
        load_for_morph(damaged)


def test_a_mask_whose_header_claims_a_huge_array_is_refused_before_loading(stereo_run, tmp_path):
    from moss_engine.run.folder import load_logits

    _, _, run_dir = stereo_run
    manifest = manifest_of(run_dir)
    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:  # a header for 100000 x 100000 float32 (37 GiB) and no data
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (100000, 100000)})
    with pytest.raises(MossInputError, match=r"shape \[100000, 100000\]"):
        load_logits(path, tuple(manifest["mask_shape"]))
    np.save(tmp_path / "ints.npy", np.zeros(manifest["mask_shape"], dtype=np.int64))
    with pytest.raises(MossInputError, match="float logits"):
        load_logits(tmp_path / "ints.npy", tuple(manifest["mask_shape"]))


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("channels"),
        lambda m: m["input"].pop("duration_s"),
        lambda m: m["points"][1].__setitem__("gain_db", "loud"),
        lambda m: m["points"][1].__setitem__("limiter_db", "loud"),
        lambda m: m["points"][1].__setitem__("picture_level_db", [-20.0, "x"]),
        lambda m: m["points"][1].__setitem__("alpha", "x"),
        lambda m: m["points"][1].__setitem__("mos", float("nan")),
    ],
    ids=["no-channels", "no-duration", "gain-text", "limiter-text", "level-list-text", "alpha-text", "mos-nan"],
)
def test_a_damaged_manifest_is_one_line_for_every_reader(stereo_run, tmp_path, damage):
    from moss_engine.run.morph import rebuild_run as load_for_morph
    from moss_engine.run.reader import read_run as open_in_app

    _, _, run_dir = stereo_run
    damaged = damaged_copy(run_dir, tmp_path / "run", damage)
    for read in (
        lambda: render_point(damaged, 1, fmt="wav", out=tmp_path / "out.wav"),
        lambda: open_in_app(damaged),
        lambda: load_for_morph(damaged),
    ):
        with pytest.raises(MossInputError) as exc:
            read()
        assert "manifest.json" in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "out.wav").exists()


# --- the hostile-input campaign's findings (bench/hostile.py) -------------------------------------------------------


def test_a_manifest_with_a_zero_rate_is_one_line_not_a_division_by_zero(stereo_run, tmp_path):
    _, _, run_dir = stereo_run
    damaged = tmp_path / "run"
    shutil.copytree(run_dir, damaged)
    manifest = manifest_of(damaged)
    manifest["sample_rate"] = 0
    (damaged / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MossInputError, match="'sample_rate' is missing or malformed"):
        render_point(damaged, 0, out=tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("damage", ["channels", "truncated"])
def test_open_run_checks_each_points_audio_against_the_manifest_as_render_does(stereo_run, tmp_path, damage):
    import soundfile as sf

    from moss_engine.run.reader import read_run

    _, _, run_dir = stereo_run
    damaged = tmp_path / "run"
    shutil.copytree(run_dir, damaged)
    manifest = manifest_of(damaged)
    if damage == "channels":
        manifest["channels"] = 99
        (damaged / "manifest.json").write_text(json.dumps(manifest))
    else:
        wav = damaged / manifest["points"][0]["wav"]
        data, rate = sf.read(wav, dtype="float32", always_2d=True)
        sf.write(wav, data[: len(data) // 2], rate, subtype="FLOAT")
    for reader in (read_run, lambda folder: render_point(folder, 0, out=tmp_path / "x.wav")):
        with pytest.raises(MossInputError, match="the manifest says"):
            reader(damaged)
