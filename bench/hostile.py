"""Hostile-input campaign for the ``moss`` command line (and the app's Open Run loader).

Run by hand, not in the tests, from the repository root:

    python bench/hostile.py              # the whole campaign: ~260 cases, about 19 CPU-minutes (23 min wall
                                         # measured on the 2-core CPU while other jobs kept its load near 8)
    python bench/hostile.py --quick      # ~35 cases (2.5 min measured, same load)
    python bench/hostile.py --only render --keep   # the cases whose name holds "render"; keep the temp folder
    python bench/hostile.py --list       # list the CLI cases and stop

Every case is built in a fresh temporary folder, where the CLI runs as a subprocess (``python -m moss_engine.cli``,
QT_QPA_PLATFORM=offscreen, a timeout per case). Each case expects one of two outcomes:

- ``accept``: awkward but valid input. Exit status 0, no traceback, and the output is there and sound (a run folder
  that ``../shared/tools/check_run.py`` accepts, the rendered file, or the morph files).
- ``refuse``: broken input. Exit status 2, exactly one non-empty line on stderr, no traceback (and, where the case
  says so, the line names the offending file or option).

Every case also plants the user's files where the command writes (``notes.txt``, an older run folder, files inside
the run folder a reader works on) and hashes the whole case folder before and after: a leftover ``*.moss-tmp*``,
``*.moss-old*`` or ``*.moss-probe*``, or anything new after a refusal, is a partial output; a planted file changed
or gone is a user file lost. The damaged-run-folder cases run ``render``, ``morph`` and the loader of the app's
Open Run (``moss_engine.run.reader.read_run``, called directly in a child Python process that reports what it raised:
a damaged folder must raise the engine's ``MossError``, with a one-line message). The signal cases stop a small
``front`` mid-run with SIGTERM, SIGHUP and SIGINT (exit 128 + the signal, nothing left behind); the staging cases
plant stale ``.run.XXXX.moss-tmp`` folders (a dead owner: swept; a live owner, this script's PID: kept).

Accepted runs are kept tiny (2 points, 1 step, 1 s at 8 kHz, n_fft 256): the point is the handling of the input, not
the result. The cases that need file permissions to bite (a chmod-000 file, a read-only folder) run, when this
script runs as root, under ``setpriv`` without CAP_DAC_OVERRIDE; without setpriv they are skipped with a note.

Prints a table (case, expected, exit, lines on stderr, verdict), the failures in detail and the counts; writes JSON
to ``bench/results/hostile-cpu2.json`` (``hostile-cpu2-quick.json`` with ``--quick``); exits 1 if any case fails.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import json
import os
import platform
import random
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOSS_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
CHECK_RUN = SHARED / "tools" / "check_run.py"
RESULTS = ROOT / "bench" / "results"

TINY = [
    "--points",
    "2",
    "--steps",
    "1",
    "--duration",
    "1",
    "--sample-rate",
    "8000",
    "--n-fft",
    "256",
    "--hop",
    "64",
    "--quiet",
]
TEMP_MARKS = (".moss-tmp", ".moss-old", ".moss-probe")
ACCEPT_TIMEOUT_S = 240
REFUSE_TIMEOUT_S = 90
#: A refusal slower than this is noted (it should come before any computing).
SLOW_REFUSAL_S = 20.0
NOTES = "the user's own notes: MOSS must never touch these\n"
DROP_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [e.get("PYTHONPATH")])])
    return e


# ------------------------------------------------------------------------------------------------------ fixtures


class Fx:
    """The shared input files of the campaign (built once, never written by a case)."""

    def __init__(self, folder: Path):
        self.dir = folder
        self.base_run: Path | None = None  # a tiny real run folder, made by the first case

    def p(self, name: str) -> str:
        return str(self.dir / name)


def _music(rate: int, seconds: float, channels: int = 1, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(int(round(rate * seconds))) / rate
    tone = sum(0.12 * np.sin(2 * np.pi * f * t) for f in (220.0, 330.0, 495.0, 1250.0))
    out = np.stack([tone * (1 + 0.1 * c) + 0.02 * rng.standard_normal(t.size) for c in range(channels)], axis=1)
    return out.astype(np.float32)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that is all header: its size, an empty data chunk and the end."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


NONUTF8_WAV = os.fsdecode(b"x\xff.wav")
NONUTF8_PNG = os.fsdecode(b"pic\xfe.png")
CJK_PNG = "漢字 \U00010348.png"  # a script the plot's font lacks (its glyphs warned on stderr, issue 26)


def build_fixtures(folder: Path) -> Fx:
    import numpy as np
    import soundfile as sf
    from PIL import Image

    folder.mkdir(parents=True)
    fx = Fx(folder)
    d = folder
    shutil.copyfile(DATA / "img_tiny_gimp_icon_16x16_rgba.png", d / "img.png")
    shutil.copyfile(DATA / "speech_apollo11_a11wlk01.wav", d / "song.wav")  # 4.28 s, 44.1 kHz mono
    shutil.copyfile(DATA / "img_logo_debian_logo_text_version_256_palette_trns.png", d / "palette_trns.png")
    # audio
    sf.write(d / "rate11025.wav", _music(11025, 2.0), 11025, subtype="PCM_16")
    sf.write(d / "rate96000.wav", _music(96000, 2.0), 96000, subtype="PCM_16")
    sf.write(d / "rate4000.wav", _music(4000, 2.0), 4000, subtype="PCM_16")
    sf.write(d / "six_ch.wav", _music(44100, 2.0, channels=6), 44100, subtype="PCM_16")
    sf.write(d / "stereo.flac", _music(44100, 2.0, channels=2), 44100, subtype="PCM_16")
    sf.write(d / "one_s.wav", _music(44100, 1.0), 44100, subtype="PCM_16")
    sf.write(d / "short_03.wav", _music(44100, 0.3), 44100, subtype="PCM_16")
    sf.write(d / "silent.wav", np.zeros((44100 * 2, 1), np.float32), 44100, subtype="PCM_16")
    nan = _music(44100, 2.0)
    nan[1000:2000] = np.nan
    sf.write(d / "nan.wav", nan, 44100, subtype="FLOAT")
    wav = (DATA / "speech_apollo11_a11wlk01.wav").read_bytes()
    (d / "trunc_data.wav").write_bytes(wav[: len(wav) // 2])  # header intact, data cut in half
    (d / "trunc_header.wav").write_bytes(wav[:30])
    mp3 = (DATA / "music_electronic_scratch_techno2.mp3").read_bytes()
    (d / "trunc.mp3").write_bytes(mp3[: len(mp3) // 2])
    flac = (DATA / "music_ambient_sonicpi_ambi_glass_hum.flac").read_bytes()
    (d / "trunc.flac").write_bytes(flac[: len(flac) // 2])
    (d / "text.wav").write_text("this is not audio\n", encoding="utf-8")
    (d / "empty.wav").write_bytes(b"")
    (d / "noread.wav").write_bytes(wav)
    os.chmod(d / "noread.wav", 0)
    shutil.copyfile(d / "img.png", d / CJK_PNG)
    for name in ("my song (live).wav", "песня ♫ 歌.wav", NONUTF8_WAV):
        shutil.copyfile(d / "song.wav", d / name)
    os.symlink("loop.wav", d / "loop.wav")
    # images
    Image.new("RGB", (1, 1), (200, 200, 200)).save(d / "one_px.png")
    Image.new("1", (20000, 20000), 0).save(d / "bomb.png")  # 400 MP, mostly empty: a few kB on disk
    (d / "header_only.png").write_bytes(_png_header(100000, 100000))
    Image.new("RGBA", (32, 24), (255, 255, 255, 0)).save(d / "transparent.png")
    ramp = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)
    Image.fromarray(ramp).save(d / "gray16.png")
    Image.fromarray((ramp >> 8).astype(np.uint8)).save(d / "gray.png")
    cmyk = Image.new("CMYK", (64, 48))
    cmyk.paste((0, 128, 255, 0), (0, 0, 32, 48))
    cmyk.save(d / "cmyk.jpg", "JPEG")
    Image.new("RGB", (40, 30), (10, 200, 90)).save(d / "jpeg_named.png", "JPEG")
    (d / "text.png").write_text("this is not a picture\n", encoding="utf-8")
    (d / "empty.png").write_bytes(b"")
    astro = (DATA / "img_portrait_skimage_astronaut.png").read_bytes()
    (d / "trunc.png").write_bytes(astro[: len(astro) // 3])
    shutil.copyfile(d / "img.png", d / NONUTF8_PNG)
    os.mkdir(d / "a_folder.wav")
    return fx


# --------------------------------------------------------------------------------------------------- snapshots


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: relative path -> "dir", "link:TARGET", "fifo" or a file's sha256."""
    out: dict[str, str] = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(base) / name
            rel = p.relative_to(folder).as_posix()
            try:
                st = p.lstat()
                if stat.S_ISLNK(st.st_mode):
                    out[rel] = "link:" + os.readlink(p)
                elif stat.S_ISDIR(st.st_mode):
                    out[rel] = "dir"
                elif stat.S_ISREG(st.st_mode):
                    out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
                else:
                    out[rel] = "special"
            except OSError as exc:
                out[rel] = f"unreadable:{exc.errno}"
    return out


def is_temp(rel: str) -> bool:
    return any(mark in Path(rel).name for mark in TEMP_MARKS)


def under(rel: str, prefixes: tuple[str, ...]) -> bool:
    return any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in prefixes)


