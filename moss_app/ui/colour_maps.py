"""The colour maps the spectrogram, mask and music views can use, and the one choice that all of them follow.

The choice is app-wide, as in Sonic Visualiser or Audacity's preferences: changing it in one place recolours every
view at once. Views call ``follow(owner, *items)``; the choice is made with ``choose(name)``.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

#: The maps offered, by name, with what the user reads. The first three are perceptually uniform (equal steps of
#: value look like equal steps of brightness) and stay readable in grey; "grey" is the plain black-to-white of
#: older viewers.
COLOUR_MAPS: dict[str, str] = {
    "inferno": "Inferno",
    "magma": "Magma",
    "viridis": "Viridis",
    "grey": "Grey",
}
#: The map of a first start: inferno, the spectrogram look of most viewers (black = silence, pale yellow = loud).
DEFAULT = "inferno"


def colormap(name: str) -> pg.ColorMap:
    """The pyqtgraph ``ColorMap`` called ``name`` (``ValueError`` for a name not in ``COLOUR_MAPS``)."""
    if name not in COLOUR_MAPS:
        raise ValueError(f"unknown colour map {name!r}; expected one of {', '.join(COLOUR_MAPS)}")
    if name == "grey":
        return pg.ColorMap(
            np.array([0.0, 1.0]), np.array([[0, 0, 0, 255], [255, 255, 255, 255]], dtype=np.ubyte), name="grey"
        )
    return pg.colormap.get(name)


def apply(name: str, *items) -> None:
    """Give ``name``'s colours to each of ``items``: ``ImageItem``s and ``ColorBarItem``s."""
    cmap = colormap(name)
    for item in items:
        item.setColorMap(cmap)


class _Choice(QObject):
    """The app-wide choice; ``changed(str)`` is emitted with the new name."""

    changed = Signal(str)

    def __init__(self):
        super().__init__()
        self.name = DEFAULT


_choice: _Choice | None = None


def _the_choice() -> _Choice:
    global _choice
    if _choice is None:  # made on first use, once a QApplication exists
        _choice = _Choice()
    return _choice


def current() -> str:
    """The colour map every view shows now."""
    return _the_choice().name


def choose(name: str) -> None:
    """Make ``name`` every view's colour map (``ValueError`` if unknown); the views that follow are recoloured."""
    colormap(name)  # the check
    choice = _the_choice()
    if name != choice.name:
        choice.name = name
        choice.changed.emit(name)


class _Follower(QObject):
    """A child of the view that follows: deleted with it, which ends the connection (Qt's own bookkeeping). It holds
    the items weakly, so that it keeps no view alive."""

    def __init__(self, owner: QObject, items):
        super().__init__(owner)
        self._items = [weakref.ref(item) for item in items]

    def changed(self, name: str) -> None:
        live = [item for item in (ref() for ref in self._items) if item is not None]
        with contextlib.suppress(RuntimeError):  # an item already gone on the C++ side (the application closing)
            apply(name, *live)


def follow(owner: QObject, *items) -> None:
    """Give ``items`` (``ImageItem``s, ``ColorBarItem``s) the chosen colour map now and whenever the choice changes,
    for as long as ``owner`` (the view holding them) lives."""
    choice = _the_choice()
    apply(choice.name, *items)
    choice.changed.connect(_Follower(owner, items).changed)
