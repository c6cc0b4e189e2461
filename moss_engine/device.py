"""Which torch device a run uses: ``auto`` picks CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import re

import torch

from moss_engine.errors import MossInputError


def available_devices() -> list[str]:
    """Device names this machine can run on, best first (``cuda:0``..., ``mps``, ``cpu``)."""
    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names + ["cpu"]


def resolve_device(name: str | None) -> torch.device:
    """``auto|cpu|cuda|cuda:N|mps`` (None: auto) -> a torch device that exists here, or ``MossInputError`` saying why
    not (an empty name too: ``--device ''`` is a slip, not a choice)."""
    name = "auto" if name is None else name.strip().lower()
    if name == "auto":
        return torch.device(available_devices()[0])
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if "mps" not in available_devices():
            raise MossInputError("--device mps: Apple Metal (MPS) is not available on this machine")
        return torch.device("mps")
    match = re.fullmatch(r"cuda(?::(\d+))?", name)
    if match:
        if not torch.cuda.is_available():
            raise MossInputError(
                f"--device {name}: CUDA is not available on this machine (no NVIDIA GPU, or a "
                "CPU-only torch); use --device cpu"
            )
        index = int(match.group(1) or 0)
        if index >= torch.cuda.device_count():
            raise MossInputError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    raise MossInputError(f"--device {name!r}: unknown device; expected auto, cpu, cuda, cuda:N or mps")


def describe(device: torch.device, for_people: bool = False) -> str:
    """The device in a short line: as the manifest records it (``cuda:0 (NVIDIA H100)``, ``cpu (2 threads)``), or
    with ``for_people`` as the app shows it (``GPU: NVIDIA H100 (cuda:0)``, ``CPU (2 threads)``,
    ``GPU: Apple Metal (mps)``)."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"GPU: {name} ({device})" if for_people else f"{device} ({name})"
    if device.type == "cpu":
        return f"{'CPU' if for_people else 'cpu'} ({torch.get_num_threads()} threads)"
    if device.type == "mps" and for_people:
        return "GPU: Apple Metal (mps)"
    return str(device)
