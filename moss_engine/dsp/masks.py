"""Mask logits on the coarse grid: moving between two masks."""

from __future__ import annotations

import numpy as np


def interpolated_logits(first: np.ndarray, second: np.ndarray, t: float) -> np.ndarray:
    """Logits of the mask ``(1 - t) sigmoid(first) + t sigmoid(second)``: a straight line between two masks.

    Interpolating masks rather than logits keeps the line even when an end is an anchor (logits of +-30).
    """
    mask = (1 - t) / (1 + np.exp(-first.astype(np.float64))) + t / (1 + np.exp(-second.astype(np.float64)))
    mask = np.clip(mask, 1e-12, 1 - 1e-12)
    return np.log(mask / (1 - mask)).astype(np.float32)
