"""The speed-ups give the front of the plain path (same seed): the hand-written backward passes (one-sided FFT,
STFT and inverse STFT with overlap-add, |z|^2, the blend, the viewer's dB and clamp), frame-major memory, the
separable mask warp, the shared analysis, chunking with gradient accumulation, checkpointing; on the CPU always, and
the same tests on CUDA when there is a device (``device`` fixture; skipped with the reason otherwise).

The plain path is torch's own: ``torch.stft``/``torch.istft``, ``grid_sample``, autograd everywhere, no sharing.
Tolerance: every objective of the final front (6 Adam steps, 3 masks, 3 s preview problem) within 1e-4 relative
(``FRONT_RTOL``) of the plain path's; the gradients of one chunk within 1e-4 of their largest entry (``GRAD_RTOL``);
CPU against CUDA within 1e-3. The pieces are checked exactly: gradcheck in float64, or equality with torch's own to
1e-12. Precision: everything runs in float32 (no TF32 or bf16; ``test_blend_stays_in_single_precision``).
Coarse-to-fine changes the path on purpose and is judged by hypervolume at equal time instead
(bench/compare_coarse_to_fine.py, docs/performance.md), here only in outline."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from moss_engine.dsp.blend import blend_into_spectrum
from moss_engine.dsp.objectives import viewer_level
from moss_engine.dsp.problem import HidingProblem, ProblemSettings
from moss_engine.dsp.reference import (
    PlainStft,
    ReferenceProblem,
    plain_inverse,
    plain_masks,
    plain_power,
    plain_stft,
    plain_viewer_level,
)
from moss_engine.dsp.spectral import Stft, overlap_add, power, rfft
from moss_engine.optimise import memory as memory_module
from moss_engine.optimise.front import hypervolume, nondominated
from moss_engine.optimise.memory import CPU_ALLOCATOR_SLACK, ChunkPlan, bytes_per_mask, mask_bytes, plan_chunks
from moss_engine.optimise.stch import StchOptimiser
from moss_engine.reporting import NOTICE_MEMORY_LIMIT
from moss_engine.run.pipeline import compute_front, load_inputs
from moss_engine.settings import make_settings

FRONT_RTOL = 1e-4
GRAD_RTOL = 1e-4
needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA device here: the GPU variants of the equivalence run only on a machine with one",
)


DEVICES = [pytest.param("cpu"), pytest.param("cuda", marks=[needs_cuda, pytest.mark.gpu])]
SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


@pytest.fixture(scope="module")
def small():
    """A 3 s preview problem on the bundled sample (so that the test runs from a bare checkout, on a GPU machine
    too)."""
    settings = make_settings(
        SAMPLE / "astronaut.png",
        SAMPLE / "metal_madness_sectoid.ogg",
        quality="preview",
        device="cpu",
        duration_s=3.0,
        start_s=5.0,
        steps=6,
        points=5,
        seed=2,
        coarse_steps=0,
        phase_iterations=0,
    )
    return settings, load_inputs(settings)


@pytest.fixture(scope="module", params=DEVICES)
def device(request):
    return torch.device(request.param)


def run_front(problem, settings, chunk_size=None, checkpointing=False):
    opt = StchOptimiser(problem, settings)
    if chunk_size is not None:
        opt.chunk_size = chunk_size
    opt.checkpointing = checkpointing
    result = opt.run()
    return np.array([[c.visual, c.audio] for c in result.candidates])


def chunk_gradient(problem, logits, levels_db=None, checkpointed=False):
    """Objectives and loudness excess, and the gradient of a mix of them in the logits and the picture levels
    (each mask at its own level: by default a spread around the matched level, one too loud to keep)."""
    x = logits.clone().requires_grad_(True)
    if levels_db is None:
        levels_db = problem.matched_level_db + torch.linspace(-6.0, 30.0, len(logits))
    level = levels_db.to(logits.device).clone().requires_grad_(True)
    v, a, excess = problem.objectives(problem.masks(x), level, checkpointed=checkpointed)
    assert excess.max() > 0  # the loudest mask is over the song's loudness: the excess is part of the check
    (v.sum() + 0.05 * a.sum() + 0.01 * excess.sum()).backward()
    return torch.stack([v, a, excess]).detach(), torch.cat([x.grad.flatten(), level.grad])


# -- the pieces
@pytest.mark.parametrize("n", [9, 16])
def test_onesided_rfft_backward_is_the_adjoint(n):
    frames = torch.randn(3, 4, n, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: torch.view_as_real(rfft(f)), (frames,))


def test_stft_equals_torch_stft_in_value_and_gradient():
    stft = Stft(64, 16).double()
    signal = torch.randn(2, 500, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    weights = torch.randn(2, 33, 32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    grads = []
    for forward in (Stft.forward, plain_stft):
        x = signal.clone().requires_grad_(True)
        spec = forward(stft, x)
        (torch.view_as_real(spec) * weights).sum().backward()
        grads.append((spec.detach(), x.grad))
    assert torch.equal(grads[0][0], grads[1][0])
    assert torch.allclose(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("n_fft,hop,length", [(32, 8, 150), (32, 12, 111), (16, 8, 40), (32, 16, 32 * 3 + 7)])
def test_analysis_and_synthesis_backwards_are_the_adjoints(n_fft, hop, length):
    """gradcheck in float64, hops that do and do not divide n_fft, lengths cut and padded."""
    stft = Stft(n_fft, hop).double()
    gen = torch.Generator().manual_seed(4)
    signal = torch.randn(2, length, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: torch.view_as_real(stft.frames(x)), (signal,))
    spec = torch.randn(2, n_fft // 2 + 1, 1 + length // hop, dtype=torch.complex128, generator=gen, requires_grad=True)
    for out_length in (length, length + 20, length - 10):
        assert torch.autograd.gradcheck(lambda z, n=out_length: stft.inverse(z, n), (spec,), fast_mode=True)


def test_inverse_equals_torch_istft_in_value_and_gradient():
    stft = Stft(64, 16).double()
    spec = torch.randn(3, 33, 40, dtype=torch.complex128, generator=torch.Generator().manual_seed(5))
    weights = torch.randn(3, 620, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    results = []
    for inverse in (Stft.inverse, plain_inverse):
        z = spec.clone().requires_grad_(True)
        signal = inverse(stft, z, 620)
        (signal * weights).sum().backward()
        results.append((signal.detach(), z.grad))
    assert torch.allclose(results[0][0], results[1][0], rtol=0, atol=1e-12)
    assert torch.allclose(results[0][1], results[1][1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("n,hop", [(16, 4), (16, 5), (12, 6)])
def test_overlap_add_equals_fold(n, hop):
    frames = torch.randn(2, 7, n, dtype=torch.float64)
    full = 6 * hop + n
    folded = torch.nn.functional.fold(
        frames.transpose(1, 2), output_size=(1, full), kernel_size=(1, n), stride=(1, hop)
    ).reshape(2, full)
    assert torch.allclose(overlap_add(frames, hop, full), folded, rtol=0, atol=1e-12)
    assert torch.equal(overlap_add(frames, hop, full + 9)[:, full:], torch.zeros(2, 9, dtype=torch.float64))


@pytest.mark.parametrize("frame_major", [False, True])
def test_viewer_level_equals_the_autograd_chain(frame_major):
    gen = torch.Generator().manual_seed(7)
    power_ = torch.rand(3, 7, 9, dtype=torch.float64, generator=gen) ** 6 * 10
    power_[0, 0, 0] = 0.0  # under the floor: no gradient
    power_[1, 2, 3] = 1e-14
    if frame_major:
        power_ = power_.transpose(1, 2).contiguous().transpose(1, 2)
    weights = torch.randn(3, 7, 9, dtype=torch.float64, generator=gen)
    results = []
    for level in (viewer_level, plain_viewer_level):
        p = power_.clone().requires_grad_(True)
        out = level(p, 40.0)
        (out * weights).sum().backward()
        results.append((out.detach(), p.grad))
    assert torch.allclose(results[0][0], results[1][0], rtol=0, atol=1e-12)
    assert torch.allclose(results[0][1], results[1][1], rtol=1e-12, atol=0)


def test_separable_warp_equals_grid_sample(small):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    logits = 3 * torch.randn(2, *settings.mask_shape, generator=torch.Generator().manual_seed(8))
    # grid_sample computes its coordinates in float32; the matrices in float64: masks within 2e-5
    assert torch.allclose(problem.masks(logits), plain_masks(problem, logits), rtol=0, atol=2e-5)


def test_power_backward_is_exact():
    spec = torch.randn(3, 5, 7, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(power, (spec,))
    assert torch.allclose(power(spec.detach()), plain_power(spec.detach()), rtol=1e-15, atol=0)


@pytest.mark.parametrize("with_silence", [False, True])
def test_blend_backward_is_exact(with_silence):
    gen = torch.Generator().manual_seed(3)
    mask = torch.rand(2, 5, 6, dtype=torch.float64, generator=gen).requires_grad_(True)
    rate = torch.randn(5, 6, dtype=torch.float64, generator=gen)
    music = torch.randn(5, 6, dtype=torch.complex128, generator=gen)
    silence = torch.randn(5, 6, dtype=torch.complex128, generator=gen) if with_silence else None
    region = (slice(1, 6), slice(2, 8))
    out = blend_into_spectrum(mask.detach(), rate, music, silence, (7, 9), region)
    gain = torch.exp(mask.detach() * rate)
    expected = (gain - 1) * music + (gain * mask.detach() * silence if with_silence else 0)
    assert torch.allclose(out[:, 1:6, 2:8], expected) and out.abs()[:, 0].max() == 0 and out.abs()[..., :2].max() == 0
    assert torch.autograd.gradcheck(
        lambda m: torch.view_as_real(blend_into_spectrum(m, rate, music, silence, (7, 9), region)), (mask,)
    )


def test_shared_viewer_analysis_equals_its_own(small):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    signal = problem.music_mix[None] * torch.linspace(0.5, 1.5, problem.n_samples)
    shared = {(settings.n_fft, settings.hop_length): power(problem.stft.frames(signal))}
    assert (settings.n_fft, settings.hop_length) == (problem.audio_loss.stft.n_fft, problem.audio_loss.stft.hop_length)
    assert torch.equal(problem.audio_loss(signal, shared), problem.audio_loss(signal))
    # the older objective shares it too
    logmel = HidingProblem(*inputs, ProblemSettings.from_run(dataclasses.replace(settings, audio_objective="logmel")))
    assert (settings.n_fft, settings.hop_length) in [(s.n_fft, s.hop_length) for s in logmel.audio_loss.stfts]
    assert torch.equal(logmel.audio_loss(signal, shared), logmel.audio_loss(signal))


# -- one chunk: objectives and gradients
def test_fast_step_equals_plain_step(small, device):
    settings, inputs = small
    logits = torch.randn(3, *settings.mask_shape, generator=torch.Generator().manual_seed(0)).to(device)
    problem_settings = ProblemSettings.from_run(settings)
    fast_objectives, fast_grad = chunk_gradient(HidingProblem(*inputs, problem_settings).to(device), logits)
    plain_objectives, plain_grad = chunk_gradient(ReferenceProblem(*inputs, problem_settings).to(device), logits)
    assert torch.allclose(fast_objectives, plain_objectives, rtol=1e-5)
    assert (fast_grad - plain_grad).abs().max() <= GRAD_RTOL * plain_grad.abs().max()


def test_checkpointing_gives_the_same_gradient(small, device):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings)).to(device)
    logits = torch.randn(2, *settings.mask_shape, generator=torch.Generator().manual_seed(1)).to(device)
    plain = chunk_gradient(problem, logits)
    checkpointed = chunk_gradient(problem, logits, checkpointed=True)
    assert torch.allclose(plain[0], checkpointed[0], rtol=1e-6, atol=0)
    assert torch.allclose(plain[1], checkpointed[1], rtol=0, atol=1e-6 * plain[1].abs().max().item())


# -- whole fronts: same seed, same front
@pytest.fixture(scope="module")
def fast_front(small, device):
    settings, inputs = small
    return run_front(HidingProblem(*inputs, ProblemSettings.from_run(settings)).to(device), settings)


def assert_same_front(got, expected):
    assert got.shape == expected.shape
    assert np.allclose(got, expected, rtol=FRONT_RTOL, atol=FRONT_RTOL * np.abs(expected).max(axis=0))


def test_front_equals_plain_path(small, device, fast_front):
    settings, inputs = small
    plain = run_front(ReferenceProblem(*inputs, ProblemSettings.from_run(settings)).to(device), settings)
    assert_same_front(fast_front, plain)


def test_chunks_of_one_with_gradient_accumulation_give_the_same_front(small, device, fast_front):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings)).to(device)
    assert plan_chunks(problem, settings.points - 2, None).size == settings.points - 2  # the reference is one chunk
    assert_same_front(run_front(problem, settings, chunk_size=1), fast_front)


def test_checkpointing_gives_the_same_front(small, device, fast_front):
    settings, inputs = small
    assert_same_front(
        run_front(HidingProblem(*inputs, ProblemSettings.from_run(settings)).to(device), settings, checkpointing=True),
        fast_front,
    )


def test_memory_budget_turns_checkpointing_on_only_when_one_mask_does_not_fit(small):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    plain, checkpointed = mask_bytes(problem), mask_bytes(problem, checkpointed=True)
    assert checkpointed < plain
    assert plain == pytest.approx(bytes_per_mask(problem) * CPU_ALLOCATOR_SLACK)  # the CPU counts glibc's slack
    gb = 1024**3
    assert plan_chunks(problem, 64, 2.5 * plain / gb) == ChunkPlan(size=2, checkpointing=False)
    between = 0.5 * (plain + checkpointed) / gb
    assert plan_chunks(problem, 64, between) == ChunkPlan(size=1, checkpointing=True, fits=True)
    assert plan_chunks(problem, 64, 0.5 * checkpointed / gb) == ChunkPlan(size=1, checkpointing=True, fits=False)
    # evenly filled chunks: room for 5 of 16 masks -> 4 chunks of 4, not 5 + 5 + 5 + 1
    assert plan_chunks(problem, 16, 5.5 * plain / gb).size == 4


def test_a_budget_below_one_mask_is_said(small, monkeypatch):
    settings, inputs = small
    problem = HidingProblem(*inputs, ProblemSettings.from_run(settings))
    monkeypatch.setattr(memory_module, "bytes_per_mask", lambda problem, checkpointed=False: 2**30)  # 1 GB a mask
    too_small = dataclasses.replace(settings, memory_limit_gb=0.5)
    messages = []

    class Recorder:
        def progress(self, fraction, message, status=None):
            pass

        def notice(self, kind, message):
            messages.append((kind, message))

        def partial(self, snapshot):
            pass

        def should_stop(self):
            return False

    opt = StchOptimiser(problem, too_small, Recorder())
    assert opt.chunk_size == 1 and opt.checkpointing
    assert [kind for kind, _ in messages] == [NOTICE_MEMORY_LIMIT]
    assert "below what one mask needs" in messages[0][1]


# -- coarse-to-fine: a different path, judged by hypervolume
def test_coarse_to_fine_front_dominates_the_crossfade_and_reports_one_run(small):
    settings, inputs = small
    seen, messages = [], []

    statuses = []

    class Recorder:
        def progress(self, fraction, message, status=None):
            seen.append(fraction)
            messages.append(message)
            statuses.append(status)

        def notice(self, kind, message):
            pass

        def partial(self, snapshot):
            seen.append((snapshot.step, snapshot.steps))

        def should_stop(self):
            return False

    run = dataclasses.replace(settings, steps=8, coarse_steps=4)
    result = compute_front(run, Recorder(), inputs=inputs)
    assert result.optimisation.steps_done == 8
    steps = [s for s in seen if isinstance(s, tuple)]
    assert steps[-1] == (8, 8) and all(total == 8 for _, total in steps)
    fractions = [f for f in seen if not isinstance(f, tuple)]
    assert max(fractions) == pytest.approx(1.0) and min(fractions) >= 0
    # the status counts the run's steps, not each stage's (the app showed "step 4/14" beside "coarse: step 4/7"), as
    # numbers: both stages' steps, offset, from 1 up to 8 of 8; and each step's line says that status in words
    stepped = [(m, s) for m, s in zip(messages, statuses, strict=True) if s is not None and s.stage == "optimising"]
    assert stepped and all(m.endswith(s.line()) for m, s in stepped), stepped[:3]
    optimising = [(s.step, s.steps) for s in statuses if s is not None and s.stage == "optimising"]
    assert {total for _, total in optimising} == {8} and max(k for k, _ in optimising) == 8
    assert {s.stage for s in statuses if s is not None} >= {"measuring", "optimising", "rendering"}
    assert any("coarse pass" in m for m in messages) and any("fine pass" in m for m in messages)
    crossfade = hypervolume(result.anchors.normalise(result.crossfade_visual, result.crossfade_audio))
    assert result.hypervolume > crossfade > 0.5
    front = np.array([[p.visual, p.audio] for p in result.points])
    assert len(nondominated(front)) == len(front)


def test_preview_preset_runs_half_its_steps_coarse():
    s = make_settings("a.png", "b.wav", quality="preview", steps=30)
    assert s.coarse_steps == 15
    assert make_settings("a.png", "b.wav", quality="standard").coarse_steps == 0
    assert make_settings("a.png", "b.wav", quality="preview", coarse_steps=0).coarse_steps == 0


# -- the GPU against the CPU
@needs_cuda
def test_cuda_front_equals_cpu_front(small):
    settings, inputs = small
    cpu = run_front(HidingProblem(*inputs, ProblemSettings.from_run(settings)), settings)
    cuda = run_front(
        HidingProblem(*inputs, ProblemSettings.from_run(settings)).to("cuda"),
        dataclasses.replace(settings, device="cuda"),
    )
    # cuFFT and pocketfft round differently: the same front to 1e-3 relative
    assert np.allclose(cuda, cpu, rtol=1e-3, atol=1e-3 * np.abs(cpu).max(axis=0))


def test_blend_stays_in_single_precision():
    mask = torch.rand(1, 3, 4, requires_grad=True)
    out = blend_into_spectrum(
        mask, torch.ones(3, 4), torch.ones(3, 4, dtype=torch.complex64), None, (5, 4), (slice(1, 4), slice(0, 4))
    )
    assert out.dtype == torch.complex64
    torch.view_as_real(out).sum().backward()
    assert mask.grad.dtype == torch.float32
    assert torch.allclose(mask.grad, torch.exp(mask.detach()))  # d/dm of (e^m - 1) * 1, summed over re and im


def test_the_reference_path_is_a_problem_of_its_own_and_switches_nothing_for_the_process(small):
    """``ReferenceProblem`` computes with torch's own pieces everywhere (its STFTs, its audio objectives' too) while a
    ``HidingProblem`` made beside it keeps the fast ones: no class is changed for the process."""
    settings, inputs = small
    fast_methods = (Stft.forward, Stft.frames, Stft.inverse, HidingProblem.masks, HidingProblem.synthesise_mix)
    for objective in ("neurogram", "logmel"):
        problem_settings = ProblemSettings.from_run(dataclasses.replace(settings, audio_objective=objective))
        plain = ReferenceProblem(*inputs, problem_settings)
        fast = HidingProblem(*inputs, problem_settings)
        plain_stfts = [m for m in plain.modules() if isinstance(m, Stft)]
        fast_stfts = [m for m in fast.modules() if isinstance(m, Stft)]
        assert len(plain_stfts) == len(fast_stfts) >= 2  # the viewer's and the audio objective's
        assert all(type(m) is PlainStft for m in plain_stfts) and all(type(m) is Stft for m in fast_stfts)
        logits = torch.randn(2, *settings.mask_shape, generator=torch.Generator().manual_seed(4))
        with torch.no_grad():
            got, expected = plain.objectives(plain.masks(logits)), fast.objectives(fast.masks(logits))
        assert torch.allclose(torch.stack(got), torch.stack(expected), rtol=1e-4)
    assert (Stft.forward, Stft.frames, Stft.inverse, HidingProblem.masks, HidingProblem.synthesise_mix) == fast_methods


def test_the_cpus_default_budget_leaves_a_laptop_half_of_what_is_free(monkeypatch):
    """Issue 26 item 7: without --memory-limit a CPU run's masks take at most half the memory free when the chunks are
    planned (the song's own tensors are already in by then), never more than 3 GB, at least 256 MB; an asked limit
    is kept as asked."""
    from moss_engine.io import budget

    cpu = torch.device("cpu")
    gb = 1024**3
    for free, expected in ((2 * gb, 1 * gb), (64 * gb, 3 * gb), (100 * 1024**2, 256 * 1024**2), (None, 3 * gb)):
        monkeypatch.setattr(budget, "available_memory", lambda free=free: free)
        assert memory_module.memory_budget(cpu, None) == expected
    assert memory_module.memory_budget(cpu, 5.0) == 5 * gb
