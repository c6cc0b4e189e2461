"""Entry point of the MOSS desktop app (the window itself arrives with issue 4)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the app. Until the window lands, say so and point at the command line."""
    print("The MOSS desktop app is not built yet; use the command line: `moss` (see README.md).", file=sys.stderr)
    return 1
