"""MOSS engine: hide a picture in a piece of music and compute the whole trade-off (no Qt in here)."""

__version__ = "0.1.0"
