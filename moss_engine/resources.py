"""Where MOSS's own files are: the bundled sample picture and music, and the icons (in a frozen build too)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_folder() -> Path:
    """The ``resources`` folder: beside the package in a checkout, inside the bundle in a frozen build."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_paths() -> tuple[Path, Path]:
    """The bundled sample picture and music."""
    folder = resources_folder() / "sample"
    return folder / "astronaut.png", folder / "metal_madness_sectoid.ogg"
