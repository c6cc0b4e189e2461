"""How like the song a point sounds, by an independent model of hearing: Zimtohrli's distance, as a MOS from 1 to 5.

Zimtohrli (Google; pip ``zimtohrli``, no model weights) compares two signals as a listener's cochlea and auditory
nerve would represent them and maps the distance to a mean opinion score (5: no difference heard, 1: very annoying).
It is not what the optimiser minimises: it is the ear MOSS is judged by, and what the user is shown as "sounds like
the song" (``points[].mos``).

Measured on the picture's time span of the point's audio as written (its mix, the mean of its channels), against the
song's segment, both resampled to Zimtohrli's 48 kHz, in pieces of at most ``PIECE_S`` (the length the reference
benchmark scores; Zimtohrli's cost grows faster than the length), the distance averaged over the pieces by length.
Where no wheel of zimtohrli exists for the platform, ``available()`` is False and the MOS is None.

Zimtohrli holds Python's lock while it works (about a second per 20 s on one core), so ``Scorer`` runs it in worker
processes, one point each, while the engine renders the next point: on two cores the MOS of eight points costs
about half as long. Where processes cannot be started it scores them one after the other, in this process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from importlib import metadata

import numpy as np

#: The rate Zimtohrli works at.
ZIMTOHRLI_RATE = 48000
#: The longest piece scored at once, seconds (as ``score_run.py --listen`` scores the first 20 s).
PIECE_S = 20.0
#: The MOS of a point that is the song itself.
SAME_AS_SONG_MOS = 5.0
#: At most this many worker processes score points at once (each holds two 48 kHz copies of the span).
MAX_WORKERS = 4
#: While a point is heard in a worker process, ``should_stop`` is asked this often (seconds).
POLL_S = 0.05
#: A worker process looks this often whether the run that started it is still there (seconds).
PARENT_POLL_S = 0.25


def _zimtohrli():
    try:
        import zimtohrli
    except ImportError:
        return None
    return zimtohrli


def available() -> bool:
    """Whether the perceptual model is installed on this platform."""
    return _zimtohrli() is not None


def model_name() -> str:
    """The model and its version, for the run folder's ``audio_objective`` ("Zimtohrli 0.2.1", or why none)."""
    if not available():
        return "none (zimtohrli is not installed for this platform)"
    try:
        return f"Zimtohrli {metadata.version('zimtohrli')}"
    except metadata.PackageNotFoundError:
        return "Zimtohrli"


def _mono_48k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import soxr

    mix = np.asarray(samples, dtype=np.float32).reshape(-1, np.shape(samples)[-1]).mean(axis=0)
    if sample_rate != ZIMTOHRLI_RATE:
        mix = soxr.resample(mix, sample_rate, ZIMTOHRLI_RATE, quality="HQ")
    return np.ascontiguousarray(mix, dtype=np.float32)


class Listener:
    """Scores points against one song segment (its 48 kHz mix is computed once).

    Args:
        reference: (channels, samples) the song's segment as the run used it.
        sample_rate: its rate.
        span_s: (start, end) seconds of the segment the picture covers: only there can a point differ from the song.
    """

    def __init__(self, reference: np.ndarray, sample_rate: int, span_s: tuple[float, float]):
        self.sample_rate = sample_rate
        first = max(0, int(math.floor(span_s[0] * sample_rate)))
        last = min(reference.shape[-1], int(math.ceil(span_s[1] * sample_rate)))
        self.span = slice(first, max(last, first + 1))
        self.reference = _mono_48k(reference[..., self.span], sample_rate)
        count = max(1, math.ceil(len(self.reference) / (PIECE_S * ZIMTOHRLI_RATE) - 1e-9))
        self.edges = np.linspace(0, len(self.reference), count + 1).round().astype(int)
        zimtohrli = _zimtohrli()
        self._model = zimtohrli.Pyohrli() if zimtohrli is not None else None

    @property
    def available(self) -> bool:
        return self._model is not None

    def heard(self, point: np.ndarray) -> np.ndarray:
        """What is compared of a (channels, samples) point: its mix over the span, at 48 kHz, as long as the song's."""
        heard = _mono_48k(point[..., self.span], self.sample_rate)[: len(self.reference)]
        return np.pad(heard, (0, len(self.reference) - len(heard)))

    def distance(self, point: np.ndarray) -> float | None:
        """Zimtohrli's distance of a (channels, samples) point to the song (0: the same), or None without the model."""
        if self._model is None:
            return None
        return piecewise_distance(self.reference, self.heard(point), self.edges, self._model)

    def mos(self, point: np.ndarray) -> float | None:
        """The MOS (1-5) of a (channels, samples) point against the song, or None without the model."""
        return mos_of(self.distance(point))


