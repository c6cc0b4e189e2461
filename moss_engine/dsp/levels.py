"""Reading older run folders at the song's level: a moss-run/1 folder's files all carry one run-wide gain
(``output_gain_db``). moss-run/3's output level (every point at the song's loudness, peaks held inside it) is the
fitted level curve (``run.front_audio``) and the limiter (``dsp.limiter``)."""

from __future__ import annotations

import numpy as np


def at_song_level(samples: np.ndarray, run_gain_db: float) -> np.ndarray:
    """A moss-run/1 folder's audio (its ``output_gain_db`` applied) back at the song's own level: a copy, the run's one
    gain undone (0 dB: a later folder's audio already is at the song's level)."""
    return (samples * np.float32(10 ** (-run_gain_db / 20))).astype(np.float32)
