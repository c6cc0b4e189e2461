"""The objectives' maths: weighted SSIM, the viewer's clamp, the log-mel distance, and their gradients."""

import pytest
import torch
from pytorch_msssim import ssim

from moss_engine.dsp.objectives import LogMelDistance, WeightedSsim, leaky_clamp01


def _images(n=3, h=40, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, h, w, generator=g), torch.rand(h, w, generator=g)


def test_weighted_ssim_with_unit_weights_equals_pytorch_msssim():
    x, target = _images()
    ours = WeightedSsim(target, torch.ones_like(target))(x)
    theirs = ssim(x[:, None], target[None, None].expand(3, 1, -1, -1), data_range=1.0, size_average=False)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_weighted_ssim_ignores_transparent_half():
    x, target = _images(n=1)
    weight = torch.zeros_like(target)
    weight[:, :32] = 1.0
    spoiled = x.clone()
    spoiled[:, :, 48:] = 0.5  # far from the opaque half (more than a window away): must not change the score
    metric = WeightedSsim(target, weight)
    assert torch.allclose(metric(x), metric(spoiled), atol=1e-6)
    assert metric(target[None]).item() == pytest.approx(1.0, abs=1e-6)


def test_leaky_clamp_forward_exact_backward_leaks():
    x = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    y = leaky_clamp01(x)
    assert y.tolist() == [0.0, 0.5, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == pytest.approx([0.05, 1.0, 0.05])


def test_weighted_ssim_gradient_float64():
    x, target = _images(n=1, h=16, w=16)
    metric = WeightedSsim(target.double(), torch.rand(16, 16, dtype=torch.float64)).double()
    inp = x.double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: metric(t), (inp,), eps=1e-6, atol=1e-5)


def test_log_mel_distance_zero_for_the_music_and_grows_with_change():
    sr = 22050
    t = torch.arange(sr) / sr
    music = 0.5 * torch.sin(2 * torch.pi * 440 * t) + 0.05 * torch.randn(sr, generator=torch.Generator().manual_seed(3))
    loss = LogMelDistance(music, sr)
    out = loss(torch.stack([music, music * 10 ** (-3 / 20), music * 10 ** (-12 / 20)]))
    assert out[0].item() == pytest.approx(0.0, abs=1e-3)
    assert out[1].item() == pytest.approx(3.0, abs=0.1)  # a level change of 3 dB reads as 3 dB
    assert out[2].item() > out[1].item()
