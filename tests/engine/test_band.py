"""Issue 21: a picture with transparent parts goes where a viewer shows it at the song's loudness, when no band is
asked for; an opaque picture and an asked band are left as they are."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from moss_engine.dsp.point_render import PointRenderer
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.optimise.base import ANCHOR_LOGIT
from moss_engine.reporting import NOTICE_BAND, NullReporter
from moss_engine.run.band import BAND_STARTS_HZ, choose_band
from moss_engine.run.pipeline import load_inputs
from moss_engine.settings import make_settings

pytestmark = pytest.mark.slow

CUTOUT = "img_linedrawing_openclipart_crawfish_graya.png"  # white body, black lines, transparent around it
AMBIENT = "music_ambient_sonicpi_ambi_glass_hum.flac"


class Notes(NullReporter):
    """A reporter that keeps the notices it is given."""

    def __init__(self):
        self.said: list[tuple[str, str]] = []

    def notice(self, kind, message):
        self.said.append((kind, message))


def all_picture_visual(settings, inputs) -> float:
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    with torch.no_grad():
        return PointRenderer(problem, should_stop=None).score_point(
            np.full(settings.mask_shape, ANCHOR_LOGIT, dtype=np.float32), problem.matched_levels
        )[0]


def test_a_cutout_moves_up_where_the_songs_bass_does_not_outshine_it(data_dir):
    settings = make_settings(data_dir / CUTOUT, data_dir / AMBIENT, quality="preview", device="cpu", duration_s=10.0)
    inputs = load_inputs(settings)
    notes = Notes()
    chosen, said = choose_band(settings, *inputs, notes)
    assert chosen.freq is not None and chosen.freq[0] in BAND_STARTS_HZ and chosen.freq[0] > 0
    assert chosen.freq[1] == pytest.approx(settings.band()[1])  # the top stays the preset's
    assert len(said) == 1 and f"{chosen.freq[0]:g} Hz" in said[0] and "transparent" in said[0]
    # the all-picture end at the song's loudness shows the picture better there than in the default band
    assert all_picture_visual(chosen, inputs) < all_picture_visual(settings, inputs) - 0.05


def test_an_opaque_picture_and_an_asked_band_stay(data_dir):
    opaque = make_settings(
        data_dir / "img_portrait_skimage_astronaut.png",
        data_dir / AMBIENT,
        quality="preview",
        device="cpu",
        duration_s=10.0,
    )
    assert choose_band(opaque, *load_inputs(opaque)) == (opaque, ())
    asked = dataclasses.replace(
        make_settings(data_dir / CUTOUT, data_dir / AMBIENT, quality="preview", device="cpu", duration_s=10.0),
        freq=(0.0, 8000.0),
    )
    assert choose_band(asked, *load_inputs(asked)) == (asked, ())


def test_the_run_says_where_it_put_the_picture(data_dir):
    from moss_engine.run.pipeline import compute_front

    settings = make_settings(
        data_dir / CUTOUT, data_dir / AMBIENT, quality="preview", device="cpu", duration_s=6.0, steps=3, points=4
    )
    notes = Notes()
    result = compute_front(settings, notes)
    assert [kind for kind, _ in notes.said].count(NOTICE_BAND) == 1
    assert result.settings.freq is not None and result.placement.f0_hz == result.settings.freq[0] > 0
    assert any("transparent" in n for n in result.notices)  # in the manifest's run.notices too
