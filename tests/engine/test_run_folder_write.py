"""Writing a run folder: its permissions, an empty folder to write into, and failures that say so in one line."""

from __future__ import annotations

import dataclasses
import os
import tempfile

import pytest

from moss_engine.errors import MossInputError
from moss_engine.run import folder as run_folder
from moss_engine.run.folder import write_run_folder
from moss_engine.run.pipeline import compute_front
from moss_engine.settings import make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(data_dir):
    settings = make_settings(
        data_dir / "img_tiny_gimp_icon_16x16_rgba.png",
        data_dir / "awkward_short_alsa_front_center.wav",
        quality="preview",
        device="cpu",
        duration_s=1.0,
        steps=2,
        points=3,
        seed=0,
    )
    return compute_front(settings)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_the_folder_is_readable_by_others_as_the_umask_says(result, tmp_path):
    before = os.umask(0o022)
    try:
        out = write_run_folder(result, tmp_path / "run")
    finally:
        os.umask(before)
    assert out.stat().st_mode & 0o777 == 0o755  # mkdtemp's 0700 would lock out every other tool and user
    assert (out / "manifest.json").stat().st_mode & 0o777 == 0o644


def test_an_empty_folder_made_for_the_run_is_used(result, tmp_path):
    (tmp_path / "run").mkdir()
    out = write_run_folder(result, tmp_path / "run")
    assert (out / "manifest.json").is_file() and leftovers(tmp_path) == []


def test_a_failure_to_move_the_earlier_run_aside_is_one_line_and_keeps_it(result, tmp_path, monkeypatch):
    out = write_run_folder(result, tmp_path / "run")
    before = sorted(p.name for p in out.iterdir())
    real_replace = os.replace

    def refuse(src, dst):
        if os.fspath(src) == os.fspath(out):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(run_folder.os, "replace", refuse)
    with pytest.raises(MossInputError) as exc:
        write_run_folder(result, out, overwrite=True)
    assert str(out) in str(exc.value) and "Permission denied" in str(exc.value) and "\n" not in str(exc.value)
    assert sorted(p.name for p in out.iterdir()) == before and leftovers(tmp_path) == []


def test_a_folder_where_nothing_can_be_written_is_one_line(result, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_folder, "_check_can_create", lambda out: None)  # as if the check had passed earlier
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(MossInputError) as exc:
        write_run_folder(result, tmp_path / "run")
    assert "run" in str(exc.value) and "Permission denied" in str(exc.value)
    assert not (tmp_path / "run").exists()


def test_a_signal_in_the_write_phase_leaves_nothing_and_keeps_the_earlier_run(result, tmp_path):
    """SIGTERM/SIGHUP reach the writer as ``cli.Terminated`` (as Ctrl-C does): mid-write, the staging folder goes and
    the earlier run stays."""
    from moss_engine.commands.main import Terminated

    out = write_run_folder(result, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed_while_drawing(_result, _path):
        raise Terminated(15)

    with pytest.raises(Terminated):
        write_run_folder(result, out, overwrite=True, plot=killed_while_drawing)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []


def test_a_hard_kill_leftover_is_swept_only_when_its_owner_is_gone(result, tmp_path):
    import socket
    import subprocess
    import sys

    from moss_engine.io import atomic as staging

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = {}
        for name, pid in (("dead", gone.pid), ("alive", alive.pid), ("foreign", None)):
            folder = tmp_path / f".run.{name}.moss-tmp"
            folder.mkdir()
            (folder / "point_000.wav").write_bytes(b"half a file")
            if pid is not None:
                (folder / staging.OWNER).write_text(f"{pid} {socket.gethostname()}\n")
            stale[name] = folder
        (tmp_path / ".other.dead.moss-tmp").mkdir()  # another destination's: not this writer's to judge
        (tmp_path / ".other.dead.moss-tmp" / staging.OWNER).write_text(f"{gone.pid} {socket.gethostname()}\n")
        out = write_run_folder(result, tmp_path / "run")
        assert not stale["dead"].exists()  # SIGKILL'd or a power cut: its owner is gone
        assert stale["alive"].exists() and stale["foreign"].exists() and (tmp_path / ".other.dead.moss-tmp").exists()
        assert not (out / staging.OWNER).exists()  # the owner mark never reaches the run folder
    finally:
        alive.kill()
        alive.wait()


def test_a_full_disk_is_one_line_naming_the_folder_and_leaves_nothing(result, tmp_path, monkeypatch):
    import errno

    from moss_engine.io import audio as audio_io

    out = write_run_folder(result, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []
    write_sound = audio_io.write_sound

    def fills_up(path, data, *args, **kwargs):  # the third WAV finds the disk full half-way
        calls.append(path)
        if len(calls) > 2:
            with open(path, "wb") as half:
                half.write(b"RIFF half a file")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_sound(path, data, *args, **kwargs)

    monkeypatch.setattr(audio_io, "write_sound", fills_up)
    with pytest.raises(MossInputError) as exc:
        write_run_folder(result, out, overwrite=True)
    message = str(exc.value)
    assert str(out) in message and "No space left on device" in message and "\n" not in message
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and leftovers(tmp_path) == []


def test_a_file_name_that_is_not_utf8_is_written_and_read(result, tmp_path):
    from moss_engine.io.audio import load_audio, write_wav

    name = os.fsdecode(b"x\xff.wav")  # a byte a UTF-8 file system name may hold, but no UTF-8 text
    write_wav(tmp_path / name, result.reference, result.sample_rate)
    clip = load_audio(tmp_path / name, sample_rate=result.sample_rate)
    assert clip.samples.shape == result.reference.shape
    from moss_engine.run.plot import plot_front

    odd = dataclasses.replace(result, settings=dataclasses.replace(result.settings, image=tmp_path / name))
    out = write_run_folder(odd, tmp_path / os.fsdecode(b"run\xfe"), plot=plot_front)  # the title names the picture
    assert (out / "manifest.json").is_file() and (out / "front.png").stat().st_size > 10000
