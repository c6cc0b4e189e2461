"""The app's persisted preferences: one QSettings wrapper with the defaults declared once and typed reads."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

#: Bump when a key changes meaning, and teach ``_migrate`` how to carry the old value over.
VERSION = 1

#: Every key the app stores, with its default (and so its type).
DEFAULTS: dict[str, object] = {
    "last_picture": "",
    "last_music": "",
    "preset": "",  # "" = by device: preview on a CPU, standard on a GPU
    "publish": "lossless",  # where the result will be published (moss_engine.options.PUBLISH: its user checks it)
    "window/geometry": QByteArray(),
    "advanced/overrides": "{}",  # JSON: the Advanced fields the user changed, by name
    "advanced/segment_song": "",  # the song the stored Advanced segment (start_s, duration_s) was set on
    "last_run_dir": "",
    "recent/picture": "[]",  # JSON: the last pictures opened, newest first
    "recent/music": "[]",  # JSON: the last songs opened, newest first
    "view/colour_map": "inferno",  # the colour map of the spectrogram, mask and music views (ui/colour_maps.py)
    "picture/options": "{}",  # JSON: the picture's controls the user changed (invert, gamma, fit)
    "autosave/cap_mb": 2048,  # the autosave history's disk cap (moss_app.autosave.DEFAULT_CAP_MB)
    "last_dir/picture": "",  # the folder each kind of file dialog was last used in ("run": last_run_dir)
    "last_dir/music": "",
    "last_dir/export": "",
    "export/format": "",  # the format last chosen in Export Point's dialog ("" = never: WAV, moss_app.export_names)
}

#: The key of the folder each kind of file dialog was last used in (``last_dir``).
_DIR_KEYS = {
    "picture": "last_dir/picture",
    "music": "last_dir/music",
    "run": "last_run_dir",
    "export": "last_dir/export",
}

#: File > Open Recent keeps this many pictures and this many songs.
MAX_RECENT = 8


class SettingsStore:
    """Typed access to the app's QSettings.

    Args:
        settings: the QSettings to use; tests pass a temporary one, the app the user's (organisation "MOSS").
    """

    def __init__(self, settings: QSettings | None = None):
        self._settings = settings if settings is not None else QSettings("MOSS", "MOSS")
        self._migrate()

    def _migrate(self) -> None:
        stored = self._settings.value("version", 0, type=int)
        if stored == VERSION:
            return
        if stored > VERSION:  # written by a newer MOSS: keep what we understand, touch nothing else
            return
        # version 0: nothing stored yet (or a pre-release file); every key of DEFAULTS keeps its meaning.
        self._settings.setValue("version", VERSION)

    @property
    def qsettings(self) -> QSettings:
        return self._settings

    def _get(self, key: str):
        default = DEFAULTS[key]
        return self._settings.value(key, default, type=type(default))

    def _path(self, key: str) -> Path | None:
        text = self._get(key)
        return Path(text) if text else None

    def _set_path(self, key: str, path: Path | None) -> None:
        self._settings.setValue(key, "" if path is None else str(path))

    @property
    def last_picture(self) -> Path | None:
        return self._path("last_picture")

    @last_picture.setter
    def last_picture(self, path: Path | None) -> None:
        self._set_path("last_picture", path)

    @property
    def last_music(self) -> Path | None:
        return self._path("last_music")

    @last_music.setter
    def last_music(self, path: Path | None) -> None:
        self._set_path("last_music", path)

    @property
    def preset(self) -> str:
        """The quality preset's name, or "" for "by device"."""
        return self._get("preset")

    @preset.setter
    def preset(self, name: str) -> None:
        self._settings.setValue("preset", name)

    @property
    def publish(self) -> str:
        """Where the result will be published, by the engine's name ("lossless", "mp3-128", ...)."""
        return self._get("publish")

    @publish.setter
    def publish(self, name: str) -> None:
        self._settings.setValue("publish", name)

    @property
    def geometry(self) -> QByteArray:
        return self._get("window/geometry")

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self._settings.setValue("window/geometry", data)

    @property
    def last_run_dir(self) -> Path | None:
        return self._path("last_run_dir")

    @last_run_dir.setter
    def last_run_dir(self, path: Path | None) -> None:
        self._set_path("last_run_dir", path)

    @property
    def advanced_overrides(self) -> dict:
        """The Advanced section's changed fields ({} when none, or when the stored text is damaged)."""
        try:
            value = json.loads(self._get("advanced/overrides"))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @advanced_overrides.setter
    def advanced_overrides(self, overrides: dict) -> None:
        self._settings.setValue("advanced/overrides", json.dumps(overrides))

    @property
    def segment_song(self) -> Path | None:
        """The song the stored Advanced segment belongs to (None: no segment stored, or stored by an older MOSS)."""
        return self._path("advanced/segment_song")

    @segment_song.setter
    def segment_song(self, path: Path | None) -> None:
        self._set_path("advanced/segment_song", path)

    @property
    def picture_options(self) -> dict:
        """The picture's controls the user changed (invert, gamma, fit), {} when none or the text is damaged."""
        try:
            value = json.loads(self._get("picture/options"))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @picture_options.setter
    def picture_options(self, options: dict) -> None:
        self._settings.setValue("picture/options", json.dumps(options))

    def recent(self, kind: str) -> list[Path]:
        """The last files of ``kind`` ("picture" or "music") opened, newest first ([] when the text is damaged)."""
        try:
            value = json.loads(self._get(f"recent/{kind}"))
        except ValueError:
            return []
        return [Path(v) for v in value if isinstance(v, str) and v][:MAX_RECENT] if isinstance(value, list) else []

    def add_recent(self, kind: str, path: Path) -> list[Path]:
        """Put ``path`` first in the recent files of ``kind`` (once, at most ``MAX_RECENT``); returns the new list."""
        path = Path(path)
        paths = [path] + [p for p in self.recent(kind) if p != path]
        self._settings.setValue(f"recent/{kind}", json.dumps([str(p) for p in paths[:MAX_RECENT]]))
        return paths[:MAX_RECENT]

    @property
    def autosave_cap_mb(self) -> int:
        """The disk the autosave history may take, in MB (at least 100)."""
        return max(100, self._get("autosave/cap_mb"))

    @autosave_cap_mb.setter
    def autosave_cap_mb(self, megabytes: int) -> None:
        self._settings.setValue("autosave/cap_mb", max(100, int(megabytes)))

    def last_dir(self, purpose: str) -> Path | None:
        """The folder the ``purpose`` ("picture", "music", "run", "export") file dialog was last used in, or None."""
        return self._path(_DIR_KEYS[purpose])

    def set_last_dir(self, purpose: str, folder: Path | None) -> None:
        self._settings.setValue(_DIR_KEYS[purpose], "" if folder is None else str(folder))

    @property
    def export_format(self) -> str:
        """The format last chosen for a point export ("wav", "flac", ...; "" before any; its user checks it)."""
        return self._get("export/format")

    @export_format.setter
    def export_format(self, fmt: str) -> None:
        self._settings.setValue("export/format", fmt)

    @property
    def colour_map(self) -> str:
        """The views' colour map by name (``moss_app.ui.colour_maps.COLOUR_MAPS``; its users check the name)."""
        return self._get("view/colour_map")

    @colour_map.setter
    def colour_map(self, name: str) -> None:
        self._settings.setValue("view/colour_map", name)

    def sync(self) -> None:
        """Write to disk now (QSettings also does so on its own, later)."""
        self._settings.sync()
