"""Where a run or a render is written (issue 26): names as long as the file system allows, ``--overwrite`` only for a
regular file or a MOSS run folder, what dead runs left swept before the work, every check of the place before the
work, and a full disk said in one line with the folder and what was needed."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from moss_engine.errors import MossInputError
from moss_engine.io import atomic as staging
from moss_engine.run import export
from moss_engine.run import folder as run_folder
from moss_engine.run.export import render_point
from moss_engine.run.folder import check_output_folder, read_manifest, write_run_folder
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


@pytest.fixture(scope="module")
def run_dir(result, tmp_path_factory):
    return write_run_folder(result, tmp_path_factory.mktemp("runs") / "run")


def name_max(folder) -> int:
    return os.pathconf(folder, "PC_NAME_MAX")


def hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# item 5: names up to the file system's limit ------------------------------------------------------------------


def test_a_run_folder_named_as_long_as_the_file_system_allows_is_written(result, tmp_path):
    for length in (240, 250, name_max(tmp_path)):
        out = write_run_folder(result, tmp_path / ("r" * length))
        assert (out / "manifest.json").is_file() and len(out.name) == length
    assert hidden(tmp_path) == []


def test_a_rendered_file_named_as_long_as_allowed_is_written(run_dir, tmp_path):
    out = tmp_path / ("p" * (name_max(tmp_path) - 4) + ".wav")
    written = render_point(run_dir, 0, out=out)
    assert written.path == out and out.stat().st_size > 1000 and hidden(tmp_path) == []


def test_a_name_over_the_limit_is_refused_saying_the_limit(run_dir, tmp_path):
    limit = name_max(tmp_path)
    with pytest.raises(MossInputError) as exc:
        check_output_folder(tmp_path / ("r" * (limit + 1)), False)
    assert f"{limit + 1} bytes" in str(exc.value) and f"at most {limit}" in str(exc.value)
    with pytest.raises(MossInputError) as exc:
        render_point(run_dir, 0, out=tmp_path / ("p" * limit + ".wav"))
    assert f"at most {limit}" in str(exc.value)
    assert list(tmp_path.iterdir()) == []


# item 6: --overwrite replaces only a regular file or a MOSS run folder ------------------------------------------


def special_files(folder):
    """A FIFO, a socket, a symbolic link to a file, and (as root) a character device like /dev/null."""
    made = {}
    os.mkfifo(folder / "fifo.wav")
    made["fifo.wav"] = "FIFO"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "socket.wav"))
    made["socket.wav"] = "socket"
    (folder / "target.wav").write_bytes(b"the user's file")
    (folder / "link.wav").symlink_to(folder / "target.wav")
    made["link.wav"] = "symbolic link"
    if os.geteuid() == 0:
        os.mknod(folder / "null.wav", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        made["null.wav"] = "character device"
    return made, sock


def kind_of(path) -> str:
    mode = path.lstat().st_mode
    return "link" if stat.S_ISLNK(mode) else "fifo" if stat.S_ISFIFO(mode) else "sock" if stat.S_ISSOCK(mode) else ""


def test_render_overwrite_replaces_only_a_regular_file(run_dir, tmp_path):
    made, sock = special_files(tmp_path)
    try:
        before = {name: (tmp_path / name).lstat() for name in made}
        for name, words in made.items():
            with pytest.raises(MossInputError) as exc:
                render_point(run_dir, 0, out=tmp_path / name, overwrite=True)
            assert words in str(exc.value) and "regular file" in str(exc.value), str(exc.value)
            after = (tmp_path / name).lstat()
            assert (after.st_mode, after.st_ino) == (before[name].st_mode, before[name].st_ino)
        assert (tmp_path / "target.wav").read_bytes() == b"the user's file"
        (tmp_path / "plain.wav").write_bytes(b"an earlier render")
        render_point(run_dir, 0, out=tmp_path / "plain.wav", overwrite=True)  # a regular file is replaced
        assert (tmp_path / "plain.wav").stat().st_size > 1000
    finally:
        sock.close()


def test_front_overwrite_replaces_only_a_run_folder(run_dir, tmp_path):
    made, sock = special_files(tmp_path)
    (tmp_path / "run_link").symlink_to(run_dir)
    made["run_link"] = "symbolic link"
    try:
        for name, words in made.items():
            with pytest.raises(MossInputError) as exc:
                check_output_folder(tmp_path / name, True)
            assert words in str(exc.value), str(exc.value)
    finally:
        sock.close()


# item 2: what dead runs left is swept before the work -----------------------------------------------------------


def dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_staging_folders_of_dead_runs_go_when_the_next_run_checks_its_place(tmp_path):
    host = socket.gethostname()
    left = tmp_path / ".run.abcd1234.moss-tmp"
    left.mkdir()
    (left / "point_000.wav").write_bytes(b"x" * 100_000)
    (left / staging.OWNER).write_text(f"{dead_pid()} {host}\n")
    alive = tmp_path / ".run.live0001.moss-tmp"
    alive.mkdir()
    (alive / staging.OWNER).write_text(f"{os.getpid()} {host}\n")
    check_output_folder(tmp_path / "run", False)  # before the work: the dead run's space is free again
    assert hidden(tmp_path) == [alive.name]


def test_a_render_killed_half_way_leaves_a_folder_the_next_render_sweeps(run_dir, tmp_path):
    """A file being written stages in a claimed folder, as a run folder does, so that what a ``kill -9`` left is
    known to be MOSS's and is swept."""
    out = tmp_path / "point.wav"
    seen = []

    def killed(path):
        seen.append(path)
        (path.parent / staging.OWNER).write_text(f"{dead_pid()} {socket.gethostname()}\n")  # as if its writer died
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        staging.write_file(out, killed)
    staged = seen[0].parent  # a claimed folder beside the file, gone after the interrupt
    assert staged.parent == tmp_path and staged.name.startswith(".point.wav.") and staged.name.endswith(".moss-tmp")
    assert not staged.exists()
    # a writer that really died by SIGKILL left its folder there: as if, and render again
    leftover = tmp_path / staged.name
    leftover.mkdir()
    (leftover / "half.wav").write_bytes(b"RIFF")
    (leftover / staging.OWNER).write_text(f"{dead_pid()} {socket.gethostname()}\n")
    render_point(run_dir, 0, out=out)
    assert out.is_file() and hidden(tmp_path) == []


