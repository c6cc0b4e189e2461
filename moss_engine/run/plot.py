"""front.png: the front, both anchors, the uniform crossfade and spectrogram thumbnails, drawn with matplotlib's Agg
backend (no display); where the points were heard, the same front by ear beside it, against the crossfade heard by
the same model (the manifest's ``crossfade.mos``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moss_engine.errors import shown
from moss_engine.options import OBJECTIVE_NAMES

FRONT_BLUE = "#1f6fb4"
#: A thumbnail's title starts at this size (points) and shrinks, down to ``TITLE_SMALLEST_PT``, until it is no wider
#: than its thumbnail: three titles side by side never run into each other ("MOS 5.0point 3:" in issue 22).
TITLE_PT = 8.0
TITLE_SMALLEST_PT = 5.0
#: The thumbnails' row (figure fractions): low enough that their two-line titles stay under the figure's own title.
THUMB_BOTTOM, THUMB_HEIGHT, THUMB_WIDTH, THUMB_STEP = 0.67, 0.18, 0.27, 0.305


def _thumbnail(samples: np.ndarray, result: Any) -> np.ndarray:
    """A small spectrogram of a point's audio as a viewer shows it (its own top, the run's dB range and axis)."""
    from PIL import Image

    from moss_engine.run.video import spectrogram_panel

    s = result.settings
    panel = spectrogram_panel(samples, result.sample_rate, s.n_fft, s.hop_length, s.db_range, s.view_axis())
    return np.asarray(Image.fromarray(panel).resize((320, 160), Image.Resampling.BOX))


def thumbnail_title(index: int, point: Any) -> str:
    """A thumbnail's title in two short lines: which point, then what it costs the music (its loss, its MOS)."""
    heard = "" if point.mos is None else f", MOS {point.mos:.1f}"
    return f"point {index}: alpha {point.alpha:.2f}\naudio loss {point.audio:.3g}{heard}"


def _fit_title(inset: Any, renderer: Any) -> None:
    """Shrink ``inset``'s title until it is no wider than ``inset`` (or reaches ``TITLE_SMALLEST_PT``)."""
    title, width = inset.title, inset.get_window_extent(renderer).width
    size = TITLE_PT
    while size > TITLE_SMALLEST_PT and title.get_window_extent(renderer).width > width:
        size -= 0.5
        title.set_fontsize(size)


