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
from moss_engine.io.codec import codec
from moss_engine.options import MIN_SEGMENT_S, OPTIONS, PRESETS, Option, PanelField
from moss_engine.settings import RunSettings, default_band_of

from .wheel_guard import WheelGuard, guard_wheel

#: The dataclass defaults of the fields no preset sets.
_BASE = {name: f.default for name, f in RunSettings.__dataclass_fields__.items()}
#: The settings this panel shows (``Option.advanced``), in the engine table's order: the order of the fields.
SHOWN = {name: option for name, option in OPTIONS.items() if option.advanced}
#: The Advanced fields of each engine setting (``MossInputError.field``): its own name, or a span's two ends.
_SETTING_FIELDS = {name: tuple(f.key or name for f in option.advanced) for name, option in SHOWN.items()}
#: The fields that are a span's ends (F0, F1), not settings of their own.
_ENDS = {key for keys in _SETTING_FIELDS.values() if len(keys) > 1 for key in keys}
#: The segment's two fields (``Option.scope`` "song"): its start and its length, where 0 is the whole song.
SEGMENT = tuple(name for name, option in SHOWN.items() if option.scope == "song")
#: The most a spin box holds (32-bit).
SPIN_MOST = 2**31 - 1


def narrow_combo(combo: QComboBox) -> None:
    """Let ``combo`` be narrower than its longest entry (shown cut, whole in its list): a long entry must not widen
    the inputs column past its edge, where it is clipped (the column scrolls up and down, never sideways)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)


def preset_values(preset: str) -> dict[str, Any]:
    """Every field this panel shows, as the preset ``preset`` (and RunSettings' defaults) would set it; the band's
    ends (F0, F1: None in RunSettings) as the default band of the preset's rate and scale (``default_band_of``)."""
    values = {name: PRESETS[preset].get(name, _BASE[name]) for name, option in SHOWN.items() if _single(option)}
    values["f0_hz"], values["f1_hz"] = default_band_of(values)
    return values


def _single(option: Option) -> bool:
    """Whether ``option`` is one field (a span, the band, is two: its ends)."""
    return len(option.advanced) == 1


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


def explain(
    error: MossInputError, rate_from: str | None = "", publish: str = "lossless"
) -> tuple[str, tuple[str, ...]]:
    """An engine settings error in the words of the Advanced fields, and the fields at fault.

    The engine's message speaks the command line's language ("--freq 9000:2000: expected 0 <= F0 < F1 (Hz)"); the
    window says "The band's bottom (F0) must be below its top (F1)" and marks both fields. What is wrong comes from
    the error's ``field``, ``reason`` and ``details``, never from its text. ``rate_from``: the preset whose rate the run
    uses ("Preview"), None when the Advanced sample rate overrides it ("" : "this quality"); ``publish``: the codec
    "Publish as" names (``options.PUBLISH``), for a band above its low-pass.
    """
    fields = _SETTING_FIELDS.get(error.field or "", ())
    reason, details = error.reason, error.details
    if error.field == "freq" and reason == "above_nyquist":
        return _too_high(details, rate_from if rate_from != "" else "this quality"), ("f1_hz",)
    if error.field == "freq" and reason == "above_codec":
        label = "the codec" if publish == "lossless" else codec(publish).label
        khz = float(details["cutoff_hz"]) / 1000
        return f"Band top above {label}'s {khz:g} kHz: lower it or publish lossless", ("f1_hz",)
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

        def tip(name: str, field: PanelField) -> str:  # the engine's words for the setting, as a sentence
            text = field.tip or OPTIONS[name].help.replace("%%", "%")
            return text[0].upper() + text[1:]

        for name, option in SHOWN.items():
            for field in option.advanced:
                widget = self._field_widget(option, field, devices)
                widget.setToolTip(tip(name, field))
                guard_wheel(widget, self._wheel_guard)
                key = field.key or name
                if isinstance(widget, QComboBox):
                    narrow_combo(widget)  # a long entry (a GPU's name) never widens the column
                    widget.currentIndexChanged.connect(lambda _i, k=key: self._edited(k))
                else:
                    widget.valueChanged.connect(lambda _v, k=key: self._edited(k))
                self.fields[key] = widget
                form.addRow(field.label, widget)
        self.reset_button = QPushButton("Reset to preset")
        self.reset_button.setToolTip("Forget every change made here")
        self.reset_button.clicked.connect(self.reset)
        form.addRow(self.reset_button)
        return body

    @staticmethod
    def _field_widget(option: Option, field: PanelField, devices: list[str]) -> QWidget:
        """The widget of one field: a list for a choice, for the values offered or for the devices (the one ``text``
        setting), else a spin box over the engine's range, capped where the field says or the box's own top."""
        if option.choices or field.offered or option.kind == "text":
            box = QComboBox()
            if option.choices:
                items = [(c, c) for c in option.choices]
            elif field.offered:
                items = [
                    (f"{v / 1000:g} kHz" if option.unit == "Hz" else f"{v:g} {option.unit}", v) for v in field.offered
                ]
            else:
                items = [("auto (best found)", "auto")] + [(d, d) for d in devices]
            for text, data in items:
                box.addItem(text, data)
            return box
        box = QSpinBox() if option.kind == "int" else QDoubleSpinBox()
        if option.kind != "int":
            box.setDecimals(field.decimals)
        tops = [t for t in (option.high, field.most, SPIN_MOST if option.kind == "int" else None) if t is not None]
        box.setRange(0 if field.special else (option.low or 0), min(tops))
        if option.unit:
            box.setSuffix(f" {option.unit}")
        if field.special:
            box.setSpecialValueText(field.special)
        return box

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
        the segment's length infinity for the whole song."""
        value = self._asked_values()[key]
        return float("inf") if key == SEGMENT[1] and value is None else value

    def _asked_values(self) -> dict[str, Any]:
        values = {**preset_values(self._preset), **self._overrides}
        if "f0_hz" not in self._overrides and "f1_hz" not in self._overrides:
            # the default band follows the rate and the scale, even when those two are overridden, and the song's rate
            values["f0_hz"], values["f1_hz"] = default_band_of(values, self.song_rate)
        return values

    def default_band(self, source_rate: int | None = None) -> tuple[float, float]:
        """The default band of the rate and the scale the fields show, under the Nyquist frequency of a song sampled
        at ``source_rate`` (``settings.default_band``)."""
        return default_band_of({key: self._value(key) for key in self.fields}, source_rate)

    def _fill(self) -> None:
        values = self._asked_values()
        start, length = SEGMENT
        duration = values[length]
        if self._song is not None and duration is not None and math.isfinite(duration):
            left = self._song[0] - float(values[start])
            if left >= MIN_SEGMENT_S:  # a start too near the end is refused (``InputsPanel.check``), not hidden
                values[length] = min(duration, left)
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
        if key == SEGMENT[1] and value == 0:
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
        """The value field ``key`` shows (the segment's length: infinity for the whole song)."""
        return self._value(key)

    def overrides(self) -> dict[str, Any]:
        """The fields the user changed, by field name (F0 and F1 as ``f0_hz``/``f1_hz``)."""
        return dict(self._overrides)

    def set_overrides(self, overrides: dict[str, Any]) -> None:
        """Restore earlier changes (unknown keys are dropped: they may come from another MOSS version)."""
        self._overrides = {k: v for k, v in overrides.items() if k in self.fields}
        self._fill()

    def settings_overrides(self) -> dict[str, Any]:
        """The changes as ``make_settings`` keywords: a span's ends (F0/F1) become the span (the band: both, since the
        engine takes a pair)."""
        out = {k: v for k, v in self._overrides.items() if k not in _ENDS}
        for name, keys in _SETTING_FIELDS.items():
            if len(keys) > 1 and any(key in self._overrides for key in keys):
                out[name] = tuple(float(self._value(key)) for key in keys)
        return out

    def reset(self) -> None:
        self._overrides = {}
        self._fill()
        self.overrides_changed.emit({})
