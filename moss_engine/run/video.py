"""The morph video: the spectrogram of what is heard, revealed under a playhead, the front with the current point, and
the alpha, as H.264 + AAC through imageio-ffmpeg's ffmpeg."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from moss_engine.dsp.spectral import Stft, power
from moss_engine.freq_axis import FreqAxis
from moss_engine.io.ffmpeg import ffmpeg_path
from moss_engine.settings import RunSettings

FPS = 30
WIDTH, HEIGHT = 1280, 720
SPEC_HEIGHT = 430
PANEL_TOP = SPEC_HEIGHT + 10
UNREVEALED = 24  # grey level of the part of the spectrogram not heard yet
PLAYHEAD = (230, 40, 40)


def spectrogram_db(audio: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """(freq, frames) float32: the mix's spectrogram in dB (power, floored at -200 dB) as a viewer analyses it (Hann,
    centred frames: frame k at ``k * hop_length`` samples), bins from 0 Hz to Nyquist."""
    mix = torch.as_tensor(np.asarray(audio, dtype=np.float32)).reshape(-1, audio.shape[-1]).mean(dim=0)
    return (10 * torch.log10(power(Stft(n_fft, hop_length)(mix)).clamp(min=1e-20))).numpy()


def spectrogram_panel(
    audio: np.ndarray,
    sample_rate: int,
    n_fft: int,
    hop_length: int,
    db_range: float,
    axis: FreqAxis,
    top_db: float | None = None,
    db: np.ndarray | None = None,
) -> np.ndarray:
    """(SPEC_HEIGHT, WIDTH) uint8: the mix's spectrogram as a viewer shows it, low frequencies at the bottom.

    dB over ``[top - db_range, top]`` (``top``: the loudest cell unless given); the rows span ``axis`` (a viewer's:
    ``FreqAxis.viewer``, 0 Hz or ``LOG_BOTTOM_HZ`` to Nyquist), row r from the bottom showing the frequency at
    ``axis.to_hz((r + 0.5) / SPEC_HEIGHT)``; time is stretched to the panel's width. ``db``: the audio's
    ``spectrogram_db`` when already computed (``audio`` is then not analysed again).
    """
    db = spectrogram_db(audio, n_fft, hop_length) if db is None else np.asarray(db)
    top = float(db.max()) if top_db is None else top_db
    level = np.clip((db - (top - db_range)) / db_range, 0, 1)
    freqs = np.linspace(0, sample_rate / 2, level.shape[0])
    rows = (np.arange(SPEC_HEIGHT) + 0.5) / SPEC_HEIGHT  # 0 at the bottom
    wanted = axis.to_hz(rows)
    by_row = np.stack([np.interp(wanted, freqs, level[:, c]) for c in range(level.shape[1])], axis=1)
    cols = np.linspace(0, level.shape[1] - 1, WIDTH)
    image = np.stack([np.interp(cols, np.arange(level.shape[1]), r) for r in by_row])
    return (255 * image[::-1]).astype(np.uint8)


def _front_panel(visual: np.ndarray, audio: np.ndarray, path_v: np.ndarray, path_a: np.ndarray, size: tuple[int, int]):
    """The front plot as an RGB array, and a function from (audio, visual) to its pixel position."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w, h = size
    fig = Figure(figsize=(w / 100, h / 100), dpi=100, facecolor="black")
    ax = fig.add_axes((0.12, 0.2, 0.84, 0.72), facecolor="black")
    ax.plot(path_a, path_v, "-", color="#5fa8e8", lw=1.5)
    ax.plot(audio, visual, "o", color="#5fa8e8", ms=5)
    ax.set_xlabel("audio loss (dB)", color="white", fontsize=9)
    ax.set_ylabel("visual loss", color="white", fontsize=9)
    ax.tick_params(colors="white", labelsize=8)
    for spine in ax.spines.values():
        spine.set_color("0.6")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()

    def to_pixel(a: float, v: float) -> tuple[float, float]:
        x, y = ax.transData.transform((a, v))
        return float(x), float(h - y)

    return rgb, to_pixel


