"""The run's status line in words: the front so far while it runs, its outcome once it ends, what Start waits for.

The layout decision (issue 22): the status is at most ``STATUS_LINES`` lines, each a short line of its own that the
status column is wide enough to hold whole (``WIDEST_LINES`` sets its minimum width): while a run goes on, the stage,
the front against the crossfade, the time left; between runs, the outcome, the front against the crossfade, and
whether the result shown is from earlier inputs. Nothing is cut at 1280x800 or at the window's minimum size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from moss_engine.optimise.front import Anchors, hypervolume_2d
from moss_engine.options import OPTIONS
from moss_engine.reporting import FrontSnapshot, Status

#: Within this many percent of the crossfade, a front is "as good as a crossfade".
SAME_AS_CROSSFADE_PERCENT = 0.5
#: Lines the status keeps room for.
STATUS_LINES = 3
#: The widest lines the status says, with a Standard run's numbers (16 points, 300 steps): the status column is at
#: least as wide as the widest of them in the window's font, so that each is one line. (A High run's widest numbers
#: may wrap a line: the label then cuts its end, whole in the tooltip.)
WIDEST_LINES = (
    "Trying points between neighbours: 16 of 16",
    "Measuring after MP3, AAC, Opus: 48 of 48",
    "Optimising: step 300 of 300 (12 steps/s)",
    "Cancelled: 15 of 16 points, 299 steps, 9.5 min",
    "Finished: 15 of 16 points, 300 steps, 9.5 min",
    "Converged early: 15 of 16 points, 9.5 min",
    "front 100% better than a crossfade",
    "about 9.5 min left",
)
#: The last line between runs when the result shown was made from other inputs than those shown.
STALE_WORDS = "from the earlier inputs: press Start to update"
WIDEST_LINES += (STALE_WORDS,)
#: The settings the window sets that change the picture hidden or where it sits (``Option.shapes_picture``): a result
#: made with other values is stale.
PICTURE_SETTINGS = tuple(name for name, o in OPTIONS.items() if o.shapes_picture and (o.advanced or o.picture_control))
#: A stage of the engine (``reporting.STAGES``) in the app's words.
STAGE_WORDS = {
    "measuring": "Measuring the crossfade",
    "optimising": "Optimising",
    "between": "Trying points between neighbours",
    "refining": "Refining the phase",
    "rendering": "Rendering the points",
    "listening": "Listening to the points",
    "codecs": "Measuring after MP3, AAC, Opus",
}


def seconds_text(value: float) -> str:
    """``42 s`` under a minute and a half, else ``2.5 min``."""
    value = max(0.0, value)
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def crossfade_gain(hypervolume: float, crossfade_visual: np.ndarray, crossfade_audio: np.ndarray) -> float | None:
    """How much better a front is than a plain crossfade, in percent: ``100 * (HV_front / HV_crossfade - 1)``.

    HV is the hypervolume the engine reports (``optimise.front``): the area of the (picture loss, music loss) plane
    a front dominates, both losses scaled so that the all-music mask is (1, 0) and the all-image mask (0, 1), up to
    the reference point (1.1, 1.1). HV_crossfade is the same area for the uniform crossfade measured at the start of
    the run (its levels from the music to the picture); its two ends are those anchors, so both areas share one
    scale. 12 % better: the front dominates 12 % more of that plane than the crossfade does (it reaches trade-offs
    the crossfade cannot: less music lost for the same picture, or more picture for the same music). None when
    the crossfade is unknown (an older run folder) or dominates nothing.
    """
    visual, audio = np.asarray(crossfade_visual, dtype=float), np.asarray(crossfade_audio, dtype=float)
    if visual.size < 2 or visual.shape != audio.shape:
        return None
    anchors = Anchors(music_visual=visual[0], music_audio=audio[0], image_visual=visual[-1], image_audio=audio[-1])
    baseline = hypervolume_2d(anchors.normalise(visual, audio))
    return None if baseline <= 0 else 100.0 * (float(hypervolume) / baseline - 1.0)


def gain_words(gain: float | None) -> str:
    """``front 12% better than a crossfade`` (or ``as good as``, ``3% short of``); "" when unknown."""
    if gain is None:
        return ""
    if abs(gain) < SAME_AS_CROSSFADE_PERCENT:
        return "front as good as a crossfade"
    return f"front {abs(gain):.0f}% {'better than' if gain > 0 else 'short of'} a crossfade"


def snapshot_gain(snapshot: FrontSnapshot) -> str:
    """The front so far against the crossfade, in words (``crossfade_gain``)."""
    return gain_words(crossfade_gain(snapshot.hypervolume, snapshot.crossfade_visual, snapshot.crossfade_audio))


def stage_line(status: Status, steps_per_s: float | None = None) -> str:
    """What the run is doing, in words: ``Optimising: step 53 of 80 (1.9 steps/s)``, ``Refining the phase: point 3
    of 7``, ``Listening to the points: 4 of 12``."""
    words = STAGE_WORDS.get(status.stage, status.stage.capitalize())
    if status.step is None:
        return words
    if status.stage == "optimising":
        speed = f" ({steps_per_s:.2g} {status.unit}s/s)" if steps_per_s else ""
        return f"{words}: {status.unit} {status.step} of {status.steps}{speed}"
    return f"{words}: {status.step} of {status.steps}"


def running_line(stage: str, gain: str, left: str) -> str:
    """The status while a run goes on, a line each: its stage, the front against the crossfade, the time left (the
    parts not known yet left out)."""
    return "\n".join(part for part in (stage, gain, left) if part)


def run_seconds(result) -> float:
    """The whole run's time as the user waited for it: preparing, optimising, refining, rendering and listening
    (``RunResult.timings``, the manifest's ``run.seconds``), so that a run reopened says the time it said live. The
    optimisation's own time (``optimisation.elapsed_s``) only where a result has no timings."""
    return float(sum(result.timings.values())) if result.timings else float(result.optimisation.elapsed_s)


def outcome_line(result) -> str:
    """How a finished ``RunResult`` ended, in two lines: done, converged early or cancelled with its points, steps and
    the whole run's time (``run_seconds``); then how much better than a crossfade its front is (``crossfade_gain``).

    ``Done: 8 points, 80 steps, 2.5 min``, ``Converged early: 8 points, 2 min``, ``Cancelled: 5 of 8 points, 34
    steps, 48 s`` (fewer points than asked: the others were near-duplicates or beaten, as the status tooltip says).
    "Done" only when the run is known not to have been cancelled: a reopened folder that does not say (not from the
    autosave history, ``optimisation.cancelled`` None) is "Finished", as File > Recent Runs calls such a run.
    """
    opt = result.optimisation
    count = f"{len(result.points)} points"
    if len(result.points) < result.settings.points:  # near-duplicates and beaten points are not offered twice
        count = f"{len(result.points)} of {result.settings.points} points"
    took = seconds_text(run_seconds(result))
    if opt.stopped_early and not opt.cancelled:  # its steps say nothing the word does not
        line = f"Converged early: {count}, {took}"
    else:
        how = "Cancelled" if opt.cancelled else ("Finished" if opt.cancelled is None else "Done")
        line = f"{how}: {count}, {opt.steps_done} step{'s' if opt.steps_done != 1 else ''}, {took}"
    gain = gain_words(crossfade_gain(result.hypervolume, result.crossfade_visual, result.crossfade_audio))
    return f"{line}\n{gain}" if gain else line


def is_stale(then, now) -> bool:
    """Whether a result made with the settings ``then`` came from other inputs, placement or picture controls
    (invert, gamma, fit: they change the picture hidden) than ``now`` (the settings Start would use; None when they
    cannot be made)."""
    if now is None:
        return True
    same_files = all(
        Path(a).resolve() == Path(b).resolve() for a, b in ((then.image, now.image), (then.audio, now.audio))
    )
    return not same_files or any(getattr(then, k) != getattr(now, k) for k in PICTURE_SETTINGS)


def between_runs_line(problem: str, ready: bool, outcome: str, stale: bool) -> str:
    """The status line between runs: what is wrong (``problem``) or missing, else the last run's ``outcome`` (and
    whether the result shown is ``stale``), else ready."""
    if problem:
        return f"Cannot start: {problem[0].upper()}{problem[1:]}."
    if not ready:
        return "Choose a picture and a song: drop them on the window, or File > Open"
    if stale:
        return f"{outcome}\n{STALE_WORDS}"
    return outcome or "Ready: press Start"
