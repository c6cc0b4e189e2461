"""Image input: every real test image, every mode and format Pillow reads, fitting to a grid, and bad inputs."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from moss_engine.errors import MossInputError
from moss_engine.io.image import LoadedImage, fit_image, load_image

# (file, (width, height), Pillow mode, has real transparency) from tests/data/NOTICE.md
REAL_IMAGES = [
    ("img_portrait_skimage_astronaut.png", (512, 512), "RGB", False),
    ("img_landscape_kde_eveningglow.jpg", (2560, 1600), "RGB", False),
    ("img_linedrawing_openclipart_crawfish_graya.png", (459, 477), "LA", True),
    ("img_logo_debian_logo_text_version_256_palette_trns.png", (788, 256), "P", True),
    ("img_text_skimage_page.png", (384, 191), "L", False),
    ("img_highcontrast_skimage_horse.png", (400, 328), "RGBA", True),
    ("img_tall_kde_shell_720x1440.jpg", (720, 1440), "RGB", False),
    ("img_tiny_gimp_icon_16x16_rgba.png", (16, 16), "RGBA", True),
]


@pytest.mark.parametrize("name,size,mode,transparent", REAL_IMAGES, ids=[r[0] for r in REAL_IMAGES])
def test_real_images_load(data_dir, name, size, mode, transparent):
    image = load_image(data_dir / name)
    assert isinstance(image, LoadedImage)
    assert image.size == size and image.mode == mode
    assert image.luminance.shape == image.alpha.shape == (size[1], size[0])
    assert image.luminance.dtype == image.alpha.dtype == np.float32
    assert 0.0 <= image.luminance.min() < image.luminance.max() <= 1.0
    assert image.alpha.min() >= 0.0 and image.alpha.max() == 1.0
    assert image.has_transparency is transparent


def test_transparent_images_have_real_transparency(data_dir):
    crawfish = load_image(data_dir / "img_linedrawing_openclipart_crawfish_graya.png")
    assert crawfish.alpha.mean() == pytest.approx(0.27, abs=0.02)
    logo = load_image(data_dir / "img_logo_debian_logo_text_version_256_palette_trns.png")
    assert logo.alpha.min() == 0.0 and 0.0 < logo.alpha.mean() < 0.9
    # light grey on transparent: the opaque pixels are bright
    assert np.median(logo.luminance[logo.alpha > 0.9]) > 0.6
    icon = load_image(data_dir / "img_tiny_gimp_icon_16x16_rgba.png")
    assert icon.alpha[0, 0] == 0.0 and icon.alpha[8, 8] == 1.0


def test_horse_alpha_is_almost_opaque(data_dir):
    horse = load_image(data_dir / "img_highcontrast_skimage_horse.png")
    assert horse.mode == "RGBA"
    assert 0.4 < horse.alpha.min() < 0.46
    assert horse.alpha.mean() > 0.999
    assert horse.luminance[0, 0] == 1.0 and horse.luminance.min() == 0.0


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:8, :8] = 255  # white top-left corner as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, quality=95, exif=exif)
    image = load_image(path)
    assert image.size == (20, 40)
    assert image.luminance[2, 17] > 0.9  # the stored top-left corner is now top-right
    assert image.luminance[2, 2] < 0.1 and image.luminance[37, 2] < 0.1


def gradient(width: int = 64, height: int = 32) -> np.ndarray:
    return np.tile(np.linspace(0, 255, width), (height, 1)).round().astype(np.uint8)


@pytest.mark.parametrize(
    "filename,save_kwargs",
    [
        ("g.webp", {"lossless": True}),
        ("g.bmp", {}),
        ("g.tif", {}),
        ("g.tiff", {"compression": "tiff_lzw"}),
    ],
    ids=["webp", "bmp", "tiff", "tiff-lzw"],
)
def test_other_formats_load(tmp_path, filename, save_kwargs):
    path = tmp_path / filename
    Image.fromarray(gradient()).convert("RGB").save(path, **save_kwargs)
    image = load_image(path)
    assert image.size == (64, 32) and not image.has_transparency
    np.testing.assert_allclose(image.luminance[5], np.linspace(0, 1, 64), atol=1 / 255 + 1e-6)


def test_gif_uses_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((10, 12), value, dtype=np.uint8)).convert("P") for value in (255, 0, 128)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    image = load_image(path)
    assert image.size == (12, 10)
    assert image.luminance.min() == pytest.approx(1.0)


def test_gif_transparency(tmp_path):
    pixels = np.zeros((10, 10), dtype=np.uint8)
    pixels[:, 5:] = 1
    im = Image.fromarray(pixels, mode="P")
    im.putpalette([0, 0, 0, 255, 255, 255])
    path = tmp_path / "t.gif"
    im.save(path, transparency=0)
    image = load_image(path)
    assert image.alpha[:, :5].max() == 0.0 and image.alpha[:, 5:].min() == 1.0
    assert image.luminance[:, 5:].min() == 1.0


def test_16_bit_png(tmp_path):
    values = np.tile(np.linspace(0, 65535, 50), (20, 1)).round().astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    image = load_image(path)
    assert image.mode == "I;16" and image.size == (50, 20)
    np.testing.assert_allclose(image.luminance[0], np.linspace(0, 1, 50), atol=1e-5)


def blocks(values) -> np.ndarray:
    """A 2 x 2 pattern as 8 x 8 pixels (the smallest picture MOSS takes), each value a 4 x 4 block."""
    return np.kron(np.asarray(values), np.ones((4, 4), dtype=np.asarray(values).dtype))


def test_float_tiff_and_32_bit_int(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(blocks(np.array([[-2.0, 0.0], [2.0, np.nan]], dtype=np.float32)), mode="F").save(path)
    image = load_image(path)
    assert image.mode == "F"
    np.testing.assert_allclose(image.luminance, blocks([[0.0, 0.5], [1.0, 0.0]]))
    np.testing.assert_array_equal(image.alpha, blocks([[1, 1], [1, 0]]))  # NaN: no picture there
    path = tmp_path / "i.tif"
    Image.fromarray(blocks(np.array([[0, 1000], [70000, 140000]], dtype=np.int32)), mode="I").save(path)
    image = load_image(path)
    assert image.mode == "I"
    np.testing.assert_allclose(image.luminance, blocks([[0.0, 1000 / 140000], [0.5, 1.0]]), atol=1e-6)


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / "print.jpg"
    pixels = np.zeros((16, 16, 4), dtype=np.uint8)
    pixels[:, 8:, 3] = 255  # full black ink on the right half
    Image.fromarray(pixels, mode="CMYK").save(path, quality=95)
    image = load_image(path)
    assert image.mode == "CMYK"
    assert image.luminance[:, :6].min() > 0.95 and image.luminance[:, 10:].max() < 0.05


def test_the_smallest_picture_taken_is_8_by_8(tmp_path):
    path = tmp_path / "eight.png"
    Image.new("L", (8, 8), 255).save(path)
    assert load_image(path).size == (8, 8)


def test_gray_and_bilevel(tmp_path):
    path = tmp_path / "bits.png"
    Image.fromarray(np.eye(8, dtype=bool)).save(path)
    image = load_image(path)
    assert image.mode == "1"
    np.testing.assert_array_equal(image.luminance, np.eye(8))


def test_fit_stretch_keeps_shape_and_extremes(data_dir):
    horse = load_image(data_dir / "img_highcontrast_skimage_horse.png")
    for shape in [(64, 128), (700, 900)]:  # shrinking and enlarging
        luminance, alpha = fit_image(horse, shape)
        assert luminance.shape == alpha.shape == shape
        assert luminance.dtype == alpha.dtype == np.float32
        assert luminance.max() == 1.0 and luminance.min() == pytest.approx(0.0, abs=1e-3)
        assert luminance[0, 0] == pytest.approx(1.0, abs=1e-4)
        assert alpha.min() >= 0.0 and alpha.max() <= 1.0 and alpha.mean() > 0.99


def test_fit_same_size_is_identity(data_dir):
    icon = load_image(data_dir / "img_tiny_gimp_icon_16x16_rgba.png")
    luminance, alpha = fit_image(icon, (16, 16))
    np.testing.assert_array_equal(alpha, icon.alpha)
    opaque = icon.alpha > 0
    np.testing.assert_allclose(luminance[opaque], icon.luminance[opaque], atol=1e-6)


def test_fit_contain_tall_image_letterboxes(data_dir):
    tall = load_image(data_dir / "img_tall_kde_shell_720x1440.jpg")
    luminance, alpha = fit_image(tall, (128, 256), fit="contain", display_aspect=2.0)
    assert luminance.shape == alpha.shape == (128, 256)
    opaque_columns = np.nonzero(alpha.min(axis=0) > 0.99)[0]
    clear_columns = np.nonzero(alpha.max(axis=0) == 0.0)[0]
    # shown 2:1, a 1:2 picture fills a quarter of the width: 64 of 256 columns, centred
    assert len(opaque_columns) == 64
    left, right = opaque_columns[0], 255 - opaque_columns[-1]
    assert abs(left - right) <= 1
    assert len(clear_columns) == 256 - 64
    assert clear_columns[0] == 0 and clear_columns[-1] == 255
    assert luminance[:, clear_columns].max() == 0.0


def test_fit_contain_wide_image_letterboxes_rows(data_dir):
    logo = load_image(data_dir / "img_logo_debian_logo_text_version_256_palette_trns.png")  # 788:256, wider than 2:1
    _, alpha = fit_image(logo, (100, 200), fit="contain", display_aspect=2.0)
    used_rows = round(100 * 2.0 / (788 / 256))
    assert alpha[: (100 - used_rows) // 2 - 1].max() == 0.0 and alpha[-((100 - used_rows) // 2 - 1) :].max() == 0.0


def test_fit_does_not_bleed_transparent_colour():
    luminance = np.zeros((40, 40), dtype=np.float32)
    luminance[:, 20:] = 1.0  # white behind the transparent half
    alpha = np.zeros((40, 40), dtype=np.float32)
    alpha[:, :20] = 1.0
    image = LoadedImage(path=None, luminance=luminance, alpha=alpha, mode="LA")
    out, out_alpha = fit_image(image, (10, 10))
    assert out[out_alpha > 0.01].max() < 0.02


def test_fit_rejects_bad_arguments(data_dir):
    icon = load_image(data_dir / "img_tiny_gimp_icon_16x16_rgba.png")
    with pytest.raises(ValueError, match="fit"):
        fit_image(icon, (8, 8), fit="cover")
    with pytest.raises(ValueError, match="shape"):
        fit_image(icon, (0, 8))


def huge_png(path, width: int, height: int) -> None:
    """A tiny PNG whose header claims ``width`` x ``height``."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    path.write_bytes(bytes(data))


