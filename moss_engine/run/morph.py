"""A continuous path from the music end to the image end built from a run's front, and the morph audio along it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from moss_engine.dsp.limiter import Limiter, peak_envelope
from moss_engine.dsp.masks import interpolated_logits
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.io import atomic as staging
from moss_engine.optimise.front import alphas
from moss_engine.run.folder import (
    level_record,
    load_logits,
    makeup_db,
    picture_level_db,
    point_file,
    read_manifest,
    settings_from_manifest,
)
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import RunSettings

#: Interpolated states between two neighbouring front points (the points themselves come on top).
STATES_BETWEEN = 3
#: Along the path the visual loss may not rise, nor the audio loss fall, by more than this share of the ends' range.
MONOTONE_TOLERANCE = 0.02


@dataclass(frozen=True)
class MorphState:
    """One state of the path: its mask logits, picture level (dB: a number or a curve over time), phase refinement,
    and measured losses and alpha."""

    logits: np.ndarray
    level_db: float | np.ndarray
    phase_iterations: int
    visual: float
    audio: float
    alpha: float
    makeup_db: float | np.ndarray = 0.0


@dataclass(frozen=True)
class LoadedRun:
    """A run folder brought back to life: its manifest, settings, its points' renderer (the problem on the CPU; a
    morph is not cancelled), points' logits and picture
    levels (moss-run/1 points: 0 dB, the level they were made at), and the limiter its points went through (a folder
    written before moss-run/3, which had none: one for its song, ``Limiter.for_song``)."""

    folder: Path
    manifest: dict
    renderer: PointRenderer
    reference: np.ndarray
    logits: list[np.ndarray]
    levels_db: list[float | np.ndarray]
    phase_iterations: list[int]
    limiter: Limiter
    makeups_db: list[float | np.ndarray]


def rebuild_run(folder: Path, manifest: dict | None = None, settings: RunSettings | None = None) -> LoadedRun:
    """Read a run folder and rebuild its problem from the original files (checked against the manifest's hashes);
    ``manifest`` and ``settings``, when the caller has read them already, are not read again."""
    folder = Path(folder)
    manifest = read_manifest(folder) if manifest is None else manifest
    settings = settings_from_manifest(folder, manifest) if settings is None else settings
    clip, image = load_inputs(settings)
    renderer = PointRenderer(HidingProblem(clip, image, ProblemSettings.from_run(settings)), should_stop=None)
    logits = [load_logits(point_file(folder, p, "mask"), settings.mask_shape) for p in manifest["points"]]
    levels = [picture_level_db(p) for p in manifest["points"]]
    iterations = [int(p.get("phase_iterations", 0)) for p in manifest["points"]]
    limiter = Limiter.from_record(manifest.get("limiter")) or Limiter.for_song(clip.samples)
    makeups = [makeup_db(p) for p in manifest["points"]]
    return LoadedRun(folder, manifest, renderer, clip.samples, logits, levels, iterations, limiter, makeups)


def morph_path(run: LoadedRun, states_between: int = STATES_BETWEEN) -> list[MorphState]:
    """States from the music end to the image end: the front's points and masks interpolated between neighbours.

    Every state is rendered and scored again. An interpolated state uses phase refinement only when both its
    neighbours do. States that would break the path's monotonicity (visual loss rising, or audio loss falling, by
    more than ``MONOTONE_TOLERANCE`` of the ends' range) are left out, so the path only ever moves towards the picture.
    """
    points = run.manifest["points"]
    raw: list[tuple[np.ndarray, float | np.ndarray, int, float, float, float | np.ndarray]] = []
    for i, p in enumerate(points):
        raw.append(
            (
                run.logits[i],
                run.levels_db[i],
                run.phase_iterations[i],
                float(p["visual_loss"]),
                float(p["audio_loss"]),
                run.makeups_db[i],
            )
        )
        if i + 1 < len(points):
            iterations = min(run.phase_iterations[i], run.phase_iterations[i + 1])
            for k in range(1, states_between + 1):
                t = k / (states_between + 1)
                logits = interpolated_logits(run.logits[i], run.logits[i + 1], t)
                level = (1 - t) * np.asarray(run.levels_db[i]) + t * np.asarray(run.levels_db[i + 1])
                v, a, _ = run.renderer.score_point(logits, level, iterations)
                makeup = (1 - t) * np.asarray(run.makeups_db[i]) + t * np.asarray(run.makeups_db[i + 1])
                raw.append((logits, level, iterations, v, a, makeup))
    v_music, v_image = raw[0][3], raw[-1][3]
    a_music, a_image = raw[0][4], raw[-1][4]
    v_tol = MONOTONE_TOLERANCE * abs(v_music - v_image)
    a_tol = MONOTONE_TOLERANCE * abs(a_image - a_music)
    kept = [raw[0]]
    for state in raw[1:]:
        last = kept[-1]
        if state[3] <= last[3] + v_tol and state[4] >= last[4] - a_tol:
            kept.append(state)
    if kept[-1] is not raw[-1]:
        kept.append(raw[-1])
    a = alphas(np.array([s[3] for s in kept]), v_music, v_image)
    return [MorphState(*s[:5], float(al), s[5]) for s, al in zip(kept, a, strict=True)]


def morph_audio(run: LoadedRun, states: list[MorphState]) -> tuple[np.ndarray, np.ndarray]:
    """The clip played once while the blend moves along the path: (channels, samples) audio, and (frames,) alpha.

    STFT frame c of the clip takes the spectrogram of the state at position ``c / (frames - 1)`` along the path,
    interpolated linearly between the two nearest states; overlap-add then spreads each change over a window, so
    there are no clicks. Every state is at the song's loudness, and the morph's peaks go through the run's limiter
    (never a gain for the whole clip).
    """
    renderer = run.renderer
    problem = renderer.problem
    n_frames = problem.spec.shape[-1]
    position = np.linspace(0.0, len(states) - 1, n_frames)
    lower = np.minimum(np.floor(position).astype(int), len(states) - 2) if len(states) > 1 else np.zeros(n_frames, int)
    weight = torch.as_tensor(position - lower, dtype=torch.float32)
    spec = torch.zeros_like(problem.spec)
    frame_times = np.arange(n_frames) * problem.settings.hop_length / problem.sample_rate
    for s, state in enumerate(states):
        with torch.no_grad():
            mask = renderer.point_mask(state.logits)
            state_spec = renderer.point_spectrogram(mask, state.level_db, state.phase_iterations)  # (ch, freq, frames)
            state_spec = state_spec * torch.from_numpy(renderer.makeup_gain(state.makeup_db, frame_times))
        share = torch.zeros(n_frames)
        share[lower == s] += 1 - weight[lower == s]
        share[lower + 1 == s] += weight[lower + 1 == s]
        spec += state_spec * share
    audio, _ = run.limiter.apply(
        problem.stft.inverse(spec, problem.n_samples).numpy(), problem.sample_rate, peak_envelope(run.reference)
    )
    frame_alpha = np.interp(position, np.arange(len(states)), [s.alpha for s in states])
    return audio.astype(np.float32), frame_alpha


MORPH_FILES = ("morph.json", "morph.wav", "morph.mp4")


def _check_room(folder: Path, manifest: dict, settings: RunSettings) -> None:
    """Refuse, before the work, a morph the machine cannot hold: the run's song in memory (the CPU's estimate, as
    ``moss front`` checks it) and morph.wav plus the video on the disk."""
    import torch

    from moss_engine.io.budget import check_free_space, check_memory, run_folder_bytes

    check_memory(settings, torch.device("cpu"))
    samples = round(float(manifest["input"]["duration_s"]) * int(manifest["sample_rate"]))
    check_free_space(  # the WAV, and the video
        folder, 2 * run_folder_bytes(0, int(manifest["channels"]), samples), "morph", "free some space there"
    )


def write_morph(folder: Path, overwrite: bool = False, video: bool = True) -> list[MorphState]:
    """Write morph.json, morph.wav and morph.mp4 into a run folder (all or nothing) and return the path's states.

    Existing morph files are only replaced with ``overwrite``.
    """
    import os

    from moss_engine.errors import MossInputError
    from moss_engine.io.audio import write_wav
    from moss_engine.run.folder import write_json

    folder = Path(folder)
    manifest = read_manifest(folder)
    existing = [name for name in MORPH_FILES if (folder / name).exists()]
    if existing and not overwrite:
        raise MossInputError(f"already holds {', '.join(existing)}; pass --overwrite to replace", folder)
    settings = settings_from_manifest(folder, manifest)
    _check_room(folder, manifest, settings)
    run = rebuild_run(folder, manifest, settings)
    states = morph_path(run)
    audio, frame_alpha = morph_audio(run, states)
    need = 2 * (audio.size * 4 + 64 * 1024)  # the WAV, and about as much for the video
    try:
        staging.sweep(folder, ".morph.")  # what a killed earlier morph left here
        tmp = staging.new_staging_folder(folder / "morph")
    except OSError as exc:
        raise MossInputError(f"cannot write the morph into the run folder ({exc.strerror or exc})", folder) from None
    try:
        write_json(
            tmp / "morph.json",
            {
                "states": [
                    {
                        "alpha": s.alpha,
                        "visual_loss": s.visual,
                        "audio_loss": s.audio,
                        "picture_level_db": level_record(s.level_db),
                        "makeup_db": level_record(s.makeup_db),
                        "phase_iterations": s.phase_iterations,
                    }
                    for s in states
                ]
            },
        )
        write_wav(tmp / "morph.wav", audio, run.renderer.problem.sample_rate)
        if video:
            from moss_engine.run.video import write_morph_video

            points = run.manifest["points"]
            write_morph_video(
                tmp / "morph.mp4",
                tmp / "morph.wav",
                audio,
                run.renderer.problem.sample_rate,
                frame_alpha,
                np.array([s.visual for s in states]),
                np.array([s.audio for s in states]),
                np.array([p["visual_loss"] for p in points]),
                np.array([p["audio_loss"] for p in points]),
                settings,
            )
        for name in MORPH_FILES:
            if (tmp / name).exists():
                os.replace(tmp / name, folder / name)
    except OSError as exc:  # a folder that lets nothing in, a full disk: one line (the run's files untouched)
        if exc.errno in staging.NO_SPACE:
            raise staging.write_error(exc, folder, "morph", need, "free some space there") from None
        raise MossInputError(f"cannot write the morph into the run folder ({exc.strerror or exc})", folder) from None
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return states