# ------------------------------------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One CLI run. ``argv`` (a list, or a function of the case folder) follows ``python -m moss_engine.cli``."""

    name: str
    group: str
    expect: str  # "accept" | "refuse"
    argv: list[str] | Callable[[Path], list[str]]
    prepare: Callable[[Path], None] | None = None
    output: str | None = None  # accept: what appears (relative to the case folder)
    kind: str = "run"  # accept: "run" (check_run.py), "file" (a readable audio file), "morph" (morph files in output)
    may_change: tuple[str, ...] = ()  # accept: existing entries the command may replace (e.g. --overwrite)
    may_remove: tuple[str, ...] = ()  # entries whose removal is expected (stale staging folders)
    new_root: str | None = None  # accept: where new entries may appear, when not ``output`` (a missing parent)
    names: str | None = None  # refuse: text the one line must hold (the file or option)
    check: Callable[[Path, dict, dict], list[str]] | None = None  # more checks: (folder, before, after) -> problems
    quick: bool = False
    drop_dac: bool = False  # needs permissions to bite: run without root's DAC override
    older_run: bool = True  # plant older_run/ (a copy of the base run) in the case folder
    timeout: float | None = None
    note: str = ""
    stderr_free_of: tuple[str, ...] = ()  # accept: texts that must not appear on stderr (warnings)
    max_seconds: float | None = None  # refuse: a refusal slower than this is a failure (it must come before the work)
    during: Callable[[Path, subprocess.Popen], None] | None = None  # run beside the command (e.g. fill the disk)
    cleanup: Callable[[Path], None] | None = None  # after the case (e.g. unmount)
    needs_root: bool = False  # mounts a small disk: skipped for other users
    ignore: tuple[str, ...] = ()  # entries the case's own helpers add or change (another program's filler file)


@dataclass
class Result:
    name: str
    group: str
    expect: str
    command: str
    exit: int | str | None
    stderr_lines: int
    stderr: str
    seconds: float
    verdict: str  # PASS | FAIL | SKIP
    problems: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    note: str = ""
    survivors: int = 0  # processes of the command still alive 2 s after it ended (then killed)


def front(image: str, audio: str, out: str = "run", *extra: str, tiny: bool = True, cmd: str = "front") -> list[str]:
    return [cmd, "--image", image, "--audio", audio, "--out", out, *(TINY if tiny else []), *extra]


def plant_stale(folder: Path, prefix: str, dead_pid: int) -> None:
    """Staging folders a killed MOSS left (dead owner), one a running MOSS owns (this script's PID), one foreign."""
    host = socket.gethostname()
    for tag, owner in (
        ("dead0001.moss-tmp", f"{dead_pid} {host}\n"),
        ("dead0002.moss-old", f"{dead_pid} {host}\n"),
        ("live0003.moss-tmp", f"{os.getpid()} {host}\n"),
        ("noowner4.moss-tmp", None),
    ):
        d = folder / f"{prefix}{tag}"
        d.mkdir()
        (d / "half_written.wav").write_bytes(b"RIFF....")
        if owner is not None:
            (d / ".moss-owner").write_text(owner, encoding="utf-8")


def stale_check(prefix: str) -> Callable[[Path, dict, dict], list[str]]:
    def check(folder: Path, before: dict, after: dict) -> list[str]:
        problems = []
        for tag in ("dead0001.moss-tmp", "dead0002.moss-old"):
            if f"{prefix}{tag}" in after:
                problems.append(f"stale {prefix}{tag} (owner PID dead) was not swept")
        for tag in ("live0003.moss-tmp", "noowner4.moss-tmp"):
            rel = f"{prefix}{tag}"
            if rel not in after or any(before[k] != after.get(k) for k in before if under(k, (rel,))):
                problems.append(f"{rel} (live owner / no owner) was removed or changed")
        return problems

    return check


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def edit_manifest(run: Path, edit: Callable[[dict], Any]) -> None:
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    new = edit(m)
    (run / "manifest.json").write_text(json.dumps(m if new is None else new, indent=1), encoding="utf-8")


def _set(path: list[Any], value: Any) -> Callable[[dict], None]:
    def edit(m: dict) -> None:
        obj = m
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return edit


def _del(path: list[Any]) -> Callable[[dict], None]:
    def edit(m: dict) -> None:
        obj = m
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]

    return edit


def _write(rel: str, data: bytes | str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        p = run / rel
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)

    return damage


def _npy_bomb(run: Path) -> None:
    """point_000.npy whose header claims 100000 x 100000 float32 (40 GB), with a few bytes of data."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    (run / "point_000.npy").write_bytes(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 64
    )


def _npy(value_fn: Callable[[], Any], allow_pickle: bool = False) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        import numpy as np

        np.save(run / "point_000.npy", value_fn(), allow_pickle=allow_pickle)

    return damage


def _truncate(rel: str, keep: float | int) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        data = (run / rel).read_bytes()
        (run / rel).write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])

    return damage


def _nan_mask() -> Any:
    import numpy as np

    a = np.zeros((64, 128), np.float32)
    a[3, 3] = np.nan
    return a


def _object_mask() -> Any:
    import numpy as np

    return np.array([{"a": 1}, None], dtype=object)


def _shape_mask() -> Any:
    import numpy as np

    return np.zeros((3, 4), np.float32)


def _traversal(value: str) -> Callable[[dict], None]:
    def edit(m: dict) -> None:
        m["points"][0]["wav"] = value
        m["points"][0]["mask"] = value

    return edit


def _subdir_point(run: Path) -> None:
    (run / "sub").mkdir()
    edit_manifest(run, _traversal("sub"))


def _legacy(m: dict) -> None:
    m["format"] = "moss-run/1"
    m["output_gain_db"] = 0.0


def _changed_song(run: Path) -> None:
    """The run's song copied beside it under a recorded path, then changed (its hash no longer matches)."""
    song = run.parent / "changed_song.wav"
    data = bytearray(Path(json.loads((run / "manifest.json").read_text())["settings"]["audio"]).read_bytes())
    data[-1000:] = bytes(1000)
    song.write_bytes(bytes(data))
    edit_manifest(run, _set(["settings", "audio"], str(song)))


#: Damage to a run folder: (name, how, {reader: expectation}); readers: render, full (render --full), morph, loader.
#  A reader absent from the dict does not run that damage. Morph rebuilds the audio from the masks and the song, so a
#  point WAV it never reads is no reason to refuse; plain render reads the WAV and not the mask.
R_ALL = {"render": "refuse", "morph": "refuse", "loader": "refuse"}
R_RL = {"render": "refuse", "loader": "refuse"}
R_MASK = {"full": "refuse", "morph": "refuse", "loader": "refuse"}
R_MASK_L = {"full": "refuse", "loader": "refuse"}
R_L = {"loader": "refuse"}


def damages() -> list[tuple[str, Callable[[Path], None], dict[str, str], bool]]:
    m = edit_manifest
    d: list[tuple[str, Callable[[Path], None], dict[str, str], bool]] = [
        ("intact", lambda r: None, {"render": "accept", "full": "accept", "morph": "accept", "loader": "accept"}, True),
        ("legacy-moss-run-1", lambda r: m(r, _legacy), {"render": "accept", "loader": "accept"}, False),
        ("manifest-missing", lambda r: (r / "manifest.json").unlink(), R_ALL, False),
        ("manifest-empty", _write("manifest.json", ""), R_ALL, False),
        ("manifest-not-json", _write("manifest.json", "{not json"), R_ALL, True),
        ("manifest-not-utf8", _write("manifest.json", b'{"format": "moss-run/2\xff"}'), R_RL, False),
        ("manifest-array", _write("manifest.json", "[1, 2]"), R_RL, False),
        ("manifest-null", _write("manifest.json", "null"), R_L, False),
        ("format-0", lambda r: m(r, _set(["format"], "moss-run/0")), R_RL, False),
        ("format-99", lambda r: m(r, _set(["format"], "moss-run/99")), R_ALL, False),
        ("format-int", lambda r: m(r, _set(["format"], 2)), R_L, False),
        ("channels-missing", lambda r: m(r, _del(["channels"])), R_ALL, False),
        ("channels-99", lambda r: m(r, _set(["channels"], 99)), {"render": "refuse", "loader": "refuse"}, False),
        ("sample-rate-0", lambda r: m(r, _set(["sample_rate"], 0)), R_RL, False),
        ("duration-missing", lambda r: m(r, _del(["input", "duration_s"])), R_ALL, False),
        ("duration-string", lambda r: m(r, _set(["input", "duration_s"], "1 s")), R_RL, False),
        ("duration-negative", lambda r: m(r, _set(["input", "duration_s"], -1.0)), R_L, False),
        ("gain-not-number", lambda r: m(r, _set(["points", 0, "gain_db"], "loud")), R_ALL, False),
        ("gain-nan", lambda r: m(r, _set(["points", 0, "gain_db"], float("nan"))), R_RL, False),
        ("points-strings", lambda r: m(r, _set(["points"], ["x", "y"])), R_ALL, False),
        ("points-empty", lambda r: m(r, _set(["points"], [])), R_RL, False),
        ("points-object", lambda r: m(r, _set(["points"], {"0": "point_000.wav"})), R_L, False),
        ("settings-missing", lambda r: m(r, _del(["settings"])), R_ALL, False),
        (
            "settings-bad-hop",
            lambda r: m(r, _set(["settings", "hop_length"], 1)),
            {"morph": "refuse", "loader": "refuse"},
            False,
        ),
        ("point-dotdot", lambda r: m(r, _traversal("../../etc/passwd")), R_ALL, True),
        ("point-absolute", lambda r: m(r, _traversal("/etc/passwd")), R_ALL, False),
        ("point-is-folder", _subdir_point, R_RL, False),
        (
            "wav-missing",
            lambda r: (r / "point_000.wav").unlink(),
            {"render": "refuse", "morph": "accept", "loader": "refuse"},
            False,
        ),
        (
            "wav-truncated",
            _truncate("point_000.wav", 0.5),
            {"render": "refuse", "morph": "accept", "loader": "refuse"},
            False,
        ),
        ("wav-header-only", _truncate("point_000.wav", 20), R_RL, False),
        ("wav-text", _write("point_000.wav", "not audio"), R_L, False),
        ("mask-bomb-header", _npy_bomb, R_MASK, True),
        ("mask-wrong-shape", _npy(_shape_mask), R_MASK, False),
        ("mask-pickle", _npy(_object_mask, allow_pickle=True), R_MASK, True),
        ("mask-nan", _npy(_nan_mask), R_MASK_L, False),
        ("mask-missing", lambda r: (r / "point_000.npy").unlink(), R_MASK_L, False),
        ("mask-text", _write("point_000.npy", "not an array"), R_L, False),
        (
            "mask-shape-huge",
            lambda r: m(r, _set(["mask_shape"], [100000, 100000])),
            {"full": "accept", "loader": "refuse"},
            False,
        ),
        ("song-changed", _changed_song, {"full": "refuse", "morph": "refuse"}, False),
    ]
    return d


