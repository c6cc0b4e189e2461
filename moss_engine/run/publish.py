"""``--publish``: a front made to survive the codec the user will publish in (MP3 128, AAC 128, Opus 96).

The design, in two parts (DESIGN.md "The run folder" records both):

1. **The optimiser sees through a proxy of the codec** (``dsp.codec_proxy``): the visual objective judges the viewer's
   spectrogram after a fixed random error on every cell, of a power ``k`` times the cell's own. ``k`` depends on the
   music as much as on the codec (the bits a codec has to spare), so every run calibrates it against the real encoder
   before optimising (``calibrate_proxy``): two uniform blends of its own song and picture, rendered as files, go
   through the codec and back, and the ``k`` whose prediction matches the decoded files' SSIM best is kept (about
   2 s on two CPU cores).
2. **The points are chosen on the real codec** (``PublishedEars``): every candidate rendered as a file goes through the
   codec and back; the front by ear is chosen on the SSIM a viewer shows of the decoded file (score_run's
   definition) and the MOS a listener hears of it (Zimtohrli, against the song as written), so the front a user sees
   is measured, not predicted. The files written stay the lossless WAVs (``mos``: of the WAV, as the contract has
   it); each point also records ``codec_ssim`` and ``codec_mos`` after the codec chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from moss_engine.dsp.codec_proxy import OFFSETS_DB, proxied_levels
from moss_engine.dsp.limiter import Limiter
from moss_engine.dsp.loudness import SongLoudness
from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.viewer_ssim import picture_of_levels, picture_ssim, viewer_spectrum
from moss_engine.errors import MossInputError
from moss_engine.io.audio import AudioClip
from moss_engine.io.codec import Codec, codec, round_trip
from moss_engine.reporting import Reporter, Status, Stopped
from moss_engine.run.codec_ssim import SeenPicture, written_mono
from moss_engine.run.folder import view_record
from moss_engine.run.front_audio import crossfade_candidate, fit_loudness
from moss_engine.settings import RunSettings

#: The uniform blends the proxy is calibrated on (0 the music, 1 the picture): half way and the whole picture, both at
#: the run's matched level, rendered as files are. The front lies between them (its first visible points are near the
#: half-way blend's SSIM, its image end near the whole picture's).
CALIBRATION_BLENDS = (0.6, 1.0)


def publish_codec(settings: RunSettings) -> Codec | None:
    """The codec ``settings`` publish in, or None for ``lossless``."""
    return None if settings.publish == "lossless" else codec(settings.publish)


@dataclass(frozen=True)
class ProxyCalibration:
    """What ``calibrate_proxy`` found: the proxy's offset (dB) and, per calibration blend, the SSIM a viewer shows of
    the file as written, after the real codec, and as the proxy predicts it at that offset (the manifest's
    ``publish.calibration``)."""

    offset_db: float
    written: tuple[float, ...]
    decoded: tuple[float, ...]
    predicted: tuple[float, ...]

    def to_record(self) -> dict[str, object]:
        def r(v):
            return [round(float(x), 4) for x in v]

        return {
            "proxy_offset_db": self.offset_db,
            "blends": list(CALIBRATION_BLENDS),
            "ssim_written": r(self.written),
            "ssim_decoded": r(self.decoded),
            "ssim_predicted": r(self.predicted),
        }


def predicted_ssim(seen: SeenPicture, spectrum: tuple[np.ndarray, ...], offset_db: float, seed: int) -> float:
    """The SSIM a viewer shows of a spectrogram (``viewer_spectrum``) after the proxy at ``offset_db``, applied to the
    placement's bins (as the optimiser applies it)."""
    spec, freqs, times = spectrum
    level_db = 20 * np.log10(np.abs(spec) + 1e-10)
    rows = np.flatnonzero((freqs >= seen.placement["f0_hz"]) & (freqs <= seen.placement["f1_hz"]))
    block = slice(rows[0], rows[-1] + 1)
    level_db[block] = proxied_levels(spec[block], freqs[block], offset_db, seed)
    shown = picture_of_levels(level_db, freqs, times, seen.view, seen.placement)
    return picture_ssim(shown, seen.gray, seen.alpha)


