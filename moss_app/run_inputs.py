"""A reopened run's own inputs: its picture and song found (and checked against its manifest), and its settings as
the quality preset and the Advanced section's changes, so that Open Run puts back what the run was made of."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moss_engine.errors import MossInputError
from moss_engine.options import OPTIONS, PRESETS
from moss_engine.run.folder import find_input, read_manifest
from moss_engine.settings import RunSettings, default_band

from .ui.advanced_panel import SEGMENT, preset_values

#: The settings Open Run brings back into the window: those of the Advanced section and the picture's controls that
#: belong to the run, not to its song (its segment, brought back with the song) nor to its machine (the device); one
#: field each (the band, two, comes back as its ends).
_BROUGHT_BACK = tuple(
    name for name, o in OPTIONS.items() if (len(o.advanced) == 1 or o.picture_control) and o.scope == "run"
)

#: The engine's name of each input and the zone it goes to, and how a user calls it.
_KINDS = (("image", "picture", "picture"), ("audio", "music", "song"))


@dataclass
class RunInputs:
    """What Open Run can bring back of a run folder's inputs.

    Args:
        files: the zone ("picture", "music") -> the run's own file, found and unchanged since the run.
        problems: the zone -> why its file cannot come back, in one line naming the file ("moved" or "changed").
    """

    files: dict[str, Path] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def find_run_inputs(run_dir: Path) -> RunInputs:
    """The run's picture and song where ``find_input`` finds them (the recorded path, else in the run folder or
    beside it), each checked against the manifest's SHA-256; a missing or changed one is a problem, not an error."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    found = RunInputs()
    for kind, zone, word in _KINDS:
        try:
            found.files[zone] = find_input(run_dir, manifest, kind, purpose="reopening the run with its inputs")
        except MossInputError as exc:
            recorded = Path(str(manifest["settings"].get(kind) or manifest["input"].get(kind) or "?"))
            candidates = (recorded, run_dir / recorded.name, run_dir.parent / recorded.name)
            if exc.path is not None and any(p.is_file() for p in candidates):
                found.problems[zone] = f"the run's {word} {recorded.name} has changed since the run ({exc.path})"
            else:
                found.problems[zone] = f"the run's {word} {recorded.name} was not found (it was at {recorded})"
    return found


def advanced_state(settings: RunSettings, with_segment: bool = True) -> tuple[str, dict[str, Any]]:
    """The run's settings as the Advanced section shows them: its quality preset and the fields that differ from it,
    and its picture controls (invert, gamma, fit) and where it was to be published (``publish``: "Publish as", beside
    the preset; lossless for a run made before it was asked) always, defaults too: a control the user changed since
    must come back to the run's own value, not stay as it was.

    The device is not brought back: the run may have been made on another machine, and the device the user chose
    here stays. Without ``with_segment`` (the run's song did not come back) the segment is left out: a segment of
    one song means nothing in another.
    """
    quality = settings.quality if settings.quality in PRESETS else next(iter(PRESETS))
    preset = preset_values(quality)
    values: dict[str, Any] = {name: getattr(settings, name) for name in _BROUGHT_BACK}
    values["publish"] = settings.publish
    if with_segment:
        for name in SEGMENT:  # a length of None: the whole song, infinity in the Advanced section
            value = getattr(settings, name)
            values[name] = math.inf if value is None and OPTIONS[name].kind == "seconds_or_all" else value
    if settings.freq is not None and tuple(settings.freq) != default_band(settings.sample_rate, settings.freq_scale):
        values["f0_hz"], values["f1_hz"] = settings.freq
    return quality, {k: v for k, v in values.items() if k not in preset or v != preset[k]}
