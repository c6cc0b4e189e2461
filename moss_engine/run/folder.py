"""Write a run folder (DESIGN.md's contract) atomically, and refuse to replace anything that is not a MOSS run."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moss_engine.errors import MossInputError
from moss_engine.io import atomic as staging
from moss_engine.io.atomic import first_missing, remove_if_empty
from moss_engine.io.audio import write_wav
from moss_engine.optimise.front import HV_REFERENCE

if TYPE_CHECKING:
    from moss_engine.settings import RunSettings

#: The run folder format this version writes (DESIGN.md "The run folder"), and every format it reads. moss-run/2
#: differs from moss-run/1 only in levels: no run-wide ``output_gain_db``; per point ``gain_db``, ``loudness_lu``,
#: ``picture_level_db`` and ``mos``; ``audio_objective`` at the top. moss-run/3 differs from moss-run/2 only in levels:
#: every point within +-1 LU of the song, peaks held inside it by the limiter (per point ``limiter_db`` instead of the
#: whole-point ``gain_db``, the ``limiter``'s settings at the top), ``picture_level_db`` a number or a list, and
#: ``loudness_lu`` and ``mos`` measured on the file as written. Added within moss-run/3 (optional, readers ignore what
#: they do not know): ``crossfade.mos``, per point ``codec_ssim``, and for a ``--publish`` run the top-level ``publish``
#: record (the codec, its proxy's calibration) and per point ``codec_mos``.
FORMAT = "moss-run/3"
FORMATS = ("moss-run/1", "moss-run/2", "moss-run/3")
MANIFEST = "manifest.json"
#: What a full disk's message asks by default (the command line's words; the app passes its own).
_NO_SPACE_HINT = "free some space or choose another --out"


def view_record(s: RunSettings) -> dict:
    """The manifest's ``view``: the viewer a run's picture is drawn for (DESIGN "The run folder")."""
    return {
        "n_fft": int(s.n_fft),
        "hop_length": int(s.hop_length),
        "window": "hann",
        "db_range": float(s.db_range),
        "freq_scale": s.freq_scale,
        "channel": "mix",
    }


def is_run_folder(path: Path) -> bool:
    """True when ``path`` is a folder whose manifest.json names a run folder format MOSS knows (``FORMATS``)."""
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") in FORMATS


def format_version(manifest: dict[str, Any]) -> int:
    """1, 2 or 3: the manifest's format number."""
    return int(str(manifest.get("format", FORMAT)).rpartition("/")[2])


def run_gain_db(manifest: dict[str, Any]) -> float:
    """The one gain every audio file of a moss-run/1 folder carries (``output_gain_db``); 0 for moss-run/2 and /3,
    whose files are at the song's level."""
    if format_version(manifest) >= 2:
        return 0.0
    return _number(manifest.get("output_gain_db", 0.0), "output_gain_db")


def picture_level_db(entry: dict[str, Any]) -> float | np.ndarray:
    """A point's picture level (dB of white relative to the music's loudest cell of the placement): a number, or
    (moss-run/3) a curve, the levels at ``linspace(t0_s, t1_s, n)`` as an array; a moss-run/1 point has none
    recorded and was made at 0 dB (white at that cell)."""
    return _curve(entry, "picture_level_db")


def makeup_db(entry: dict[str, Any]) -> float | np.ndarray:
    """The gain (dB, >= 0) a moss-run/3 point was brought up to the song's loudness with: a number, or a curve at the
    level's knots (0: none, and for older folders); a rebuild applies it before the limiter."""
    return _curve(entry, "makeup_db")


def _curve(entry: dict[str, Any], key: str) -> float | np.ndarray:
    value = entry.get(key, 0.0)
    if value is None:
        return 0.0
    if isinstance(value, list):
        if not value:
            raise MossInputError(f"{key!r} is an empty list", MANIFEST)
        return np.array([_number(v, key) for v in value], dtype=np.float64)
    return _number(value, key)