def truncated_png(data_dir, tmp_path):
    data = (data_dir / "img_portrait_skimage_astronaut.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    return path


def text_png(data_dir, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture\n" * 10)
    return path


def empty_png(data_dir, tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    return path


def bomb_png(data_dir, tmp_path):
    path = tmp_path / "huge.png"
    huge_png(path, 20000, 15000)
    return path


def tiny_png(width: int, height: int):
    def make(data_dir, tmp_path):
        path = tmp_path / f"picture_{width}x{height}.png"
        Image.new("L", (width, height), 200).save(path)
        return path

    return make


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda d, t: t / "missing.png", "file not found"),
        (empty_png, "empty file (0 bytes)"),
        (text_png, "not a picture MOSS can read (PNG, JPEG, GIF, BMP, TIFF, WebP...)"),
        (truncated_png, "the image is truncated or damaged"),
        (bomb_png, "the image is too large"),
        (lambda d, t: t, "is a folder, not a file"),
        (tiny_png(1, 1), "1 x 1 pixels is too small to show in a spectrogram: use a picture at least 8 x 8 pixels"),
        (tiny_png(640, 7), "640 x 7 pixels is too small to show in a spectrogram: use a picture at least 8 x 8 pixels"),
    ],
    ids=["missing", "empty", "text", "truncated", "too-large", "folder", "1x1", "a-strip"],
)
def test_bad_inputs(data_dir, tmp_path, make, message):
    path = make(data_dir, tmp_path)
    with pytest.raises(MossInputError) as exc:
        load_image(path)
    text = str(exc.value)
    assert message in text and path.name in text and "\n" not in text
    assert exc.value.path == path
