"""Tools for developers, not part of the shipped app (the frozen build leaves them out): the window's latency, and
screenshots of the window and of the result views. Each runs as ``python -m moss_app.dev.<tool>``."""
