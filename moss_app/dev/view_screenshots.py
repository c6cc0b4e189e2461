"""Screenshots of the result views as a user explores them (issue 16.10): a short run on the bundled sample, the
spectrogram zoomed in, the cursor readout showing, the colour bars, in a light and a dark palette.

``python -m moss_app.dev.view_screenshots [FOLDER]`` writes ``result-views-light.png`` and ``result-views-dark.png``
(default folder: docs/); it runs offscreen unless a display platform is already chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: The window's size in the screenshots (the app's 1280x800 minus the inputs column).
SIZE = (980, 720)


def _dark_palette():
    """What a desktop's dark theme hands Qt: dark window and base, light text."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    roles = {
        "Window": "#202124",
        "Base": "#18191b",
        "AlternateBase": "#26272a",
        "Text": "#e8eaed",
        "WindowText": "#e8eaed",
        "Button": "#2b2c2f",
        "ButtonText": "#e8eaed",
        "Highlight": "#3d7fd6",
        "HighlightedText": "#ffffff",
        "ToolTipBase": "#2b2c2f",
        "ToolTipText": "#e8eaed",
    }
    for role, colour in roles.items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    return palette


def _explore(view, result) -> None:
    """Select the middle point, zoom the spectrogram (and with it the mask) into the picture's lower half and point
    at a cell in each (the views count the song's time: the placement's seconds from the segment's start)."""
    from PySide6.QtCore import QPointF

    view.show_result(result)
    p = result.placement
    spectrogram = view.spectrogram_view
    t0, t1 = (result.start_s + p.t0_s + f * (p.t1_s - p.t0_s) for f in (0.2, 0.7))
    y0, y1 = spectrogram._y(p.f0_hz), spectrogram._y(0.5 * (p.f0_hz + p.f1_hz))
    spectrogram.getViewBox().setRange(xRange=(t0, t1), yRange=(y0, y1), padding=0)
    vb = spectrogram.getViewBox()
    spectrogram.readout.at_scene(vb.mapViewToScene(QPointF(0.35 * t0 + 0.65 * t1, 0.5 * (y0 + y1))))
    mask = view.mask_view
    mvb = mask.getViewBox()
    (mx0, mx1), (my0, my1) = mvb.viewRange()
    mask.readout.at_scene(mvb.mapViewToScene(QPointF(0.3 * mx0 + 0.7 * mx1, 0.4 * my0 + 0.6 * my1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", default=Path("docs"))
    parser.add_argument("--steps", type=int, default=20, help="optimiser steps (default 20)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from moss_engine.resources import sample_paths
    from moss_engine.run.pipeline import compute_front
    from moss_engine.settings import make_settings

    from ..player import Player
    from ..ui.result_view import ResultView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    picture, music = sample_paths()
    settings = make_settings(
        picture,
        music,
        quality="preview",
        start_s=4.0,
        duration_s=6.0,
        steps=args.steps,
        points=6,
        device="cpu",
        phase_iterations=0,
    )
    result = compute_front(settings)
    args.folder.mkdir(parents=True, exist_ok=True)
    light = QApplication.palette()
    written = []
    for name, palette in (("light", light), ("dark", _dark_palette())):
        app.setPalette(palette)
        view = ResultView(Player())
        view.resize(*SIZE)
        view.show()
        app.processEvents()
        _explore(view, result)
        app.processEvents()
        out = args.folder / f"result-views-{name}.png"
        if not view.grab().save(str(out)):
            print(f"could not save {out}", file=sys.stderr)
            return 1
        written.append(out)
        view.close()
    app.setPalette(light)
    print("\n".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
