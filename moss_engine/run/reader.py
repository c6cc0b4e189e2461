"""Reopen a run folder as a ``RunResult``: its front from the manifest, point audio from WAV, masks from .npy.

moss-run/3, /2 and /1 folders all open; a moss-run/1 folder's audio is brought back to the song's level (its
run-wide ``output_gain_db`` undone) and its points have no loudness or MOS (``None``: not measured then); a
moss-run/2 point's whole-point ``gain_db`` reads as its ``limiter_db`` (the deepest gain change it got). The
crossfade's MOS (``crossfade.mos``, added within moss-run/3) is ``RunResult.crossfade_mos``, None where a folder has
none. A point's SSIM after each publishing codec (``codec_ssim``, added within moss-run/3) is
``FrontPoint.codec_ssim``, empty where a folder has none.

Whether the run was cancelled is ``optimisation.cancelled`` as the manifest's optional ``run.cancelled`` says, else
None (not known: moss-run/2 does not require the key; the app's autosave history may know). The run's time is in
``timings`` (``run.seconds``, every stage); ``optimisation.elapsed_s`` is the optimisation's part, as in a live run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moss_engine.dsp.levels import at_song_level
from moss_engine.dsp.limiter import Limiter
from moss_engine.dsp.target import make_placement
from moss_engine.errors import MossInputError
from moss_engine.optimise.base import OptimisationResult
from moss_engine.optimise.front import Anchors
from moss_engine.run.folder import (
    load_logits,
    makeup_db,
    picture_level_db,
    point_file,
    read_manifest,
    read_point_audio,
    run_gain_db,
    settings_from_manifest,
)
from moss_engine.run.pipeline import FrontPoint, RunResult


def read_run(run_dir: str | Path) -> RunResult:
    """The run stored in ``run_dir`` (``MossInputError`` for a foreign, damaged or incomplete folder)."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    try:
        # the inputs need not exist any more to look at and listen to a run: the recorded paths stay unchecked
        settings = settings_from_manifest(run_dir, manifest, find_inputs=False)
        rate = int(manifest["sample_rate"])
        shape = tuple(int(v) for v in manifest.get("mask_shape", settings.mask_shape))
        undo = run_gain_db(manifest)  # moss-run/1: every file carries the run's one gain; later formats: 0

        def optional(p: dict[str, Any], key: str) -> float | None:
            return None if p.get(key) is None else float(p[key])

        def audio(path: Path) -> np.ndarray:  # at the song's level, checked against the manifest
            return at_song_level(read_point_audio(path, manifest)[0], undo)

        points = [
            FrontPoint(
                visual=float(p["visual_loss"]),
                audio=float(p["audio_loss"]),
                alpha=float(p["alpha"]),
                logits=load_logits(point_file(run_dir, p, "mask"), shape),
                samples=audio(point_file(run_dir, p, "wav")),
                kind=str(p.get("kind", "")),
                phase_iterations=int(p.get("phase_iterations", 0)),
                level_db=picture_level_db(p),
                limiter_db=float(p.get("limiter_db", p.get("gain_db", 0.0)) or 0.0),
                makeup_db=makeup_db(p),
                loudness_lu=optional(p, "loudness_lu"),
                mos=optional(p, "mos"),
                codec_ssim={str(k): float(v) for k, v in (p.get("codec_ssim") or {}).items()},
                codec_mos={str(k): float(v) for k, v in (p.get("codec_mos") or {}).items()},
            )
            for p in manifest["points"]
        ]
        reference_path = run_dir / "reference.wav"
        # an older folder without the reference still shows and plays its points; A/B then has nothing to play
        reference = audio(reference_path) if reference_path.is_file() else np.zeros_like(points[0].samples)
        inp, place, run = manifest["input"], manifest["placement"], manifest.get("run", {})
        duration = float(inp.get("duration_s", points[0].samples.shape[-1] / rate))
        placement = make_placement(
            duration,
            rate,
            settings.n_fft,
            settings.hop_length,
            (float(place["t0_s"]), float(place["t1_s"])),
            (float(place["f0_hz"]), float(place["f1_hz"])),
            settings.freq_scale,
        )
        a = manifest.get("anchors", {})
        anchors = Anchors(
            music_visual=float(a["music"]["visual_loss"]),
            music_audio=float(a["music"]["audio_loss"]),
            image_visual=float(a["image"]["visual_loss"]),
            image_audio=float(a["image"]["audio_loss"]),
        )
        cross = manifest.get("crossfade", {})
        cross_v = np.asarray(cross.get("visual_loss", []), dtype=float)
        cross_a = np.asarray(cross.get("audio_loss", []), dtype=float)
        cross_mos = crossfade_mos(cross, len(cross_v))
        seconds, cancelled = run.get("seconds", {}), run.get("cancelled")
        optimisation = OptimisationResult(
            candidates=[],
            anchors=anchors,
            crossfade_levels=np.zeros(0),
            crossfade_visual=cross_v,
            crossfade_audio=cross_a,
            steps_done=int(run.get("steps", 0)),
            stopped_early=bool(run.get("stopped_early")),
            cancelled=cancelled if isinstance(cancelled, bool) else None,
            elapsed_s=float(seconds.get("optimise_s", 0.0)),
            chunk_size=int(run.get("chunk_size", 0)),
            hypervolume_history=[],
        )
        return RunResult(
            settings=settings,
            device=str(run.get("device", "?")),
            sample_rate=rate,
            start_s=float(inp.get("start_s", 0.0)),
            duration_s=duration,
            image_sha256=str(inp.get("image_sha256", "")),
            audio_sha256=str(inp.get("audio_sha256", "")),
            placement=placement,
            reference=reference,
            points=points,
            anchors=anchors,
            hypervolume=float(manifest.get("hypervolume", {}).get("value", 0.0)),
            crossfade_visual=cross_v,
            crossfade_audio=cross_a,
            optimisation=optimisation,
            notices=tuple(run.get("notices", ())),
            timings=dict(seconds),
            limiter=Limiter.from_record(manifest.get("limiter")),
            crossfade_mos=cross_mos,
        )
    except MossInputError:
        raise
    except (KeyError, TypeError, ValueError) as exc:  # a manifest edited by hand or from a different format
        raise MossInputError(f"the manifest is missing or garbles {exc}", run_dir / "manifest.json") from None


def crossfade_mos(cross: dict[str, Any], levels: int) -> tuple[float | None, ...] | None:
    """The crossfade's MOS per level from the manifest's ``crossfade`` record (nulls where not heard), or None where
    the folder has none (written before ``crossfade.mos``, or a list that does not match its levels)."""
    mos = cross.get("mos")
    if not isinstance(mos, list) or len(mos) != levels:
        return None
    return tuple(None if m is None else float(m) for m in mos)
