"""The "Advanced" section: the run's details behind the quality preset, each one overridable."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from moss_engine.errors import MossInputError
from moss_engine.settings import MIN_SEGMENT_S, OPTIONS, PRESETS, RunSettings, default_band

from .wheel_guard import WheelGuard, guard_wheel

SAMPLE_RATES = (16000, 22050, 32000, 44100, 48000)
#: The dataclass defaults of the fields no preset sets.
_BASE = {name: f.default for name, f in RunSettings.__dataclass_fields__.items()}


def narrow_combo(combo: QComboBox) -> None:
    """Let ``combo`` be narrower than its longest entry (shown cut, whole in its list): a long entry must not widen
    the inputs column past its edge, where it is clipped (the column scrolls up and down, never sideways)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)


def preset_values(preset: str) -> dict[str, Any]:
    """Every field this panel shows, as the preset ``preset`` (and RunSettings' defaults) would set it."""
    values = {k: _BASE[k] for k in ("start_s", "duration_s", "freq_scale", "db_range", "device", "seed")}
    values.update({k: v for k, v in PRESETS[preset].items() if k in ("points", "steps", "sample_rate")})
    values["device"] = "auto"
    values["f0_hz"], values["f1_hz"] = default_band(values["sample_rate"], values["freq_scale"])
    return values


#: The Advanced fields of each engine setting (``MossInputError.field``).
_SETTING_FIELDS = {
    "points": ("points",),
    "steps": ("steps",),
    "sample_rate": ("sample_rate",),
    "start_s": ("start_s",),
    "duration_s": ("duration_s",),
    "freq": ("f0_hz", "f1_hz"),
    "freq_scale": ("freq_scale",),
    "db_range": ("db_range",),
    "seed": ("seed",),
}


def _too_high(details: dict[str, Any], rate_from: str | None) -> str:
    """The band's top above the rate's limit, said short with its remedy (the status line shows about 90 characters:
    "...at this sample rate (half t..." hid the cure in the tooltip). ``rate_from`` names what sets the rate: a preset
    ("Preview"), or None when the Advanced sample rate does (then the remedy is a higher rate, not a preset)."""
    nyquist = float(details["nyquist_hz"])
    higher = details.get("higher_quality")
    if rate_from is None:
        return f"Band top above this rate's {nyquist / 1000:g} kHz: lower it or raise the rate"
    remedy = f"lower it or choose {str(higher).title()}" if higher else "lower it"
    return f"Band top above {rate_from}'s {nyquist / 1000:g} kHz: {remedy}"


def explain(error: MossInputError, rate_from: str | None = "") -> tuple[str, tuple[str, ...]]:
    """An engine settings error in the words of the Advanced fields, and the fields at fault.

    The engine's message speaks the command line's language ("--freq 9000:2000: expected 0 <= F0 < F1 (Hz)"); the
    window says "The band's bottom (F0) must be below its top (F1)" and marks both fields. What is wrong comes from
    the error's ``field``, ``reason`` and ``details``, never from its text. ``rate_from``: the preset whose rate the run
    uses ("Preview"), None when the Advanced sample rate overrides it ("" : "this quality").
    """
    fields = _SETTING_FIELDS.get(error.field or "", ())
    reason, details = error.reason, error.details
    if error.field == "freq" and reason == "above_nyquist":
        return _too_high(details, rate_from if rate_from != "" else "this quality"), ("f1_hz",)
    if error.field == "freq" and reason == "above_song":
        name = error.path.name if error.path is not None else "the song"
        return (f"Band top above the {float(details['nyquist_hz']) / 1000:g} kHz {name} holds: lower it", ("f1_hz",))
    if error.field == "freq" and reason == "order":
        return "the band's bottom (F0) must be below its top (F1)", fields
    if error.field == "freq" and reason == "log_needs_positive":
        return "a log frequency scale needs the band's bottom (F0) above 0 Hz", ("f0_hz",)
    if error.field == "duration_s" and reason == "too_short":
        return f"the segment must be at least {MIN_SEGMENT_S:g} s long (or 0 for the whole song)", fields
    return str(error), fields