def build_cases(fx: Fx, quick: bool) -> list[Case]:
    p = fx.p
    img, song = p("img.png"), p("song.wav")
    cases: list[Case] = []

    def add(case: Case) -> None:
        if case.expect == "refuse" and case.timeout is None:
            case.timeout = REFUSE_TIMEOUT_S
        cases.append(case)

    def acc(name: str, group: str, argv: Any, quick_: bool = False, **kw: Any) -> None:
        kw.setdefault("output", "run")
        add(Case(name, group, "accept", argv, quick=quick_, **kw))

    def ref(name: str, group: str, argv: Any, quick_: bool = False, **kw: Any) -> None:
        add(Case(name, group, "refuse", argv, quick=quick_, **kw))

    # ---- 1. options at their edges (front) ----------------------------------------------------------------------
    g = "options"
    # per option: (label, value); the parser refuses the non-numbers at once, the settings the rest before any work
    edges: dict[str, list[tuple[str, str]]] = {
        "--points": [
            ("below (1)", "1"),
            ("above (257)", "257"),
            ("negative", "-1"),
            ("huge", "9" * 23),
            ("nan", "nan"),
            ("text", "abc"),
            ("empty", ""),
            ("float", "2.5"),
        ],
        "--steps": [
            ("below (0)", "0"),
            ("above (100001)", "100001"),
            ("negative", "-5"),
            ("nan", "nan"),
            ("empty", ""),
        ],
        "--sample-rate": [
            ("below (7999)", "7999"),
            ("above (192001)", "192001"),
            ("zero", "0"),
            ("inf", "inf"),
            ("empty", ""),
        ],
        "--n-fft": [("below (62)", "62"), ("above (16386)", "16386"), ("huge", "9" * 23), ("text", "abc")],
        "--hop": [
            ("below n_fft/16 (15)", "15"),
            ("above n_fft/2 (129)", "129"),
            ("1", "1"),
            ("negative", "-64"),
            ("nan", "nan"),
            ("empty", ""),
        ],
        "--seed": [("negative", "-1"), ("2^63", str(2**63)), ("text", "abc"), ("empty", "")],
        "--start": [("negative", "-1"), ("nan", "nan"), ("inf", "inf"), ("text", "abc"), ("empty", "")],
        "--duration": [
            ("below (0.49)", "0.49"),
            ("zero", "0"),
            ("nan", "nan"),
            ("-inf", "-inf"),
            ("text", "abc"),
            ("empty", ""),
        ],
        "--db-range": [
            ("below (9.99)", "9.99"),
            ("above (200.01)", "200.01"),
            ("nan", "nan"),
            ("inf", "inf"),
            ("text", "abc"),
            ("empty", ""),
        ],
        "--gamma": [
            ("below (0.099)", "0.099"),
            ("above (10.01)", "10.01"),
            ("zero", "0"),
            ("nan", "nan"),
            ("empty", ""),
        ],
        "--memory-limit": [
            ("below (0.049)", "0.049"),
            ("above (4096.1)", "4096.1"),
            ("nan", "nan"),
            ("inf", "inf"),
            ("text", "abc"),
        ],
    }
    quick_edges = {("--points", "below (1)"), ("--hop", "1"), ("--hop", "nan")}
    for opt, values in edges.items():
        for label, value in values:
            ref(
                f"front {opt} {label}",
                g,
                front(img, song, "run", opt, value),
                quick_=(opt, label) in quick_edges,
                names=opt.lstrip("-"),
            )
    ref("front --n-fft odd", g, front(img, song, "run", "--n-fft", "255", "--hop", "63"), names="--n-fft")
    ref("front --duration -inf", g, front(img, song, "run", "--duration", "-inf"), names="--duration")
    ref("front --start past end", g, front(img, song, "run", "--start", "100"), names="song.wav")
    ref("front --start at end", g, front(img, song, "run", "--start", "4.2834"), names="song.wav")
    ref("front --start leaves 0.28 s", g, front(img, song, "run", "--start", "4"), names="song.wav")
    for label, span in {
        "reversed": "1:0",
        "empty": "0.5:0.5",
        "negative": "-1:1",
        "nan": "nan:1",
        "one number": "1",
        "text": "a:b",
        "empty string": "",
        "three": "0:1:2",
        "after segment": "5:6",
    }.items():
        ref(f"front --time {label}", g, front(img, song, "run", "--time", span), quick_=label == "text", names="--time")
    for label, span in {
        "reversed": "3000:100",
        "negative": "-1:1000",
        "nan": "0:nan",
        "above nyquist 8k": "0:4001",
        "text": "lo:hi",
        "empty string": "",
    }.items():
        ref(
            f"front --freq {label}",
            g,
            front(img, song, "run", "--freq", span),
            quick_=label == "above nyquist 8k",
            names="--freq",
        )
    ref(
        "front --freq above nyquist preview",
        g,
        front(img, song, "run", "--sample-rate", "22050", "--freq", "0:11026"),
        names="--freq",
    )
    ref(
        "front --freq above nyquist preview preset",
        g,
        front(
            img,
            song,
            "run",
            "--points",
            "2",
            "--steps",
            "1",
            "--duration",
            "1",
            "--quality",
            "preview",
            "--freq",
            "0:12000",
            "--quiet",
            tiny=False,
        ),
        names="--freq",
    )
    ref(
        "front --freq log from 0", g, front(img, song, "run", "--freq-scale", "log", "--freq", "0:3000"), names="--freq"
    )
    ref("front --freq too narrow", g, front(img, song, "run", "--freq", "100:101"), names="--freq")
    for opt, value in (
        ("--quality", "ultra"),
        ("--quality", ""),
        ("--freq-scale", "mel"),
        ("--fit", "zoom"),
        ("--algorithm", "adam"),
        ("--audio-objective", "ears"),
        ("--device", "tpu"),
        ("--device", "cuda:7"),
        ("--device", "mps"),
        ("--device", ""),
    ):
        ref(
            f"front {opt} {value or 'empty'}",
            g,
            front(img, song, "run", opt, value),
            quick_=value == "tpu",
            names=opt.lstrip("-"),
        )
    ref("front unknown option", g, front(img, song, "run", "--frobnicate"), quick_=True, names="--frobnicate")
    ref("front missing --image", g, ["front", "--audio", song, "--out", "run", *TINY], names="--image")
    ref("front no arguments at all but front", g, ["front"])
    ref("front --points without value", g, [*front(img, song, "run"), "--points"], names="--points")
    # the valid edges (cheap enough to run)
    acc(
        "front --sample-rate 192000",
        g,
        front(img, song, "run", "--sample-rate", "192000", "--n-fft", "1024", "--hop", "256", "--duration", "0.5"),
    )
    acc("front --n-fft 64 --hop 4", g, front(img, song, "run", "--n-fft", "64", "--hop", "4", "--duration", "0.5"))
    acc(
        "front --n-fft 16384 (2 s at 22.05 kHz)",
        g,
        front(img, song, "run", "--n-fft", "16384", "--hop", "1024", "--sample-rate", "22050", "--duration", "2"),
    )
    ref(
        "front --n-fft 16384 on a 1 s clip at 8 kHz (one window > clip)",
        g,
        front(img, song, "run", "--n-fft", "16384", "--hop", "1024"),
        note="a window longer than the whole segment: a clean refusal (or a valid run) is fine, a traceback is not",
    )
    acc("front --hop n_fft/2 --freq 0:4000 (= Nyquist)", g, front(img, song, "run", "--hop", "128", "--freq", "0:4000"))
    acc(
        "front --seed 2^63-1 --device CPU (upper case)",
        g,
        front(img, song, "run", "--seed", str(2**63 - 1), "--device", "CPU"),
    )
    acc(
        "front --duration 0.5 (min) --time 0:100 (clipped)",
        g,
        front(img, song, "run", "--duration", "0.5", "--time", "0:100"),
    )
    acc(
        "front --duration inf (= all) --db-range 200 --gamma 10",
        g,
        front(img, song, "run", "--duration", "inf", "--db-range", "200", "--gamma", "10"),
        note="'inf' reads as 'all' (make_settings)",
    )
    acc(
        "front --start 3.5 --duration 1e9 (0.78 s left)",
        g,
        front(img, song, "run", "--start", "3.5", "--duration", "1e9"),
    )
    acc(
        "front --freq-scale log --fit contain --invert --db-range 10 --gamma 0.1",
        g,
        front(
            img,
            song,
            "run",
            "--freq-scale",
            "log",
            "--fit",
            "contain",
            "--invert",
            "--db-range",
            "10",
            "--gamma",
            "0.1",
        ),
    )
    acc("front --memory-limit 0.05 (one mask at a time)", g, front(img, song, "run", "--memory-limit", "0.05"))
    acc(
        "front --algorithm nsga2 --audio-objective logmel",
        g,
        front(img, song, "run", "--algorithm", "nsga2", "--audio-objective", "logmel"),
    )

    # ---- blend ----------------------------------------------------------------------------------------------------
    g = "blend"
    for label, value in {
        "below": "-0.01",
        "above": "1.01",
        "nan": "nan",
        "inf": "inf",
        "text": "half",
        "empty": "",
    }.items():
        ref(
            f"blend --alpha {label}",
            g,
            front(img, song, "run", "--alpha", value, cmd="blend"),
            quick_=label == "nan",
            names="--alpha",
        )
    ref("blend missing --alpha", g, front(img, song, "run", cmd="blend"), names="--alpha")
    ref("blend --hop 1", g, front(img, song, "run", "--alpha", "0.5", "--hop", "1", cmd="blend"), names="--hop")
    ref("blend --out existing run", g, front(img, song, "older_run", "--alpha", "0.5", cmd="blend"), names="older_run")
    acc("blend --alpha 1 (edge)", g, front(img, song, "run", "--alpha", "1", cmd="blend"))

    # ---- 2. input files -------------------------------------------------------------------------------------------
    g = "inputs"
    for label, audio in {
        "missing": p("nope.wav"),
        "folder": p("a_folder.wav"),
        "empty": p("empty.wav"),
        "text named .wav": p("text.wav"),
        "truncated header": p("trunc_header.wav"),
        "rate 4000 Hz": p("rate4000.wav"),
        "0.3 s long": p("short_03.wav"),
        "silent": p("silent.wav"),
        "NaN samples": p("nan.wav"),
        "symlink loop": p("loop.wav"),
        "/dev/zero": "/dev/zero",
    }.items():
        name = Path(audio).name if audio.startswith(str(fx.dir)) else audio
        ref(
            f"audio {label}", g, front(img, audio), quick_=label in ("missing", "text named .wav", "silent"), names=name
        )
    ref(
        "audio truncated FLAC, --duration all",
        g,
        front(img, p("trunc.flac"), "run", "--duration", "all"),
        names="trunc.flac",
    )
    acc(
        "audio WAV cut short (data cut in half), --duration all: used with a notice",
        g,
        front(img, p("trunc_data.wav"), "run", "--duration", "all"),
        note="decision: every player plays what is there; MOSS too, saying the header announced 4.28 s",
    )
    ref(
        "audio FIFO named song.wav",
        g,
        lambda c: front(img, str(c / "fifo.wav")),
        prepare=lambda c: os.mkfifo(c / "fifo.wav"),
        names="fifo.wav",
        timeout=40,
        note="nothing ever writes to the pipe: reading it blocks",
    )
    ref("audio chmod 000", g, front(img, p("noread.wav")), drop_dac=True, names="noread.wav")
    # awkward valid inputs, a picture and a song per run (the error line would name the one at fault)
    acc(
        "image palette+tRNS, audio truncated MP3 (a shorter valid stream), --duration all",
        g,
        front(p("palette_trns.png"), p("trunc.mp3"), "run", "--duration", "all"),
    )
    acc(
        "image grayscale, audio 11025 Hz: the band top lowered to the song's, with a notice",
        g,
        front(p("gray.png"), p("rate11025.wav")),
    )
    acc("image 16-bit PNG, audio 96000 Hz", g, front(p("gray16.png"), p("rate96000.wav")))
    acc("image grayscale, audio 6 channels", g, front(p("gray.png"), p("six_ch.wav")))
    acc("image CMYK JPEG, audio stereo FLAC", g, front(p("cmyk.jpg"), p("stereo.flac")))
    acc(
        "image JPEG named .png, audio 1 s long with --duration 30",
        g,
        front(p("jpeg_named.png"), p("one_s.wav"), "run", "--duration", "30"),
    )
    acc("audio name with spaces", g, front(img, p("my song (live).wav")))
    acc("audio name unicode", g, front(img, p("песня ♫ 歌.wav"), "ранний ♫ run"), output="ранний ♫ run")
    acc(
        "audio+image+out names not UTF-8",
        g,
        front(p(NONUTF8_PNG), p(NONUTF8_WAV), os.fsdecode(b"run\xfd")),
        output=os.fsdecode(b"run\xfd"),
    )
    for label, image in {
        "missing": p("nope.png"),
        "folder": p("a_folder.wav"),
        "empty": p("empty.png"),
        "text named .png": p("text.png"),
        "truncated PNG": p("trunc.png"),
        "20000x20000 (decompression bomb)": p("bomb.png"),
        "crafted header 100000x100000": p("header_only.png"),
        "fully transparent": p("transparent.png"),
        "1x1 (issue 22)": p("one_px.png"),
    }.items():
        ref(
            f"image {label}",
            g,
            front(image, song),
            names=Path(image).name,
            quick_=label in ("text named .png", "crafted header 100000x100000"),
        )

    # ---- 3. output locations --------------------------------------------------------------------------------------
    g = "out"

    def folder_with(*files: tuple[str, str]) -> Callable[[Path], None]:
        def prepare(c: Path) -> None:
            (c / "stuff").mkdir()
            for name, text in files:
                (c / "stuff" / name).write_text(text, encoding="utf-8")

        return prepare

    def older_with(name: str, data: bytes) -> Callable[[Path], None]:
        return lambda c: (c / "older_run" / name).write_bytes(data)

    ref(
        "out existing non-run folder",
        g,
        front(img, song, "stuff"),
        prepare=folder_with(("a.txt", "mine")),
        quick_=True,
        names="stuff",
    )
    ref(
        "out existing non-run folder --overwrite",
        g,
        front(img, song, "stuff", "--overwrite"),
        prepare=folder_with(("a.txt", "mine")),
        names="stuff",
    )
    ref("out existing run, no --overwrite", g, front(img, song, "older_run"), names="older_run")
    ref(
        "out run + user's notes.txt, --overwrite",
        g,
        front(img, song, "older_run", "--overwrite"),
        prepare=older_with("notes.txt", NOTES.encode()),
        quick_=True,
        names="older_run",
    )
    ref(
        "out run + user's point_001.mp3, --overwrite",
        g,
        front(img, song, "older_run", "--overwrite"),
        prepare=older_with("point_001.mp3", b"ID3" + bytes(500)),
        names="older_run",
    )
    ref(
        "out run + user's subfolder, --overwrite",
        g,
        front(img, song, "older_run", "--overwrite"),
        prepare=lambda c: (c / "older_run" / "mine").mkdir(),
        names="older_run",
    )
    ref(
        "out symlink to a run, --overwrite",
        g,
        front(img, song, "link_run", "--overwrite"),
        prepare=lambda c: os.symlink("older_run", c / "link_run"),
        names="link_run",
    )
    ref("out is an existing file", g, front(img, song, "notes.txt"), names="notes.txt")
    ref("out is an existing file --overwrite", g, front(img, song, "notes.txt", "--overwrite"), names="notes.txt")
    ref("out through a regular file", g, front(img, song, "notes.txt/run"), quick_=True, names="notes.txt")
    ref("out empty string (= the current folder)", g, front(img, song, ""))
    ref("out . --overwrite", g, front(img, song, ".", "--overwrite"))
    ref(
        "out inside a read-only folder",
        g,
        front(img, song, "ro/run"),
        drop_dac=True,
        names="ro",
        prepare=lambda c: (c / "ro").mkdir(mode=0o555),
    )
    ref(
        "out under a read-only folder, missing parents",
        g,
        front(img, song, "ro/a/b/run"),
        drop_dac=True,
        names="ro",
        prepare=lambda c: (c / "ro").mkdir(mode=0o555),
    )
    acc(
        "out run with its own files only, --overwrite",
        g,
        front(img, song, "older_run", "--overwrite"),
        output="older_run",
        may_change=("older_run",),
        quick_=True,
    )
    acc(
        "out existing empty folder",
        g,
        front(img, song, "empty_dir"),
        output="empty_dir",
        prepare=lambda c: (c / "empty_dir").mkdir(),
        may_change=("empty_dir",),
    )
    acc("out named pipe:1 (relative)", g, front(img, song, "pipe:1"), output="pipe:1")
    acc("out missing parents a/b/c/run", g, front(img, song, "a/b/c/run"), output="a/b/c/run", new_root="a")
    dead = dead_pid()
    acc(
        "out with stale staging folders (dead owner swept, live kept)",
        g,
        front(img, song, "run"),
        prepare=lambda c: plant_stale(c, ".run.", dead),
        check=stale_check(".run."),
        quick_=True,
        may_remove=(".run.dead0001.moss-tmp", ".run.dead0002.moss-old"),
    )

    # ---- render ---------------------------------------------------------------------------------------------------
    g = "render"

    def with_run(extra: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
        def prepare(c: Path) -> None:
            shutil.copytree(fx.base_run, c / "run")
            (c / "run" / "notes.txt").write_text(NOTES, encoding="utf-8")
            if extra is not None:
                extra(c)

        return prepare

    rr = ["render", "run"]
    acc(
        "render --point 0 (default out in the run folder)",
        g,
        [*rr, "--point", "0"],
        prepare=with_run(),
        output="run/point_000_copy.wav",
        kind="file",
        older_run=False,
    )
    for fmt in ("flac", "mp3", "ogg", "opus"):
        acc(
            f"render --point -1 --format {fmt}",
            g,
            [*rr, "--point", "-1", "--out", f"out.{fmt}"],
            prepare=with_run(),
            output=f"out.{fmt}",
            kind="file",
            older_run=False,
        )
    acc(
        "render --out pipe:1 --format wav",
        g,
        [*rr, "--point", "1", "--out", "pipe:1", "--format", "wav"],
        prepare=with_run(),
        output="pipe:1",
        kind="file",
        older_run=False,
    )
    acc(
        "render --out pipe:1.mp3",
        g,
        [*rr, "--point", "1", "--out", "pipe:1.mp3"],
        prepare=with_run(),
        output="pipe:1.mp3",
        kind="file",
        older_run=False,
    )
    acc(
        "render --full",
        g,
        [*rr, "--point", "-1", "--full", "--out", "full.flac"],
        prepare=with_run(),
        output="full.flac",
        kind="file",
        older_run=False,
    )
    acc(
        "render --out existing file --overwrite",
        g,
        [*rr, "--point", "0", "--out", "old.wav", "--overwrite"],
        prepare=with_run(lambda c: (c / "old.wav").write_bytes(b"RIFF old")),
        output="old.wav",
        kind="file",
        may_change=("old.wav",),
        older_run=False,
    )
    ref(
        "render --out existing file",
        g,
        [*rr, "--point", "0", "--out", "old.wav"],
        names="old.wav",
        quick_=True,
        prepare=with_run(lambda c: (c / "old.wav").write_bytes(b"RIFF old")),
        older_run=False,
    )
    ref(
        "render --out the run's own point file --overwrite",
        g,
        [*rr, "--point", "0", "--out", "run/point_001.wav", "--overwrite"],
        prepare=with_run(),
        older_run=False,
        names="point_001.wav",
    )
    ref(
        "render --out the run's manifest --format wav --overwrite",
        g,
        [*rr, "--point", "0", "--out", "run/manifest.json", "--format", "wav", "--overwrite"],
        prepare=with_run(),
        older_run=False,
        names="manifest.json",
    )
    ref(
        "render --out a folder",
        g,
        [*rr, "--point", "0", "--out", "run"],
        prepare=with_run(),
        older_run=False,
        names="run",
    )
    ref(
        "render --out through a file",
        g,
        [*rr, "--point", "0", "--out", "notes.txt/x.wav"],
        prepare=with_run(),
        older_run=False,
        names="notes.txt",
    )
    ref(
        "render --out in a read-only folder",
        g,
        [*rr, "--point", "0", "--out", "ro/x.wav"],
        drop_dac=True,
        prepare=with_run(lambda c: (c / "ro").mkdir(mode=0o555)),
        older_run=False,
        names="ro",
    )
    ref(
        "render --out unknown suffix",
        g,
        [*rr, "--point", "0", "--out", "x.xyz"],
        prepare=with_run(),
        older_run=False,
        names="x.xyz",
    )
    ref(
        "render --out suffix vs --format",
        g,
        [*rr, "--point", "0", "--out", "x.mp3", "--format", "wav"],
        prepare=with_run(),
        older_run=False,
        names="x.mp3",
    )
    ref(
        "render --format bogus",
        g,
        [*rr, "--point", "0", "--format", "aiff"],
        prepare=with_run(),
        older_run=False,
        names="--format",
    )
    for label, value in {
        "past end": "2",
        "before start": "-3",
        "huge": "99999999999999999999999",
        "text": "abc",
        "empty": "",
        "nan": "nan",
    }.items():
        ref(
            f"render --point {label}",
            g,
            [*rr, "--point", value],
            prepare=with_run(),
            older_run=False,
            quick_=label == "past end",
            names="--point",
        )
    ref("render missing --point", g, rr, prepare=with_run(), older_run=False, names="--point")
    ref("render run folder missing", g, ["render", "nope", "--point", "0"], names="nope")
    ref("render run folder is a file", g, ["render", "notes.txt", "--point", "0"], names="notes.txt")
    ref(
        "render non-run folder",
        g,
        ["render", "stuff", "--point", "0"],
        prepare=folder_with(("a.txt", "x")),
        names="stuff",
    )

    # ---- morph ----------------------------------------------------------------------------------------------------
    g = "morph"
    acc("morph", g, ["morph", "run"], prepare=with_run(), output="run", kind="morph", older_run=False, quick_=True)
    acc(
        "morph --no-video + stale .morph staging",
        g,
        ["morph", "run", "--no-video"],
        older_run=False,
        prepare=with_run(lambda c: plant_stale(c / "run", ".morph.", dead)),
        output="run",
        kind="morph-novideo",
        check=stale_check("run/.morph."),
        may_remove=("run/.morph.dead0001.moss-tmp", "run/.morph.dead0002.moss-old"),
    )

    def with_morph(c: Path) -> None:
        (c / "run" / "morph.json").write_text('{"states": "the user\'s earlier morph"}', encoding="utf-8")

    ref(
        "morph over an earlier morph, no --overwrite",
        g,
        ["morph", "run", "--no-video"],
        prepare=with_run(with_morph),
        older_run=False,
        names="run",
    )
    acc(
        "morph --overwrite over an earlier morph",
        g,
        ["morph", "run", "--no-video", "--overwrite"],
        prepare=with_run(with_morph),
        output="run",
        kind="morph-novideo",
        may_change=("run/morph.json",),
        older_run=False,
    )
    ref("morph run folder missing", g, ["morph", "nope"], names="nope")
    ref("morph run folder is a file", g, ["morph", "notes.txt"], names="notes.txt")
    ref(
        "morph into a read-only run folder",
        g,
        ["morph", "run", "--no-video"],
        drop_dac=True,
        older_run=False,
        prepare=with_run(lambda c: os.chmod(c / "run", 0o555)),
        names="run",
    )

    # ---- 4. damaged run folders -----------------------------------------------------------------------------------
    g = "damaged"
    for dname, how, readers, q in damages():

        def prep(c: Path, how: Callable[[Path], None] = how) -> None:
            with_run()(c)
            how(c / "run")

        for reader, expect in readers.items():
            if reader == "loader":
                continue  # in a batch, below
            argv = {
                "render": ["render", "run", "--point", "0", "--out", "out.wav"],
                "full": ["render", "run", "--point", "0", "--full", "--out", "out.wav"],
                "morph": ["morph", "run", "--no-video"],
            }[reader]
            label = {"render": "render", "full": "render --full", "morph": "morph"}[reader]
            kw: dict[str, Any] = {"prepare": prep, "older_run": False, "quick_": q and reader != "morph"}
            if expect == "accept":
                kw.update(
                    output="out.wav" if reader != "morph" else "run",
                    kind="file" if reader != "morph" else "morph-novideo",
                )
                if reader == "morph" and dname != "intact":
                    kw["note"] = "morph rebuilds the audio from the masks and the song: it needs no point WAV"
                acc(f"{label} on {dname}", g, argv, **kw)
            else:
                ref(f"{label} on {dname}", g, argv, **kw)
    # ---- 5. the output place (issue 26): names at the limit, what --overwrite replaces, newer formats, a full disk --
    g = "place"
    limit = os.pathconf(fx.dir, "PC_NAME_MAX")
    for n in (240, 250, limit):
        acc(f"out name of {n} bytes", g, front(img, song, "r" * n), output="r" * n, quick_=n == limit)
    ref(f"out name of {limit + 1} bytes", g, front(img, song, "r" * (limit + 1)), names=f"at most {limit}")
    long_wav = "p" * (limit - 4) + ".wav"
    acc(
        f"render --out name of {limit} bytes",
        g,
        [*rr, "--point", "0", "--out", long_wav],
        prepare=with_run(),
        output=long_wav,
        kind="file",
        older_run=False,
    )
    ref(
        f"render --out name of {limit + 1} bytes",
        g,
        [*rr, "--point", "0", "--out", "p" + long_wav],
        prepare=with_run(),
        older_run=False,
        names=f"at most {limit}",
    )

    def special(kind: str, name: str) -> Callable[[Path], None]:
        def prepare(c: Path) -> None:
            path = c / name
            if kind == "fifo":
                os.mkfifo(path)
            elif kind == "socket":
                sock = socket.socket(socket.AF_UNIX)
                sock.bind(str(path))
                sock.close()
            elif kind == "device":  # a copy of /dev/null, as mknod makes it
                os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            else:
                os.symlink("notes.txt", path)

        return prepare

    kinds = [("fifo", "FIFO"), ("socket", "socket"), ("symlink", "symbolic link")]
    if os.geteuid() == 0:
        kinds.append(("device", "character device"))
    for kind, words in kinds:
        ref(
            f"render --overwrite onto a {words}",
            g,
            [*rr, "--point", "0", "--out", f"{kind}.wav", "--overwrite"],
            prepare=with_run(special(kind, f"{kind}.wav")),
            older_run=False,
            names=words,
            quick_=kind == "device",
        )
        ref(f"front --overwrite onto a {words}", g, front(img, song, kind, "--overwrite"), prepare=special(kind, kind))

    def newer(where: str) -> Callable[[Path], None]:
        def prepare(c: Path) -> None:
            if where == "run":
                with_run()(c)
            manifest = c / where / "manifest.json"
            manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": "moss-run/9"}))

        return prepare

    ref("render a moss-run/9 folder", g, [*rr, "--point", "0", "--out", "out.wav"], prepare=newer("run"), names="newer")
    ref("morph a moss-run/9 folder", g, ["morph", "run", "--no-video"], prepare=newer("run"), names="newer")
    ref(
        "front --overwrite onto a moss-run/9 folder",
        g,
        front(img, song, "older_run", "--overwrite"),
        prepare=newer("older_run"),
        names="newer",
    )

    def read_only_run(c: Path) -> None:
        (c / "ro").mkdir()
        shutil.copytree(fx.base_run, c / "ro" / "run")
        os.chmod(c / "ro", 0o555)

    ref(
        "front --overwrite a run in a read-only folder (refused before the work)",
        g,
        front(img, song, "ro/run", "--overwrite"),
        drop_dac=True,
        prepare=read_only_run,
        names="ro/run",
        max_seconds=SLOW_REFUSAL_S,
        quick_=True,
    )
    acc(
        "picture named in scripts the plot's font lacks (no Glyph warnings)",
        g,
        front(p(CJK_PNG), song),
        stderr_free_of=("Glyph", "Warning"),
    )

    # a small disk (a 30 MB tmpfs, as root) that is full, or that another program fills while the run works
    def on_disk(then: Callable[[Path], None] | None = None, full: bool = False) -> Callable[[Path], None]:
        def prepare(c: Path) -> None:
            (c / "disk").mkdir()
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(c / "disk")], check=True)
            if then is not None:
                then(c)
            if full:
                fill(c / "disk")

        return prepare

    def unmount(c: Path) -> None:
        subprocess.run(["umount", "-l", str(c / "disk")], check=False, capture_output=True)

    def fill_once_working(c: Path, proc: subprocess.Popen) -> None:
        """Fill the disk once the run computes (its listening workers are up): past every check before the work."""
        deadline = time.monotonic() + 200
        while proc.poll() is None and time.monotonic() < deadline:
            if len(session_members(proc.pid)) >= 3:  # the run, two workers (and the resource tracker)
                fill(c / "disk")
                return
            time.sleep(0.05)

    disk = {"needs_root": True, "cleanup": unmount, "ignore": ("disk/filler.bin",)}
    ref(
        "front onto a disk another program fills during the run",
        g,
        front(img, song, "disk/run", "--points", "6"),
        prepare=on_disk(),
        during=fill_once_working,
        names="needs about",
        timeout=ACCEPT_TIMEOUT_S,
        **disk,
    )
    ref("front onto a full disk", g, front(img, song, "disk/run"), prepare=on_disk(full=True), names="MB", **disk)
    ref(
        "render --full onto a full disk",
        g,
        [*rr, "--point", "-1", "--full", "--out", "disk/full.flac"],
        prepare=with_run(on_disk(full=True)),
        older_run=False,
        names="MB",
        **disk,
    )
    ref(
        "render onto a full disk",
        g,
        [*rr, "--point", "0", "--out", "disk/point.wav"],
        prepare=with_run(on_disk(full=True)),
        older_run=False,
        names="MB",
        **disk,
    )

    def run_on_disk(c: Path) -> None:
        shutil.copytree(fx.base_run, c / "disk" / "run")

    ref(
        "morph in a run folder on a full disk (no --out named)",
        g,
        ["morph", "disk/run", "--no-video"],
        prepare=on_disk(run_on_disk, full=True),
        older_run=False,
        names="MB",
        stderr_free_of=("--out",),  # morph has no --out to choose
        **disk,
    )
    if quick:
        cases = [c for c in cases if c.quick]
    return cases