def write_morph_video(
    path: Path,
    audio_path: Path,
    audio: np.ndarray,
    sample_rate: int,
    frame_alpha: np.ndarray,
    states_visual: np.ndarray,
    states_audio: np.ndarray,
    front_visual: np.ndarray,
    front_audio: np.ndarray,
    settings: RunSettings,
) -> None:
    """Write ``path`` (MP4, H.264 + AAC, 30 fps) for the morph ``audio`` already written at ``audio_path``, its
    spectrogram as the viewer of the run's ``settings`` shows it (n_fft, hop, dB range, ``view_axis``).

    Frame k shows the time ``k / FPS``: the spectrogram of the morph audio up to that time (the rest dark), a red
    playhead, the front with a marker at the current point of the path, and the current alpha.
    """
    import imageio_ffmpeg

    duration = audio.shape[-1] / sample_rate
    n_frames = max(1, int(round(duration * FPS)))
    s = settings
    spec = spectrogram_panel(audio, sample_rate, s.n_fft, s.hop_length, s.db_range, s.view_axis())
    spec_rgb = np.repeat(spec[:, :, None], 3, axis=2)
    front_rgb, to_pixel = _front_panel(
        front_visual, front_audio, states_visual, states_audio, (WIDTH // 2, HEIGHT - PANEL_TOP)
    )
    font = _font(28)
    small = _font(18)
    position = np.linspace(0, len(states_visual) - 1, len(frame_alpha))

    writer = imageio_ffmpeg.write_frames(
        ffmpeg_path(path),
        (WIDTH, HEIGHT),
        fps=FPS,
        codec="libx264",
        audio_path=ffmpeg_path(audio_path),
        audio_codec="aac",
        macro_block_size=8,
        output_params=["-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for k in range(n_frames):
            t = k / FPS
            frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
            x = int(round(t / duration * WIDTH))
            frame[:SPEC_HEIGHT] = UNREVEALED
            frame[:SPEC_HEIGHT, :x] = spec_rgb[:, :x]
            frame[:SPEC_HEIGHT, max(0, x - 1) : x + 2] = PLAYHEAD  # 3 px: survives 4:2:0 chroma subsampling
            frame[PANEL_TOP:, : WIDTH // 2] = front_rgb
            index = min(len(frame_alpha) - 1, int(round(t / duration * (len(frame_alpha) - 1))))
            pos = position[index]
            v = float(np.interp(pos, np.arange(len(states_visual)), states_visual))
            a = float(np.interp(pos, np.arange(len(states_audio)), states_audio))
            image = Image.fromarray(frame)
            draw = ImageDraw.Draw(image)
            px, py = to_pixel(a, v)
            draw.ellipse((px - 7, PANEL_TOP + py - 7, px + 7, PANEL_TOP + py + 7), outline=PLAYHEAD, width=3)
            alpha = float(frame_alpha[index])
            left = WIDTH // 2 + 40
            draw.text((left, PANEL_TOP + 30), f"alpha {alpha:.2f}", fill="white", font=font)
            draw.text((left, PANEL_TOP + 75), f"{t:5.1f} s of {duration:.1f} s", fill=(200, 200, 200), font=small)
            bar_top = PANEL_TOP + 120
            draw.rectangle((left, bar_top, WIDTH - 40, bar_top + 18), outline=(150, 150, 150))
            draw.rectangle((left, bar_top, left + alpha * (WIDTH - 40 - left), bar_top + 18), fill=(95, 168, 232))
            draw.text((left, bar_top + 26), "music", fill=(200, 200, 200), font=small)
            draw.text((WIDTH - 40 - 60, bar_top + 26), "picture", fill=(200, 200, 200), font=small)
            writer.send(np.asarray(image).tobytes())
    finally:
        writer.close()


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()
