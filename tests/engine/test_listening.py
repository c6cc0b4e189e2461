"""How like the song a point sounds: Zimtohrli's MOS as MOSS measures it, in worker processes or not, and without
the model."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moss_engine.run import listening
from moss_engine.run.listening import Listener, Scorer


@pytest.fixture(scope="module")
def song(data_dir):
    audio, rate = sf.read(data_dir / "music_rock_sectoid_metal_madness_30s.ogg", dtype="float32", always_2d=True)
    return audio[: 6 * rate].T.copy(), rate


def test_the_song_itself_sounds_like_the_song_and_noise_does_not(song):
    audio, rate = song
    listener = Listener(audio, rate, (0.0, 6.0))
    assert listener.mos(audio) == pytest.approx(5.0, abs=1e-3)
    noisy = audio + np.float32(0.05) * np.random.default_rng(0).standard_normal(audio.shape).astype(np.float32)
    louder_noise = audio + np.float32(0.2) * np.random.default_rng(1).standard_normal(audio.shape).astype(np.float32)
    assert 1.0 <= listener.mos(louder_noise) < listener.mos(noisy) < 4.5


def test_only_the_pictures_time_span_is_heard(song):
    audio, rate = song
    changed = audio.copy()
    changed[:, : 2 * rate] = 0.0  # outside the span: not heard
    assert Listener(audio, rate, (2.0, 6.0)).mos(changed) == pytest.approx(5.0, abs=1e-3)
    assert Listener(audio, rate, (0.0, 6.0)).mos(changed) < 3.0


def test_long_spans_are_heard_in_pieces_of_at_most_20_s(song, monkeypatch):
    audio, rate = song
    monkeypatch.setattr(listening, "PIECE_S", 2.5)
    listener = Listener(audio, rate, (0.0, 6.0))
    assert len(listener.edges) == 4 and np.all(np.diff(listener.edges) <= 2.5 * 48000)  # three equal pieces


def test_worker_processes_give_the_same_mos_in_order(song):
    audio, rate = song
    listener = Listener(audio, rate, (0.0, 6.0))
    rng = np.random.default_rng(2)
    points = [audio + np.float32(s) * rng.standard_normal(audio.shape).astype(np.float32) for s in (0.01, 0.1, 0.03)]
    with Scorer(listener, 2) as scorer:
        for p in points:
            scorer.submit(p)
        seen = []
        parallel = scorer.results(progress=lambda done, total: seen.append((done, total)))
    assert parallel == pytest.approx([listener.mos(p) for p in points], abs=1e-6)
    # as the workers finish, in whatever order: counts only go up (two heard at once may skip one), ending at 3
    done = [d for d, _ in seen]
    assert done == sorted(set(done)) and done[-1] == 3 and {t for _, t in seen} == {3}
    with Scorer(listener, 2) as scorer:  # a cancel leaves the rest unmeasured
        for p in points:
            scorer.submit(p)
        assert scorer.results(should_stop=lambda: True) == [None, None, None]


def test_without_the_model_the_mos_is_not_measured(song, monkeypatch):
    audio, rate = song
    monkeypatch.setattr(listening, "_zimtohrli", lambda: None)
    assert not listening.available() and "not installed" in listening.model_name()
    listener = Listener(audio, rate, (0.0, 6.0))
    assert listener.mos(audio) is None
    with Scorer(listener, 2) as scorer:
        scorer.submit(audio)
        assert scorer.results() == [None]


_ORPHAN_PARENT = """
import sys, time
import numpy as np
from moss_engine.run.listening import Listener, Scorer

rate = 8000
audio = (0.1 * np.random.default_rng(0).standard_normal((1, 40 * rate))).astype(np.float32)
listener = Listener(audio, rate, (0.0, 40.0))
scorer = Scorer(listener, 2).__enter__()
for _ in range(6):
    scorer.submit(audio * np.float32(0.9))
print("listening", flush=True)
time.sleep(120)
"""


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or not listening.available(), reason="needs Linux's /proc")
def test_listening_workers_end_within_2_s_when_their_parent_is_killed(tmp_path):
    """Issue 26 item 1: ``kill -9`` of a run while its worker processes hear points leaves no process behind (the
    workers and multiprocessing's resource tracker), within 2 s."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_PARENT], stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=os.environ
    )
    try:
        assert parent.stdout.readline().strip() == "listening"
        deadline = time.monotonic() + 60
        while len(workers := _children(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the workers are busy hearing now
        workers = _children(parent.pid)
        workers |= {grandchild for pid in workers for grandchild in _children(pid)}
        assert len(workers) >= 2
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 2.0
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in workers if _alive(pid)]
    finally:
        parent.kill()
        for pid in _children(parent.pid):
            os.kill(pid, signal.SIGKILL)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


_TRACKER_MASK = """
import numpy as np
from multiprocessing import resource_tracker
from moss_engine.run.listening import Listener, Scorer

audio = (0.1 * np.random.default_rng(0).standard_normal((1, 2 * 8000))).astype(np.float32)
with Scorer(Listener(audio, 8000, (0.0, 2.0)), 2):
    pid = resource_tracker._resource_tracker._pid
    print(open(f"/proc/{pid}/status").read().split("SigBlk:")[1].split()[0])
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists() or not listening.available(), reason="Linux's /proc")
def test_the_resource_tracker_outlives_a_hang_up_to_the_group(tmp_path):
    """Issue 26 item 3: multiprocessing's resource tracker (it ignores Ctrl-C and SIGTERM itself) is started with
    SIGHUP blocked: a terminal's hang-up to the run's process group killed it, and the run's exit then started a new
    one that printed a KeyError traceback for every semaphore it did not know."""
    done = subprocess.run(
        [sys.executable, "-c", _TRACKER_MASK], capture_output=True, text=True, cwd=tmp_path, env=os.environ, timeout=120
    )
    blocked = int(done.stdout.split()[0], 16)
    assert blocked & (1 << (signal.SIGHUP - 1)), done.stdout + done.stderr
