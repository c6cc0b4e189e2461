"""A drop zone for the picture or the music: drag a file in (or Open...), see a preview or why it was refused."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from moss_engine.errors import MossInputError
from moss_engine.freq_axis import FreqAxis
from moss_engine.io.audio import FFMPEG_SUFFIXES, SOUNDFILE_SUFFIXES, load_audio, probe_audio
from moss_engine.io.image import load_image
from moss_engine.run.video import spectrogram_panel

from ..dialog_folders import remember, start_folder
from .steady_label import SteadyLabel

if TYPE_CHECKING:
    from ..settings_store import SettingsStore

KINDS = ("picture", "music")
#: Pictures the engine (Pillow) reads, common ones first; the Open dialog lists them all.
PICTURE_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".jpe",
    ".jfif",
    ".bmp",
    ".dib",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".apng",
    ".jp2",
    ".j2k",
    ".tga",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
    ".psd",
    ".ico",
    ".qoi",
    ".pcx",
    ".sgi",
)
#: Every suffix the engine decodes (libsndfile's, then the bundled ffmpeg's: WMA, WebM, M4A, AAC, video soundtracks).
MUSIC_SUFFIXES = tuple(sorted(SOUNDFILE_SUFFIXES)) + tuple(sorted(FFMPEG_SUFFIXES))
_FILTERS = {
    "picture": f"Pictures ({' '.join('*' + s for s in PICTURE_SUFFIXES)});;All files (*)",
    "music": f"Music and soundtracks ({' '.join('*' + s for s in MUSIC_SUFFIXES)});;All files (*)",
}
PREVIEW_SIZE = (240, 110)
#: The music's thumbnail shows this much of the song, decoded at this rate (enough to see its shape, fast).
THUMBNAIL_SECONDS = 30.0
THUMBNAIL_RATE = 8000


def _duration(seconds: float) -> str:
    """``2.5 s`` under ten seconds (a short clip shown as ``0:02`` hides a fifth of it), else ``m:ss``."""
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


class ElidedLabel(QLabel):
    """A one-line label that shortens its text in the middle (``long_na…mix.wav``) to the width it is given,
    instead of widening the column or cutting the end off; the whole text stays in ``full_text``."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(40, self.contentsRect().width())
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width))


def reason(exc: MossInputError, path: Path) -> str:
    """The engine's message without the file's path in front (the zone names the file itself): its ``problem`` when
    it is about ``path`` (or no file), else the whole message, which names the file it is about."""
    return exc.problem if exc.path is None or exc.path == Path(path) else str(exc)


