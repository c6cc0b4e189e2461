"""The mask of the selected front point as a heatmap: 0 = the music's own cell, 1 = the picture's."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .plots import add_image, style_plot
from .theme import set_empty


def mask_of(logits: np.ndarray) -> np.ndarray:
    """The blend mask a point's logits stand for: their sigmoid, (freq, time) in [0, 1]."""
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float32)))


class MaskView(pg.PlotWidget):
    """A (freq, time) mask, low frequencies at the bottom; one ``ImageItem`` updated in place."""

    #: What the view says while it shows nothing.
    HINT = "Pick a point of the front to see its mask"

    def __init__(self, parent=None):
        super().__init__(parent)
        style_plot(self, "time cell", "frequency cell", title="mask (0 = music, 1 = picture)", still=True,
                   tip="The mask of the selected point: for each time and frequency cell, how much of the sound\n"
                       "comes from the picture's spectrogram (1, yellow) rather than the music's (0, dark).")
        self.image = add_image(self, "viridis")
        set_empty(self, self.HINT)

    def show_mask(self, logits: np.ndarray) -> None:
        # the logits are in display space (row 0 = the top of the picture, the highest frequency); the item's
        # row 0 is drawn at the bottom, so flip to keep the picture upright
        mask = np.ascontiguousarray(mask_of(logits)[::-1])
        set_empty(self, None)
        self.image.setImage(mask, levels=(0.0, 1.0), autoLevels=False)
        self.getViewBox().setRange(xRange=(0, mask.shape[1]), yRange=(0, mask.shape[0]), padding=0)

    def clear_mask(self) -> None:
        self.image.clear()
        set_empty(self, self.HINT)