def mos_of(distance: float | None) -> float | None:
    """Zimtohrli's MOS (1-5) of a distance (None stays None)."""
    return None if distance is None else float(_zimtohrli().mos_from_zimtohrli(distance))


def distance_of_mos(mos: np.ndarray) -> np.ndarray:
    """Zimtohrli's distance for each MOS: the inverse of ``mos_of`` (which falls steadily from 5 at distance 0
    towards 1), by bisection; a MOS of 1 or less maps to the distance where the MOS is within 1e-6 of 1."""
    mos = np.asarray(mos, dtype=np.float64)
    lo, hi = np.zeros_like(mos), np.ones_like(mos)
    model = _zimtohrli()
    for _ in range(50):
        mid = (lo + hi) / 2
        short = np.array([model.mos_from_zimtohrli(float(d)) for d in mid]) > np.maximum(mos, 1.0 + 1e-6)
        lo, hi = np.where(short, mid, lo), np.where(short, hi, mid)
    return (lo + hi) / 2


def piecewise_distance(reference: np.ndarray, heard: np.ndarray, edges: np.ndarray, model=None) -> float:
    """The length-weighted mean of Zimtohrli's distance over the pieces ``edges`` of two 48 kHz signals (also the job
    a worker process runs: module-level, so that it can be sent there)."""
    model = model if model is not None else _zimtohrli().Pyohrli()
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        total += (b - a) * float(model.distance(reference[a:b], heard[a:b]))
    return total / max(1, int(edges[-1]))