def crossfade_by_ear(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """(visual losses, MOS) of the crossfade's levels that were heard (``RunResult.crossfade_mos``); both empty where
    none was (a run without the model, cancelled, or a folder written before ``crossfade.mos``)."""
    mos = getattr(result, "crossfade_mos", None)
    if mos is None or len(mos) != len(result.crossfade_visual):
        return np.zeros(0), np.zeros(0)
    heard = [i for i, m in enumerate(mos) if m is not None]
    return (np.asarray(result.crossfade_visual, dtype=float)[heard], np.array([mos[i] for i in heard], dtype=float))


def _plot_by_ear(fig: Any, left: Any, result: Any, visual: np.ndarray, mos: np.ndarray) -> None:
    """The right panel: the front on the axis a listener uses (Zimtohrli's MOS, 5 = the song, on the left as the
    app draws it) against the loudness-matched crossfade heard by the same model, where it was."""
    ax = fig.add_axes((0.56, 0.09, 0.42, 0.53), sharey=left)
    cross_v, cross_mos = crossfade_by_ear(result)
    if len(cross_mos):
        ax.plot(
            cross_mos,
            cross_v,
            "o--",
            color="0.45",
            ms=4,
            lw=1.2,
            label="loudness-matched uniform crossfade (heard the same way)",
        )
    else:
        ax.plot([], [], " ", label="uniform crossfade: not heard for this run")
    ax.plot(mos, visual, "o-", color=FRONT_BLUE, ms=6, lw=2, label="MOSS front", zorder=3)
    for i, (m, v) in enumerate(zip(mos, visual, strict=True)):
        ax.annotate(str(i), (m, v), textcoords="offset points", xytext=(6, 4), fontsize=7, color=FRONT_BLUE)
    ax.set_xlim(5.15, max(0.9, float(np.min(np.concatenate([mos, cross_mos]))) - 0.15))  # 5, the song, on the left
    ax.set_xlabel("sounds like the song: MOS 1-5 (Zimtohrli, 5 = no difference heard)", fontsize=8)
    ax.tick_params(axis="y", labelleft=False)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")


def front_figure(result: Any) -> Any:
    """A ``pipeline.RunResult``'s front as a matplotlib ``Figure`` on an Agg canvas (9 x 6.4 in, 150 dpi), with
    thumbnails of three points: the music end, the point nearest alpha 0.5 and the image end.

    The layout decision: each thumbnail's title is two lines (``thumbnail_title``), fitted to its thumbnail's width
    (``_fit_title``), and the thumbnails sit low enough that the titles clear the figure's two-line title; so no two
    titles overlap whatever the numbers (a long ``audio loss 1.23e-05, MOS 5.0`` included).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 6.4), dpi=150)
    FigureCanvasAgg(fig)  # a renderer to measure the titles with, no display needed
    visual = np.array([p.visual for p in result.points])
    audio = np.array([p.audio for p in result.points])
    mos = [p.mos for p in result.points]
    by_ear = bool(mos) and all(m is not None for m in mos)
    # with every point heard, a second panel beside: the same front by ear, with the crossfade heard as the points are
    ax = fig.add_axes((0.08, 0.09, 0.44, 0.53) if by_ear else (0.09, 0.09, 0.88, 0.53))
    ax.plot(
        result.crossfade_audio,
        result.crossfade_visual,
        "o--",
        color="0.6",
        ms=4,
        lw=1.2,
        label="loudness-matched uniform crossfade (same objectives)",
    )
    ax.plot(audio, visual, "o-", color=FRONT_BLUE, ms=6, lw=2, label="MOSS front", zorder=3)
    for p, v, a in zip(result.points, visual, audio, strict=True):
        ax.annotate(f"{p.alpha:.2f}", (a, v), textcoords="offset points", xytext=(6, 4), fontsize=7, color=FRONT_BLUE)
    an = result.anchors
    ax.plot([an.music_audio], [an.music_visual], "s", color="#2a9d3a", ms=9, label="all-music mask", zorder=4)
    ax.plot([an.image_audio], [an.image_visual], "D", color="#d0422c", ms=8, label="all-image mask", zorder=4)
    ax.set_xlabel(f"audio loss: {OBJECTIVE_NAMES[result.settings.audio_objective]}", fontsize=8 if by_ear else None)
    ax.set_ylabel("visual loss: 1 - SSIM of the viewer's picture")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7 if by_ear else 8, loc="upper right")
    if by_ear:
        _plot_by_ear(fig, ax, result, visual, np.array(mos, dtype=float))

    picks = sorted(
        {0, int(np.argmin(np.abs(np.array([p.alpha for p in result.points]) - 0.5))), len(result.points) - 1}
    )
    renderer = fig.canvas.get_renderer()
    for slot, i in enumerate(picks):
        point = result.points[i]
        inset = fig.add_axes((0.09 + slot * THUMB_STEP, THUMB_BOTTOM, THUMB_WIDTH, THUMB_HEIGHT))
        inset.imshow(_thumbnail(point.samples, result), cmap="gray", aspect="auto", interpolation="nearest")
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title(thumbnail_title(i, point), fontsize=TITLE_PT, linespacing=1.1)
        _fit_title(inset, renderer)
        ax.annotate(
            str(i),
            (audio[i], visual[i]),
            textcoords="offset points",
            xytext=(-12, -12),
            fontsize=8,
            color="black",
            fontweight="bold",
        )
    s = result.settings
    fig.suptitle(
        f"{shown(s.image.name)} in {shown(s.audio.name)}\nhypervolume {result.hypervolume:.3f} "
        f"(anchor-normalised), {len(result.points)} points, labels = alpha",
        fontsize=9,
        y=0.995,
    )
    return fig


def plot_front(result: Any, path: Path) -> None:
    """Draw a ``pipeline.RunResult``'s front to ``path`` (PNG, 150 dpi): ``front_figure``.

    A file name in a script the font lacks (CJK, Gothic...) is drawn with the font's box for those characters, without
    matplotlib's "Glyph ... missing from font" warnings on the console (one per character, under the progress bar).
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        front_figure(result).savefig(str(path), format="png")