def fill(folder: Path) -> None:
    """Take every free byte of ``folder``'s disk with ``filler.bin`` (another program's file)."""
    with open(folder / "filler.bin", "ab", buffering=0) as f:
        for block in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
            try:
                while True:
                    f.write(bytes(block))
                    f.flush()
            except OSError:
                continue


# --------------------------------------------------------------------------------------------------------- running


def show_cmd(argv: list[str]) -> str:
    return "moss " + " ".join(shlex.quote(os.fsencode(a).decode("utf-8", "backslashreplace")) for a in argv)


def output_problems(case: Case, folder: Path) -> list[str]:
    if not case.output:
        return []
    out = folder / case.output
    if not (out.exists() or out.is_symlink()):
        return [f"expected output {case.output} is missing"]
    if case.kind == "run":
        try:
            str(out).encode("utf-8")
        except UnicodeEncodeError:  # check_run.py gives soundfile a str path, which cannot hold such bytes
            link = Path(tempfile.mkdtemp(prefix="link.", dir=folder.parent)) / "run"
            link.symlink_to(out)
            out = link
        r = subprocess.run(
            [sys.executable, str(CHECK_RUN), str(out)], capture_output=True, text=True, errors="replace", timeout=120
        )
        if r.returncode != 0:
            return ["check_run.py: " + " | ".join((r.stdout + r.stderr).strip().splitlines()[:4])]
        return []
    if case.kind == "file":
        if not out.is_file() or out.stat().st_size == 0:
            return [f"{case.output} is not a non-empty file"]
        try:
            import soundfile as sf

            info = sf.info(str(out))
            if info.frames <= 0:
                return [f"{case.output}: no audio frames"]
        except Exception as exc:  # noqa: BLE001 - any failure to read it is the finding
            if out.suffix != ".opus":
                return [f"{case.output}: soundfile cannot read it ({exc})"]
        return []
    if case.kind.startswith("morph"):
        need = ["morph.json", "morph.wav"] + ([] if case.kind == "morph-novideo" else ["morph.mp4"])
        missing = [n for n in need if not (out / n).is_file() or (out / n).stat().st_size == 0]
        if missing:
            return [f"morph files missing: {', '.join(missing)}"]
        try:
            json.loads((out / "morph.json").read_text(encoding="utf-8"))["states"][0]["alpha"]
        except Exception as exc:  # noqa: BLE001
            return [f"morph.json unreadable ({exc})"]
        return []
    return []


