"""The picture's own controls (invert, gamma, fit, as ``moss front`` has them) and the picture zone's preview, drawn
with the engine's own transform so that what the zone shows is what the run hides.

Decisions, as a user would want them:
- The controls sit under the picture zone, not in Advanced: they change the picture, and their effect is seen at once.
- The preview is the picture as the run's target: fitted into a rectangle as wide as a spectrogram viewer shows the
  picture's grid (``DISPLAY_ASPECT``, twice as wide as tall), inverted and gamma-mapped by ``picture_levels``, in
  grey (the viewer's levels). Where the picture is transparent (around a contained picture) a checkerboard shows
  that the music stays as it is there.
- Only the values changed from the engine's defaults are overrides (and remembered), as in the Advanced section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel, QSizePolicy, QWidget

from moss_engine.dsp.target import DISPLAY_ASPECT, picture_levels
from moss_engine.io.image import LoadedImage, fit_image, load_image
from moss_engine.options import FITS, OPTIONS
from moss_engine.settings import RunSettings

from .advanced_panel import narrow_combo
from .wheel_guard import WheelGuard, guard_wheel

#: The engine's defaults of the picture's settings (a value equal to its default is no override).
DEFAULTS: dict[str, Any] = {
    name: RunSettings.__dataclass_fields__[name].default for name, option in OPTIONS.items() if option.picture_control
}
#: The fit choices in words, by the engine's name.
FIT_NAMES = {"stretch": "Stretch to the rectangle", "contain": "Keep its shape"}
#: The preview's height in pixels (its width is ``DISPLAY_ASPECT`` times that).
PREVIEW_ROWS = 110
#: The checkerboard behind transparent parts: square size (px) and its two greys (0..255).
CHECKER = (8, 96, 160)


def _tip(name: str) -> str:
    text = OPTIONS[name].help
    return text[0].upper() + text[1:]


def clean_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with every key known and every value allowed (others fall back to the default): a stored value
    may come from another MOSS version or a damaged file."""
    out = dict(DEFAULTS)
    if isinstance(options.get("invert"), bool):
        out["invert"] = options["invert"]
    gamma = options.get("gamma")
    if isinstance(gamma, int | float) and not isinstance(gamma, bool) and OPTIONS["gamma"].allows(float(gamma)):
        out["gamma"] = float(gamma)
    if options.get("fit") in FITS:
        out["fit"] = options["fit"]
    return out


