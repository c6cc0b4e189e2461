"""Shared test fixtures: where the real test files live."""

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    """The ``app`` and ``packaging`` markers follow the folder a test lives in, so a tier is never forgotten."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in ("app", "packaging"):
            if tier in parts[-3:-1]:
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real recordings and images the tests read: ``tests/data``, byte-identical copies of the team's shared test
    data, with their licences in ``tests/data/NOTICE.md`` (a clone needs nothing beside it)."""
    return Path(__file__).resolve().parent / "data"


def low_rate_mp3(data_dir: Path, out: Path, seconds: float = 7.3) -> Path:
    """An 11.025 kHz mono MP3 of ``seconds`` of the orchestral piece (content up to 5.5 kHz), made by the bundled
    ffmpeg at ``out``: the song of issue 22 that kept an 11 kHz band top and a 30 s segment."""
    import subprocess

    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(data_dir / "music_orchestral_wesnoth_transience.ogg"),
            "-t",
            str(seconds),
            "-ac",
            "1",
            "-ar",
            "11025",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "48k",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    return out


@pytest.fixture
def low_mp3(data_dir: Path, tmp_path: Path) -> Path:
    """``low_rate_mp3``: 7.3 s at 11.025 kHz, mono, in the test's own folder."""
    return low_rate_mp3(data_dir, tmp_path / "low.mp3")


@pytest.fixture(scope="session")
def tools_dir() -> Path:
    """The run-folder contract's checker and the reference scorer (``tests/tools``: copies of the team's
    ``shared/tools``, kept identical by ``.ci/run``)."""
    return Path(__file__).resolve().parent / "tools"


def as_moss_run_1(run_dir: Path, out: Path, output_gain_db: float, louder_image_end_db: float = 0.0) -> Path:
    """A copy of a run folder (moss-run/3 or /2) as MOSS wrote it before moss-run/2: one run-wide ``output_gain_db`` on
    every file (a moss-run/2 point's own gain undone first), no limiter, no per-point levels, loudness or MOS.
    ``louder_image_end_db`` makes the image end that much louder before the gain, as a bright picture's image end was
    at moss-run/1's fixed level.

    The points' masks are kept: rebuilt at moss-run/1's level (0 dB) they are not the stored audio, which is all a
    test of opening, rendering and morphing such a folder needs.
    """
    import json
    import shutil

    import numpy as np
    import soundfile as sf

    shutil.copytree(run_dir, out)
    manifest = json.loads((out / "manifest.json").read_text())
    gain = 10 ** (output_gain_db / 20)
    data, rate = sf.read(out / "reference.wav", dtype="float32", always_2d=True)
    sf.write(out / "reference.wav", data * np.float32(gain), rate, subtype="FLOAT")
    for i, entry in enumerate(manifest["points"]):
        data, rate = sf.read(out / entry["wav"], dtype="float32", always_2d=True)
        own = 10 ** (-entry.pop("gain_db", 0.0) / 20)
        entry.pop("limiter_db", None)
        louder = 10 ** (louder_image_end_db / 20) if i == len(manifest["points"]) - 1 else 1.0
        sf.write(out / entry["wav"], data * np.float32(own * louder * gain), rate, subtype="FLOAT")
        for key in ("loudness_lu", "mos", "picture_level_db"):
            entry.pop(key)
        entry.pop("codec_ssim", None)  # measured after the codecs since issue 24
    manifest.pop("audio_objective")
    manifest.pop("limiter", None)
    manifest["settings"].pop("audio_objective", None)  # moss-run/1 had the one (log-mel) audio objective
    manifest["format"] = "moss-run/1"
    manifest["output_gain_db"] = output_gain_db
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out