def judge(
    case: Case, folder: Path, before: dict, after: dict, code: int | None, stderr: str, timed_out: bool
) -> tuple[list[str], list[str], list[str]]:
    """(problems, partial outputs, user files lost) of a finished case."""
    problems: list[str] = []
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if timed_out:
        problems.append(f"timed out after {case.timeout or ACCEPT_TIMEOUT_S:.0f} s (killed)")
    if "Traceback" in stderr:
        problems.append("traceback on stderr")
    allowed_new: tuple[str, ...] = ()
    if case.expect == "accept":
        if code != 0:
            problems.append(f"exit {code}, expected 0")
        else:
            problems += output_problems(case, folder)
        allowed_new = tuple(x for x in (case.new_root or case.output,) if x)
    else:
        if code != 2:
            problems.append(f"exit {code}, expected 2")
        if len(lines) != 1:
            problems.append(f"{len(lines)} non-empty lines on stderr, expected 1")
        elif case.names and case.names not in lines[0]:
            problems.append(f"the line does not name {case.names!r}")
    for text in case.stderr_free_of:
        if text in stderr:
            problems.append(f"{text!r} on stderr")
    added = [k for k in after if k not in before and not under(k, case.ignore)]
    # a refusal-expected case that ran to completion wrote a whole output: that is its failure, not a partial output
    wrongly_done = case.expect == "refuse" and code == 0
    partial = sorted(k for k in added if is_temp(k) or not (under(k, allowed_new) or wrongly_done))
    removable = case.may_change + case.may_remove if case.expect == "accept" else case.may_remove
    lost = sorted(k for k in before if after.get(k) != before[k] and not under(k, removable + case.ignore))
    if case.check is not None:
        problems += case.check(folder, before, after)
    return problems, partial, lost


