"""Who the app is to the desktop: its names, its icon and its desktop entry (``main`` and the self-test use it)."""

from __future__ import annotations

#: The desktop entry's name without ``.desktop`` (the .deb installs ``moss-app.desktop``): Wayland compositors match
#: the window to its entry, and so to its icon, by it.
DESKTOP_FILE_NAME = "moss-app"


def identify_app(app) -> None:
    """The app's names, its icon (every window's, the taskbar's) and its desktop entry."""
    from PySide6.QtGui import QIcon

    from moss_engine.resources import resources_folder

    app.setOrganizationName("MOSS")
    app.setApplicationName("MOSS")
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    icons = resources_folder() / "icons"
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        if (icons / f"moss-{size}.png").is_file():
            icon.addFile(str(icons / f"moss-{size}.png"))
    app.setWindowIcon(icon)
