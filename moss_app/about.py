"""The About box's text: what MOSS is, its version, the device it runs on, and the licence notices themselves."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import numpy as np
import PySide6
import torch

import moss_engine
from moss_engine.resources import resources_folder

NOTICES = "THIRD_PARTY_NOTICES.md"


def notices_path() -> Path | None:
    """The third-party notices shipped with MOSS: next to the frozen program, else in the source tree."""
    bundle = [Path(sys._MEIPASS)] if getattr(sys, "_MEIPASS", None) else []  # not the current folder otherwise
    for root in [*bundle, Path(sys.executable).parent, Path(__file__).resolve().parents[1]]:
        for candidate in (root / NOTICES, root / "packaging" / NOTICES):
            if candidate.is_file():
                return candidate
    return None


def notice_files() -> list[Path]:
    """The notices the About box shows, in order: the third-party notices, the bundle's list of Python packages (a
    frozen build), the sample's notice."""
    main = notices_path()
    found = [main] if main is not None else []
    if main is not None:
        found.append(main.parent / "notices" / "PYTHON_PACKAGES.md")
    found.append(resources_folder() / "sample" / "NOTICE.md")
    return [p for p in found if p.is_file()]


def notices_markdown() -> str:
    """The licence notices MOSS ships, as one Markdown text for the About box's scrolling view."""
    parts = [p.read_text(encoding="utf-8", errors="replace").strip() for p in notice_files()]
    if not parts:
        return (
            "The licence notices are missing from this installation. MOSS is under the GNU GPL v3; see "
            "THIRD_PARTY_NOTICES.md in the MOSS source."
        )
    return "\n\n---\n\n".join(parts)


def about_text(device: str) -> str:
    """Rich text for the About box; ``device`` is the window's device line (e.g. ``GPU: NVIDIA H100 (cuda:0)``)."""
    cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
    return (
        f"<h3>MOSS {moss_engine.__version__}</h3>"
        "<p>Multi-Objective Sound Synthesis: hide a picture in a piece of music, and choose along the whole "
        "trade-off from the pure song to the pure picture.</p>"
        f"<p><b>Runs on</b> {html.escape(device)}</p>"
        f"<p>torch {torch.__version__} ({cuda}) · Qt {PySide6.__version__} · numpy {np.__version__} · "
        f"Python {sys.version.split()[0]}</p>"
        "<p>MOSS is built with PySide6 (Qt, LGPL v3), PyTorch (BSD), pymoo (Apache 2.0), pyqtgraph (MIT), "
        "libsndfile (LGPL), PortAudio (MIT) and FFmpeg (GPL v3 build). Their notices follow.</p>"
    )