def relax_permissions(folder: Path) -> None:
    for base, dirs, _files in os.walk(folder):
        for name in dirs:
            p = Path(base) / name
            if not p.is_symlink():
                with contextlib.suppress(OSError):
                    os.chmod(p, 0o755)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o755)


def run_case(case: Case, root: Path, fx: Fx, drop: list[str] | None) -> Result:
    timeout = case.timeout or ACCEPT_TIMEOUT_S
    folder = Path(tempfile.mkdtemp(prefix="case.", dir=root / "cases"))
    argv: list[str] = []
    try:
        if case.drop_dac and drop is None:
            return Result(
                case.name,
                case.group,
                case.expect,
                "",
                None,
                0,
                "",
                0.0,
                "SKIP",
                note="running as root without setpriv: permissions do not bite",
            )
        if case.needs_root and os.geteuid() != 0:
            return Result(
                case.name, case.group, case.expect, "", None, 0, "", 0.0, "SKIP", note="mounts a small disk: needs root"
            )
        (folder / "notes.txt").write_text(NOTES, encoding="utf-8")
        if case.older_run and fx.base_run is not None:
            shutil.copytree(fx.base_run, folder / "older_run")
        if case.prepare is not None:
            case.prepare(folder)
        argv = case.argv(folder) if callable(case.argv) else list(case.argv)
        before = snapshot(folder)
        cmd = [*(drop if case.drop_dac and drop else []), sys.executable, "-m", "moss_engine.cli", *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        beside = None
        if case.during is not None:
            beside = threading.Thread(target=case.during, args=(folder, proc), daemon=True)
            beside.start()
        timed_out = False
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            _out, err = proc.communicate()
        seconds = time.perf_counter() - start
        survivors = surviving(proc.pid)
        if beside is not None:
            beside.join(30)
        stderr = err.decode("utf-8", "replace")
        after = snapshot(folder)
        problems, partial, lost = judge(case, folder, before, after, proc.returncode, stderr, timed_out)
        if survivors:
            problems.append(f"{survivors} process(es) of the command alive 2 s after it ended")
        if case.max_seconds is not None and proc.returncode == 2 and seconds > case.max_seconds:
            problems.append(f"refused after {seconds:.0f} s: the check must come before the work")
        note = case.note
        if case.expect == "refuse" and proc.returncode == 2 and seconds > SLOW_REFUSAL_S:
            note = (note + "; " if note else "") + f"slow refusal ({seconds:.0f} s)"
        if case.drop_dac and drop:
            note = (note + "; " if note else "") + "run under setpriv without CAP_DAC_OVERRIDE"
        return Result(
            case.name,
            case.group,
            case.expect,
            show_cmd(argv),
            "timeout" if timed_out else proc.returncode,
            len([ln for ln in stderr.splitlines() if ln.strip()]),
            stderr,
            round(seconds, 2),
            "FAIL" if problems or partial or lost else "PASS",
            problems,
            partial,
            lost,
            note,
            survivors,
        )
    except Exception as exc:  # noqa: BLE001 - a broken case is reported, not fatal
        return Result(
            case.name,
            case.group,
            case.expect,
            show_cmd(argv),
            None,
            0,
            "",
            0.0,
            "FAIL",
            [f"the campaign could not run this case: {type(exc).__name__}: {exc}"],
        )
    finally:
        if case.cleanup is not None:
            with contextlib.suppress(Exception):
                case.cleanup(folder)
        relax_permissions(folder)
        shutil.rmtree(folder, ignore_errors=True)


def session_members(sid: int) -> list[int]:
    """The running processes of the session ``sid`` (every case starts its command in a session of its own: its
    listening workers and multiprocessing's resource tracker stay in it). Linux's /proc; [] elsewhere."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(stat_file.parent.name))
    return found


def surviving(sid: int, wait_s: float = 2.0) -> int:
    """How many processes of the session ``sid`` are still alive ``wait_s`` after its leader ended (then killed)."""
    deadline = time.monotonic() + wait_s
    while (alive := session_members(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return len(alive)


# ------------------------------------------------------------------------------------------ the app's Open Run


def loader_probe(folders: list[str]) -> int:
    """Child mode: call the app's ``load_run`` on each folder, print one JSON line per folder."""
    sys.path.insert(0, str(ROOT))
    from moss_engine.errors import MossError
    from moss_engine.run.reader import read_run as load_run

    for f in folders:
        rec: dict[str, Any] = {"folder": f}
        try:
            result = load_run(Path(f))
            rec.update(ok=True, points=len(result.points))
        except MossError as exc:
            rec.update(ok=False, moss_error=True, type=type(exc).__name__, message=str(exc))
        except BaseException as exc:  # noqa: BLE001 - what else escapes is the finding
            rec.update(ok=False, moss_error=False, type=type(exc).__name__, message=str(exc)[:300])
        print(json.dumps(rec), flush=True)
    return 0


def run_loader_cases(root: Path, fx: Fx, quick: bool, only: str | None) -> list[Result]:
    chosen = [(n, how, r["loader"]) for n, how, r, q in damages() if "loader" in r and (q or not quick)]
    chosen = [c for c in chosen if only is None or only in f"open-run loader on {c[0]}"]
    if not chosen or fx.base_run is None:
        return []
    base = Path(tempfile.mkdtemp(prefix="loader.", dir=root / "cases"))
    folders, befores = [], []
    for name, how, _expect in chosen:
        run = base / name / "run"
        run.parent.mkdir()
        shutil.copytree(fx.base_run, run)
        how(run)
        folders.append(str(run))
        befores.append(snapshot(run.parent))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--loader-probe", *folders],
        cwd=base,
        env=env(),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=600,
    )
    seconds = (time.perf_counter() - start) / len(chosen)
    got = {}
    for line in proc.stdout.splitlines():
        try:
            rec = json.loads(line)
            got[rec["folder"]] = rec
        except (ValueError, KeyError):
            continue
    results = []
    for (name, _how, expect), folder, before in zip(chosen, folders, befores, strict=True):
        rec = got.get(folder)
        after = snapshot(Path(folder).parent)
        problems: list[str] = []
        if rec is None:
            problems.append(
                f"the loader process died before this folder (exit {proc.returncode}): "
                f"{proc.stderr.strip().splitlines()[-1:]}"
            )
            shown: str = "crash"
        elif expect == "accept":
            shown = "ok" if rec["ok"] else rec["type"]
            if not rec["ok"]:
                problems.append(f"raised {rec['type']}: {rec['message']}")
        else:
            shown = "ok" if rec["ok"] else rec["type"]
            if rec["ok"]:
                problems.append("loaded without complaint, expected MossError")
            elif not rec["moss_error"]:
                problems.append(f"raised {rec['type']}, not MossError (the app would crash): {rec['message']}")
            elif len([ln for ln in rec["message"].splitlines() if ln.strip()]) != 1:
                problems.append("message is not one line")
        partial = sorted(k for k in after if k not in before)
        lost = sorted(k for k in before if after.get(k) != before[k])
        message = "" if rec is None or rec["ok"] else f"{rec['type']}: {rec['message']}"
        results.append(
            Result(
                f"open-run loader on {name}",
                "loader",
                expect,
                f"load_run({folder!r})",
                shown,
                0 if rec is None or rec["ok"] else 1,
                message,
                round(seconds, 2),
                "FAIL" if problems or partial or lost else "PASS",
                problems,
                partial,
                lost,
                "moss_engine.run.reader.read_run, called directly in a child process",
            )
        )
    shutil.rmtree(base, ignore_errors=True)
    return results


