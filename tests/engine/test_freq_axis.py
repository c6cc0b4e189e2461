"""The one frequency axis (``moss_engine.freq_axis``): its round trip, and the picture's placement, the spectrogram
pictures and the default band all on it."""

import numpy as np
import pytest
import torch

from moss_engine.dsp.target import make_placement, sampling_grid
from moss_engine.freq_axis import FreqAxis, axis_bottom
from moss_engine.run.video import SPEC_HEIGHT, spectrogram_panel
from moss_engine.settings import default_band

SR, N_FFT, HOP = 22050, 1024, 256


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_positions_and_frequencies_go_both_ways(scale):
    axis = FreqAxis.viewer(scale, SR)
    assert (axis.bottom_hz, axis.top_hz) == (axis_bottom(scale), SR / 2)
    hz = np.linspace(axis.bottom_hz, axis.top_hz, 50)
    positions = axis.to_position(hz)
    assert positions[0] == 0.0 and positions[-1] == pytest.approx(1.0)
    assert np.all(np.diff(positions) > 0)
    np.testing.assert_allclose(axis.to_hz(positions), hz, rtol=1e-12)
    np.testing.assert_allclose(axis.to_position(axis.to_hz([0.0, 0.25, 0.5, 1.0])), [0.0, 0.25, 0.5, 1.0], atol=1e-12)
    assert axis.to_position(axis.bottom_hz / 2) == 0.0  # below the bottom: at the bottom


def test_a_log_axis_spaces_equal_ratios_equally_and_a_linear_one_equal_steps():
    log, linear = FreqAxis("log", 100.0, 10000.0), FreqAxis("linear", 100.0, 10000.0)
    assert np.diff(log.to_position([100.0, 1000.0, 10000.0])) == pytest.approx([0.5, 0.5])
    assert log.to_hz(0.5) == pytest.approx(1000.0) and linear.to_hz(0.5) == pytest.approx(5050.0)
    assert np.diff(linear.to_position([100.0, 2575.0, 5050.0])) == pytest.approx([0.25, 0.25])


@pytest.mark.parametrize(
    ("scale", "bottom", "top", "words"),
    [("mel", 0.0, 8000.0, "mel"), ("linear", 500.0, 500.0, "bottom < top"), ("log", 0.0, 8000.0, "above 0 Hz")],
)
def test_an_impossible_axis_is_refused(scale, bottom, top, words):
    with pytest.raises(ValueError, match=words):
        FreqAxis(scale, bottom, top)


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_the_default_band_starts_where_the_viewers_axis_does(scale):
    assert default_band(SR, scale)[0] == FreqAxis.viewer(scale, SR).bottom_hz


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_the_placed_picture_is_undistorted_on_the_viewers_axis(scale):
    """Each STFT bin of the band takes the picture's row at the place the viewer's axis shows that bin within the
    band: the target's pre-warp and the viewer's axis are one mapping."""
    placement = make_placement(4.0, SR, N_FFT, HOP, None, (200.0, 8000.0), scale)
    grid = sampling_grid(placement, SR, N_FFT, HOP)
    in_picture = 1.0 - (grid[0, :, 0, 1].double().numpy() + 1.0) / 2.0  # 0 at the band's bottom, 1 at its top
    viewer = FreqAxis.viewer(scale, SR)
    freqs = np.arange(*placement.bins) * SR / N_FFT
    low, high = viewer.to_position([placement.f0_hz, placement.f1_hz])
    on_viewer = (viewer.to_position(freqs) - low) / (high - low)
    np.testing.assert_allclose(in_picture, np.clip(on_viewer, 0, 1), atol=1e-6)
    assert placement.axis == FreqAxis(scale, 200.0, 8000.0)


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_the_spectrogram_picture_draws_a_tone_where_the_axis_puts_it(scale):
    hz = 100 * SR / N_FFT  # on a bin: 2153 Hz
    tone = torch.sin(2 * torch.pi * hz * torch.arange(SR) / SR)[None].numpy()
    axis = FreqAxis.viewer(scale, SR)
    panel = spectrogram_panel(tone, SR, N_FFT, HOP, 80.0, axis)
    row = SPEC_HEIGHT - 1 - int(panel.astype(float).mean(axis=1).argmax())  # from the bottom
    assert abs(row + 0.5 - axis.to_position(hz) * SPEC_HEIGHT) <= 1.0
