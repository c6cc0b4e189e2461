"""Crash handling: a log file under the user log folder, one dialog per uncaught error, Qt messages into logging."""

from __future__ import annotations

import logging
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs
from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger("moss_app")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
_dialog_open = False


def log_path() -> Path:
    return Path(platformdirs.user_log_dir("moss", "MOSS")) / "moss-app.log"


def _qt_message(mode: QtMsgType, _context, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.WARNING), message)


def _excepthook(kind, value, tb) -> None:
    global _dialog_open
    log.critical("uncaught error\n%s", "".join(traceback.format_exception(kind, value, tb)))
    if QApplication.instance() is None or _dialog_open:
        return
    _dialog_open = True
    try:
        QMessageBox.critical(
            None,
            "MOSS: unexpected error",
            f"{kind.__name__}: {value}\n\nThe details are in {log_path()}. MOSS keeps running; save "
            "your work if something looks wrong.",
        )
    finally:
        _dialog_open = False


def install() -> Path:
    """Log to the user log folder, catch uncaught errors and route Qt's messages; returns the log file."""
    path = log_path()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"))
    except OSError:  # a read-only home must not stop the app
        pass
    logging.basicConfig(level=logging.INFO, handlers=handlers, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.excepthook = _excepthook
    qInstallMessageHandler(_qt_message)
    return path
