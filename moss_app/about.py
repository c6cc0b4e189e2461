"""The About box's text: what MOSS is, its version, the device it runs on, and where the licences are."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import numpy as np
import PySide6
import torch

import moss_engine

NOTICES = "THIRD_PARTY_NOTICES.md"


def notices_path() -> Path | None:
    """The third-party notices shipped with MOSS: next to the frozen program, else in the source tree."""
    roots = [Path(getattr(sys, "_MEIPASS", "")), Path(sys.executable).parent, Path(__file__).resolve().parents[1]]
    for root in roots:
        for candidate in (root / NOTICES, root / "packaging" / NOTICES):
            if str(root) and candidate.is_file():
                return candidate
    return None


def about_text(device: str) -> str:
    """Rich text for the About box; ``device`` is the window's device line (e.g. ``GPU: NVIDIA H100 (cuda:0)``)."""
    cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
    notices = notices_path()
    where = f"<br>Licences of the parts MOSS ships: {html.escape(str(notices))}" if notices else ""
    return (f"<h3>MOSS {moss_engine.__version__}</h3>"
            "<p>Multi-Objective Sound Synthesis: hide a picture in a piece of music, and choose along the whole "
            "trade-off from the pure song to the pure picture.</p>"
            f"<p><b>Runs on</b> {html.escape(device)}</p>"
            f"<p>torch {torch.__version__} ({cuda}) · Qt {PySide6.__version__} · numpy {np.__version__} · "
            f"Python {sys.version.split()[0]}</p>"
            "<p>MOSS is built with PySide6 (Qt, LGPL v3), PyTorch (BSD), pymoo (Apache 2.0), pyqtgraph (MIT), "
            f"libsndfile (LGPL), PortAudio (MIT) and FFmpeg (GPL v3 build).{where}</p>")
