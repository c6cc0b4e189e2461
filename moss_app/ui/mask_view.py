"""The mask of the selected front point as a heatmap over the placement's seconds (the song's time) and frequencies:
0 = the music's own cell, 1 = the picture's; zoom, pan, a cursor readout and a 0..1 colour bar, as the spectrogram
view has, over the same span as that view (the result view links their zooms)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from .image_plot import ImagePlot
from .readout import SEP, FrequencyScale, cell_at, mask_readout
from .theme import set_empty
from .view_tools import Readout, show_colour_bar

#: The colour bar's scale: what the two ends of a mask mean.
MASK_TICKS = [(0.0, "0 music"), (0.5, "0.5"), (1.0, "1 picture")]


def mask_of(logits: np.ndarray) -> np.ndarray:
    """The blend mask a point's logits stand for: their sigmoid, (freq, time) in [0, 1]."""
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float32)))


class MaskView(ImagePlot):
    """A (freq, time) mask, low frequencies at the bottom; one ``ImageItem`` updated in place.

    Given the run's placement and frequency scale, the mask is drawn over the placement's seconds and kHz (Hz on a
    log axis) as the spectrogram beside it, in the song's time; given the segment's length too, the view spans the
    whole segment and every frequency, as the spectrogram view does (outside the placement the mask is 0: the
    music as it is), so that the two views can share one zoom. Without a placement, over its cells.
    """

    #: What the view says while it shows nothing.
    HINT = "Pick a point of the front to see its mask"

    def __init__(self, parent=None):
        super().__init__(
            "mask (0 = music, 1 = picture)",
            "The mask of the selected point: for each time and frequency, how much of the sound comes\n"
            "from the picture's spectrogram (1, bright) rather than the music's (0, dark).\n"
            "Wheel: zoom; drag: pan; double-click: all.",
            (0.0, 1.0),
            parent=parent,
            ticks=MASK_TICKS,
        )
        self.colour_bar.axis.setWidth(62)
        self.readout = Readout(self, self.readout_text)
        self._mask: np.ndarray | None = None  # (rows, cols) in display space: row 0 = the highest frequency
        self._extent = (0.0, 1.0, 0.0, 1.0)  # where the mask is drawn
        self._view: tuple[float, float, float, float] | None = None  # the view's whole span, when wider
        self._scale: FrequencyScale | None = None
        self._show_empty()

    def show_mask(
        self,
        logits: np.ndarray,
        placement=None,
        scale: FrequencyScale | None = None,
        start_s: float = 0.0,
        duration_s: float | None = None,
    ) -> None:
        """Show a point's mask; with ``placement`` (``moss_engine.dsp.target.Placement``) and the view's frequency
        ``scale``, over the placement's seconds (``start_s`` added: the segment's start in the song) and
        frequencies, and with the segment's ``duration_s``, in a view of the whole segment and band; else over its
        cells."""
        mask = mask_of(logits)
        rows, cols = mask.shape
        view = None
        if placement is not None and scale is not None:
            extent = (
                start_s + placement.t0_s,
                start_s + placement.t1_s,
                scale.to_y(placement.f0_hz),
                scale.to_y(placement.f1_hz),
            )
            if duration_s is not None:
                view = (start_s, start_s + duration_s, 0.0, scale.top)
            self.frequency_axis.set_scale(scale)
            self.setLabel("bottom", "time (s)")
            self.setLabel("left", "frequency (Hz, log scale)" if scale.kind == "log" else "frequency (kHz)")
        else:
            extent, scale = (0.0, float(cols), 0.0, float(rows)), None
            self.frequency_axis.set_scale(None)
            self.setLabel("bottom", "time cell")
            self.setLabel("left", "frequency cell")
        same_span = self._mask is not None and (extent, view, scale) == (self._extent, self._view, self._scale)
        self._mask, self._extent, self._view, self._scale = mask, extent, view, scale
        set_empty(self, None)
        self.setMouseEnabled(x=True, y=True)
        show_colour_bar(self, self.colour_bar, True)
        # the logits are in display space (row 0 = the top of the picture, the highest frequency); the item's
        # row 0 is drawn at the bottom, so flip to keep the picture upright
        self.image.setImage(np.ascontiguousarray(mask[::-1]), levels=(0.0, 1.0), autoLevels=False)
        x0, x1, y0, y1 = extent
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        vb = self.getViewBox()
        if not same_span or vb.extent is None:  # a zoom the user made stays while stepping through the points
            vb.fit(*(view or extent))

    def readout_text(self, x: float, y: float) -> str | None:
        """What the readout says at view coordinates (x, y): the song's time, frequency and the mask's value there
        (outside the placement, within the segment: the music)."""
        if self._mask is None:
            return None
        if self._scale is None:  # no placement: cells
            cell = cell_at(x, y, self._extent, self._mask.shape)
            if cell is None:
                return None
            row, col = cell
            return f"cell {col}, {row}{SEP}mask {float(self._mask[self._mask.shape[0] - 1 - row, col]):.2f}"
        return mask_readout(x, y, self._mask, self._extent, self._scale, self._view)

    def _show_empty(self) -> None:
        self._mask = None
        self._show_hint()

    def clear_mask(self) -> None:
        self.image.clear()
        self._show_empty()
