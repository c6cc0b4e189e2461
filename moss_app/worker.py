"""The worker thread that runs the engine's ``compute_front`` and streams its progress to the GUI as signals."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from moss_engine.errors import MossError, is_out_of_memory
from moss_engine.io.atomic import write_file
from moss_engine.reporting import NOTICE_GPU_MEMORY, FrontSnapshot, Status
from moss_engine.run import pipeline
from moss_engine.run.folder import write_run_folder
from moss_engine.run.listening import default_workers
from moss_engine.run.morph import MORPH_FILES
from moss_engine.run.plot import plot_front
from moss_engine.settings import RunSettings

from .eta import StepRate
from .run_status import stage_line

log = logging.getLogger(__name__)

#: What the window says when the machine runs out of memory (the run is lost, the earlier results are not).
OUT_OF_MEMORY = (
    "out of memory: choose a shorter segment (Advanced: duration), fewer points, a lower sample rate or "
    "a smaller memory limit"
)

#: At most this many snapshots (and progress lines) a second reach the GUI: more would only flood its event loop.
MAX_UPDATES_PER_S = 10.0
#: A cancelled run's front.png is drawn this long after the run is shown (ms): matplotlib holds Python's lock for
#: half a second or more (its import, the first time), which would hold up the window showing the result. Should
#: the app quit before, that autosave has no front.png (the rest of it is whole).
DRAW_FRONT_AFTER_MS = 2000
#: The share of the progress bar the engine's ``compute_front`` fills when the run is then written as a run folder;
#: the rest is the writing (its WAVs, masks and front.png: 1.5-3 s measured on the 2-core CPU for a 5 s segment's
#: five points, about 5 % of such a run), so that the bar does not sit at 100 % while the folder is written.
ENGINE_SHARE = 0.95
#: What the status line says while the finished run is written as a run folder (``RunProgress.status`` is None).
WRITING_LINE = "Writing the run folder"


@dataclass(frozen=True)
class RunProgress:
    """One progress report as the window gets it: data to act on, and the line to show.

    Attributes:
        fraction: the whole run's share done, in [0, 1].
        status: where the engine is (``reporting.Status``: stage, step of steps); None while the run folder is
            written (``WRITING_LINE``) or when the engine named no stage.
        line: the same in the app's words, for the status line only (``run_status.stage_line``, with the speed).
        steps_per_s: the optimiser's one speed, measured over its steps (None: not optimising, or not known yet).
    """

    fraction: float
    line: str
    status: Status | None = None
    steps_per_s: float | None = None

    @property
    def stage(self) -> str | None:
        """``status.stage`` (None when no status)."""
        return None if self.status is None else self.status.stage

    @property
    def step(self) -> int | None:
        """``status.step`` (None when no status, or a stage without steps)."""
        return None if self.status is None else self.status.step


def _frozen(array: np.ndarray) -> np.ndarray:
    copy = np.array(array, copy=True)
    copy.setflags(write=False)
    return copy


def freeze_snapshot(snapshot: FrontSnapshot) -> FrontSnapshot:
    """A copy of ``snapshot`` whose arrays are read-only copies, so the GUI holds nothing the engine may change."""
    return FrontSnapshot(
        step=int(snapshot.step),
        steps=int(snapshot.steps),
        visual=_frozen(snapshot.visual),
        audio=_frozen(snapshot.audio),
        crossfade_visual=_frozen(snapshot.crossfade_visual),
        crossfade_audio=_frozen(snapshot.crossfade_audio),
        hypervolume=float(snapshot.hypervolume),
        elapsed_s=float(snapshot.elapsed_s),
    )


class Abandoned(BaseException):  # noqa: N818 (a signal, not an error)
    """Raised out of the engine's ``should_stop`` when the window quits: the run ends where it is, nothing rendered
    or saved. A ``BaseException``, so that no ``except Exception`` on the way up takes it for an engine error."""


class _QtReporter:
    """The engine's ``Reporter`` for the app: throttled signals out, the cancel flag in. Runs on the worker thread.

    Each report goes out as a ``RunProgress``: the engine's ``Status`` itself, and a line in the app's words for it
    (``run_status.stage_line``) with the optimiser's one speed, measured here on the monotonic clock over the steps it
    reports (coarse and full steps alike, as the run goes).
    """

    def __init__(self, worker: FrontWorker, share: float = 1.0):
        self._worker = worker
        self._share = share  # the engine's fraction fills [0, share] of the bar (``ENGINE_SHARE``)
        self._last_snapshot = -float("inf")
        self._last_progress = -float("inf")
        self._rate = StepRate()
        self._last_stage: str | None = None

    def progress(self, fraction: float, message: str, status: Status | None = None) -> None:
        now = time.monotonic()
        rate = None
        if status is not None and status.stage == "optimising" and status.step is not None:
            self._rate.update(status.step, now)
            rate = self._rate.per_second(now)
        stage = status.stage if status is not None else None
        # a new stage is always said at once: its next report may be seconds away (a phase-refined point)
        if now - self._last_progress >= 1.0 / MAX_UPDATES_PER_S or fraction >= 1.0 or stage != self._last_stage:
            self._last_progress, self._last_stage = now, stage
            words = stage_line(status, rate) if status is not None else str(message)
            self._worker.progress.emit(RunProgress(float(fraction) * self._share, words, status, rate))

    def notice(self, kind: str, message: str) -> None:
        self._worker.notice.emit(str(kind), str(message))  # never throttled: the user must see it

    def partial(self, snapshot: FrontSnapshot) -> None:
        now = time.monotonic()
        if now - self._last_snapshot >= 1.0 / MAX_UPDATES_PER_S:  # a dropped one is replaced by the next, or the end
            self._last_snapshot = now
            self._worker.snapshot.emit(freeze_snapshot(snapshot))

    def should_stop(self) -> bool:
        if self._worker.abandon_requested():
            raise Abandoned
        return self._worker.cancel_requested()


class FrontWorker(QObject):
    """Computes a front on whatever thread it lives on (``FrontRunner`` moves it to its own).

    Signals:
        snapshot(FrontSnapshot): the front so far, frozen copies, at most ``MAX_UPDATES_PER_S`` a second.
        progress(RunProgress): the whole run's share done in [0, 1] (every stage counted:
            ``progress_plan.stage_spans``; with an autosave the engine fills [0, ``ENGINE_SHARE``] and writing the
            run folder the rest), where the engine is (its ``Status``) and the same in words for the status line.
        notice(str, str): something that stays true for the rest of the run: its kind (``reporting.NOTICE_*``)
            and its words.
        finished(RunResult): the run ended, completed or cancelled (a cancelled run keeps the best front so far;
            ``result.optimisation.cancelled`` says which).
        failed(str): the run stopped with an error: the engine's one-line message, or "internal error: ...".
        autosaved(Path): the finished run was written as a run folder there (emitted just before ``finished``; not
            for a run cancelled before it had any point, nor when writing failed: that is only logged). A cancelled
            run's front.png is drawn into it just after ``finished``, so that Cancel takes effect at once.
    """

    snapshot = Signal(object)
    progress = Signal(object)
    notice = Signal(str, str)
    finished = Signal(object)
    failed = Signal(str)
    autosaved = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._abandon = threading.Event()

    def reset(self) -> None:
        """Clear the cancel flag; called from the GUI thread before a run is requested."""
        self._cancel.clear()

    def cancel(self) -> None:
        """Ask the running computation to stop at its next check (thread-safe: call it from any thread)."""
        self._cancel.set()

    def abandon(self) -> None:
        """Quitting: end the run at its next check with nothing rendered, emitted or saved (thread-safe; final)."""
        self._abandon.set()
        self._cancel.set()

    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def abandon_requested(self) -> bool:
        return self._abandon.is_set()

    @Slot(object, object)
    def run(self, settings: RunSettings, autosave_dir: Path | None = None) -> None:
        """Compute the front of ``settings`` and emit ``finished`` or ``failed``; never raises.

        With ``autosave_dir``, a run that has points is first written there as a run folder (replacing the last).
        """
        try:
            result = self._compute(settings, ENGINE_SHARE if autosave_dir is not None else 1.0)
        except Abandoned:
            log.info("the run was abandoned: the window quit")
            return
        except MossError as exc:
            self.failed.emit(str(exc))
        except (RuntimeError, MemoryError) as exc:  # torch's OutOfMemoryError is a RuntimeError too
            if not is_out_of_memory(exc):  # anything else is a bug
                log.exception("the run failed")
                self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")
            else:
                log.warning("the run ran out of memory: %s", exc)
                self.failed.emit(OUT_OF_MEMORY)
        except Exception as exc:  # the window must stay usable whatever the engine does; the log keeps the trace
            log.exception("the run failed")
            self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")
        else:
            if self.abandon_requested():  # quit while the run was finishing: nothing more to do for it
                return
            cancelled, written = result.optimisation.cancelled, None
            if autosave_dir is not None and result.points:
                if not cancelled:
                    self.progress.emit(RunProgress(ENGINE_SHARE, WRITING_LINE))
                written = self._autosave(result, Path(autosave_dir), plot=not cancelled)
            self.finished.emit(result)
            if written is not None and cancelled:  # Cancel gives the window back first: front.png takes a second
                QTimer.singleShot(DRAW_FRONT_AFTER_MS, self, lambda: self._draw_front(result, written))

    def _compute(self, settings: RunSettings, share: float = 1.0):
        """``compute_front``, its fraction filling [0, ``share``] of the bar; if the GPU runs out of memory even in
        chunks of one mask, the same run on the CPU.

        (The engine itself first retries in smaller chunks and says so with a ``NOTICE_GPU_MEMORY`` notice.)
        """
        reporter = _QtReporter(self, share)
        try:
            return pipeline.compute_front(settings, reporter, listen_workers=default_workers())
        except torch.OutOfMemoryError:
            if settings.device == "cpu":
                raise
            log.warning("out of GPU memory even in chunks of one mask; running on the CPU")
            if settings.device.startswith("cuda"):
                torch.cuda.empty_cache()
            self.notice.emit(
                NOTICE_GPU_MEMORY, "out of GPU memory even in chunks of one mask: running on the CPU instead"
            )
            return pipeline.compute_front(
                dataclasses.replace(settings, device="cpu"), reporter, listen_workers=default_workers()
            )

    def _autosave(self, result, folder: Path, plot: bool = True) -> Path | None:
        # here, off the GUI thread: writing WAVs and drawing front.png takes a noticeable moment
        try:
            # the autosave folder is the app's own: a morph exported from it goes with the run it was made of
            written = write_run_folder(
                result, folder, overwrite=True, plot=plot_front if plot else None, replaceable=MORPH_FILES
            )
        except (MossError, OSError):  # a full disk must not cost the user the run on screen
            log.exception("could not autosave the run to %s", folder)
            return None
        self.autosaved.emit(written)
        return written

    def _draw_front(self, result, folder: Path) -> None:
        """front.png of an autosave written without it: drawn aside, then written whole or not at all."""
        try:
            with tempfile.TemporaryDirectory(prefix="moss-front-") as scratch:
                drawn = Path(scratch) / "front.png"
                plot_front(result, drawn)
                write_file(folder / "front.png", lambda tmp: shutil.copyfile(drawn, tmp))
        except (MossError, OSError):
            log.exception("could not draw front.png into %s", folder)


class FrontRunner(QObject):
    """One ``FrontWorker`` on its own ``QThread``, started once and reused for every run.

    Signals (``FrontWorker``'s, relayed so that they are emitted on the GUI thread, where this object lives: a plain
    Python callable connected straight to the worker's signals would run on the worker thread):
        snapshot(FrontSnapshot), progress(RunProgress), finished(RunResult), failed(str), autosaved(Path).

    Attributes:
        autosave_dir: where each finished run is written as a run folder (None, the default: nowhere).
    """

    snapshot = Signal(object)
    progress = Signal(object)
    notice = Signal(str, str)
    finished = Signal(object)
    failed = Signal(str)
    autosaved = Signal(object)
    _run_requested = Signal(object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.qthread = QThread()
        self.qthread.setObjectName("moss-front-worker")
        self.worker = FrontWorker()
        self.worker.moveToThread(self.qthread)
        # The worker is deleted on its own thread as that thread ends, not later from the GUI thread.
        self.qthread.finished.connect(self.worker.deleteLater)
        self._run_requested.connect(self.worker.run)
        self._busy = False
        self.autosave_dir: Path | None = None
        # _done first, so that every receiver of finished/failed already sees busy == False.
        self.worker.finished.connect(self._done)
        self.worker.failed.connect(self._done)
        for name in ("snapshot", "progress", "notice", "finished", "failed", "autosaved"):
            getattr(self.worker, name).connect(getattr(self, name))
        self.qthread.start()

    @property
    def busy(self) -> bool:
        return self._busy

    def start(self, settings: RunSettings) -> None:
        """Queue a run on the worker thread (one at a time: a second start while busy is refused)."""
        if self._busy:
            raise RuntimeError("a run is already in progress")
        self._busy = True
        self.worker.reset()
        self._run_requested.emit(settings, self.autosave_dir)

    def cancel(self) -> None:
        self.worker.cancel()

    @Slot(object)
    def _done(self, *_args: object) -> None:
        self._busy = False

    def shutdown(self, timeout_ms: int = 60000, abandon: bool = False) -> bool:
        """Cancel any run (``abandon``: drop it, as quitting does), stop the thread and wait for it; True when it ended
        within ``timeout_ms`` (idempotent; call it again to wait longer)."""
        if self.qthread.isFinished():
            return True
        if abandon:
            self.worker.abandon()
            self._busy = False  # no finished or failed will come for it
        self.worker.cancel()
        self.qthread.quit()
        return self.qthread.wait(timeout_ms)