def fit_offset(
    seen: SeenPicture, levels: list[tuple[np.ndarray, ...]], decoded: list[float], seed: int
) -> tuple[float, list[float]]:
    """The offset of ``OFFSETS_DB`` whose predictions of ``levels`` come nearest to the ``decoded`` SSIMs (least
    squares), with its predictions. The predicted SSIM falls as the offset grows, so the search bisects on the mean
    error and then looks at the two neighbours."""
    cache: dict[int, list[float]] = {}

    def predict(i: int) -> list[float]:
        if i not in cache:
            cache[i] = [predicted_ssim(seen, lv, OFFSETS_DB[i], seed) for lv in levels]
        return cache[i]

    def error(i: int) -> float:
        return float(np.mean(np.subtract(predict(i), decoded)))

    lo, hi = 0, len(OFFSETS_DB) - 1
    while hi - lo > 1:  # error(lo) >= 0 >= error(hi) is what the bisection keeps, where it holds
        mid = (lo + hi) // 2
        if error(mid) > 0:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda i: float(np.sum(np.square(np.subtract(predict(i), decoded)))))
    return OFFSETS_DB[best], predict(best)


def calibrate_proxy(
    renderer: PointRenderer,
    reference: np.ndarray,
    codec_: Codec,
    seen: SeenPicture,
    should_stop: Callable[[], bool],
) -> ProxyCalibration | None:
    """Calibrate the codec's proxy on this run (``CALIBRATION_BLENDS`` rendered as files, through the real codec):
    its ``ProxyCalibration``, or None when no blend could be rendered within the song's loudness or a stop came.
    ``MossError`` when ffmpeg fails."""
    problem = renderer.problem
    song, limiter = SongLoudness(reference, seen.sample_rate), Limiter.for_song(reference)
    levels, written, decoded = [], [], []
    for blend in CALIBRATION_BLENDS:
        if should_stop():
            return None
        try:
            point = fit_loudness(
                renderer, crossfade_candidate(problem, blend, 0.0, 0.0), song, limiter, should_stop, rescore=False
            )
        except Stopped:
            return None
        if point is None or not point.loudness.within():
            continue
        back = round_trip(point.samples, seen.sample_rate, codec_, should_stop)
        if back is None:
            return None
        levels.append(viewer_spectrum(written_mono(point.samples), seen.sample_rate, seen.view))
        written.append(seen.ssim(point.samples))
        decoded.append(seen.ssim(back))
    if not levels:
        return None
    offset, predicted = fit_offset(seen, levels, decoded, problem.settings.seed)
    return ProxyCalibration(offset, tuple(written), tuple(decoded), tuple(predicted))


class PublishedEars:
    """How a publish run hears and sees its rendered files: ``heard(samples)`` sends a file through the codec and back
    and returns the decoded audio (what the listening workers hear), keeping the SSIM a viewer shows of it
    (``ssim``, in the order heard). A stop meanwhile gives the file as it is (not heard: the run is cancelled);
    ``MossError`` (one line) when ffmpeg fails."""

    def __init__(self, codec_: Codec, seen: SeenPicture, should_stop: Callable[[], bool]):
        self.codec, self.seen, self.should_stop = codec_, seen, should_stop
        self.ssim: list[float | None] = []

    def heard(self, samples: np.ndarray) -> np.ndarray:
        back = round_trip(samples, self.seen.sample_rate, self.codec, self.should_stop)
        self.ssim.append(None if back is None else self.seen.ssim(back))
        return samples if back is None else back


@dataclass
class PublishedFigures:
    """A publish run's figures of its rendered files (aligned with them): the SSIM a viewer shows and the MOS a
    listener hears after the codec; ``keep``, the files chosen for the front (by the caller, on these figures);
    ``written_mos``, the MOS of the kept files as written, by index (``heard_written``)."""

    ssim: list[float]
    mos: list[float]
    keep: list[int]
    written_mos: dict[int, float]

    def heard_written(self, values: list[float | None], kinds: list[str]) -> None:
        """The MOS of the kept files as written, heard in ``keep``'s order, the music end (the song itself) left
        out; ``kinds``: every rendered file's candidate kind."""
        heard = iter(values)
        for i in self.keep:
            if kinds[i] != "music":
                value = next(heard, None)
                if value is not None:
                    self.written_mos[i] = float(value)


def published_figures(
    kinds: list[str], heard: list[float | None], ears: PublishedEars, points_heard: int
) -> PublishedFigures | None:
    """The figures after the codec of every rendered file, from what was heard: ``heard`` (and ``ears.ssim``) hold the
    points' files (all but the music end, in order; ``points_heard`` of them), then the crossfade's levels, then the
    music end's (the song through the codec). None where one is missing (a stop came)."""
    values = list(zip(ears.ssim, heard, strict=True))
    ssim, mos, points = [0.0] * len(kinds), [0.0] * len(kinds), iter(values[:points_heard])
    for i, kind in enumerate(kinds):
        s, m = values[-1] if kind == "music" else next(points)
        if s is None or m is None:
            return None
        ssim[i], mos[i] = float(s), float(m)
    return PublishedFigures(ssim, mos, [], {})


def prepare_publish(
    renderer: PointRenderer, clip: AudioClip, settings: RunSettings, reporter: Reporter
) -> tuple[PublishedEars | None, dict[str, object] | None]:
    """For a publish run (``settings.publish``), before optimising: the codec's proxy calibrated on this run and put
    in the problem's visual objective (``HidingProblem.use_codec_proxy``), the ears that hear and see the rendered
    files through the codec, and the manifest's ``publish`` record; ``(None, None)`` for a lossless run. Where no
    calibration blend could be measured (a stop, or no blend within the song's loudness) the proxy stays off and the
    record says so (``proxy_offset_db`` null): the points are still chosen on the real codec. ``MossError`` (one line)
    when ffmpeg fails: a run asked to survive a codec cannot go on without it."""
    codec_ = publish_codec(settings)
    if codec_ is None:
        return None, None
    problem = renderer.problem
    reporter.progress(
        0.0,
        f"measuring how the picture survives {codec_.label} in this song",
        Status("measuring", detail=f"calibrating {codec_.label}"),
    )
    seen = SeenPicture(settings.image, clip.sample_rate, view_record(settings), problem.placement.to_record())
    reference = np.ascontiguousarray(clip.samples, dtype=np.float32)
    calibration = calibrate_proxy(renderer, reference, codec_, seen, reporter.should_stop)
    problem.use_codec_proxy(None if calibration is None else calibration.offset_db)
    record: dict[str, object] = {"codec": codec_.key, "label": codec_.label}
    record.update(calibration.to_record() if calibration is not None else {"proxy_offset_db": None})
    return PublishedEars(codec_, seen, reporter.should_stop), record


def check_publish_band(settings: RunSettings, channels: int) -> None:
    """Refuse (``MossInputError``, reason ``"above_codec"``, one line) a band asked for (``--freq``) whose top is above
    what the codec the run publishes in keeps of a song with ``channels`` at the run's rate (``Codec.cutoff_hz``: MP3
    128 low-passes stereo at 16.5 kHz): the top of the picture would be gone from the published file.

    The decision: refused, not warned about: a user who asks for a front that survives the codec cannot get one with
    that band, and learns it before the run rather than after. The default band never reaches that high (15 kHz at
    most, ``settings.default_band``)."""
    codec_ = publish_codec(settings)
    if codec_ is None or settings.freq is None:
        return
    cutoff = codec_.cutoff_hz(settings.sample_rate, channels)
    f0, f1 = settings.freq
    if f1 <= cutoff:
        return
    kind = "mono" if channels == 1 else "stereo"
    raise MossInputError(
        f"--freq {f0:g}:{f1:g}: F1 is above {cutoff:g} Hz, where {codec_.label} cuts a {kind} song at "
        f"{codec_.encode_rate(settings.sample_rate) / 1000:g} kHz, so the top of the picture would not survive it: "
        f"lower F1 to {cutoff:g} Hz, or choose --publish lossless",
        field="freq",
        option="--freq",
        reason="above_codec",
        cutoff_hz=cutoff,
    )