class Scorer:
    """Scores points against one song as they are handed in (``submit``), in up to ``workers`` processes.

    Use as a context manager: the processes (started with "spawn", which neither copies the engine's threads nor its
    memory) start at once, so that their start-up overlaps the rendering of the first point, and are gone on exit.
    Zimtohrli cannot be interrupted: a cancel (``results``' ``should_stop``, or leaving the block by an exception)
    ends the processes at once instead of waiting for the points they hear (``stop``).

    Args:
        listener: the song and how points are compared with it.
        workers: processes at most (1: score in this process, one after the other).
    """

    def __init__(self, listener: Listener, workers: int):
        self.listener = listener
        self._pool: ProcessPoolExecutor | None = None
        if listener.available and workers > 1:
            _start_resource_tracker()
            try:
                self._pool = ProcessPoolExecutor(
                    min(workers, MAX_WORKERS),
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_end_with_parent,
                    initargs=(os.getpid(),),
                )
            except (OSError, ValueError, NotImplementedError):
                self._pool = None
        if self._pool is not None:  # start every process now (spawn starts them one per submit otherwise), so that
            try:  # their start-up and Zimtohrli's import overlap the rendering instead of a silent wait after it
                for _ in range(min(workers, MAX_WORKERS)):
                    self._pool.submit(_warm_up)
            except RuntimeError:
                self._pool = None
        self._jobs: list[tuple[Future | None, np.ndarray]] = []

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """End the worker processes now, dropping the points they hear (a cancel must not wait for them)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return

        def processes() -> list:  # no public way before Python 3.14
            return list((getattr(pool, "_processes", None) or {}).values())

        ended = processes()
        pool.shutdown(wait=False, cancel_futures=True)
        ended += [p for p in processes() if p not in ended]  # one the pool was still starting (it raced the test)
        for process in ended:
            process.terminate()
        for process in ended:
            process.join(timeout=1.0)
        for process in ended:  # one that did not end on SIGTERM within the second (a loaded machine) ends by SIGKILL
            if process.is_alive():
                process.kill()
                process.join(timeout=1.0)

    @property
    def submitted(self) -> int:
        """How many points were handed in so far (``results`` gives as many)."""
        return len(self._jobs)

    def submit(self, point: np.ndarray) -> None:
        """Queue a (channels, samples) point; its MOS comes back from ``results`` in the order submitted."""
        heard = self.listener.heard(point)
        job = None
        if self._pool is not None:
            try:
                job = self._pool.submit(piecewise_distance, self.listener.reference, heard, self.listener.edges)
            except RuntimeError:  # the pool broke (a worker died): score the rest here
                self._pool = None
        self._jobs.append((job, heard))

    def results(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Callable[[int, int], None] | None = None,
        start: int = 0,
    ) -> list[float | None]:
        """The MOS of every submitted point from the ``start``-th on, in order (None without the model, or for points
        still waiting when ``should_stop`` says so); ``progress(done, total)`` as each point is heard, in whatever order
        the worker processes finish them, so that a wait on them is reported as it goes. Points can be submitted
        after a call, and their MOS asked for with ``start`` = how many were submitted before."""
        out: list[float | None] = []
        if progress is not None:  # said once per count, always up: the wait and the loop both report
            said = [0]

            def progress(done: int, total: int, _report=progress) -> None:
                if done > said[0]:
                    said[0] = done
                    _report(done, total)

        for n, (job, heard) in enumerate(self._jobs):
            if n < start:
                continue
            if not self.listener.available or should_stop():
                self.stop()
                out.append(None)
                continue
            distance = None
            if job is not None:
                distance = self._wait(job, should_stop, progress)
                if distance is None and should_stop():
                    out.append(None)
                    continue
            if distance is None:
                distance = piecewise_distance(self.listener.reference, heard, self.listener.edges, self.listener._model)
            out.append(mos_of(distance))
            if progress is not None:
                progress(max(n + 1, self._heard()), len(self._jobs))
        return out

    def _heard(self) -> int:
        """How many submitted points the worker processes have finished hearing."""
        return sum(1 for job, _ in self._jobs if job is not None and job.done())

    def _wait(
        self, job: Future, should_stop: Callable[[], bool], progress: Callable[[int, int], None] | None = None
    ) -> float | None:
        """The distance a worker found, or None when it died or ``should_stop`` (every ``POLL_S``) said so; meanwhile
        ``progress(heard, total)`` whenever another point (a later one) is heard."""
        heard = self._heard()
        while True:
            try:
                return job.result(timeout=POLL_S)
            except TimeoutError:
                if progress is not None and self._heard() > heard:
                    heard = self._heard()
                    progress(heard, len(self._jobs))
                if should_stop():
                    self.stop()
                    return None
            except Exception:  # noqa: BLE001 - a worker that died (BrokenProcessPool, MemoryError): score here
                return None


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (the process that removes the workers' shared semaphores when they
    are gone) with SIGHUP blocked, which it inherits and keeps: it ignores Ctrl-C and SIGTERM itself, but a terminal's
    hang-up to the whole process group killed it, and the run's exit then started a new one that printed a KeyError
    traceback for each semaphore it did not know. A hang-up meanwhile waits for the unblock (or another thread)."""
    hup = getattr(signal, "SIGHUP", None)
    if hup is None or not hasattr(signal, "pthread_sigmask"):
        return
    try:
        from multiprocessing import resource_tracker
    except ImportError:
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {hup})
    try:
        resource_tracker.ensure_running()
    except OSError:
        pass  # the pool starts it itself, or scores here
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _end_with_parent(parent: int) -> None:
    """A worker process's start: it ends as soon as the run that started it (``parent``) is gone, however that ended.

    A run ended by ``kill -9`` (or a crash) cannot end its workers, and a worker blocked on its pipe would wait
    forever. On Linux the kernel sends the worker SIGKILL when its parent dies (``PR_SET_PDEATHSIG``: at once, even
    while Zimtohrli holds Python's lock); everywhere a thread also watches the parent (a new parent: the old one is
    gone) every ``PARENT_POLL_S``. Once the workers are gone, multiprocessing's resource tracker sees its pipe close,
    removes the semaphores they shared and ends too. Ctrl-C, which a terminal sends to the whole process group, is
    the run's to answer (it ends the workers): a worker ignores it rather than print a traceback of its own.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the watching thread below still ends it
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(parent,), name="moss-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def _warm_up() -> None:
    """A worker process's first job: import the model, so that the first point it hears does not wait for that."""
    _zimtohrli()


def default_workers() -> int:
    """How many processes score at once: one per core, at most ``MAX_WORKERS``."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))
