"""Does the picture survive publishing? Every point's SSIM after MP3 128, AAC 128 and Opus 96 (``points[].codec_ssim``,
DESIGN.md "The run folder"), as ``../shared/tools/codec_survival.py`` defines it.

Each point's audio as written (32-bit float, its own channels) goes through each codec and back
(``io.codec.round_trip``); the SSIM a viewer shows of the decoded channels' mean is score_run's
(``dsp.viewer_ssim``), against the picture as its file gives it. The codecs run as ffmpeg subprocesses in threads,
one per core; the SSIM of each decoded point is taken as it comes back, so no more than a few decoded points are held.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from moss_engine.dsp.viewer_ssim import SSIM_GRID, picture_gray, picture_ssim, viewer_picture
from moss_engine.errors import MossError
from moss_engine.io.codec import CODECS, Codec, codec, round_trips
from moss_engine.run.folder import view_record


class SeenPicture:
    """The picture a run hides and the viewer it is seen with: ``ssim(samples)`` is the SSIM a viewer shows of a
    point's ``(channels, frames)`` audio (its channels' mean), score_run's definition.

    Args:
        image: the picture's file, read as given (no invert, gamma or fit).
        sample_rate: the run's rate.
        view: the manifest's ``view`` (``n_fft``, ``hop_length``, ``db_range``, ``freq_scale``).
        placement: the manifest's ``placement`` (``t0_s``, ``t1_s``, ``f0_hz``, ``f1_hz``).
    """

    def __init__(self, image: str | Path, sample_rate: int, view: Mapping[str, object], placement: Mapping[str, float]):
        self.sample_rate, self.view, self.placement = int(sample_rate), dict(view), dict(placement)
        self.gray, self.alpha = picture_gray(image, SSIM_GRID)

    def ssim(self, samples: np.ndarray) -> float:
        return picture_ssim(
            viewer_picture(written_mono(samples), self.sample_rate, self.view, self.placement), self.gray, self.alpha
        )


def written_mono(samples: np.ndarray) -> np.ndarray:
    """A ``(channels, frames)`` point as the reference scorer reads its 32-bit float file: each channel in float64,
    then their mean (what a viewer of the channel mix is shown)."""
    return np.asarray(samples, dtype=np.float32).astype(np.float64).mean(axis=0)


def codec_ssim(
    points: Sequence[np.ndarray],
    seen: SeenPicture,
    codecs: Sequence[Codec | str] = tuple(CODECS.values()),
    *,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    failed: Callable[[str, MossError], None] | None = None,
) -> dict[str, list[float | None]]:
    """Every point's SSIM after each codec: ``{"mp3_128": [per point], "aac_128": [...], "opus_96": [...]}``.

    ``points`` are ``(channels, frames)`` at ``seen.sample_rate``, as written. ``should_stop`` is asked before each
    point's encode and while ffmpeg works (ended at once): what was not measured by then is None. ``progress(done,
    total)`` as each (point, codec) pair is measured, from the worker threads. ``MossError`` when ffmpeg fails; with
    ``failed``, ``failed(codec key, error)`` instead, that codec's figures None (``io.codec.round_trips``).
    """
    chosen = [codec(c) if isinstance(c, str) else c for c in codecs]
    out: dict[str, list[float | None]] = {c.key: [None] * len(points) for c in chosen}
    total, count, lock = len(points) * len(chosen), [0], threading.Lock()

    def measured(i: int, key: str, decoded: np.ndarray) -> None:
        value = seen.ssim(decoded)
        with lock:
            out[key][i] = value
            count[0] += 1
            done = count[0]
        if progress is not None:
            progress(done, total)

    round_trips(
        points, seen.sample_rate, chosen, should_stop=should_stop, workers=workers, done=measured, failed=failed
    )
    return out


def per_point(figures: Mapping[str, Sequence[float | None]], digits: int = 4) -> list[dict[str, float]]:
    """``codec_ssim``'s figures as each point's manifest record ``{"mp3_128": 0.55, ...}`` (a codec not measured for
    that point left out), rounded to ``digits``."""
    n = max((len(v) for v in figures.values()), default=0)
    return [{k: round(float(v[i]), digits) for k, v in figures.items() if v[i] is not None} for i in range(n)]


def seen_of_result(result) -> SeenPicture:
    """The ``SeenPicture`` of a finished run in memory (a ``RunResult``: its settings' picture and viewer, its
    placement)."""
    s = result.settings
    return SeenPicture(s.image, result.sample_rate, view_record(s), result.placement.to_record())


def codec_ssim_of_result(result, **kwargs) -> dict[str, list[float | None]]:
    """``codec_ssim`` of a finished run's points (``RunResult.points[].samples``); ``kwargs`` as ``codec_ssim``'s."""
    return codec_ssim([p.samples for p in result.points], seen_of_result(result), **kwargs)


def codec_ssim_of_folder(run_dir: str | Path, image: str | Path, **kwargs) -> dict[str, list[float | None]]:
    """``codec_ssim`` of a run folder's points (their WAV files, its manifest's view and placement), the picture
    read from ``image`` (the folder keeps only its name); ``kwargs`` as ``codec_ssim``'s."""
    import json

    import soundfile as sf

    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    seen = SeenPicture(image, manifest["sample_rate"], manifest["view"], manifest["placement"])
    points = []
    for entry in manifest["points"]:
        data, _ = sf.read(run_dir / Path(entry["wav"]).name, dtype="float32", always_2d=True)
        points.append(data.T)
    return codec_ssim(points, seen, **kwargs)