# ------------------------------------------------------------------------------------------------------- signals


def signal_case(root: Path, fx: Fx, sig: signal.Signals, when: str) -> Result:
    """Start a small front; send ``sig`` ``when`` ("early": during the imports, "mid": once the progress bar runs, to
    the process; "at T": T seconds after the start, to the whole process group as a terminal does, the listening
    workers included, on a shorter run that goes through every stage); expect exit 128 + sig, one line, nothing
    written, nothing left, the user's files untouched, no process of the run alive 2 s later."""
    folder = Path(tempfile.mkdtemp(prefix="signal.", dir=root / "cases"))
    (folder / "notes.txt").write_text(NOTES, encoding="utf-8")
    if fx.base_run is not None:
        shutil.copytree(fx.base_run, folder / "older_run")
    at_s = float(when.split()[1]) if when.startswith("at ") else None
    if at_s is not None:
        argv = front(fx.p("img.png"), fx.p("song.wav"), "run", tiny=False)
        argv += ["--points", "4", "--steps", "3", "--duration", "2", "--sample-rate", "8000", "--n-fft", "256"]
        argv += ["--hop", "64"]
        return _signal_run(folder, argv, sig, when, at_s)
    argv = [
        "front",
        "--image",
        fx.p("img.png"),
        "--audio",
        fx.p("song.wav"),
        "--out",
        "run",
        "--points",
        "8",
        "--steps",
        "2000",
        "--duration",
        "3",
        "--sample-rate",
        "8000",
        "--n-fft",
        "256",
        "--hop",
        "64",
    ]
    name = f"front {sig.name} {when}"
    before = snapshot(folder)
    proc = subprocess.Popen(
        [sys.executable, "-m", "moss_engine.cli", *argv],
        cwd=folder,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    err_lines: list[str] = []
    started = threading.Event()

    def read_err() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            err_lines.append(line)
            if line.startswith("["):
                started.set()

    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()
    t0 = time.perf_counter()
    problems: list[str] = []
    if when == "early":
        time.sleep(0.8)
    elif not started.wait(90):
        problems.append("no progress line within 90 s")
    else:
        time.sleep(1.5)
    sent_at = time.perf_counter() - t0
    if proc.poll() is not None:
        problems.append(f"the run ended (exit {proc.returncode}) before the signal")
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait()
        problems.append("still running 60 s after the signal (killed)")
    survivors = surviving(proc.pid)
    if survivors:
        problems.append(f"{survivors} process(es) of the run alive 2 s after it ended")
    reader.join(5)
    assert proc.stdout is not None
    proc.stdout.read()
    stderr = "".join(err_lines)
    ok_codes = {128 + sig.value}
    if code not in ok_codes and not problems:
        problems.append(f"exit {code}, expected {128 + sig.value}")
    if "Traceback" in stderr:
        problems.append("traceback on stderr")
    after = snapshot(folder)
    partial = sorted(k for k in after if k not in before or is_temp(k))
    lost = sorted(k for k in before if after.get(k) != before[k])
    note = f"signal sent {sent_at:.1f} s after the start"
    if code == -sig.value:
        note += "; ended by the signal's default action (before the handler was installed)"
    relax_permissions(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return Result(
        name,
        "signals",
        "signal",
        show_cmd(argv),
        code,
        len([ln for ln in err_lines if ln.strip()]),
        stderr[-2000:],
        round(time.perf_counter() - t0, 2),
        "FAIL" if problems or partial or lost else "PASS",
        problems,
        partial,
        lost,
        note,
        survivors,
    )


def _signal_run(folder: Path, argv: list[str], sig: signal.Signals, when: str, at_s: float) -> Result:
    """``signal_case`` at a moment: the signal to the process group ``at_s`` seconds after the start."""
    before = snapshot(folder)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moss_engine.cli", *argv],
        cwd=folder,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    problems: list[str] = []
    note = f"signal to the process group {at_s:.1f} s after the start"
    try:
        proc.wait(timeout=at_s)
        finished_first = True
    except subprocess.TimeoutExpired:
        finished_first = False
        os.killpg(proc.pid, sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        problems.append("still running 60 s after the signal (killed)")
    survivors = surviving(proc.pid)
    stderr = err.decode("utf-8", "replace")
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("[", "moss: note:"))]
    after = snapshot(folder)
    if finished_first:
        note += "; the run had finished by then"
        if proc.returncode != 0:
            problems.append(f"exit {proc.returncode} before the signal")
        partial = sorted(k for k in after if is_temp(k))
    else:
        word = "interrupted" if sig == signal.SIGINT else f"terminated ({sig.name})"
        if proc.returncode != 128 + sig.value:
            problems.append(f"exit {proc.returncode}, expected {128 + sig.value}")
        if len(lines) != 1 or word not in lines[0]:
            problems.append(f"{len(lines)} lines besides progress and notes, expected one saying {word!r}")
        partial = sorted(k for k in after if k not in before or is_temp(k))
    if "Traceback" in stderr + out.decode("utf-8", "replace"):
        problems.append("traceback on stderr")
    if survivors:
        problems.append(f"{survivors} process(es) of the run alive 2 s after it ended")
    lost = sorted(k for k in before if after.get(k) != before[k])
    relax_permissions(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return Result(
        f"front {sig.name} {when}",
        "signals",
        "signal",
        show_cmd(argv),
        proc.returncode,
        len(lines),
        stderr[-2000:],
        round(time.perf_counter() - t0, 2),
        "FAIL" if problems or partial or lost else "PASS",
        problems,
        partial,
        lost,
        note,
        survivors,
    )


def kill9_case(root: Path, fx: Fx, stage: str) -> Result:
    """``kill -9`` of a front while it optimises or listens (issue 26 items 1, 2): no process of it (listening
    workers, multiprocessing's resource tracker) alive 2 s later; then a second front in the same folder, stopped by
    SIGTERM while it optimises, must leave the folder as it was before the first (what the dead one left swept)."""
    folder = Path(tempfile.mkdtemp(prefix="kill9.", dir=root / "cases"))
    (folder / "notes.txt").write_text(NOTES, encoding="utf-8")
    if fx.base_run is not None:
        shutil.copytree(fx.base_run, folder / "older_run")
    argv = front(fx.p("img.png"), fx.p("song.wav"), "run", tiny=False)
    argv += ["--points", "8", "--steps", "40", "--duration", "4", "--sample-rate", "8000", "--n-fft", "256"]
    argv += ["--hop", "64"]
    before = snapshot(folder)
    problems: list[str] = []
    t0 = time.perf_counter()

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "moss_engine.cli", *argv],
            cwd=folder,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_for(proc: subprocess.Popen, what: str) -> bool:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            if what == "listening" and len(session_members(proc.pid)) >= 3:  # the run and its workers
                time.sleep(0.3)
                return proc.poll() is None
            if what == "optimising":
                assert proc.stderr is not None
                if proc.stderr.readline().startswith(b"["):
                    time.sleep(1.0)
                    return proc.poll() is None
            else:
                time.sleep(0.05)
        return False

    killed = start()
    survivors = 0
    if not wait_for(killed, stage):
        problems.append(f"the run ended (exit {killed.poll()}) before it was {stage}")
    else:
        os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    survivors = surviving(killed.pid)
    if survivors:
        problems.append(f"{survivors} process(es) of the killed run alive 2 s after it")
    killed.communicate()
    rerun = start()
    if wait_for(rerun, "optimising"):
        rerun.send_signal(signal.SIGTERM)
    try:
        _, err = rerun.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(rerun.pid, signal.SIGKILL)
        _, err = rerun.communicate()
    survivors += surviving(rerun.pid)
    if rerun.returncode != 128 + signal.SIGTERM:
        problems.append(f"the second run: exit {rerun.returncode}, expected {128 + signal.SIGTERM}")
    stderr = err.decode("utf-8", "replace")
    if "Traceback" in stderr:
        problems.append("traceback on stderr")
    after = snapshot(folder)
    partial = sorted(k for k in after if k not in before or is_temp(k))
    lost = sorted(k for k in before if after.get(k) != before[k])
    relax_permissions(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return Result(
        f"front kill -9 while {stage}, then a second front stopped",
        "signals",
        "signal",
        show_cmd(argv),
        rerun.returncode,
        len([ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("[")]),
        stderr[-2000:],
        round(time.perf_counter() - t0, 2),
        "FAIL" if problems or partial or lost else "PASS",
        problems,
        partial,
        lost,
        "processes counted by session (Linux /proc)",
        survivors,
    )


# ------------------------------------------------------------------------------------------------------- report


def can_drop_dac(root: Path) -> list[str] | None:
    """The prefix that makes permissions bite for root (``setpriv``), [] for other users, None if impossible."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    probe = root / "dac-probe"
    probe.write_text("x")
    os.chmod(probe, 0)
    try:
        r = subprocess.run([*DROP_DAC, "cat", str(probe)], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        probe.unlink()
    return DROP_DAC if r.returncode != 0 else None


def print_table(results: list[Result]) -> None:
    w = min(78, max(len(r.name) for r in results))
    print(f"{'case':<{w}}  {'expected':<8}  {'exit':>7}  {'lines':>5}  {'secs':>6}  verdict")
    for r in results:
        name = r.name if len(r.name) <= w else r.name[: w - 1] + "…"
        exit_ = "" if r.exit is None else str(r.exit)
        why = ""
        if r.verdict == "FAIL":
            why = "  " + "; ".join(
                r.problems + [f"left {x}" for x in r.partial[:3]] + [f"lost {x}" for x in r.lost[:3]]
            )
        elif r.verdict == "SKIP":
            why = "  " + r.note
        print(f"{name:<{w}}  {r.expect:<8}  {exit_:>7}  {r.stderr_lines:>5}  {r.seconds:>6.1f}  {r.verdict}{why}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset, under about 3 minutes")
    parser.add_argument("--only", help="run only the cases whose name holds this text")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2; signals run alone)")
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/...)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    parser.add_argument("--list", action="store_true", help="list the cases (CLI cases only) and stop")
    parser.add_argument("--loader-probe", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.loader_probe:
        return loader_probe(args.loader_probe)
    if args.list:
        with tempfile.TemporaryDirectory() as tmp:
            listed = build_cases(Fx(Path(tmp)), args.quick)
        for c in listed:
            print(f"{c.group:<8} {c.expect:<7} {'quick ' if c.quick else '      '}{c.name}")
        print(f"{len(listed)} cases ({sum(c.expect == 'accept' for c in listed)} accept)")
        return 0
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 are printed escaped
        stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    t_start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="moss-hostile."))
    (root / "cases").mkdir()
    print(f"campaign folder: {root}", flush=True)
    try:
        fx = build_fixtures(root / "fx")
        fx_before = snapshot(fx.dir)
        drop = can_drop_dac(root)
        # one small real run folder, reused (copied) by every damaged-run-folder, render and morph case
        base_case = Case(
            "base run folder (front, tiny)",
            "options",
            "accept",
            front(fx.p("img.png"), fx.p("song.wav"), str(root / "base_run")),
            output=None,
            older_run=False,
        )
        base = run_case(base_case, root, fx, drop)
        if base.exit == 0 and (root / "base_run" / "manifest.json").is_file():
            problems = output_problems(Case("", "", "accept", [], output=str(root / "base_run")), root)
            base.problems += problems
            base.verdict = "FAIL" if problems else base.verdict
            fx.base_run = root / "base_run"
        else:
            base.verdict = "FAIL"
            base.problems.append("no base run folder: the render, morph and damaged-folder cases are skipped")
        print(f"base run: {base.verdict} in {base.seconds:.1f} s", flush=True)
        cases = build_cases(fx, args.quick)
        if fx.base_run is None:
            cases = [c for c in cases if c.group not in ("render", "morph", "damaged")]
        if args.only:
            cases = [c for c in cases if args.only in c.name]
        # the slow ones first, so the pool ends evenly
        cases.sort(key=lambda c: 0 if c.expect == "accept" else 1)
        results: list[Result] = [base]
        done = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {pool.submit(run_case, c, root, fx, drop): c for c in cases}
            for fut in concurrent.futures.as_completed(futures):
                r = fut.result()
                results.append(r)
                done += 1
                print(f"[{done}/{len(cases)}] {r.verdict:<4} {r.seconds:6.1f} s  {r.name}", flush=True)
        results += run_loader_cases(root, fx, args.quick, args.only)
        sigs = (
            [(signal.SIGTERM, "mid")]
            if args.quick
            else [(signal.SIGTERM, "mid"), (signal.SIGHUP, "mid"), (signal.SIGINT, "mid"), (signal.SIGTERM, "early")]
        )
        moments = random.Random(26)  # issue 26: each signal at several moments of a run through every stage
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            sigs += [(sig, f"at {moments.uniform(0.3, 14.0):.1f} s") for _ in range(1 if args.quick else 4)]
        for sig, when in sigs:
            if args.only is None or args.only in f"front {sig.name} {when}":
                results.append(signal_case(root, fx, sig, when))
                print(f"signal {sig.name} {when}: {results[-1].verdict}", flush=True)
        for stage in ("optimising", "listening"):
            if args.only is None or args.only in f"kill -9 while {stage}":
                results.append(kill9_case(root, fx, stage))
                print(f"kill -9 while {stage}: {results[-1].verdict}", flush=True)
        fx_after = snapshot(fx.dir)
        changed = sorted(k for k in set(fx_before) | set(fx_after) if fx_before.get(k) != fx_after.get(k))
        results.append(
            Result(
                "the input files (read by every case) untouched",
                "inputs",
                "check",
                "",
                None,
                0,
                "",
                0.0,
                "FAIL" if changed else "PASS",
                [],
                [k for k in changed if k not in fx_before],
                [k for k in changed if k in fx_before],
                "a check over the whole campaign",
            )
        )
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            relax_permissions(root)
            shutil.rmtree(root, ignore_errors=True)
    order = {
        "options": 0,
        "blend": 1,
        "inputs": 2,
        "out": 3,
        "render": 4,
        "morph": 5,
        "damaged": 6,
        "loader": 7,
        "signals": 8,
        "place": 9,
    }
    results.sort(key=lambda r: (order.get(r.group, 9), r.expect, r.name))
    elapsed = time.perf_counter() - t_start

    print()
    print_table(results)
    accepts = [r for r in results if r.expect == "accept" and r.verdict != "SKIP"]
    refuses = [r for r in results if r.expect == "refuse" and r.verdict != "SKIP"]
    sigs_r = [r for r in results if r.expect == "signal"]

    def clean(r: Result) -> bool:
        return not r.problems

    counts = {
        "awkward_valid_accepted": [sum(clean(r) for r in accepts), len(accepts)],
        "broken_refused_cleanly": [sum(clean(r) for r in refuses), len(refuses)],
        "signals_handled_cleanly": [sum(clean(r) for r in sigs_r), len(sigs_r)],
        "cases": len(results),
        "tracebacks": sum(1 for r in results if "Traceback" in r.stderr),
        "surviving_processes": sum(r.survivors for r in results),
        "partial_outputs_left": sum(1 for r in results if r.partial),
        "user_files_lost": sum(1 for r in results if r.lost),
        "skipped": sum(1 for r in results if r.verdict == "SKIP"),
        "failed_cases": sum(1 for r in results if r.verdict == "FAIL"),
    }
    failures = [r for r in results if r.verdict == "FAIL"]
    if failures:
        print("\nFAILURES")
        for r in failures:
            print(f"\n* {r.name}  [{r.group}, expected {r.expect}]\n  command: {r.command}\n  exit: {r.exit}")
            tail = "\n".join(r.stderr.strip().splitlines()[-6:])[-800:]
            if tail:
                print("  stderr: " + tail.replace("\n", "\n          "))
            for text in r.problems:
                print(f"  problem: {text}")
            for text in r.partial:
                print(f"  left behind: {text}")
            for text in r.lost:
                print(f"  user file lost or changed: {text}")
            if r.note:
                print(f"  note: {r.note}")
    print(
        f"\nawkward valid inputs accepted: {counts['awkward_valid_accepted'][0]} of "
        f"{counts['awkward_valid_accepted'][1]}"
    )
    print(
        f"broken inputs refused cleanly: {counts['broken_refused_cleanly'][0]} of {counts['broken_refused_cleanly'][1]}"
    )
    print(f"signals handled cleanly: {counts['signals_handled_cleanly'][0]} of {counts['signals_handled_cleanly'][1]}")
    print(f"cases: {counts['cases']}; tracebacks: {counts['tracebacks']} (cases)")
    print(f"processes alive 2 s after their command ended: {counts['surviving_processes']}")
    print(f"partial outputs left: {counts['partial_outputs_left']} (cases)")
    print(f"user files lost: {counts['user_files_lost']} (cases)")
    if counts["skipped"]:
        print(f"skipped: {counts['skipped']}")
    print(f"total run time: {elapsed:.0f} s")

    path = args.json or RESULTS / ("hostile-cpu2-quick.json" if args.quick else "hostile-cpu2.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "what": "bench/hostile.py: hostile-input campaign of the moss CLI",
        "quick": args.quick,
        "only": args.only,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "euid": os.geteuid(),
        "permission_cases": "setpriv without CAP_DAC_OVERRIDE"
        if drop
        else ("as a normal user" if drop == [] else "skipped"),
        "elapsed_s": round(elapsed, 1),
        "counts": counts,
        "cases": [r.__dict__ for r in results],
    }
    path.write_text(json.dumps(record, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
