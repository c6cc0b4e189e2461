"""How many masks fit in memory at once: the budget, one mask's cost, and the chunk plan."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from moss_engine.dsp.problem import HidingProblem

#: Shares of ``bytes_per_mask``'s formula a mask was measured to take, plus a quarter (see there).
PLAIN_SHARE = 0.45
CHECKPOINTED_SHARE = 0.33
#: On the CPU, one chunk holds about this many samples x masks: a fifth of a second of work on two cores, so a cancel
#: takes effect at once, and small enough to stay in cache: measured on the 2-core CPU (preview, 5 to 20 s clips),
#: chunks of 0.2 to 0.9 M samples ran fastest, and 2.6 M (six 20 s masks at once) took twice as long per mask.
#: A fixed number (not a timing) keeps a run deterministic.
CPU_SAMPLES_PER_CHUNK = 500_000
#: On the CPU the resident memory of a run exceeds what torch allocates by what glibc's heap keeps: measured with the
#: default allocator, 180 s at 44.1 kHz, one mask a chunk, 1.1 (2 masks) to 1.6 (64 masks, checkpointed) times the
#: allocation peak. The budget on the CPU bounds the resident memory, so each mask counts this much more.
CPU_ALLOCATOR_SLACK = 1.3
#: Default memory a chunk may take: on the CPU at most this, and at most ``CPU_FREE_SHARE`` of the memory free when the
#: chunks are planned (a laptop with 8 GB and a 10-minute segment survives: the song's tensors are in by then), at
#: least ``CPU_MEMORY_FLOOR``; on a GPU a share of what is free.
CPU_MEMORY_BYTES = 3 * 1024**3
CPU_FREE_SHARE = 0.5
CPU_MEMORY_FLOOR = 256 * 1024**2
GPU_MEMORY_SHARE = 0.6
#: ... and on a GPU at most this much, so that a long clip's peak stays bounded on a large card too.
GPU_MEMORY_BYTES = 16 * 1024**3


@dataclass(frozen=True)
class ChunkPlan:
    """How the population is processed: ``size`` masks at once, and whether the STFT round trip is checkpointed.

    ``fits`` is False when even one checkpointed mask needs more than the budget: the run then goes one mask at a
    time anyway, and its peak exceeds the budget by that much (a bound below one mask's need cannot be kept).
    """

    size: int
    checkpointing: bool
    fits: bool = True


def bytes_per_mask(problem: HidingProblem, checkpointed: bool = False) -> int:
    """The memory one population member takes in a forward and backward pass, with some headroom.

    Calibrated on the CPU by the peak resident memory of one forward and backward pass of one and of two masks,
    with glibc's allocator made to return every large block at once (``MALLOC_MMAP_THRESHOLD_=131072``, so that
    the resident memory is what is allocated): preview 30 s, standard 30 s and 90 s; the peak per mask was 36 % of
    the formula below (26 % with ``checkpointed``, the STFT round trip recomputed in the backward pass), the same
    for one and two masks. ``PLAIN_SHARE`` and ``CHECKPOINTED_SHARE`` keep a quarter on top of that.
    """
    n_freq, n_frames = problem.spec_mix.shape
    bins, frames = problem.placement.shape
    stft_bytes = n_freq * n_frames * 8 * 6 + bins * frames * 4 * 24
    audio_bytes = problem.n_samples * 4 * 3 * 14
    factor = CHECKPOINTED_SHARE if checkpointed else PLAIN_SHARE
    return int(factor * (stft_bytes + audio_bytes))


def memory_budget(device: torch.device, memory_limit_gb: float | None) -> float:
    """Bytes one chunk may take: the asked limit, or on a GPU a share of what is free (at most
    ``GPU_MEMORY_BYTES``), or on the CPU ``CPU_MEMORY_BYTES`` or half of what is free if less (``CPU_FREE_SHARE``)."""
    if memory_limit_gb is not None:
        return memory_limit_gb * 1024**3
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return min(GPU_MEMORY_SHARE * free, GPU_MEMORY_BYTES)
    from moss_engine.io.budget import available_memory

    free = available_memory()
    if free is None:
        return CPU_MEMORY_BYTES
    return max(CPU_MEMORY_FLOOR, min(CPU_MEMORY_BYTES, int(CPU_FREE_SHARE * free)))


def mask_bytes(problem: HidingProblem, checkpointed: bool = False) -> float:
    """What one mask of a chunk counts against the budget: ``bytes_per_mask`` (what torch allocates), times
    ``CPU_ALLOCATOR_SLACK`` on the CPU (what the system sees)."""
    slack = CPU_ALLOCATOR_SLACK if problem.device.type == "cpu" else 1.0
    return bytes_per_mask(problem, checkpointed) * slack


def plan_chunks(problem: HidingProblem, population: int, memory_limit_gb: float | None) -> ChunkPlan:
    """What fits the memory budget (and on the CPU about half a second of work).

    Checkpointing costs a second forward pass, so it is used only when not even one mask fits the budget without
    it; the chunk is then sized by the checkpointed estimate. A run's peak is thus about the music's own tensors
    (linear in the clip's length, independent of the population) plus the budget.
    """
    device = problem.device
    budget = memory_budget(device, memory_limit_gb)
    chunk = int(budget // mask_bytes(problem))
    checkpointing = chunk < 1
    fits = True
    if checkpointing:
        chunk = int(budget // mask_bytes(problem, checkpointed=True))
        fits = chunk >= 1
        chunk = max(1, chunk)
    if device.type == "cpu":
        chunk = min(chunk, max(1, CPU_SAMPLES_PER_CHUNK // problem.n_samples))
    chunk = max(1, min(chunk, population))
    # as many chunks as needed, evenly filled: 64 masks with room for 55 run as 32 + 32, not 55 + 9
    chunk = -(-population // -(-population // chunk))
    return ChunkPlan(size=chunk, checkpointing=checkpointing, fits=fits)


def choose_chunk_size(problem: HidingProblem, population: int, memory_limit_gb: float | None) -> int:
    """How many masks to process at once (``plan_chunks(...).size``)."""
    return plan_chunks(problem, population, memory_limit_gb).size