def preview_levels(
    image: LoadedImage, options: dict[str, Any], rows: int = PREVIEW_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """The picture as the run's target sees it: ``(levels, alpha)``, each ``(rows, rows * DISPLAY_ASPECT)`` in [0, 1]
    (``fit_image`` then ``picture_levels``, the engine's own functions)."""
    options = clean_options(options)
    cols = int(round(rows * DISPLAY_ASPECT))
    luminance, alpha = fit_image(image, (rows, cols), fit=options["fit"], display_aspect=DISPLAY_ASPECT)
    return picture_levels(luminance, options["gamma"], options["invert"]).astype(np.float32), alpha


def preview_pixmap(levels: np.ndarray, alpha: np.ndarray) -> QPixmap:
    """Grey levels over a checkerboard where the picture is transparent."""
    rows, cols = levels.shape
    size, dark, light = CHECKER
    y, x = np.indices((rows, cols))
    checker = np.where(((y // size) + (x // size)) % 2 == 0, dark, light).astype(np.float32)
    grey = levels * 255.0 * alpha + checker * (1.0 - alpha)
    data = np.ascontiguousarray(np.clip(np.round(grey), 0, 255).astype(np.uint8))
    image = QImage(data.data, cols, rows, data.strides[0], QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())


class PicturePreview(QLabel):
    """The picture zone's preview (``DropZone``'s custom preview): the picture through ``preview_levels``.

    ``levels`` holds the levels last drawn (None before a picture), for the tests and tools. In a column narrower
    than the preview it is drawn smaller, never cut and never widening the column.
    """

    def __init__(self, parent=None):
        super().__init__("Drop a picture here", parent)
        self._image: LoadedImage | None = None
        self._options = dict(DEFAULTS)
        self.levels: np.ndarray | None = None
        self._full: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedHeight(PREVIEW_ROWS + 2)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def inspect(self, path: Path) -> LoadedImage:
        """The drop zone's check of a new picture (``MossInputError`` if the engine cannot read it)."""
        return load_image(path)

    def present(self, image: LoadedImage) -> None:
        """Show the picture ``inspect`` accepted."""
        self._image = image
        self._draw()

    def set_options(self, options: dict[str, Any]) -> None:
        """Draw the picture again with other invert, gamma and fit."""
        self._options = clean_options(options)
        self._draw()

    def _draw(self) -> None:
        if self._image is None:
            return
        self.levels, alpha = preview_levels(self._image, self._options)
        self._full = preview_pixmap(self.levels, alpha)
        self._fit_pixmap()

    def _fit_pixmap(self) -> None:
        if self._full is None:
            return
        width = self.contentsRect().width()
        if width >= self._full.width() or width < 2:  # not laid out yet: full size
            self.setPixmap(self._full)
        else:
            self.setPixmap(self._full.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_pixmap()


class PictureControls(QWidget):
    """Invert, gamma and fit of the picture.

    Signals:
        options_changed(dict): the user changed one: every option's value now (``options()``).
    """

    options_changed = Signal(dict)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._loading = False
        self._wheel_guard = WheelGuard(self)
        self.invert = QCheckBox("Invert")
        self.invert.setToolTip(_tip("invert"))
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(OPTIONS["gamma"].low, OPTIONS["gamma"].high)
        self.gamma.setDecimals(2)
        self.gamma.setSingleStep(0.1)
        self.gamma.setToolTip(f"{_tip('gamma')}: above 1 darkens the middle greys, below 1 lightens them")
        self.fit = QComboBox()
        for name in FITS:
            self.fit.addItem(FIT_NAMES.get(name, name), name)
        self.fit.setToolTip(_tip("fit"))
        narrow_combo(self.fit)
        for box in (self.gamma, self.fit):
            guard_wheel(box, self._wheel_guard)
        self.invert.toggled.connect(self._edited)
        self.gamma.valueChanged.connect(self._edited)
        self.fit.currentIndexChanged.connect(self._edited)

        grid = QGridLayout(self)
        grid.setContentsMargins(8, 0, 0, 0)
        grid.addWidget(QLabel("Gamma"), 0, 0)
        grid.addWidget(self.gamma, 0, 1)
        grid.addWidget(self.invert, 0, 2)
        grid.addWidget(QLabel("Fit"), 1, 0)
        grid.addWidget(self.fit, 1, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        self.set_options({})

    def options(self) -> dict[str, Any]:
        """Every option's value shown: ``{"invert": bool, "gamma": float, "fit": "stretch" | "contain"}``."""
        return {
            "invert": self.invert.isChecked(),
            "gamma": round(float(self.gamma.value()), 2),
            "fit": self.fit.currentData(),
        }

    def set_options(self, options: dict[str, Any]) -> None:
        """Show ``options`` (missing or unusable values: the defaults); emits nothing."""
        values = clean_options(options)
        self._loading = True
        try:
            self.invert.setChecked(values["invert"])
            self.gamma.setValue(values["gamma"])
            self.fit.setCurrentIndex(max(0, self.fit.findData(values["fit"])))
        finally:
            self._loading = False
        self._bold_changed()

    def changed(self) -> dict[str, Any]:
        """The options that differ from the engine's defaults (what is remembered)."""
        return {k: v for k, v in self.options().items() if v != DEFAULTS[k]}

    def settings_overrides(self) -> dict[str, Any]:
        """The changes as ``make_settings`` keywords (the names are the same)."""
        return self.changed()

    def _bold_changed(self) -> None:
        changed = self.changed()
        for key, widget in (("invert", self.invert), ("gamma", self.gamma), ("fit", self.fit)):
            font = widget.font()
            font.setBold(key in changed)  # a changed value stands out, as in Advanced
            widget.setFont(font)

    def _edited(self, *_args) -> None:
        if self._loading:
            return
        self._bold_changed()
        self.options_changed.emit(self.options())
