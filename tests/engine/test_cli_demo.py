"""`moss` with no arguments runs the bundled sample into a new timestamped folder, every time."""

import subprocess
import sys

import pytest

from moss_engine.commands import main as cli
from moss_engine.resources import sample_paths


def test_no_arguments_means_demo(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "run", lambda args: seen.append(args) or 0)
    assert cli.main([]) == 0
    assert cli.main(["--quiet", "--steps", "3"]) == 0
    assert [a.command for a in seen] == ["demo", "demo"]
    assert seen[0].image is None and seen[0].out is None
    assert seen[1].steps == 3 and seen[1].quiet


def test_bundled_sample_exists_with_its_notice():
    image, audio = sample_paths()
    assert image.is_file() and audio.is_file()
    notice = (image.parent / "NOTICE.md").read_text()
    assert image.name in notice and audio.name in notice and "Carlos Viola Iborra" in notice


@pytest.mark.slow
def test_demo_twice_makes_two_run_folders(tools_dir, tmp_path, data_dir):
    args = [
        sys.executable,
        "-m",
        "moss_engine.cli",
        "demo",
        "--duration",
        "3",
        "--steps",
        "2",
        "--points",
        "3",
        "--device",
        "cpu",
    ]
    for _ in range(2):
        proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "run folder:" in proc.stdout and "point_000.wav" in proc.stdout
        # the table says how like the song each point sounds and how loud it is against it
        head = next(line for line in proc.stdout.splitlines() if "sounds like (MOS)" in line)
        assert "loudness (LU)" in head
        music_end = next(line for line in proc.stdout.splitlines() if line.rstrip().endswith("point_000.wav"))
        assert "5.00" in music_end.split() and "+0.0" in music_end.split()
        assert "Zimtohrli" in proc.stdout
    runs = sorted((tmp_path / "moss-output").iterdir())
    assert len(runs) == 2 and runs[0].name != runs[1].name
    tool = tools_dir / "check_run.py"
    for run in runs:
        check = subprocess.run([sys.executable, str(tool), str(run)], capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout
