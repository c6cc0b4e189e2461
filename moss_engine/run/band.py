"""Where a picture with transparent parts goes in frequency when the user names no band (``--freq``).

A spectrogram viewer levels itself to the loudest cell it shows. With a transparent picture (a logo, a cut-out) that
cell is often the song's own bass, under the picture's transparent part, which MOSS leaves as it is (DESIGN.md "Alpha
and transparency"): the picture's white must then come within 10-20 dB of it to be seen, and over a quarter of the
placement that costs 7-16 LU, far more than the song's loudness allows. Measured on a cut-out in an ambient piece
(10 s, preview): in the default band the all-picture end, held to the loudness rules, showed SSIM 0.46-0.54 where the
seed's crossfade, 25 LU too loud, reached 0.77; placed from 2 kHz up it showed 0.84 within them.

So when the picture has transparent parts and no band is asked for, the band's bottom is chosen among
``BAND_STARTS_HZ`` (the top stays the default one): each is tried with the all-picture mask at the song's loudness
(``HidingProblem.matched_levels``), on the coarse grid, and the one a viewer shows best wins, the lowest bottom among
those within ``SAME_VISUAL`` of the best (a taller picture is kept where it costs nothing). The run says so in a
notice; ``--freq`` (the app: drawing the rectangle) always decides instead. An opaque picture keeps the default band:
it covers the song's loudest cells itself.

Before either, a song sampled below the run's rate lowers the default band's top under its own Nyquist frequency
(``settings.song_band``, with a notice): an 11.025 kHz song resampled to 22.05 kHz still holds nothing above 5.5 kHz.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.errors import MossInputError
from moss_engine.io.audio import AudioClip
from moss_engine.io.image import LoadedImage
from moss_engine.optimise.base import ANCHOR_LOGIT
from moss_engine.optimise.coarse import COARSE_FACTOR, coarse_settings
from moss_engine.reporting import Reporter, Status
from moss_engine.settings import RunSettings, song_band

#: The band bottoms tried (Hz); on a log axis the preset's own bottom replaces 0.
BAND_STARTS_HZ = (0.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0)
#: A band keeps at least this share of the default band's height (a picture squeezed into a sliver shows nothing).
MIN_BAND_SHARE = 0.4
#: A picture is "transparent" when less than this share of its placement is opaque (a letterbox of ``--fit contain``
#: counts, as it leaves the music alone too).
OPAQUE_SHARE = 0.95
#: Visual losses within this of the best count as the same; the lowest bottom among them is kept.
SAME_VISUAL = 0.02


def opaque_share(problem: HidingProblem) -> float:
    """The share of the placement's cells the picture covers (its opacity's mean)."""
    return float(problem.opacity.mean())


def choose_band(
    settings: RunSettings, clip: AudioClip, image: LoadedImage, reporter: Reporter | None = None
) -> tuple[RunSettings, tuple[str, ...]]:
    """``settings`` with the band the run uses when none is asked for, and the notices that say how it was chosen:
    first under the song's own Nyquist frequency (``settings.song_band``: a song sampled at 11.025 kHz holds nothing
    above 5.5 kHz), then, for a transparent picture, the bottom it shows best from (see the module). ``settings``
    unchanged (no notice) when a band was asked for, or when neither moves the default band."""
    if settings.freq is not None:
        return settings, ()
    settings, notes = song_band(settings, clip.source_rate)
    if settings.fit != "contain" and float(np.min(image.alpha)) >= 1.0:
        return settings, notes
    coarse = coarse_settings(settings) if settings.hop_length * COARSE_FACTOR <= settings.n_fft // 2 else settings
    f0_default, f1 = settings.band()
    if opaque_share(HidingProblem(clip, image, ProblemSettings.from_run(coarse))) >= OPAQUE_SHARE:
        return settings, notes
    starts = sorted({max(f0_default, f) for f in BAND_STARTS_HZ if f1 - max(f0_default, f) >= MIN_BAND_SHARE * f1})
    losses = []
    for n, f0 in enumerate(starts):
        if reporter is not None:
            if reporter.should_stop():
                break
            reporter.progress(
                0.0,
                f"finding the band a transparent picture shows in ({n + 1} of {len(starts)})",
                Status("measuring", detail="choosing the band"),
            )
        try:
            problem = HidingProblem(clip, image, ProblemSettings.from_run(dataclasses.replace(coarse, freq=(f0, f1))))
        except MossInputError:  # too few bins at this rate: not a candidate
            continue
        logits = np.full(settings.mask_shape, ANCHOR_LOGIT, dtype=np.float32)
        with torch.no_grad():  # the all-picture mask, no phase refinement: nothing to cancel within
            visual = PointRenderer(problem, should_stop=None).score_point(logits, problem.matched_levels)[0]
        losses.append((f0, visual))
    if not losses:
        return settings, notes
    best = min(v for _, v in losses)
    f0 = min(f for f, v in losses if v <= best + SAME_VISUAL)
    if f0 == f0_default:
        return settings, notes
    note = (
        f"{settings.image.name}: the picture has transparent parts, where the song is left as it is; below "
        f"{f0:g} Hz the song's own loud sound there would outshine it in a viewer, so it spans {f0:g}-{f1:.0f} Hz "
        f"(to choose the band yourself: --freq, or draw the rectangle in the app)"
    )
    return dataclasses.replace(settings, freq=(f0, f1)), (*notes, note)
