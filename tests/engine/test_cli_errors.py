"""The ``moss`` command line on bad input: exit status 2, one line on stderr, no traceback, nothing left behind.

Every case runs the real CLI in a subprocess (real exit codes, real stderr) with its working folder as the user's
folder: after a failure that folder must hold exactly what it held before (no run folder, no hidden
``.NAME.*.moss-tmp`` sibling, no user file deleted or changed). Each bad-input case fails before the optimiser
starts; the flags ``--steps 1 --points 2 --duration 2`` keep it short should it not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import low_rate_mp3 as make_low_rate_mp3

TIMEOUT_S = 120
TINY_IMAGE = "img_tiny_gimp_icon_16x16_rgba.png"
AMBIENT_FLAC = "music_ambient_sonicpi_ambi_glass_hum.flac"  # 10 s, 44.1 kHz stereo
SHORT_WAV = "awkward_short_alsa_front_center.wav"  # 1.43 s
FAST = ["--steps", "1", "--points", "2", "--duration", "2"]
SONG_BYTES = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8  # "the user's song": known bytes


def run_cli(args: list[str], cwd: Path, timeout: float = TIMEOUT_S) -> tuple[int, str, str]:
    """``python -m moss_engine.cli ARGS`` in ``cwd``; returns (exit status, stdout, stderr)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "moss_engine.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(stderr: str, must_contain: str | tuple[str, ...] = ()) -> str:
    """Exactly one non-empty line on stderr, "moss: error: ...", holding every ``must_contain``; returns it.

    No progress line (they start with "[") may come before it: every case here fails before the work starts.
    """
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    line = lines[0]
    assert line.startswith("moss: error: "), line
    for text in (must_contain,) if isinstance(must_contain, str) else must_contain:
        assert text in line, f"{text!r} not in {line!r}"
    return line


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (hidden ones too): relative path -> sha256 of a file's bytes, or "dir"."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def leftovers(folder: Path) -> list[str]:
    """Temporary siblings a run folder write may leave: ``.NAME.*.moss-tmp`` and ``.NAME.moss-old``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".moss-tmp", ".moss-old")))


def make_user_dir(folder: Path, data_dir: Path) -> Path:
    """The user's folder: good inputs (picture.png, song.flac, short.wav) and a few bad ones."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_dir / TINY_IMAGE, folder / "picture.png")
    shutil.copyfile(data_dir / AMBIENT_FLAC, folder / "song.flac")
    shutil.copyfile(data_dir / SHORT_WAV, folder / "short.wav")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.wav").write_text("this is not audio\n", encoding="utf-8")
    flac = (data_dir / AMBIENT_FLAC).read_bytes()
    (folder / "truncated.flac").write_bytes(flac[: len(flac) // 2])
    (folder / "text.png").write_text("this is not a picture\n", encoding="utf-8")
    (folder / "empty.png").write_bytes(b"")
    return folder


@pytest.fixture
def user_dir(tmp_path: Path, data_dir: Path) -> Path:
    return make_user_dir(tmp_path, data_dir)


def assert_fails_cleanly(args: list[str], cwd: Path, must_contain: str | tuple[str, ...]) -> str:
    """Run ``args``: exit 2, one error line, no traceback, ``cwd`` exactly as before. Returns the error line."""
    before = snapshot(cwd)
    code, out, err = run_cli(args, cwd)
    assert "Traceback" not in out + err, out + err
    line = assert_one_line_error(err, must_contain)
    assert code == 2, f"exit status {code}\n{err}"
    assert not leftovers(cwd), leftovers(cwd)
    assert snapshot(cwd) == before, "the user's folder changed"
    return line


def png_header(width: int, height: int) -> bytes:
    """A PNG that is all header: its size, an empty image data chunk and the end (what Image.open reads first)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def front(*extra: str, image: str = "picture.png", audio: str = "song.flac", out: str = "run") -> list[str]:
    return ["front", "--image", image, "--audio", audio, "--out", out, *extra]


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def user_music_folder(folder: Path) -> None:
    (folder / "Music").mkdir()
    (folder / "Music" / "song.mp3").write_bytes(SONG_BYTES)


def user_song_file(folder: Path) -> None:
    (folder / "song.mp3").write_bytes(SONG_BYTES)


def one_pixel_png(folder: Path) -> None:
    from PIL import Image

    Image.new("RGB", (1, 1), (200, 200, 200)).save(folder / "dot.png")


def blip_wav(folder: Path) -> None:
    import numpy as np
    import soundfile as sf

    sf.write(folder / "blip.wav", np.full(int(0.3 * 44100), 0.3, dtype=np.float32), 44100)


def low_rate_mp3(folder: Path) -> None:
    make_low_rate_mp3(Path(__file__).resolve().parents[1] / "data", folder / "low.mp3")


@dataclass(frozen=True)
class Case:
    args: list[str]
    must_contain: str | tuple[str, ...]
    prepare: Callable[[Path], None] | None = None  # more of the user's things in the folder


# Every case fails before the optimiser would start. Each runs in its own copy of the user's folder.
CASES: dict[str, Case] = {
    # 1 and 2: missing, empty, unreadable and damaged input files
    "missing-image": Case(front(*FAST, image="nope.png"), ("nope.png", "not found")),
    "missing-audio": Case(front(*FAST, audio="nope.wav"), ("nope.wav", "not found")),
    "empty-wav": Case(front(*FAST, audio="empty.wav"), ("empty.wav", "empty")),
    "text-as-wav": Case(front(*FAST, audio="text.wav"), ("text.wav", "not an audio file")),
    # libsndfile's mpg123 would print "Giving up searching valid MPEG header" on stderr: one line only
    "noise-as-mp3": Case(
        front(*FAST, audio="noise.mp3"),
        ("noise.mp3", "not an audio file"),
        lambda folder: (user_song_file(folder), (folder / "noise.mp3").write_bytes(bytes(range(256)) * 64)),
    ),
    # a PNG header claiming 14200 x 14200 (202 MP): MOSS's limit of 200 MP applies, and no Pillow warning
    "png-over-200-mp": Case(
        front(*FAST, image="huge.png"),
        ("huge.png", "too large", "200 megapixels"),
        lambda folder: (user_song_file(folder), (folder / "huge.png").write_bytes(png_header(14200, 14200))),
    ),
    # The first half of the cut FLAC decodes; the damage shows where the segment reaches past it.
    "truncated-flac-all": Case(
        front("--steps", "1", "--points", "2", "--duration", "all", audio="truncated.flac"),
        ("truncated.flac", "truncated or damaged"),
    ),
    "truncated-flac-seek": Case(
        front("--start", "7", *FAST, audio="truncated.flac"), ("truncated.flac", "truncated or damaged")
    ),
    "text-as-png": Case(front(*FAST, image="text.png"), ("text.png", "not a picture MOSS can read")),
    "empty-png": Case(front(*FAST, image="empty.png"), ("empty.png", "empty")),
    # issue 22: a 1 x 1 picture made a front of noise
    "png-1x1": Case(
        front(*FAST, image="dot.png"),
        "dot.png: 1 x 1 pixels is too small to show in a spectrogram: use a picture at least 8 x 8 pixels",
        lambda folder: (user_song_file(folder), one_pixel_png(folder)),
    ),
    # 3: a segment under 0.5 s, a start past the end (short.wav is 1.43 s)
    "under-half-a-second": Case(
        front("--start", "1.1", "--steps", "1", "--points", "2", audio="short.wav"), ("short.wav", "0.5")
    ),
    "start-past-end": Case(front("--start", "5", *FAST, audio="short.wav"), ("short.wav", "past the end")),
    # issue 22: a song under the least segment, and a band above what a song sampled at 11.025 kHz holds
    "song-under-half-a-second": Case(
        front("--steps", "1", "--points", "2", audio="blip.wav"),
        "blip.wav: only 0.30 s of audio from 0.00 s; at least 0.50 s is needed: use a song at least 0.5 s long",
        lambda folder: (user_song_file(folder), blip_wav(folder)),
    ),
    "freq-above-the-songs-nyquist": Case(
        front(*FAST, "--freq", "0:8000", audio="low.mp3"),
        "low.mp3: --freq 0:8000: F1 is above 5512.5 Hz, the most a song sampled at 11.025 kHz holds: lower F1 to "
        "5512.5 Hz or leave --freq out",
        lambda folder: (user_song_file(folder), low_rate_mp3(folder)),
    ),
    # 4: devices
    "device-tpu": Case(front("--device", "tpu", *FAST), ("tpu", "unknown device")),
    "device-cuda": Case(front("--device", "cuda", *FAST), ("--device cuda", "CUDA is not available")),
    "device-cuda7": Case(front("--device", "cuda:7", *FAST), "--device cuda:7"),
    # 5: out-of-range and malformed options (last, so they override FAST)
    "points-1": Case(front(*FAST, "--points", "1"), "--points"),
    "steps-0": Case(front(*FAST, "--steps", "0"), "--steps"),
    "sample-rate-4000": Case(front(*FAST, "--sample-rate", "4000"), "--sample-rate"),
    "hop-0": Case(front(*FAST, "--hop", "0"), "--hop"),
    "n-fft-3": Case(front(*FAST, "--n-fft", "3"), "--n-fft"),
    "db-range-0": Case(front(*FAST, "--db-range", "0"), "--db-range"),
    "gamma-negative": Case(front(*FAST, "--gamma", "-1"), "--gamma"),
    "time-reversed": Case(front(*FAST, "--time", "5:2"), "--time"),
    "freq-reversed": Case(front(*FAST, "--freq", "100:50"), "--freq"),
    "freq-above-nyquist": Case(front(*FAST, "--freq", "0:30000"), ("--freq", "Nyquist")),
    # the README's example band on a CPU (the preview preset's 22.05 kHz): the message names what allows it
    "freq-above-preview-nyquist": Case(
        front(*FAST, "--quality", "preview", "--freq", "2000:12000"), ("--freq", "22.05 kHz", "--quality standard")
    ),
    "log-freq-from-0": Case(front(*FAST, "--freq-scale", "log", "--freq", "0:5000"), ("--freq", "log")),
    "duration-0.1": Case(front(*FAST, "--duration", "0.1"), "--duration"),
    "time-not-a-span": Case(front(*FAST, "--time", "abc"), ("--time", "abc")),
    "quality-ultra": Case(front(*FAST, "--quality", "ultra"), ("--quality", "ultra")),
    "memory-limit-0": Case(front(*FAST, "--memory-limit", "0"), "--memory-limit"),
    "unknown-flag": Case(front(*FAST, "--frobnicate"), "--frobnicate"),
    "seed-too-large": Case(front(*FAST, "--seed", "99999999999999999999"), "--seed"),
    "start-nan": Case(front(*FAST, "--start", "nan"), ("--start", "finite")),
    "duration-nan": Case(front(*FAST, "--duration", "nan"), ("--duration", "finite")),
    "time-infinite": Case(front(*FAST, "--time", "0:inf"), ("--time", "finite")),
    "points-not-a-number": Case(front(*FAST, "--points", "abc"), ("--points", "abc")),
    "out-missing": Case(["front", "--image", "picture.png", "--audio", "song.flac", *FAST], ("--out", "required")),
    # 6: an --out that is not ours to replace (the `--out ~/Music --overwrite` protection)
    "out-user-folder": Case(front(*FAST, out="Music"), ("Music", "already exists"), user_music_folder),
    "out-user-folder-overwrite": Case(
        front(*FAST, "--overwrite", out="Music"), ("Music", "holds no MOSS manifest"), user_music_folder
    ),
    "out-is-a-file": Case(front(*FAST, out="song.mp3"), ("song.mp3", "already exists"), user_song_file),
    "out-is-a-file-overwrite": Case(front(*FAST, "--overwrite", out="song.mp3"), "song.mp3", user_song_file),
    "out-inside-a-file": Case(front(*FAST, out="song.mp3/run"), ("song.mp3", "not a folder"), user_song_file),
    "out-cannot-be-created": Case(front(*FAST, out="/proc/moss-nope/run"), ("/proc/moss-nope/run", "cannot create")),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_fails_cleanly(name: str, user_dir: Path) -> None:
    if name == "device-cuda" and cuda_available():
        pytest.skip("this machine has CUDA, so --device cuda is valid here")
    case = CASES[name]
    if case.prepare is not None:
        case.prepare(user_dir)
    assert_fails_cleanly(case.args, user_dir, case.must_contain)
    if case.prepare is not None:  # spelled out, though the snapshot already covers it
        song = user_dir / ("Music" if "user-folder" in name else "") / "song.mp3"
        assert song.read_bytes() == SONG_BYTES


# 7: an earlier MOSS run folder ----------------------------------------------------------------------------------


TINY_RUN = ["--duration", "2", "--steps", "2", "--points", "3", "--quality", "preview"]


def check_run(run_dir: Path, data_dir: Path) -> None:
    tool = Path(__file__).resolve().parents[1] / "tools" / "check_run.py"  # the contract's checker (tests/tools)
    proc = subprocess.run([sys.executable, str(tool), str(run_dir)], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_existing_run_folder_needs_overwrite(user_dir: Path, data_dir: Path) -> None:
    code, out, err = run_cli(front(*TINY_RUN), user_dir)
    assert code == 0, err
    assert "Traceback" not in out + err
    manifest = user_dir / "run" / "manifest.json"
    first = manifest.read_bytes()
    assert json.loads(first)["settings"]["seed"] == 0

    # Without --overwrite: refused before any work, the earlier run untouched.
    assert_fails_cleanly(front(*FAST), user_dir, ("run", "already exists", "--overwrite"))
    assert manifest.read_bytes() == first

    # --overwrite with a bad input: refused, the earlier run untouched.
    assert_fails_cleanly(front(*FAST, "--overwrite", image="nope.png"), user_dir, "nope.png")
    assert manifest.read_bytes() == first

    # --overwrite: the folder is replaced by the new run, which keeps the contract.
    code, out, err = run_cli(front(*TINY_RUN, "--seed", "7", "--overwrite"), user_dir)
    assert code == 0, err
    assert "Traceback" not in out + err
    second = manifest.read_bytes()
    assert second != first
    assert json.loads(second)["settings"]["seed"] == 7
    assert not leftovers(user_dir)
    check_run(user_dir / "run", data_dir)

    # --overwrite never deletes what is not the run's own: a user's notes, a render, a morph
    extras = {"notes.txt": b"my notes", "point_001.mp3": b"ID3 a render", "morph.wav": b"RIFF a morph"}
    for name, data in extras.items():
        (user_dir / "run" / name).write_bytes(data)
    assert_fails_cleanly(
        front(*FAST, "--overwrite"), user_dir, ("run", "not the run's own", "morph.wav", "notes.txt", "point_001.mp3")
    )
    assert manifest.read_bytes() == second
    assert all((user_dir / "run" / name).read_bytes() == data for name, data in extras.items())

    # a folder whose manifest names a format MOSS does not know is not a run folder, whatever it holds
    for name in extras:
        (user_dir / "run" / name).unlink()
    manifest.write_text(json.dumps({**json.loads(second), "format": "moss-run/0"}))
    assert_fails_cleanly(front(*FAST, "--overwrite"), user_dir, ("run", "holds no MOSS manifest"))
    assert (user_dir / "run" / "reference.wav").is_file()


# 8: Ctrl-C ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM and SIGHUP are POSIX")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP] if sys.platform != "win32" else [])
def test_sigterm_and_sighup_exit_128_plus_the_signal_and_leave_nothing(user_dir: Path, signum) -> None:
    before = snapshot(user_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "moss_engine.cli", *front("--duration", "10", "--steps", "200")],
        cwd=user_dir,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        first = proc.stderr.readline() if proc.stderr is not None else ""
        while not first.startswith("[") and proc.poll() is None:  # the first progress line: the work has begun
            assert time.monotonic() < deadline, "no progress on stderr within 60 s"
            first = proc.stderr.readline()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in out + err, out + err
    assert proc.returncode == 128 + signum, f"exit status {proc.returncode}\n{err}"
    assert f"terminated ({signal.Signals(signum).name})" in err
    assert not leftovers(user_dir) and snapshot(user_dir) == before


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_exits_130_and_leaves_nothing(user_dir: Path) -> None:
    before = snapshot(user_dir)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moss_engine.cli", *front("--duration", "10", "--steps", "200")],
        cwd=user_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell that started pytest in the background may have set SIGINT to "ignore", which a child inherits.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: list[str] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # one at a time, so the test sees the first progress line as it comes
            lines.append(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("[") for line in lines) and proc.poll() is None:
            assert time.monotonic() < deadline, "no progress on stderr within 60 s:\n" + "".join(lines)
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before Ctrl-C (exit {proc.returncode}):\n" + "".join(lines)
        seen = len(lines)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=TIMEOUT_S)
        reader.join(timeout=TIMEOUT_S)
        out = proc.stdout.read() if proc.stdout is not None else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    head, rest = "".join(lines[:seen]), "".join(lines[seen:])
    err = head + rest
    assert "Traceback" not in out + err, out + err
    assert proc.returncode == 130, f"exit status {proc.returncode}\n{err}"
    # a note the run gave before the signal (e.g. the band chosen for a transparent picture) is not the answer to it
    after_progress = [
        line
        for line in rest.splitlines()
        if line.strip() and not line.startswith("[") and not line.startswith("moss: note:")
    ]
    assert len(after_progress) == 1, err
    assert after_progress[-1].startswith("moss: ") and "interrupted" in after_progress[-1], err
    assert not (user_dir / "run").exists()
    assert not leftovers(user_dir)
    assert snapshot(user_dir) == before


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="names that are not UTF-8 are a POSIX file system's")
def test_file_names_that_are_not_utf8_work_everywhere(user_dir: Path) -> None:
    """``--image``, ``--audio``, ``--out`` and ``render --out`` with a byte that is no UTF-8 text in the name."""
    odd = lambda name: os.fsdecode(name)  # noqa: E731
    shutil.copy(user_dir / "picture.png", user_dir / odd(b"pic\xff.png"))
    shutil.copy(user_dir / "song.flac", user_dir / odd(b"song\xfe.flac"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = [sys.executable, "-m", "moss_engine.cli"]
    proc = subprocess.run(
        [*base, "front", "--image", b"pic\xff.png", "--audio", b"song\xfe.flac", "--out", b"run\xfd", *TINY_RUN],
        cwd=user_dir,
        env=env,
        capture_output=True,
        timeout=TIMEOUT_S,
    )
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Traceback" not in err, err
    run = user_dir / odd(b"run\xfd")
    assert (run / "manifest.json").is_file() and (run / "front.png").is_file()
    assert b"run\xfd" in proc.stdout  # the name as the user typed it
    proc = subprocess.run(
        [*base, "render", b"run\xfd", "--point", "1", "--out", b"p\xfc.wav"],
        cwd=user_dir,
        env=env,
        capture_output=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert (user_dir / odd(b"p\xfc.wav")).stat().st_size > 1000