# item 7: every check of the output place before the work, messages that name the real cause --------------------


def test_a_newer_run_folder_format_is_named(run_dir, tmp_path):
    newer = tmp_path / "newer"
    newer.mkdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (newer / "manifest.json").write_text(json.dumps({**manifest, "format": "moss-run/9"}))
    with pytest.raises(MossInputError) as exc:
        read_manifest(newer)
    assert "moss-run/9" in str(exc.value) and "newer" in str(exc.value)
    assert "holds no MOSS manifest" not in str(exc.value)
    with pytest.raises(MossInputError) as exc:
        check_output_folder(newer, True)
    assert "moss-run/9" in str(exc.value) and "newer" in str(exc.value)


def test_an_unwritable_parent_is_refused_before_the_work_even_with_overwrite(run_dir, tmp_path, monkeypatch):
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", refused)
    with pytest.raises(MossInputError) as exc:
        check_output_folder(run_dir, True)
    assert "Permission denied" in str(exc.value) and str(run_dir) in str(exc.value)


# item 4: a full disk at any write is one line naming the folder and what was needed ---------------------------


def test_a_full_disk_while_the_run_folder_is_written_says_the_folder_and_what_it_needs(result, tmp_path, monkeypatch):
    from moss_engine.io import audio as audio_io

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(audio_io, "write_sound", full)
    with pytest.raises(MossInputError) as exc:
        write_run_folder(result, tmp_path / "run")
    message = str(exc.value)
    assert str(tmp_path / "run") in message and "No space left on device" in message
    assert "needs about" in message and " MB" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_quota_while_a_point_is_rendered_says_the_folder_and_what_it_needs(run_dir, tmp_path, monkeypatch):
    def over_quota(path, *args, **kwargs):
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), str(path))

    monkeypatch.setattr(export, "encode", over_quota)
    with pytest.raises(MossInputError) as exc:
        render_point(run_dir, 0, out=tmp_path / "point.flac")
    message = str(exc.value)
    assert str(tmp_path / "point.flac") in message and os.strerror(errno.EDQUOT) in message
    assert "needs about" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_morphs_no_room_message_names_no_option_it_lacks(run_dir, monkeypatch):
    import shutil

    from moss_engine.io import budget
    from moss_engine.run import morph

    usage = shutil.disk_usage(run_dir)
    monkeypatch.setattr(budget.shutil, "disk_usage", lambda p: usage._replace(free=1024))
    with pytest.raises(MossInputError) as exc:
        morph.write_morph(run_dir)
    assert "--out" not in str(exc.value) and "MB" in str(exc.value)
    assert run_folder.MANIFEST in {p.name for p in run_dir.iterdir()}
