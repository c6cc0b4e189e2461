"""Audio playback of a front point (or the original music) through one sounddevice stream, with a position clock."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

log = logging.getLogger(__name__)

NO_DEVICE = "No audio output device found"
#: How often the GUI learns the position: ~30 Hz moves a playhead smoothly and costs nothing.
TICK_MS = 33


def find_output() -> tuple[Any | None, str]:
    """(the sounddevice module, "") when a default output device exists, else (None, why not).

    sounddevice is imported here, not at the top: without PortAudio its import raises, and the app must still start.
    """
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        return None, f"{NO_DEVICE} (sounddevice could not load PortAudio: {exc})"
    try:
        info = sd.query_devices(kind="output")
    except Exception as exc:  # PortAudioError or ValueError when there is no default output device
        return None, f"{NO_DEVICE} ({exc})"
    if not info or int(dict(info).get("max_output_channels", 1)) < 1:
        return None, NO_DEVICE
    return sd, ""


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


#: Where a pair would clip the output, its louder peak is brought here (dBFS).
PLAYBACK_PEAK_DBFS = -1.0


def listening_pair(point: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What Play plays for a point, and what A/B plays against it: (point, original), both (channels, samples).

    Both exactly as their files are (DESIGN.md "Output level (moss-run/3)": every point is at the song's loudness, so
    A/B compares the sound, not the volume, and a point that is not is heard as it is: no makeup gain). Only where
    either would clip the output (a lossy decode's overs, an older run's loud point) does one gain for both bring the
    louder peak to ``PLAYBACK_PEAK_DBFS``, so that their levels against each other stay as they are.
    """
    top = max(float(np.max(np.abs(point), initial=0.0)), float(np.max(np.abs(reference), initial=0.0)))
    if top <= 1.0:
        return point, reference
    gain = np.float32(10 ** (PLAYBACK_PEAK_DBFS / 20) / top)
    return point * gain, reference * gain


class Player(QObject):
    """Plays one buffer at a time; the stream's callback only copies frames and advances a counter.

    The stream is kept open between plays (one per rate and channel count); a ``QTimer`` on the GUI thread reads the
    counter, reports the position and stops at the end, so nothing in the audio callback touches Qt.

    Signals:
        state_changed(str): "playing", "paused" or "stopped".
        position_changed(float): the play position in seconds (about 30 times a second while playing, and on stop).
        unavailable(str): playback became impossible (the stream failed to open or start); the reason.
    """

    state_changed = Signal(str)
    position_changed = Signal(float)
    unavailable = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._sd, self.unavailable_reason = find_output()
        self._stream = None
        self._stream_format: tuple[int, int] | None = None
        self._data = np.zeros((0, 1), dtype=np.float32)  # (frames, channels): what the callback copies from
        self._rate = 1
        self._pos = 0  # frames played; written by the callback, read by the GUI thread (an int: atomic in CPython)
        self.state = "stopped"
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def available(self) -> bool:
        return self._sd is not None

    @property
    def has_audio(self) -> bool:
        return len(self._data) > 0

    @property
    def position_s(self) -> float:
        return self._pos / self._rate

    @property
    def duration_s(self) -> float:
        return len(self._data) / self._rate

    def set_audio(self, samples: np.ndarray | None, sample_rate: int, keep_position: bool = False) -> None:
        """Play ``samples`` (channels, n) from now on; ``keep_position`` continues at the same time (A/B, reselect)."""
        was_playing = self.state == "playing"
        self._halt()
        pos = self._pos if keep_position else 0
        if samples is None:
            self._data = np.zeros((0, 1), dtype=np.float32)
        else:
            self._data = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).T)
        self._rate = int(sample_rate)
        self._pos = min(pos, len(self._data))
        if was_playing and self.has_audio:
            self.play()
        elif not keep_position or not self.has_audio:
            self.stop()

    def _callback(self, outdata, frames, _time, _status) -> None:
        # Runs on PortAudio's thread: copy and count, nothing else (no Qt, no allocation beyond the slice view).
        pos = self._pos
        chunk = self._data[pos : pos + frames]
        n = len(chunk)
        outdata[:n] = chunk
        outdata[n:] = 0
        self._pos = pos + n

    def _ensure_stream(self) -> bool:
        fmt = (self._rate, self._data.shape[1])
        if self._stream is not None and self._stream_format == fmt:
            return True
        self._close_stream()
        try:
            self._stream = self._sd.OutputStream(
                samplerate=fmt[0], channels=fmt[1], dtype="float32", callback=self._callback
            )
        except Exception as exc:  # a device that vanished or refuses the format: say so, never crash
            self._fail(exc)
            return False
        self._stream_format = fmt
        return True

    def _fail(self, exc: Exception) -> None:
        log.warning("audio output failed: %s", exc)
        self._stream = None
        self._sd = None
        self.unavailable_reason = f"{NO_DEVICE} (the output stream failed: {exc})"
        self.unavailable.emit(self.unavailable_reason)
        self._set_state("stopped")

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    @Slot()
    def play(self) -> None:
        if not self.available or not self.has_audio or self.state == "playing":
            return
        if self._pos >= len(self._data):
            self._pos = 0
        if not self._ensure_stream():
            return
        try:
            self._stream.start()
        except Exception as exc:
            self._fail(exc)
            return
        self._timer.start()
        self._set_state("playing")

    @Slot()
    def pause(self) -> None:
        if self.state == "playing":
            self._halt()
            self._set_state("paused")
            self.position_changed.emit(self.position_s)

    @Slot()
    def toggle(self) -> None:
        self.pause() if self.state == "playing" else self.play()

    @Slot()
    def stop(self) -> None:
        self._halt()
        self._pos = 0
        self._set_state("stopped")
        self.position_changed.emit(0.0)

    def _halt(self) -> None:
        self._timer.stop()
        if self._stream is not None:
            try:
                self._stream.stop()  # waits for the callback to return, so the buffer can be swapped after this
            except Exception as exc:
                log.warning("could not stop the audio stream: %s", exc)

    @Slot()
    def _tick(self) -> None:
        if self._pos >= len(self._data):
            self.stop()
        else:
            self.position_changed.emit(self.position_s)

    def _close_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception as exc:
                log.warning("could not close the audio stream: %s", exc)
        self._stream, self._stream_format = None, None

    def close(self) -> None:
        """Stop and release the device (the window calls it on close)."""
        self._halt()
        self._close_stream()
        self._set_state("stopped")