class AdvancedPanel(QWidget):
    """A collapsible form; a field shows the preset's value until the user changes it, then overrides it.

    Args:
        devices: the device names offered after "auto" (``moss_engine.device.available_devices()``).

    Signals:
        overrides_changed(dict): the user changed a field or reset them: the new ``overrides()``.
    """

    overrides_changed = Signal(dict)

    def __init__(self, devices: list[str], parent=None):
        super().__init__(parent)
        self._preset = next(iter(PRESETS))
        self._overrides: dict[str, Any] = {}
        self._song: tuple[float, int | None] | None = None  # (length s, rate Hz) of the run's song: ``set_song``
        self._loading = False  # True while the code (not the user) fills the fields

        self.toggle = QToolButton()
        self.toggle.setText("Advanced")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolTip("The details behind the quality preset; a value you change overrides the preset's")
        self.toggle.toggled.connect(self.set_expanded)

        self.fields: dict[str, QWidget] = {}
        self.body = self._build_body(devices)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)
        self.body.hide()
        self._fill()

    def _build_body(self, devices: list[str]) -> QWidget:
        """The form under the toggle: one field per setting (into ``self.fields``), then Reset."""
        body = QWidget()
        form = QFormLayout(body)
        form.setContentsMargins(12, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: a label above its field, not cut
        self._wheel_guard = WheelGuard(self)

        def spin(key, label, lo, hi, tip, decimals=None, suffix="", special=None):
            box = QSpinBox() if decimals is None else QDoubleSpinBox()
            if decimals is not None:
                box.setDecimals(decimals)
            box.setRange(lo, hi)
            box.setSuffix(suffix)
            if special:
                box.setSpecialValueText(special)
            box.setToolTip(tip)
            guard_wheel(box, self._wheel_guard)
            box.valueChanged.connect(lambda _v, k=key: self._edited(k))
            self.fields[key] = box
            form.addRow(label, box)

        def combo(key, label, items, tip):
            box = QComboBox()
            for text, data in items:
                box.addItem(text, data)
            box.setToolTip(tip)
            narrow_combo(box)  # a long entry (a GPU's name) never widens the column
            guard_wheel(box, self._wheel_guard)
            box.currentIndexChanged.connect(lambda _i, k=key: self._edited(k))
            self.fields[key] = box
            form.addRow(label, box)

        def tip(name: str) -> str:  # the engine's words for the setting, as a sentence
            text = OPTIONS[name].help.replace("%%", "%")
            return text[0].upper() + text[1:]

        def bounds(name: str, high: float | None = None) -> tuple[float, float]:  # the engine's range, capped
            option = OPTIONS[name]
            top = option.high if option.high is not None else high
            return option.low or 0, min(top, high) if high is not None else top

        spin("points", "Points", *bounds("points"), tip("points"))
        spin("steps", "Steps", *bounds("steps"), tip("steps"))
        combo("sample_rate", "Sample rate", [(f"{r / 1000:g} kHz", r) for r in SAMPLE_RATES], tip("sample_rate"))
        spin("start_s", "Segment start", *bounds("start_s", 36000), tip("start_s"), 1, " s")
        spin("duration_s", "Segment length", 0, 36000, tip("duration_s"), 1, " s", special="whole song")
        nyquist = OPTIONS["sample_rate"].high / 2
        spin("f0_hz", "Band bottom (F0)", 0, nyquist, "The lowest frequency the picture covers", 0, " Hz")
        spin("f1_hz", "Band top (F1)", 0, nyquist, "The highest frequency the picture covers", 0, " Hz")
        combo("freq_scale", "Frequency scale", [(c, c) for c in OPTIONS["freq_scale"].choices], tip("freq_scale"))
        spin("db_range", "dB range", *bounds("db_range"), tip("db_range"), 0, " dB")
        combo(
            "device",
            "Device",
            [("auto (best found)", "auto")] + [(d, d) for d in devices],
            "Where the optimisation runs: a GPU is many times faster than the CPU",
        )
        spin("seed", "Seed", *bounds("seed", 2**31 - 1), tip("seed"))  # a spin box holds 32-bit integers
        self.reset_button = QPushButton("Reset to preset")
        self.reset_button.setToolTip("Forget every change made here")
        self.reset_button.clicked.connect(self.reset)
        form.addRow(self.reset_button)
        return body

    # --- showing ---------------------------------------------------------------------------------------------------

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)

    def set_preset(self, preset: str) -> None:
        """Show ``preset``'s values in every field the user has not changed."""
        self._preset = preset
        self._fill()

    def set_song(self, length_s: float | None, rate: int | None = None) -> None:
        """The song the run will use (None: none yet), ``length_s`` seconds long, sampled at ``rate`` Hz.

        The fields show what the run will do with it: "Segment length" never says more than the song has after the
        segment's start (a 1.4 s song showed "30.0 s"; the engine uses what the song has), and the default band stays
        under 95 % of the song's own Nyquist frequency (``default_band``; an 11.025 kHz song showed a band top of
        10474 Hz it does not hold). What the user typed is kept as typed (``asked``); only the field shows it bounded.
        """
        song = None if length_s is None else (float(length_s), None if rate is None else int(rate))
        if song != self._song:
            self._song = song
            self._fill()

    @property
    def song_rate(self) -> int | None:
        """The sample rate of the song given to ``set_song`` (None: no song, or its rate unknown)."""
        return None if self._song is None else self._song[1]

    def asked(self, key: str) -> Any:
        """The value of field ``key`` as the preset or the user set it, before the song bounds it (``set_song``):
        ``duration_s`` infinity for the whole song."""
        value = self._asked_values()[key]
        return float("inf") if key == "duration_s" and value is None else value

    def _asked_values(self) -> dict[str, Any]:
        values = {**preset_values(self._preset), **self._overrides}
        if "f0_hz" not in self._overrides and "f1_hz" not in self._overrides:
            # the default band follows the rate and the scale, even when those two are overridden, and the song's rate
            values["f0_hz"], values["f1_hz"] = default_band(values["sample_rate"], values["freq_scale"], self.song_rate)
        return values

    def _fill(self) -> None:
        values = self._asked_values()
        duration = values["duration_s"]
        if self._song is not None and duration is not None and math.isfinite(duration):
            left = self._song[0] - float(values["start_s"])
            if left >= MIN_SEGMENT_S:  # a start too near the end is refused (``InputsPanel.check``), not hidden
                values["duration_s"] = min(duration, left)
        self._loading = True
        try:
            for key, widget in self.fields.items():
                value = values[key]
                if isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(0, widget.findData(value)))
                else:
                    widget.setValue(0 if value is None or value == float("inf") else value)
                font = widget.font()
                font.setBold(key in self._overrides)  # changed fields stand out
                widget.setFont(font)
        finally:
            self._loading = False

    def _value(self, key: str) -> Any:
        widget = self.fields[key]
        if isinstance(widget, QComboBox):
            return widget.currentData()
        value = widget.value()
        if key == "duration_s" and value == 0:
            return float("inf")  # make_settings' "whole song"
        return value

    def _edited(self, key: str) -> None:
        if self._loading:
            return
        self._overrides[key] = self._value(key)
        self._fill()  # bold it, and move a default band along with a new rate or scale
        self.overrides_changed.emit(self.overrides())

    def mark_invalid(self, keys: tuple[str, ...]) -> None:
        """Outline the fields ``keys`` in red (the others plain); open the panel when one is marked."""
        for key, widget in self.fields.items():
            bad = key in keys
            if bool(widget.property("invalid")) != bad:
                widget.setProperty("invalid", bad)
                widget.setStyleSheet("border: 1px solid #d9534f;" if bad else "")
        if keys:
            self.set_expanded(True)

    # --- reading ---------------------------------------------------------------------------------------------------

    def value(self, key: str) -> Any:
        """The value field ``key`` shows (``duration_s``: infinity for the whole song)."""
        return self._value(key)

    def overrides(self) -> dict[str, Any]:
        """The fields the user changed, by field name (F0 and F1 as ``f0_hz``/``f1_hz``)."""
        return dict(self._overrides)

    def set_overrides(self, overrides: dict[str, Any]) -> None:
        """Restore earlier changes (unknown keys are dropped: they may come from another MOSS version)."""
        self._overrides = {k: v for k, v in overrides.items() if k in self.fields}
        self._fill()

    def settings_overrides(self) -> dict[str, Any]:
        """The changes as ``make_settings`` keywords: F0/F1 become ``freq`` (both, since the engine takes a pair)."""
        out = {k: v for k, v in self._overrides.items() if k not in ("f0_hz", "f1_hz")}
        if "f0_hz" in self._overrides or "f1_hz" in self._overrides:
            out["freq"] = (float(self._value("f0_hz")), float(self._value("f1_hz")))
        return out

    def reset(self) -> None:
        self._overrides = {}
        self._fill()
        self.overrides_changed.emit({})
