"""The SSIM a viewer shows, as the reference scorer ``../shared/tools/score_run.py`` defines it, in numpy and scipy.

This is the figure MOSS is judged by, not the optimiser's objective (``objectives.WeightedSsim`` works on the
engine's own grid and is differentiable): what a spectrogram viewer set as the manifest's ``view`` shows of a file's
channel mean inside the ``placement`` (dB under the loudest cell of the placement, ``db_range`` deep, on the run's
frequency axis), resized to a 128 x 256 grid, against the picture as given (no invert, gamma or fit), the SSIM map
(Gaussian window sigma 1.5, 11 taps, K = (0.01, 0.03), population covariance) averaged over the picture's opaque part
away from the 5-cell border. ``resize`` and ``gaussian`` are scikit-image's ``transform.resize(anti_aliasing=True)``
and ``metrics.structural_similarity``'s filter, rebuilt on ``scipy.ndimage`` (scikit-image is not a dependency of
MOSS; ``tests/engine/test_codec.py`` checks the two agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.signal import ShortTimeFFT
from scipy.signal.windows import hann

from moss_engine.errors import MossInputError

#: The grid (rows, columns) the scorer compares the viewer's picture and the picture on.
SSIM_GRID = (128, 256)
#: A point a viewer shows "clearly": its SSIM at least this (the issues' and the benches' "first visible point").
VISIBLE_SSIM = 0.5
#: The SSIM's Gaussian window: sigma, and where it is cut (3.5 sigma: 11 taps), as Wang et al. 2004 and scikit-image.
_SIGMA, _TRUNCATE = 1.5, 3.5
_BORDER = int(_TRUNCATE * _SIGMA + 0.5)  # the SSIM map's cells left out at each edge (the window's radius)


def resize(image: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``image`` (rows, columns) resized to ``out_hw`` as ``skimage.transform.resize(image, out_hw,
    anti_aliasing=True)`` does it: a Gaussian of sigma ``(factor - 1) / 2`` along each shrunk axis, then linear
    interpolation on the pixels' centres, both mirroring the edges, clipped to the input's range."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"image must be (rows, columns), got shape {image.shape}")
    factors = np.divide(image.shape, out_hw)
    sigma = np.maximum(0.0, (factors - 1) / 2)
    filtered = ndimage.gaussian_filter(image, sigma, mode="mirror")
    out = ndimage.zoom(filtered, 1 / factors, order=1, mode="mirror", grid_mode=True)
    return np.clip(out, image.min(), image.max())


def picture_gray(path: str | Path, out_hw: tuple[int, int] = SSIM_GRID) -> tuple[np.ndarray, np.ndarray]:
    """The picture as grey levels 0..1 and its opacity 0..1 (1 where it has no alpha channel), resized to
    ``out_hw``: the picture as the file gives it (``MossInputError`` when Pillow cannot read it)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            rgba = im.convert("RGBA") if im.mode in ("RGBA", "LA", "P", "PA") else im.convert("RGB").convert("RGBA")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise MossInputError(f"not a picture Pillow can read ({exc})", path=path) from None
    alpha = np.asarray(rgba, dtype=np.float64)[..., 3] / 255.0
    gray = np.asarray(rgba.convert("RGB").convert("L"), dtype=np.float64) / 255.0
    return resize(gray, out_hw), resize(alpha, out_hw)


def _log_rows(region: np.ndarray, freqs: np.ndarray, f0: float, f1: float, rows: int) -> np.ndarray:
    """Rows of ``region`` (row i at ``freqs[i]``, ascending) read at ``rows`` log-spaced frequencies from f0 to f1."""
    wanted = f0 * (f1 / f0) ** np.linspace(0, 1, rows)
    return np.stack([np.interp(wanted, freqs, region[:, j]) for j in range(region.shape[1])], axis=1)


def viewer_spectrum(x: np.ndarray, sample_rate: int, view: Mapping[str, object]) -> tuple[np.ndarray, ...]:
    """The complex spectrogram a viewer set as ``view`` (``n_fft``, ``hop_length``) computes of the mono signal
    ``x``: ``(spectrum (freqs, frames), freqs, times)``."""
    x = np.asarray(x, dtype=np.float64)
    n_fft, hop = int(view["n_fft"]), int(view["hop_length"])
    stft = ShortTimeFFT(hann(n_fft, sym=False), hop=hop, fs=sample_rate, scale_to="magnitude")
    return stft.stft(x), stft.f, stft.t(len(x))


