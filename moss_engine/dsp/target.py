"""Where the picture sits in the time-frequency grid, how it is warped for the viewer's axis, and its levels in dB."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from moss_engine.dsp.spectral import log_spaced_edges, resampling_matrix
from moss_engine.errors import MossInputError
from moss_engine.freq_axis import FreqAxis
from moss_engine.io.image import LoadedImage, fit_image

#: The smallest picture grid SSIM can judge (its Gaussian window is 11 cells wide).
MIN_GRID = 11
#: A spectrogram viewer's window is about twice as wide as tall: ``contain`` keeps the picture's aspect in that box.
DISPLAY_ASPECT = 2.0


@dataclass(frozen=True)
class Placement:
    """The picture's rectangle in seconds and Hz, and the STFT cells it covers.

    Frame k of the STFT (``center=True``) is centred at ``k * hop / sample_rate`` s, bin b at ``b * sr / n_fft`` Hz;
    the placement covers the frames ``frames[0] <= k < frames[1]`` and bins ``bins[0] <= b < bins[1]`` whose centres
    lie inside the rectangle. ``freq_scale``: the viewer's axis the picture is drawn for (``axis``).
    """

    t0_s: float
    t1_s: float
    f0_hz: float
    f1_hz: float
    freq_scale: str
    frames: tuple[int, int]
    bins: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """(bins, frames) of the covered STFT region."""
        return self.bins[1] - self.bins[0], self.frames[1] - self.frames[0]

    @property
    def axis(self) -> FreqAxis:
        """The picture's rows as a frequency axis: its band, on the viewer's scale (0 = the bottom row's edge, f0)."""
        return FreqAxis(self.freq_scale, self.f0_hz, self.f1_hz)

    def to_record(self) -> dict[str, float]:
        return {"t0_s": self.t0_s, "t1_s": self.t1_s, "f0_hz": self.f0_hz, "f1_hz": self.f1_hz}


def make_placement(
    duration_s: float,
    sample_rate: int,
    n_fft: int,
    hop_length: int,
    time: tuple[float, float] | None,
    band: tuple[float, float],
    freq_scale: str,
) -> Placement:
    """Clip the asked rectangle to the segment and find the STFT cells it covers (``MossInputError`` if too small)."""
    n_samples = int(round(duration_s * sample_rate))
    n_frames = 1 + n_samples // hop_length
    t0, t1 = (0.0, duration_s) if time is None else time
    if t0 >= duration_s:
        raise MossInputError(f"--time {t0:g}:{t1:g}: starts after the end of the segment ({duration_s:.2f} s)")
    t1 = min(t1, duration_s)
    f0, f1 = band
    c0 = math.ceil(t0 * sample_rate / hop_length - 1e-9)
    c1 = min(n_frames, math.floor(t1 * sample_rate / hop_length + 1e-9) + 1)
    b0 = math.ceil(f0 * n_fft / sample_rate - 1e-9)
    b1 = min(n_fft // 2 + 1, math.floor(f1 * n_fft / sample_rate + 1e-9) + 1)
    if c1 - c0 < MIN_GRID or b1 - b0 < MIN_GRID:
        raise MossInputError(
            f"--time/--freq: the picture covers only {c1 - c0} frame{'s' * (c1 - c0 != 1)} x {b1 - b0} "
            f"bin{'s' * (b1 - b0 != 1)}; at least {MIN_GRID} x "
            f"{MIN_GRID} are needed (a longer time span, a wider band, or a smaller --hop)"
        )
    return Placement(
        t0_s=float(t0),
        t1_s=float(t1),
        f0_hz=float(f0),
        f1_hz=float(f1),
        freq_scale=freq_scale,
        frames=(c0, c1),
        bins=(b0, b1),
    )


def image_grid_shape(placement: Placement, mask_shape: tuple[int, int]) -> tuple[int, int]:
    """The grid the visual objective compares on: twice the mask grid, at most the covered STFT region."""
    rows, cols = placement.shape
    return min(2 * mask_shape[0], rows), min(2 * mask_shape[1], cols)


def sampling_grid(placement: Placement, sample_rate: int, n_fft: int, hop_length: int) -> Tensor:
    """``grid_sample`` coordinates (1, bins, frames, 2) that take a display-space picture to the STFT cells.

    Display space is the picture as a viewer shows it: row 0 at the top (f1), columns from t0 to t1. On a log axis
    the rows are log-spaced in Hz, which is the "pre-warp" that makes the picture look undistorted there.
    """
    (b0, b1), (c0, c1) = placement.bins, placement.frames
    freqs = np.arange(b0, b1) * sample_rate / n_fft
    times = np.arange(c0, c1) * hop_length / sample_rate
    y = 1.0 - placement.axis.to_position(freqs)  # 0 at the top
    x = (times - placement.t0_s) / (placement.t1_s - placement.t0_s)
    # align_corners=False: -1 and 1 are the outer edges of the picture, so display position y maps to 2y - 1
    gy = torch.from_numpy(np.clip(y, 0, 1) * 2 - 1).float()
    gx = torch.from_numpy(np.clip(x, 0, 1) * 2 - 1).float()
    grid = torch.stack(torch.broadcast_tensors(gx[None, :], gy[:, None]), dim=-1)
    return grid[None]


def warp_to_stft(picture: Tensor, grid: Tensor) -> Tensor:
    """(batch, rows, cols) display-space values -> (batch, bins, frames) on the STFT cells (bilinear)."""
    out = F.grid_sample(
        picture[:, None],
        grid.expand(picture.shape[0], -1, -1, -1),
        mode="bilinear",
        padding_mode="border",
        align_corners=False,
    )
    return out[:, 0]


def interpolation_matrix(coords: Tensor, size: int) -> Tensor:
    """(n, size) matrix of ``grid_sample``'s 1-D bilinear weights (border padding, ``align_corners=False``) at the
    normalised coordinates ``coords`` (n,) over an axis of ``size`` samples."""
    pos = ((coords.double() + 1.0) * size - 1.0) / 2.0
    pos = pos.clamp(0, size - 1)
    lo = pos.floor().long().clamp(max=size - 1)
    hi = (lo + 1).clamp(max=size - 1)
    w_hi = pos - lo.double()
    mat = torch.zeros(len(coords), size, dtype=torch.float64)
    mat.scatter_add_(1, lo[:, None], (1 - w_hi)[:, None])
    mat.scatter_add_(1, hi[:, None], w_hi[:, None])
    return mat.float()


def separable_warp(grid: Tensor, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """``sampling_grid``'s warp of a (rows, cols) picture as two matrices: ``(bins, rows)`` and ``(frames, cols)``,
    so that ``row_matrix @ picture @ col_matrix.T`` equals ``warp_to_stft(picture, grid)`` (the grid's x depends on
    the frame alone and its y on the bin alone). Two small matrix products cost less than ``grid_sample``, whose
    backward is a scatter."""
    return interpolation_matrix(grid[0, :, 0, 1], shape[0]), interpolation_matrix(grid[0, 0, :, 0], shape[1])


def view_matrices(
    placement: Placement, grid_shape: tuple[int, int], sample_rate: int, n_fft: int, hop_length: int
) -> tuple[Tensor, Tensor]:
    """Matrices that pool the covered STFT region to the picture grid as a viewer displays it.

    Returns ``rows`` (grid_rows, bins), top row first, and ``cols`` (grid_cols, frames), so that
    ``rows @ region @ cols.T`` is the viewer's picture of a (bins, frames) region.
    """
    (b0, b1), (c0, c1) = placement.bins, placement.frames
    n_rows, n_cols = grid_shape
    if placement.axis.scale == "log":
        f_edges = log_spaced_edges(placement.f0_hz, placement.f1_hz, n_rows)
    else:
        f_edges = torch.linspace(placement.f0_hz, placement.f1_hz, n_rows + 1, dtype=torch.float64)
    rows = resampling_matrix(n_rows, f_edges * n_fft / sample_rate - b0, b1 - b0).flip(0)
    t_edges = torch.linspace(placement.t0_s, placement.t1_s, n_cols + 1, dtype=torch.float64)
    cols = resampling_matrix(n_cols, t_edges * sample_rate / hop_length - c0, c1 - c0)
    return rows, cols


def picture_levels(luminance: np.ndarray, gamma: float, invert: bool) -> np.ndarray:
    """Luminance in [0, 1] -> the viewer level in [0, 1] the picture asks for (invert first, then gamma)."""
    lum = np.clip(luminance, 0.0, 1.0)
    if invert:
        lum = 1.0 - lum
    return lum**gamma


def level_to_db(level: Tensor, top_db: Tensor | float, db_range: float) -> Tensor:
    """DESIGN.md "Levels": white (1) at the music's peak ``top_db``, black (0) at ``top_db - db_range``."""
    return top_db + db_range * (level - 1.0)


@dataclass(frozen=True)
class Target:
    """The picture ready for the engine, all in display space (row 0 at the top).

    Attributes:
        levels: (rows, cols) viewer levels in [0, 1] on the picture grid (what the visual objective compares with).
        opacity: (rows, cols) the picture's alpha channel on the picture grid (the SSIM weights).
        fine_levels, fine_opacity: the same at a finer grid, warped to the STFT cells for the blend.
    """

    levels: Tensor
    opacity: Tensor
    fine_levels: Tensor
    fine_opacity: Tensor


def make_target(
    image: LoadedImage, placement: Placement, grid_shape: tuple[int, int], fit: str, gamma: float, invert: bool
) -> Target:
    """Fit the picture to the grid and the finer STFT-cell grid, and map luminance to viewer levels."""
    lum, alpha = fit_image(image, grid_shape, fit=fit, display_aspect=DISPLAY_ASPECT)
    rows, cols = placement.shape
    fine_shape = (min(max(rows, grid_shape[0]), 2048), min(max(cols, grid_shape[1]), 4096))
    fine_lum, fine_alpha = fit_image(image, fine_shape, fit=fit, display_aspect=DISPLAY_ASPECT)

    def t(a: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    return Target(
        levels=t(picture_levels(lum, gamma, invert)),
        opacity=t(alpha),
        fine_levels=t(picture_levels(fine_lum, gamma, invert)),
        fine_opacity=t(fine_alpha),
    )
