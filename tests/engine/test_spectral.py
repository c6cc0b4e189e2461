"""STFT round trip, mel filterbank and resampling matrices."""

import numpy as np
import pytest
import torch

from moss_engine.dsp.spectral import Stft, log_spaced_edges, mel_filterbank, resampling_matrix


@pytest.mark.parametrize("n_fft,hop,length", [(1024, 256, 22050), (2048, 512, 44101), (256, 64, 1000)])
def test_inverse_undoes_forward(n_fft, hop, length):
    x = torch.randn(2, length, generator=torch.Generator().manual_seed(1))
    stft = Stft(n_fft, hop)
    y = stft.inverse(stft(x), length)
    assert y.shape == x.shape
    assert torch.max(torch.abs(y - x)) < 1e-5


def test_inverse_matches_torch_istft_on_inconsistent_spectrogram():
    stft = Stft(512, 128)
    spec = torch.randn(3, 257, 40, dtype=torch.complex64, generator=torch.Generator().manual_seed(2))
    spec[:, 0] = spec[:, 0].real  # DC and Nyquist bins are real in any real signal's STFT
    spec[:, -1] = spec[:, -1].real
    ours = stft.inverse(spec, 39 * 128)
    theirs = torch.istft(spec, 512, 128, window=torch.hann_window(512), center=True, length=39 * 128)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_stft_keeps_batch_shape():
    stft = Stft(256, 64)
    spec = stft(torch.zeros(4, 3, 1000))
    assert spec.shape == (4, 3, 129, 1 + 1000 // 64)


def test_mel_filterbank_rows_sum_to_one_and_peak_in_order():
    bank = mel_filterbank(513, 22050, 64, f_min=20.0)
    assert bank.shape == (64, 513)
    assert torch.allclose(bank.sum(dim=1), torch.ones(64), atol=1e-5)
    peaks = bank.argmax(dim=1)
    assert torch.all(peaks[1:] >= peaks[:-1])


def test_resampling_matrix_area_average_and_constant_preserving():
    mat = resampling_matrix(4, torch.linspace(-0.5, 7.5, 5), 8)
    assert mat.shape == (4, 8)
    assert torch.allclose(mat.sum(dim=1), torch.ones(4), atol=1e-6)
    ramp = torch.arange(8.0)
    out = mat @ ramp
    assert torch.allclose(out[1:3], torch.tensor([2.5, 4.5]), atol=1e-5)  # interior cells: exact area average
    assert torch.allclose(out[[0, 3]], torch.tensor([0.5, 6.5]), atol=0.1)  # edges clamp half a sample


def test_log_edges_are_geometric():
    e = log_spaced_edges(100.0, 10000.0, 4).numpy()
    assert np.allclose(e, [100, 316.227766, 1000, 3162.27766, 10000])