def viewer_levels(x: np.ndarray, sample_rate: int, view: Mapping[str, object]) -> tuple[np.ndarray, ...]:
    """``viewer_spectrum`` as levels: ``(level_db (freqs, frames), freqs, times)``, dB of each cell's magnitude."""
    spectrum, freqs, times = viewer_spectrum(x, sample_rate, view)
    return 20 * np.log10(np.abs(spectrum) + 1e-10), freqs, times


def picture_of_levels(
    level_db: np.ndarray,
    freqs: np.ndarray,
    times: np.ndarray,
    view: Mapping[str, object],
    placement: Mapping[str, float],
    out_hw: tuple[int, int] = SSIM_GRID,
) -> np.ndarray:
    """What the viewer shows of a spectrogram (``viewer_levels``) inside ``placement``, 0..1 on ``out_hw``, top row
    the highest frequency (``db_range`` deep under the loudest cell of the placement, on the ``freq_scale`` axis)."""
    fi = np.flatnonzero((freqs >= placement["f0_hz"]) & (freqs <= placement["f1_hz"]))
    ti = np.flatnonzero((times >= placement["t0_s"]) & (times <= placement["t1_s"]))
    if len(fi) == 0 or len(ti) == 0:
        raise ValueError(f"the placement {dict(placement)} covers no cell of the signal's spectrogram")
    region = level_db[fi[0] : fi[-1] + 1, ti[0] : ti[-1] + 1]  # row 0 the lowest frequency
    if view.get("freq_scale", "linear") == "log":
        region = _log_rows(region, freqs[fi], placement["f0_hz"], placement["f1_hz"], out_hw[0])
    db_range = float(view["db_range"])
    top = region.max()
    region = np.clip((region[::-1] - (top - db_range)) / db_range, 0, 1)
    return resize(region, out_hw)


def viewer_picture(
    x: np.ndarray,
    sample_rate: int,
    view: Mapping[str, object],
    placement: Mapping[str, float],
    out_hw: tuple[int, int] = SSIM_GRID,
) -> np.ndarray:
    """What a spectrogram viewer shows of the mono signal ``x`` inside ``placement``, 0..1 on ``out_hw``, top row the
    highest frequency. ``view`` and ``placement`` are the manifest's records (``n_fft``, ``hop_length``,
    ``db_range``, ``freq_scale``; ``t0_s``, ``t1_s``, ``f0_hz``, ``f1_hz``)."""
    return picture_of_levels(*viewer_levels(x, sample_rate, view), view, placement, out_hw)


def gaussian(image: np.ndarray) -> np.ndarray:
    """The SSIM's local mean: a Gaussian of sigma 1.5 cut at 3.5 sigma, the edges mirrored about the border
    (``scipy.ndimage``'s ``reflect``), as scikit-image's ``structural_similarity(gaussian_weights=True)``."""
    return ndimage.gaussian_filter(image, _SIGMA, mode="reflect", truncate=_TRUNCATE)


def picture_ssim(seen: np.ndarray, gray: np.ndarray, alpha: np.ndarray) -> float:
    """SSIM of what the viewer shows (``viewer_picture``) against the picture (``picture_gray``), averaged over the
    picture's opaque part (its transparent part leaves the music alone) away from the window's border; for an opaque
    picture, scikit-image's mean SSIM. 0 when nothing of the picture is opaque there."""
    x, y = np.asarray(seen, dtype=np.float64), np.asarray(gray, dtype=np.float64)
    if x.shape != y.shape or x.shape != np.shape(alpha):
        raise ValueError(f"seen {x.shape}, picture {y.shape} and alpha {np.shape(alpha)} must have one shape")
    if min(x.shape) < 2 * _BORDER + 1:
        raise ValueError(f"SSIM needs a grid of at least {2 * _BORDER + 1} cells a side, got {x.shape}")
    c1, c2 = 0.01**2, 0.03**2  # (K1 L)^2, (K2 L)^2 with the data range L = 1
    mx, my = gaussian(x), gaussian(y)
    vx, vy, cxy = gaussian(x * x) - mx * mx, gaussian(y * y) - my * my, gaussian(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    inner = (slice(_BORDER, -_BORDER), slice(_BORDER, -_BORDER))
    s, w = ssim_map[inner], np.asarray(alpha, dtype=np.float64)[inner]
    return float((s * w).sum() / w.sum()) if w.sum() > 1e-6 else 0.0