def _spectrogram_thumbnail(path: Path) -> QPixmap:
    """A thumbnail of the start of the song's spectrogram (decoding it also proves the file is readable).

    Decoded at a low rate so it takes about a tenth of a second, short enough for the GUI thread.
    """
    clip = load_audio(path, sample_rate=THUMBNAIL_RATE, duration_s=THUMBNAIL_SECONDS)
    panel = spectrogram_panel(
        clip.samples, clip.sample_rate, 512, 256, 80.0, FreqAxis.viewer("linear", clip.sample_rate)
    )
    rgb = np.ascontiguousarray(pg.colormap.get("inferno").getLookupTable(nPts=256)[panel][:, :, :3])
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888)
    return QPixmap.fromImage(
        image.scaled(*PREVIEW_SIZE, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    )


class DropZone(QFrame):
    """Accepts one picture or music file by drag-and-drop or an Open... button and validates it with the engine.

    Args:
        kind: ``"picture"`` or ``"music"``.
        preview: a widget shown instead of the built-in thumbnail, with ``inspect(path) -> found`` (raises
            ``MossInputError``; a refused file changes nothing) and ``present(found)`` (the music's placement view;
            the picture's ``PicturePreview``, whose ``found`` is the ``LoadedImage``).

    Signals:
        file_changed(Path): a new, valid file was accepted. A refused file emits nothing and keeps the previous one;
            the zone shows why it was refused.
    """

    file_changed = Signal(object)

    def __init__(self, kind: str, preview: QWidget | None = None, parent=None):
        super().__init__(parent)
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r}: expected one of {KINDS}")
        self.kind = kind
        self._path: Path | None = None
        self._custom_preview = preview
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName(f"dropZone_{kind}")
        self.setToolTip(f"Drop a {kind} file here, or press Open...")

        self.title = QLabel(f"<b>{kind.capitalize()}</b>")
        self.open_button = QPushButton("Open...")
        self.open_button.setToolTip(f"Choose a {kind} file")
        self.open_button.clicked.connect(self.choose_file)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.open_button)

        self.preview = QLabel(f"Drop a {kind} here")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW_SIZE[1])
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.name_label = ElidedLabel("")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel("")
        # wraps rather than widening the zone past the column (a long summary was cut at the column's right edge)
        self.details.setWordWrap(True)
        self.details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # two lines at most, the rest cut and whole in the tooltip: a refusal never stretches the zone or its view
        self.error_label = SteadyLabel("")
        self.error_label.setStyleSheet("color: #d9534f;")
        self.error_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(4)
        layout.addLayout(header)
        if preview is None:
            layout.addWidget(self.preview)
        else:
            layout.addWidget(preview)
        layout.addWidget(self.name_label)
        layout.addWidget(self.details)
        layout.addWidget(self.error_label)

    @property
    def path(self) -> Path | None:
        """The accepted file, or None."""
        return self._path

    @property
    def error(self) -> str:
        """Why the last file was refused ("" when the last one was accepted or the refusal was dismissed)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def clear_refusal(self) -> None:
        """Dismiss the refusal message: it answers one action, and the next action (a file accepted, a click on the
        zone, any change to the inputs: ``InputsPanel``) makes it old news."""
        self.error_label.hide()
        self.error_label.setText("")

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.clear_refusal()
        super().mousePressEvent(event)

    def set_file(self, path: str | Path, notify: bool = True) -> bool:
        """Validate ``path`` with the engine; on success show it and emit ``file_changed`` (if ``notify``)."""
        path = Path(path)
        try:
            preview, details = self._inspect(path)
        except MossInputError as exc:
            self.error_label.setText(f"Refused {path.name}: {reason(exc, path)}")
            self.error_label.show()
            return False
        self._path = path
        self.clear_refusal()
        if self._custom_preview is not None:
            self._custom_preview.present(preview)
        elif isinstance(preview, QPixmap):
            self.preview.setPixmap(preview)
        else:
            self.preview.setText(preview)
        self.name_label.set_full_text(path.name)
        self.name_label.setToolTip(str(path))
        self.details.setText(details)
        if notify:
            self.file_changed.emit(path)
        return True

    def _inspect(self, path: Path) -> tuple[object, str]:
        """A preview (for the custom preview widget, if any) and a details line for ``path``, or ``MossInputError``."""
        if self.kind == "picture" and self._custom_preview is not None:  # the engine's view of it (picture_controls)
            image = self._custom_preview.inspect(path)
            extra = ", transparent parts" if image.has_transparency else ""
            return image, f"{image.size[0]} x {image.size[1]} px{extra}"
        if self.kind == "picture":
            image = load_image(path)
            pixmap = QPixmap(str(path))
            if pixmap.isNull():  # a format Pillow reads and Qt does not: show the luminance the engine will use
                lum = np.ascontiguousarray((image.luminance * 255).astype(np.uint8))
                qimage = QImage(lum.data, lum.shape[1], lum.shape[0], lum.strides[0], QImage.Format.Format_Grayscale8)
                pixmap = QPixmap.fromImage(qimage.copy())
            pixmap = pixmap.scaled(
                *PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            width, height = image.size
            extra = ", transparent parts" if image.has_transparency else ""
            return pixmap, f"{width} x {height} px{extra}"
        info = probe_audio(path)
        channels = {1: "mono", 2: "stereo"}.get(info.channels, f"{info.channels} channels")
        summary = f"{_duration(info.duration_s)}  ·  {info.sample_rate / 1000:g} kHz  ·  {channels}  ·  {info.format}"
        found = self._custom_preview.inspect(path) if self._custom_preview is not None else _spectrogram_thumbnail(path)
        return found, summary

    #: The settings that remember where Open... was last used (the window sets it); None: it starts beside the file.
    dialog_store: SettingsStore | None = None

    def choose_file(self) -> None:
        """Ask for a file with a dialog and take it (if one was chosen). The dialog starts in the folder last used
        for this kind of file (``moss_app.dialog_folders``: the user's Pictures or Music the first time)."""
        if self.dialog_store is not None:
            start = str(start_folder(self.dialog_store, self.kind))
        else:
            start = str(self._path.parent) if self._path is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, f"Open {self.kind}", start, _FILTERS[self.kind])
        if name and self.set_file(name) and self.dialog_store is not None:
            remember(self.dialog_store, self.kind, Path(name))

    @staticmethod
    def _single_local_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) != 1 or not urls[0].isLocalFile():
            return None
        return Path(urls[0].toLocalFile())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if self._single_local_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        path = self._single_local_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.set_file(path)