def level_record(level: float | np.ndarray) -> float | list[float]:
    """A point's level as the manifest records it: a number when it is the same all along, else the list."""
    values = np.atleast_1d(np.asarray(level, dtype=np.float64))
    if np.ptp(values) < 1e-9:
        return round(float(values[0]), 6)
    return [round(float(v), 6) for v in values]  # to a millionth of a dB: the point rebuilt as it was written


def _number(value: Any, key: str, where: Path | str = MANIFEST) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise MossInputError(f"{key!r} is {value!r:.40}, not a number", where)
    return float(value)


def check_output_folder(out: Path, overwrite: bool, replaceable: tuple[str, ...] = ()) -> None:
    """Raise ``MossInputError`` unless ``out`` can be written: new, or (with ``overwrite``) a MOSS run folder that
    holds nothing but its own files (``foreign_files``) and the names in ``replaceable``, in a folder where its
    replacement can be made.

    Called before the work starts (so nobody waits minutes to learn this) and again just before the write. It first
    removes what dead writers of ``out`` left beside it (``atomic.sweep_for``), so that their space is free again.
    """
    out = Path(out)
    staging.sweep_for(out)
    if _is_empty_folder(out):
        return  # a folder made for the run: nothing in it to lose
    kind = staging.kind_of(out)
    if kind is None:
        staging.check_name_fits(out)
        _check_can_create(out)
        return
    if kind != "folder":
        raise MossInputError(
            f"already exists and is a {kind}, not a run folder: MOSS writes a new run folder or replaces an "
            "earlier one (choose another --out)",
            out,
        )
    if not overwrite:
        raise MossInputError(
            "already exists; choose another --out or pass --overwrite to replace an earlier MOSS run", out
        )
    newer = newer_format(out)
    if newer is not None:
        raise MossInputError(
            f"was written by a newer MOSS ({newer}), so this version will not replace it: choose another --out", out
        )
    if not is_run_folder(out):
        raise MossInputError(
            "holds no MOSS manifest, so --overwrite will not replace it (MOSS only replaces its own run folders)",
            out,
        )
    others = [name for name in foreign_files(out) if name not in replaceable]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise MossInputError(
            f"holds files that are not the run's own ({shown}), so --overwrite will not replace "
            "it: move them or choose another --out",
            out,
        )
    try:  # the new run is made beside the old one, then swapped in: the folder above must let it
        staging.probe(out)
    except OSError as exc:
        raise MossInputError(f"cannot replace the run folder here ({exc.strerror or exc})", out) from None


def newer_format(path: Path) -> str | None:
    """The format of a run folder written by a newer MOSS ("moss-run/9"), or None (not one, or one this version
    reads)."""
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = manifest.get("format") if isinstance(manifest, dict) else None
    if not isinstance(name, str) or name in FORMATS or not name.startswith("moss-run/"):
        return None
    number = name.rpartition("/")[2]
    return name if number.isdigit() and int(number) > format_version({"format": FORMAT}) else None


def own_files(manifest: dict[str, Any]) -> set[str]:
    """Names of the files a run folder's contract lists: the manifest, reference.wav, front.png, each point's wav and
    mask (read leniently: a damaged manifest lists what it can)."""
    own = {MANIFEST, "reference.wav", "front.png"}
    points = manifest.get("points") if isinstance(manifest, dict) else None
    for entry in points if isinstance(points, list) else []:
        if isinstance(entry, dict):
            own.update(str(entry.get(key)) for key in ("wav", "mask") if entry.get(key) is not None)
    return own


def foreign_files(run_dir: Path) -> list[str]:
    """Names (sorted) of what a run folder holds beyond the files its manifest lists (the manifest, reference.wav,
    front.png, each point's wav and mask): renders, morphs, a user's notes. ``--overwrite`` replaces only a folder
    without any, so that it never deletes what MOSS did not write as this run."""
    own = own_files(json.loads((Path(run_dir) / MANIFEST).read_text(encoding="utf-8")))
    return sorted(p.name for p in Path(run_dir).iterdir() if p.name not in own or not p.is_file() or p.is_symlink())


