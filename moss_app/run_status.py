"""The run's status line in words: the front so far while it runs, its outcome once it ends, what Start waits for."""

from __future__ import annotations

from pathlib import Path

from moss_engine.reporting import FrontSnapshot


def seconds_text(value: float) -> str:
    """``42 s`` under a minute and a half, else ``2.5 min``."""
    value = max(0.0, value)
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def snapshot_line(snapshot: FrontSnapshot) -> str:
    """The step, the hypervolume, the speed and an upper bound on the time left, each part kept whole on its line."""
    rate = snapshot.step / snapshot.elapsed_s if snapshot.elapsed_s > 0 else 0.0
    parts = [f"step {snapshot.step}/{snapshot.steps}", f"HV {snapshot.hypervolume:.3f}"]
    if rate > 0:
        parts.append(f"{rate:.2f} steps/s")
        parts.append(f"ETA ≤ {seconds_text((snapshot.steps - snapshot.step) / rate)}")
    # no-break spaces: "ETA" and "≤ 1 s" were wrapped apart in the narrow column
    return "  ·  ".join(part.replace(" ", "\u00a0") for part in parts)


def outcome_line(result) -> str:
    """How a finished ``RunResult`` ended: done, converged early or cancelled, its points, steps, time and HV."""
    opt = result.optimisation
    how = "Cancelled, best front so far" if opt.cancelled else ("Converged early" if opt.stopped_early else "Done")
    count = f"{len(result.points)} points"
    if len(result.points) < result.settings.points:  # near-duplicates and beaten points are not offered twice
        count = f"{len(result.points)} of {result.settings.points} points (the others were duplicates or beaten)"
    steps = f"{opt.steps_done} step{'s' if opt.steps_done != 1 else ''}"
    return f"{how}: {count} after {steps} in {seconds_text(opt.elapsed_s)}  ·  HV\u00a0{result.hypervolume:.3f}"


def is_stale(then, now) -> bool:
    """Whether a result made with the settings ``then`` came from other inputs or placement than ``now`` (the
    settings Start would use; None when they cannot be made)."""
    if now is None:
        return True
    same_files = all(Path(a).resolve() == Path(b).resolve()
                     for a, b in ((then.image, now.image), (then.audio, now.audio)))
    keys = ("start_s", "duration_s", "freq", "sample_rate", "freq_scale", "db_range")
    return not same_files or any(getattr(then, k) != getattr(now, k) for k in keys)


def between_runs_line(problem: str, ready: bool, outcome: str, stale: bool) -> str:
    """The status line between runs: what is wrong (``problem``) or missing, else the last run's ``outcome`` (and
    whether the result shown is ``stale``), else ready."""
    if problem:
        return f"Cannot start: {problem[0].upper()}{problem[1:]}."
    if not ready:
        return "Choose a picture and a song: drop them on the window, or File > Open"
    if stale:
        return f"{outcome}  ·  from the earlier inputs: press Start for the new ones"
    return outcome or "Ready: press Start"
