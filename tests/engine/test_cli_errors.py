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
import time
from pathlib import Path

import pytest

TIMEOUT_S = 120
TINY_IMAGE = "img_tiny_gimp_icon_16x16_rgba.png"
AMBIENT_FLAC = "music_ambient_sonicpi_ambi_glass_hum.flac"  # 10 s, 44.1 kHz stereo
SHORT_WAV = "awkward_short_alsa_front_center.wav"  # 1.43 s
FAST = ["--steps", "1", "--points", "2", "--duration", "2"]
SONG_BYTES = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8  # "the user's song": known bytes


def run_cli(args: list[str], cwd: Path, timeout: float = TIMEOUT_S) -> tuple[int, str, str]:
    """``python -m moss_engine.cli ARGS`` in ``cwd``; returns (exit status, stdout, stderr)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "moss_engine.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(stderr: str, must_contain: str | tuple[str, ...] = (),
                          allow_progress: bool = False) -> str:
    """Exactly one non-empty line on stderr, "moss: error: ...", holding every ``must_contain``; returns it.

    With ``allow_progress`` progress lines (they start with "[") may come before it.
    """
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    if allow_progress:
        lines = [line for line in lines if not line.startswith("[")]
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


@pytest.fixture
def user_dir(tmp_path: Path, data_dir: Path) -> Path:
    """The user's folder: good inputs (picture.png, song.flac, short.wav) and a few bad ones."""
    shutil.copyfile(data_dir / TINY_IMAGE, tmp_path / "picture.png")
    shutil.copyfile(data_dir / AMBIENT_FLAC, tmp_path / "song.flac")
    shutil.copyfile(data_dir / SHORT_WAV, tmp_path / "short.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("this is not audio\n", encoding="utf-8")
    flac = (data_dir / AMBIENT_FLAC).read_bytes()
    (tmp_path / "truncated.flac").write_bytes(flac[: len(flac) // 2])
    (tmp_path / "text.png").write_text("this is not a picture\n", encoding="utf-8")
    (tmp_path / "empty.png").write_bytes(b"")
    return tmp_path


def assert_fails_cleanly(args: list[str], cwd: Path, must_contain: str | tuple[str, ...]) -> str:
    """Run ``args``: exit 2, one error line, no traceback, ``cwd`` exactly as before. Returns the error line."""
    before = snapshot(cwd)
    code, out, err = run_cli(args, cwd)
    assert "Traceback" not in out + err, out + err
    line = assert_one_line_error(err, must_contain)
    assert code == 2, f"exit status {code}\n{err}"
    assert not leftovers(cwd)
    assert snapshot(cwd) == before, "the user's folder changed"
    return line


def front(*extra: str, image: str = "picture.png", audio: str = "song.flac", out: str = "run") -> list[str]:
    return ["front", "--image", image, "--audio", audio, "--out", out, *extra]


# 1 and 2: missing, empty, unreadable and damaged input files -------------------------------------------------


@pytest.mark.parametrize(("args", "must_contain"), [
    pytest.param(front(*FAST, image="nope.png"), ("nope.png", "not found"), id="missing-image"),
    pytest.param(front(*FAST, audio="nope.wav"), ("nope.wav", "not found"), id="missing-audio"),
    pytest.param(front(*FAST, audio="empty.wav"), ("empty.wav", "empty"), id="empty-wav"),
    pytest.param(front(*FAST, audio="text.wav"), ("text.wav", "not an audio file"), id="text-as-wav"),
    # The first half of the FLAC decodes, so the damage shows only where the segment reaches past it.
    pytest.param(front("--steps", "1", "--points", "2", "--duration", "all", audio="truncated.flac"),
                 ("truncated.flac", "truncated or damaged"), id="truncated-flac-all"),
    pytest.param(front("--start", "7", *FAST, audio="truncated.flac"),
                 ("truncated.flac", "truncated or damaged"), id="truncated-flac-seek"),
    pytest.param(front(*FAST, image="text.png"), ("text.png", "not an image"), id="text-as-png"),
    pytest.param(front(*FAST, image="empty.png"), ("empty.png", "empty"), id="empty-png"),
])
def test_bad_input_file(user_dir: Path, args: list[str], must_contain: tuple[str, ...]) -> None:
    assert_fails_cleanly(args, user_dir, must_contain)


# 3: a segment too short or past the end -------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "must_contain"), [
    pytest.param(front("--start", "1.1", "--steps", "1", "--points", "2", audio="short.wav"),
                 ("short.wav", "0.5"), id="under-half-a-second"),
    pytest.param(front("--start", "5", *FAST, audio="short.wav"), ("short.wav", "past the end"),
                 id="start-past-end"),
])
def test_segment_too_short(user_dir: Path, args: list[str], must_contain: tuple[str, ...]) -> None:
    assert_fails_cleanly(args, user_dir, must_contain)


# 4: devices -------------------------------------------------------------------------------------------------------


def test_unknown_device(user_dir: Path) -> None:
    assert_fails_cleanly(front("--device", "tpu", *FAST), user_dir, ("tpu", "unknown device"))


def test_cuda_without_cuda(user_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so --device cuda is valid here")
    assert_fails_cleanly(front("--device", "cuda", *FAST), user_dir, ("--device cuda", "CUDA is not available"))


def test_cuda_index_that_does_not_exist(user_dir: Path) -> None:
    assert_fails_cleanly(front("--device", "cuda:7", *FAST), user_dir, "--device cuda:7")


# 5: out-of-range and malformed options -------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "must_contain"), [
    (["--points", "1"], "--points"),
    (["--steps", "0"], "--steps"),
    (["--sample-rate", "4000"], "--sample-rate"),
    (["--hop", "0"], "--hop"),
    (["--n-fft", "3"], "--n-fft"),
    (["--db-range", "0"], "--db-range"),
    (["--gamma", "-1"], "--gamma"),
    (["--time", "5:2"], "--time"),
    (["--freq", "100:50"], "--freq"),
    (["--freq", "0:30000"], ("--freq", "Nyquist")),
    (["--freq-scale", "log", "--freq", "0:5000"], ("--freq", "log")),
    (["--duration", "0.1"], "--duration"),
    (["--time", "abc"], ("--time", "abc")),
    (["--quality", "ultra"], ("--quality", "ultra")),
    (["--memory-limit", "0"], "--memory-limit"),
    (["--frobnicate"], "--frobnicate"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_option(user_dir: Path, extra: list[str], must_contain: str | tuple[str, ...]) -> None:
    # The bad flag comes last so it overrides the fast defaults (--steps 0, --points 1, --duration 0.1).
    assert_fails_cleanly(front(*FAST, *extra), user_dir, must_contain)


# 6: an --out that is not ours to replace -----------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
def test_existing_user_folder_is_never_replaced(user_dir: Path, overwrite: bool) -> None:
    music = user_dir / "Music"
    music.mkdir()
    (music / "song.mp3").write_bytes(SONG_BYTES)
    flags = ["--overwrite"] if overwrite else []
    expected = "holds no MOSS manifest" if overwrite else "already exists"
    assert_fails_cleanly(front(*FAST, *flags, out="Music"), user_dir, ("Music", expected))
    assert (music / "song.mp3").read_bytes() == SONG_BYTES
    assert sorted(p.name for p in music.iterdir()) == ["song.mp3"]


@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
def test_out_is_an_existing_file(user_dir: Path, overwrite: bool) -> None:
    (user_dir / "song.mp3").write_bytes(SONG_BYTES)
    flags = ["--overwrite"] if overwrite else []
    assert_fails_cleanly(front(*FAST, *flags, out="song.mp3"), user_dir, "song.mp3")
    assert (user_dir / "song.mp3").read_bytes() == SONG_BYTES


def test_out_inside_a_file(user_dir: Path) -> None:
    (user_dir / "song.mp3").write_bytes(SONG_BYTES)
    assert_fails_cleanly(front(*FAST, out="song.mp3/run"), user_dir, ("song.mp3", "not a folder"))


# 7: an earlier MOSS run folder ----------------------------------------------------------------------------------


TINY_RUN = ["--duration", "2", "--steps", "2", "--points", "3", "--quality", "preview"]


def check_run(run_dir: Path, data_dir: Path) -> None:
    tool = data_dir.parent / "tools" / "check_run.py"
    proc = subprocess.run([sys.executable, str(tool), str(run_dir)], capture_output=True, text=True,
                          timeout=TIMEOUT_S)
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


# 8: Ctrl-C ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_exits_130_and_leaves_nothing(user_dir: Path) -> None:
    before = snapshot(user_dir)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moss_engine.cli", *front("--duration", "10", "--steps", "200")],
        cwd=user_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell that started pytest in the background may have set SIGINT to "ignore", which a child inherits.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stderr is not None
        head: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # readline blocks; the child writes a progress line at once
            line = proc.stderr.readline()
            if not line:
                break
            head.append(line)
            if line.startswith("["):
                break
        assert head and head[-1].startswith("["), f"no progress within 60 s:\n{''.join(head)}"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = "".join(head) + rest
    assert "Traceback" not in out + err, out + err
    assert proc.returncode == 130, f"exit status {proc.returncode}\n{err}"
    after_progress = [line for line in rest.splitlines() if line.strip() and not line.startswith("[")]
    assert len(after_progress) == 1, err
    assert "interrupted" in after_progress[-1], err
    assert not (user_dir / "run").exists()
    assert not leftovers(user_dir)
    assert snapshot(user_dir) == before