def _is_empty_folder(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    except OSError:
        return False


def _check_can_create(out: Path) -> None:
    """Make sure a folder can be created at ``out``: create its missing parents and a scratch folder, then undo it."""
    existing = next(p for p in [out.parent, *out.parent.parents] if p.exists())
    if not existing.is_dir():
        raise MossInputError("is not a folder, so no run folder can be made inside it", existing)
    created = first_missing(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.probe(out)
    except OSError as exc:
        raise MossInputError(f"cannot create the run folder here ({exc.strerror or exc})", out) from None
    finally:
        remove_if_empty(created)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def manifest_for(result: Any) -> dict[str, Any]:
    """The manifest of a ``pipeline.RunResult`` (every key the contract requires, plus a few more)."""
    s = result.settings
    from moss_engine.dsp.hearing import NEUROGRAM_OBJECTIVE
    from moss_engine.dsp.objectives import AUDIO_OBJECTIVE
    from moss_engine.run.listening import model_name

    objective = AUDIO_OBJECTIVE if s.audio_objective == "logmel" else NEUROGRAM_OBJECTIVE
    points = []
    for i, p in enumerate(result.points):
        points.append(
            {
                "wav": f"point_{i:03d}.wav",
                "mask": f"point_{i:03d}.npy",
                "visual_loss": float(p.visual),
                "audio_loss": float(p.audio),
                "alpha": float(p.alpha),
                "loudness_lu": None if p.loudness_lu is None else round(float(p.loudness_lu), 3),
                "limiter_db": round(float(p.limiter_db), 3),
                "makeup_db": level_record(p.makeup_db),
                "mos": None if p.mos is None else round(float(p.mos), 4),
                "picture_level_db": level_record(p.level_db),
                "kind": p.kind,
                "phase_iterations": int(p.phase_iterations),
            }
        )
        figures = getattr(p, "codec_ssim", None)
        if figures:  # optional: measured after each publishing codec (``pipeline.measure_codecs``)
            points[-1]["codec_ssim"] = {key: round(float(v), 4) for key, v in figures.items()}
        heard = getattr(p, "codec_mos", None)
        if heard:  # a publish run's: the MOS of the file after its codec (``publish.PublishedEars``)
            points[-1]["codec_mos"] = {key: round(float(v), 4) for key, v in heard.items()}
    opt = result.optimisation
    return {
        "format": FORMAT,
        "audio_objective": f"audio_loss: {objective}; mos: {model_name()} (mos_from_zimtohrli, 1-5, against "
        "the song over the picture's time span)",
        "sample_rate": int(result.sample_rate),
        "channels": int(result.channels),
        "input": {
            "image": s.image.name,
            "audio": s.audio.name,
            "image_sha256": result.image_sha256,
            "audio_sha256": result.audio_sha256,
            "start_s": float(result.start_s),
            "duration_s": round(float(result.duration_s), 6),
        },
        "view": view_record(s),
        "placement": result.placement.to_record(),
        "limiter": None if result.limiter is None else result.limiter.to_record(),
        "hypervolume": {
            "value": float(result.hypervolume),
            "reference_point": list(HV_REFERENCE),
            "space": "anchor-normalised",
        },
        "points_requested": int(s.points),
        "mask_shape": list(s.mask_shape),
        "settings": s.to_record(),
        "points": points,
        "anchors": {
            "music": {"visual_loss": result.anchors.music_visual, "audio_loss": result.anchors.music_audio},
            "image": {"visual_loss": result.anchors.image_visual, "audio_loss": result.anchors.image_audio},
        },
        "crossfade": crossfade_record(result),
        "run": {
            "device": result.device,
            "steps": opt.steps_done,
            "stopped_early": opt.stopped_early,
            "cancelled": bool(opt.cancelled),
            "chunk_size": opt.chunk_size,
            "seconds": {k: round(v, 3) for k, v in result.timings.items()},
            "notices": list(result.notices),
            "engine": _engine_version(),
        },
        **getattr(result, "extra", {}),
    }


def crossfade_record(result: Any) -> dict[str, Any]:
    """The manifest's ``crossfade``: the uniform crossfade's losses at each of its levels, by the optimiser's
    objectives, and (added within moss-run/3) ``mos``: Zimtohrli's MOS of each level, aligned with ``visual_loss``,
    measured on the level rendered as a point's file is (the song's loudness, the limiter), null at a level not heard
    (``pipeline.assemble_result``); a run without the model, or cancelled, has only nulls."""
    mos = getattr(result, "crossfade_mos", None)
    if mos is None or len(mos) != len(result.crossfade_visual):
        mos = [None] * len(result.crossfade_visual)
    return {
        "visual_loss": result.crossfade_visual.tolist(),
        "audio_loss": result.crossfade_audio.tolist(),
        "mos": [None if m is None else round(float(m), 4) for m in mos],
    }


def _engine_version() -> str:
    from moss_engine import __version__

    return __version__


def write_run_folder(
    result: Any,
    out: Path,
    overwrite: bool = False,
    plot: Callable[[Any, Path], None] | None = None,
    replaceable: tuple[str, ...] = (),
    hint: str = _NO_SPACE_HINT,
) -> Path:
    """Write ``result`` to ``out`` atomically: into a hidden sibling folder first, renamed into place at the end.

    An error or Ctrl-C part-way leaves nothing behind (and an earlier run at ``out`` untouched); ``overwrite`` only
    ever replaces a folder that holds a MOSS manifest and nothing but the files it lists, and the names in
    ``replaceable`` (the app's own autosave folder: the morph it wrote there). ``plot(result, path)`` draws front.png.
    A full disk is one line saying what the folder needs, and ``hint`` (what to do, in the caller's words).
    """
    out = Path(out).absolute()
    check_output_folder(out, overwrite, replaceable)
    from moss_engine.io.budget import run_folder_bytes

    need = run_folder_bytes(len(result.points), int(result.reference.shape[0]), int(result.reference.shape[-1]))
    created = first_missing(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.sweep_for(out)  # what a killed earlier write left here
        tmp = staging.new_staging_folder(out)
    except OSError as exc:
        remove_if_empty(created)
        raise staging.write_error(exc, out, "run folder", need, hint) from None
    old: Path | None = None
    try:
        write_wav(tmp / "reference.wav", result.reference, result.sample_rate)
        for i, p in enumerate(result.points):
            write_wav(tmp / f"point_{i:03d}.wav", p.samples, result.sample_rate)
            np.save(tmp / f"point_{i:03d}.npy", p.logits.astype(np.float32))
        if plot is not None:
            plot(result, tmp / "front.png")
        write_json(tmp / MANIFEST, manifest_for(result))
        check_output_folder(out, overwrite, replaceable)
        if _is_empty_folder(out):
            out.rmdir()
        if out.exists():
            old = staging.new_staging_folder(out, ".moss-old")
            os.replace(out, old / out.name)  # the earlier run waits in a fresh hidden folder until the new one is in
        staging.release(tmp)
        os.replace(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if (old / out.name).exists() and not out.exists():
                os.replace(old / out.name, out)
            shutil.rmtree(old, ignore_errors=True)
        remove_if_empty(created)
        if isinstance(exc, OSError):  # a full disk, a folder that cannot be written or replaced: one line
            raise staging.write_error(exc, out, "run folder", need, hint) from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def point_file(run_dir: Path, entry: Any, key: str) -> Path:
    """The path of a point's ``wav`` or ``mask`` file: a plain file name inside the run folder (DESIGN.md "The run
    folder"), never a path elsewhere (``MossInputError`` for ``../x.wav``, an absolute path, a folder, or a point
    that is not a record)."""
    run_dir = Path(run_dir)
    if not isinstance(entry, dict):
        raise MossInputError(
            f"the manifest's points must be records with a {key!r} file name, not {entry!r:.40}", run_dir / MANIFEST
        )
    name = entry.get(key)
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or Path(name).is_absolute()
        or Path(name).name != name
    ):
        raise MossInputError(
            f"a point's {key!r} must be a plain file name inside the run folder, not {name!r:.60}", run_dir / MANIFEST
        )
    return run_dir / name


def read_point_audio(path: Path, manifest: dict[str, Any]) -> tuple[np.ndarray, int]:
    """A run's audio file (a point's, or the reference) as (channels, frames) float32 and its rate, checked against
    the manifest's rate, channels and length: a damaged or truncated copy is refused, not shown or written out short.
    Every reader of a run folder's audio uses this (Open Run, ``moss render``)."""
    import soundfile as sf

    from moss_engine.io.audio import soundfile_name

    if not path.is_file():
        raise MossInputError("the run's audio file is missing from the run folder", path)
    try:
        data, rate = sf.read(soundfile_name(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise MossInputError(f"the run's audio file cannot be read ({exc})", path) from None
    want_rate, want_channels = int(manifest["sample_rate"]), int(manifest["channels"])
    want_frames = round(float(manifest["input"]["duration_s"]) * want_rate)
    if (int(rate), data.shape[1]) != (want_rate, want_channels) or abs(data.shape[0] - want_frames) > 1:
        raise MossInputError(
            f"holds {data.shape[0] / rate:.2f} s at {rate} Hz, {data.shape[1]} ch; the manifest "
            f"says {want_frames / want_rate:.2f} s at {want_rate} Hz, {want_channels} ch (a damaged "
            "copy?)",
            path,
        )
    return np.ascontiguousarray(data.T), int(rate)


def load_logits(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A point's mask logits from its .npy file, checked against the manifest's ``mask_shape`` and for finite values
    (``MossInputError`` naming the file when it is missing, unreadable or not what the manifest says). The file's
    header is read first: a header that claims another shape or type is refused before anything is allocated."""
    path = Path(path)
    if not path.is_file():
        raise MossInputError("the point's mask file is missing from the run folder", path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                header_shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                header_shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f".npy format version {version} is not one MOSS writes")
        if tuple(header_shape) != tuple(shape) or dtype.kind != "f" or dtype.itemsize > 8:
            raise MossInputError(
                f"the point's mask file holds a {dtype} array of shape {list(header_shape)}, the "
                f"manifest says float logits of shape {list(shape)}",
                path,
            )
        logits = np.load(path, allow_pickle=False)
    except MossInputError:
        raise
    except (OSError, ValueError) as exc:
        raise MossInputError(
            f"the point's mask file cannot be read ({' '.join(str(exc).split())[:120]})", path
        ) from None
    if logits.shape != tuple(shape):
        raise MossInputError(f"the point's mask has shape {logits.shape}, the manifest says {list(shape)}", path)
    if not np.isfinite(logits).all():
        raise MossInputError("the point's mask holds values that are not finite numbers", path)
    return np.ascontiguousarray(logits, dtype=np.float32)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a MOSS run folder (``MossInputError`` for a missing, foreign or damaged one)."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise MossInputError("run folder not found", run_dir)
    if not run_dir.is_dir():
        raise MossInputError("is a file, not a run folder", run_dir)
    newer = newer_format(run_dir)
    if newer is not None:
        raise MossInputError(
            f"was written by a newer MOSS (its manifest says {newer}; this version reads "
            f"{FORMATS[0]} to {FORMATS[-1]}): open it with that version",
            run_dir,
        )
    if not is_run_folder(run_dir):
        raise MossInputError(
            f"holds no MOSS manifest ({MANIFEST} with format moss-run/...): not a MOSS run folder", run_dir
        )
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    for key, kind in (
        ("points", list),
        ("sample_rate", int),
        ("channels", int),
        ("input", dict),
        ("placement", dict),
        ("settings", dict),
    ):
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value <= 0):
            raise MossInputError(f"{key!r} is missing or malformed", run_dir / MANIFEST)
    if not manifest["points"]:
        raise MossInputError("lists no points", run_dir / MANIFEST)
    numbers = [(manifest["input"], "duration_s", "input"), (manifest["input"], "start_s", "input")]
    for i, entry in enumerate(manifest["points"]):
        if not isinstance(entry, dict):
            raise MossInputError(f"point {i} is not a record", run_dir / MANIFEST)
        numbers += [(entry, key, f"point {i}") for key in ("visual_loss", "audio_loss", "alpha")]
        numbers += [
            (entry, key, f"point {i}")
            for key in ("gain_db", "limiter_db", "loudness_lu", "mos")
            if entry.get(key) is not None
        ]
        for record in ("codec_ssim", "codec_mos"):
            figures = entry.get(record)
            if figures is not None and not isinstance(figures, dict):
                raise MossInputError(f"point {i}: {record!r} is {figures!r:.40}, not a record", run_dir / MANIFEST)
            numbers += [(figures, key, f"point {i}: {record}") for key in figures or ()]
        for key in ("picture_level_db", "makeup_db"):  # a number, or a curve: a list of numbers
            curve = entry.get(key)
            numbers += (
                [(dict(enumerate(curve)), k, f"point {i}: {key}") for k in range(len(curve))]
                if isinstance(curve, list) and curve
                else [(entry, key, f"point {i}")]
                if curve is not None
                else []
            )
    for record, key, where in numbers:
        _number(record.get(key), f"{where}: {key}", run_dir / MANIFEST)
    return manifest


def find_input(run_dir: Path, manifest: dict[str, Any], kind: str, purpose: str = "rebuilding the run") -> Path:
    """The run's song or picture (``kind`` "audio" or "image"), found and checked against the manifest's SHA-256.

    Looked for at the path the settings record (relative to the current folder if relative), then by its name in the
    run folder and beside it.
    """
    from moss_engine.io.audio import sha256_file

    run_dir = Path(run_dir)
    recorded = Path(str(manifest["settings"].get(kind) or manifest["input"].get(kind) or ""))
    if not recorded.name:
        raise MossInputError(f"the manifest does not record the run's {kind} file", run_dir / MANIFEST)
    candidates = [recorded, run_dir / recorded.name, run_dir.parent / recorded.name]
    found = next((p for p in candidates if p.is_file()), None)
    what = "song" if kind == "audio" else "picture"
    if found is None:
        raise MossInputError(
            f"file not found: the run's {what}, which {purpose} needs (looked there, in the run folder and beside it)",
            recorded,
        )
    expected = manifest["input"].get(f"{kind}_sha256")
    if expected and sha256_file(found) != expected:
        raise MossInputError(
            f"changed since the run (its SHA-256 differs from the manifest's): {purpose} needs the {what} the run used",
            found,
        )
    return found


def settings_from_manifest(run_dir: Path, manifest: dict[str, Any], find_inputs: bool = True) -> Any:
    """A run's ``RunSettings`` from its manifest: with ``find_inputs`` its picture and music found and checked
    against their hashes (to rebuild the run), else the recorded paths as they are (to look at and listen to it)."""
    from moss_engine.settings import RunSettings

    if not find_inputs:
        return RunSettings.from_record(manifest["settings"])
    return RunSettings.from_record(
        manifest["settings"], image=find_input(run_dir, manifest, "image"), audio=find_input(run_dir, manifest, "audio")
    )
