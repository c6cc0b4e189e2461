"""Keep the garbage collector's full collections short while the window is live.

A full collection walks every tracked object; with torch, Qt and pyqtgraph loaded that is a few hundred thousand
objects and 130-350 ms on a 2-core machine: a visible freeze of the live front when it lands mid-run. Everything
alive once the window is up (modules, classes, widgets) lives as long as the app, so it is moved out of the
collector's sight with ``gc.freeze()``; later collections only walk what the runs allocate.
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collect once, then freeze what survives (call once the window is up); returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
