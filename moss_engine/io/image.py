"""Read any image Pillow reads as luminance and alpha in [0, 1], and fit it to a grid."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from moss_engine.errors import MossInputError

#: The largest picture accepted, in pixels (a 200 MP image already needs 1.6 GB as float32 luminance and alpha).
MAX_PIXELS = 200_000_000
# Pillow's own guard (a warning above 89 MP, an error above twice its limit) is moved above MOSS's, so that MOSS's
# limit is the one that applies and says so, and no warning reaches the user's terminal.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
FITS = ("stretch", "contain")
#: The smallest picture accepted, in pixels on each side. A spectrogram shows a picture as a grid of cells; below 8 x 8
#: (the cell of a bitmap font's letter, the least that draws a shape one can name) there is no shape left to show: a
#: 1 x 1 picture stretched over the placement is one flat grey, and the run makes a front of noise. A picture this
#: small is a mistake (a tracking pixel, a thumbnail's placeholder), so it is refused, not enlarged.
MIN_PICTURE_PX = 8

# Rec. 601 luma weights for R, G, B.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_ALPHA_EPS = 1e-4


@dataclass(frozen=True)
class LoadedImage:
    """A picture as the engine uses it.

    Args:
        path: the file.
        luminance: ``(height, width)`` float32 in [0, 1], Rec. 601 luma of the colour (not premultiplied by alpha).
        alpha: ``(height, width)`` float32 in [0, 1]; 1 everywhere when the file has no alpha.
        mode: the file's Pillow mode, e.g. ``"P"``, ``"LA"``, ``"RGBA"``.
    """

    path: Path
    luminance: np.ndarray
    alpha: np.ndarray
    mode: str

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels, after the EXIF orientation."""
        return self.luminance.shape[1], self.luminance.shape[0]

    @property
    def has_transparency(self) -> bool:
        """Whether any pixel is less than fully opaque."""
        return bool((self.alpha < 1.0).any())


def _scale_to_unit(values: np.ndarray, full_scale: float | None) -> np.ndarray:
    """Scale integer or float pixels to [0, 1]: by ``full_scale`` when the data fits it, else by their own range."""
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, dtype=np.float32)
    low, high = float(finite.min()), float(finite.max())
    if full_scale is not None and low >= 0.0 and high <= full_scale:
        scaled = values / full_scale
    elif high > low:
        scaled = (values - low) / (high - low)
    else:
        scaled = np.full(values.shape, 1.0 if low > 0 else 0.0)
    return np.clip(np.nan_to_num(scaled, nan=0.0), 0.0, 1.0).astype(np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb[..., :3].astype(np.float32) @ (_LUMA / 255.0), 0.0, 1.0).astype(np.float32)


def _to_planes(im: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Luminance and alpha planes, float32 in [0, 1], for an image of any mode."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit data (also 16-bit PNGs that older Pillows open as "I") use the 16-bit range; wider data its own.
        values = np.asarray(im)
        luminance = _scale_to_unit(values, 65535.0)
        return luminance, np.ones(luminance.shape, dtype=np.float32)
    if mode == "F":
        values = np.asarray(im, dtype=np.float32)
        alpha = np.isfinite(values).astype(np.float32)  # NaN or infinite pixels: no image there
        return _scale_to_unit(values, 1.0), alpha
    if mode in ("1", "L"):
        luminance = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
        return luminance, np.ones(luminance.shape, dtype=np.float32)
    if mode in ("LA", "PA", "P") or "A" in im.getbands() or "transparency" in im.info:
        # A palette with tRNS becomes RGBA here, so its transparency survives.
        if mode == "LA":
            planes = np.asarray(im, dtype=np.float32) / 255.0
            return planes[..., 0].copy(), planes[..., 1].copy()
        rgba = np.asarray(im.convert("RGBA"))
        return _luma(rgba), rgba[..., 3].astype(np.float32) / 255.0
    if mode == "LAB":
        luminance = np.asarray(im.getchannel("L"), dtype=np.float32) / 255.0
        return luminance, np.ones(luminance.shape, dtype=np.float32)
    luminance = _luma(np.asarray(im.convert("RGB")))
    return luminance, np.ones(luminance.shape, dtype=np.float32)


def load_image(path: str | Path) -> LoadedImage:
    """Load a picture of any mode and format Pillow reads (first frame), with its EXIF orientation applied.

    Raises:
        MossInputError: a missing, empty, unreadable, truncated, too large or too small (``MIN_PICTURE_PX``) file.
    """
    path = Path(path)
    if not path.exists():
        raise MossInputError("file not found", path=path)
    if path.is_dir():
        raise MossInputError("is a folder, not a file", path=path)
    try:
        if path.stat().st_size == 0:
            raise MossInputError("empty file (0 bytes)", path=path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise MossInputError(
                    f"the image is too large ({width} x {height}; at most {MAX_PIXELS // 1_000_000} megapixels)",
                    path=path,
                )
            if width == 0 or height == 0:
                raise MossInputError(f"the image is empty ({width} x {height} pixels)", path=path)
            if min(width, height) < MIN_PICTURE_PX:
                raise MossInputError(
                    f"{width} x {height} pixels is too small to show in a spectrogram: use a picture "
                    f"at least {MIN_PICTURE_PX} x {MIN_PICTURE_PX} pixels",
                    path=path,
                )
            mode = im.mode
            im.load()
            try:
                oriented = ImageOps.exif_transpose(im)
            except (OSError, ValueError, SyntaxError, KeyError, TypeError):
                oriented = im  # a broken EXIF block is no reason to refuse the picture
            luminance, alpha = _to_planes(oriented)
    except MossInputError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (2 x Image.MAX_IMAGE_PIXELS) fires in Image.open, before our check can.
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(pixels[1]) / 1e6:.0f} megapixels)" if pixels else ""
        raise MossInputError(f"the image is too large{size}", path=path) from exc
    except UnidentifiedImageError as exc:
        raise MossInputError("not a picture MOSS can read (PNG, JPEG, GIF, BMP, TIFF, WebP...)", path=path) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise MossInputError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc
        raise MossInputError("the image is truncated or damaged", path=path) from exc
    return LoadedImage(path, np.ascontiguousarray(luminance), np.ascontiguousarray(alpha), mode)


