"""front.png: the front, both anchors and the uniform crossfade, drawn with matplotlib's Agg backend (no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def plot_front(result: Any, path: Path) -> None:
    """Draw a ``pipeline.RunResult``'s front to ``path`` (PNG, 150 dpi)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 5.0), dpi=150)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(result.crossfade_audio, result.crossfade_visual, "o--", color="0.6", ms=4, lw=1.2,
            label="uniform crossfade")
    visual = np.array([p.visual for p in result.points])
    audio = np.array([p.audio for p in result.points])
    ax.plot(audio, visual, "o-", color="#1f6fb4", ms=6, lw=2, label="MOSS front", zorder=3)
    for p, v, a in zip(result.points, visual, audio, strict=True):
        ax.annotate(f"{p.alpha:.2f}", (a, v), textcoords="offset points", xytext=(6, 4), fontsize=7, color="#1f6fb4")
    an = result.anchors
    ax.plot([an.music_audio], [an.music_visual], "s", color="#2a9d3a", ms=9, label="all-music mask", zorder=4)
    ax.plot([an.image_audio], [an.image_visual], "D", color="#d0422c", ms=8, label="all-image mask", zorder=4)
    ax.set_xlabel("audio loss: multi-resolution log-mel distance to the music (dB)")
    ax.set_ylabel("visual loss: 1 - SSIM of the viewer's picture")
    s = result.settings
    ax.set_title(f"{s.image.name} in {s.audio.name}\nhypervolume {result.hypervolume:.3f} (anchor-normalised), "
                 f"{len(result.points)} points, labels = alpha", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(str(path), format="png")
