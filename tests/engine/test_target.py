"""Placement on the STFT grid, the log-frequency pre-warp, the viewer's pooling and the dB levels."""

import math

import numpy as np
import pytest
import torch

from moss_engine.dsp.target import (
    level_to_db,
    make_placement,
    picture_levels,
    sampling_grid,
    view_matrices,
    warp_to_stft,
)
from moss_engine.errors import MossInputError
from moss_engine.freq_axis import LOG_BOTTOM_HZ
from moss_engine.settings import default_band


def test_placement_covers_the_cells_inside_the_rectangle():
    p = make_placement(10.0, 22050, 1024, 256, (2.0, 4.0), (1000.0, 5000.0), "linear")
    assert p.frames == (math.ceil(2.0 * 22050 / 256), math.floor(4.0 * 22050 / 256) + 1)
    assert p.bins == (math.ceil(1000 * 1024 / 22050), math.floor(5000 * 1024 / 22050) + 1)
    assert p.to_record() == {"t0_s": 2.0, "t1_s": 4.0, "f0_hz": 1000.0, "f1_hz": 5000.0}


def test_placement_is_clipped_to_the_segment_and_refuses_tiny_ones():
    p = make_placement(3.0, 22050, 1024, 256, (1.0, 9.0), (0.0, 8000.0), "linear")
    assert p.t1_s == 3.0
    with pytest.raises(MossInputError, match="starts after the end"):
        make_placement(3.0, 22050, 1024, 256, (4.0, 5.0), (0.0, 8000.0), "linear")
    with pytest.raises(MossInputError, match="at least 11"):
        make_placement(3.0, 22050, 1024, 256, (0.0, 0.05), (0.0, 8000.0), "linear")


def test_default_band_keeps_mp3_top_and_nyquist():
    assert default_band(44100, "linear") == (0.0, 15000.0)
    assert default_band(44100, "log") == (LOG_BOTTOM_HZ, 15000.0)
    assert default_band(22050, "linear") == (0.0, pytest.approx(0.95 * 11025))


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_middle_row_of_the_picture_lands_where_the_viewer_shows_its_middle(scale):
    sr, n_fft, hop = 22050, 1024, 256
    p = make_placement(4.0, sr, n_fft, hop, None, (100.0, 10000.0), scale)
    picture = torch.zeros(1, 101, 50)
    picture[0, 50] = 1.0  # a horizontal line in the middle of the picture
    on_stft = warp_to_stft(picture, sampling_grid(p, sr, n_fft, hop))[0]
    row = int(on_stft.mean(dim=1).argmax()) + p.bins[0]
    expected = 0.5 * (100 + 10000) if scale == "linear" else math.sqrt(100 * 10000)
    assert abs(row * sr / n_fft - expected) <= sr / n_fft  # within one bin
    # and the viewer's pooling brings it back to the middle row of the picture grid
    rows, cols = view_matrices(p, (101, 50), sr, n_fft, hop)
    shown = rows @ on_stft @ cols.T
    assert int(shown.mean(dim=1).argmax()) == 50


def test_levels_white_at_peak_black_at_range():
    lum = np.array([0.0, 0.5, 1.0])
    assert np.allclose(picture_levels(lum, gamma=1.0, invert=False), [0, 0.5, 1])
    assert np.allclose(picture_levels(lum, gamma=2.0, invert=True), [1, 0.25, 0])
    db = level_to_db(torch.tensor([0.0, 1.0]), top_db=-10.0, db_range=80.0)
    assert db.tolist() == [-90.0, -10.0]


def test_a_time_span_past_the_segment_is_cut_and_said():
    from moss_engine.dsp.target import make_placement
    from moss_engine.run.pipeline import placement_notices
    from moss_engine.settings import make_settings

    settings = make_settings("a.png", "b.wav", quality="preview", time=(3.0, 10.0), duration_s=4.0)
    placement = make_placement(4.0, 22050, 1024, 256, settings.time, (0.0, 8000.0), "linear")
    assert (placement.t0_s, placement.t1_s) == (3.0, 4.0)
    notes = placement_notices(settings, placement)
    assert len(notes) == 1 and "--time 3:10" in notes[0] and "3-4 s" in notes[0]
    inside = make_settings("a.png", "b.wav", quality="preview", time=(1.0, 3.0), duration_s=4.0)
    assert placement_notices(inside, make_placement(4.0, 22050, 1024, 256, inside.time, (0.0, 8000.0), "linear")) == ()
