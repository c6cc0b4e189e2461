"""The README's figure: four points of a run as a spectrogram viewer shows them, with what a listener hears of them.

    moss --out /tmp/demo-run                                  # the bundled sample, the default CPU front
    python bench/demo_spectrograms.py /tmp/demo-run docs/demo_spectrograms.png

Each panel is the point's WAV (the mix of its channels) through a 1024-point Hann STFT, 80 dB under its loudest cell,
0 Hz to Nyquist; its title gives the point's number, alpha, MOS ("sounds like the song", Zimtohrli) and loudness
change against the song, from the run's manifest. The points shown: the music end, the first point a viewer shows
clearly (the lowest alpha at or above 0.45), the last one with a MOS of at least 2, and the image end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf


def pick(points: list[dict]) -> list[int]:
    alphas = [p["alpha"] for p in points]
    clear = next((i for i, a in enumerate(alphas) if a >= 0.45), len(points) // 2)
    audible = [i for i, p in enumerate(points) if (p.get("mos") or 0) >= 2.0 and i > clear]
    middle = audible[-1] if audible else min(len(points) - 2, clear + 1)
    return sorted({0, clear, middle, len(points) - 1})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    manifest = json.loads((args.run_dir / "manifest.json").read_text())
    points = manifest["points"]
    chosen = pick(points)
    fig = Figure(figsize=(4.0 * len(chosen), 3.2), dpi=100)
    for slot, i in enumerate(chosen):
        p = points[i]
        audio, rate = sf.read(args.run_dir / p["wav"], dtype="float64", always_2d=True)
        mix = audio.mean(axis=1)
        n_fft, hop = 1024, 256
        window = np.hanning(n_fft + 1)[:-1]
        frames = np.lib.stride_tricks.sliding_window_view(np.pad(mix, n_fft // 2), n_fft)[::hop] * window
        db = 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)).T + 1e-10)
        ax = fig.add_subplot(1, len(chosen), slot + 1)
        ax.imshow(
            np.clip(db, db.max() - 80, None),
            origin="lower",
            aspect="auto",
            cmap="gray",
            extent=(0, len(mix) / rate, 0, rate / 2),
        )
        mos = "-" if p.get("mos") is None else f"{p['mos']:.1f}"
        lu = "" if p.get("loudness_lu") is None else f", {p['loudness_lu']:+.1f} LU"
        ax.set_title(f"point {i}: alpha {p['alpha']:.2f}, MOS {mos}{lu}", fontsize=10)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(str(args.out))
    print(args.out, [points[i]["alpha"] for i in chosen])
    return 0


if __name__ == "__main__":
    sys.exit(main())
