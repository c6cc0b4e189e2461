"""MOSS desktop application (Qt). The engine it drives lives in moss_engine."""

from .immortal import make_singletons_immortal

make_singletons_immortal()  # before any Qt call: PySide6 6.12 on CPython 3.11 leaks references to None (see immortal)