def _resize(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float plane to ``size`` = (width, height) with an antialiased filter."""
    height, width = plane.shape
    if (width, height) == size:
        return plane.astype(np.float32, copy=True)
    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    if size[0] <= width and size[1] <= height:
        # Lanczos is antialiased for shrinking; reducing_gap box-filters large factors first, for speed.
        resized = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    else:
        resized = image.resize(size, Image.Resampling.BICUBIC)  # rings less than Lanczos when enlarging
    return np.asarray(resized, dtype=np.float32)


def fit_image(
    image: LoadedImage, shape: tuple[int, int], fit: str = "stretch", display_aspect: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Resample a picture onto a grid.

    Args:
        image: the loaded picture.
        shape: ``(rows, cols)`` of the grid.
        fit: ``"stretch"`` fills the grid; ``"contain"`` keeps the picture's aspect ratio as a viewer shows it,
            centred, with the rest transparent (alpha 0).
        display_aspect: how much wider than tall the grid is displayed (a spectrogram viewer's window);
            only ``"contain"`` uses it.

    Returns:
        ``(luminance, alpha)``, each ``(rows, cols)`` float32 in [0, 1].
    """
    rows, cols = (int(v) for v in shape)
    if rows < 1 or cols < 1:
        raise ValueError(f"shape must be (rows, cols) with both at least 1, got {shape}")
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    if not display_aspect > 0:
        raise ValueError(f"display_aspect must be positive, got {display_aspect}")

    if fit == "stretch":
        used_rows, used_cols = rows, cols
    else:
        width, height = image.size
        picture_aspect = width / height
        if picture_aspect >= display_aspect:
            used_cols, used_rows = cols, rows * display_aspect / picture_aspect
        else:
            used_cols, used_rows = cols * picture_aspect / display_aspect, rows
        used_rows = min(rows, max(1, round(used_rows)))
        used_cols = min(cols, max(1, round(used_cols)))

    # Resize colour premultiplied by alpha, so the colour of transparent pixels does not bleed into the edges.
    alpha = np.clip(_resize(image.alpha, (used_cols, used_rows)), 0.0, 1.0)
    premultiplied = _resize(image.luminance * image.alpha, (used_cols, used_rows))
    luminance = np.divide(premultiplied, alpha, out=np.zeros_like(premultiplied), where=alpha > _ALPHA_EPS)
    luminance = np.clip(luminance, 0.0, 1.0)

    out_luminance = np.zeros((rows, cols), dtype=np.float32)
    out_alpha = np.zeros((rows, cols), dtype=np.float32)
    top, left = (rows - used_rows) // 2, (cols - used_cols) // 2
    out_luminance[top : top + used_rows, left : left + used_cols] = luminance
    out_alpha[top : top + used_rows, left : left + used_cols] = alpha
    return out_luminance, out_alpha
