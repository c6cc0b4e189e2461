"""Playback: a fake sounddevice pulls frames through the callback; the playhead, A/B at matched loudness, no device."""

import sys
import types

import numpy as np
import pytest
from PySide6.QtCore import Qt

from moss_app.player import NO_DEVICE, find_output, listening_pair, rms


class FakeStream:
    """Records start/stop/close; the test calls ``pull`` as PortAudio would call the callback."""

    instances: list["FakeStream"] = []

    def __init__(self, samplerate, channels, dtype, callback):
        self.samplerate, self.channels, self.dtype, self.callback = samplerate, channels, dtype, callback
        self.calls: list[str] = []
        self.active = False
        FakeStream.instances.append(self)

    def start(self):
        self.calls.append("start")
        self.active = True

    def stop(self):
        self.calls.append("stop")
        self.active = False

    def close(self):
        self.calls.append("close")

    def pull(self, frames):
        out = np.full((frames, self.channels), np.nan, dtype=np.float32)
        self.callback(out, frames, None, None)
        return out


def fake_sounddevice(query=None):
    module = types.ModuleType("sounddevice")
    module.OutputStream = FakeStream
    module.query_devices = query or (lambda kind=None: {"name": "fake", "max_output_channels": 2})
    return module


@pytest.fixture
def fake_sd(monkeypatch):
    FakeStream.instances = []
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice())
    return FakeStream


def heard(result, index):
    """(point, original) as Play and A/B should play point ``index`` of ``result``."""
    return listening_pair(result.points[index].samples, result.reference)


def test_listening_pair_plays_both_at_their_true_level_and_never_clips():
    t = np.arange(22050) / 22050
    point = np.stack([0.05 * np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32)
    reference = np.stack([0.02 * np.sign(np.sin(2 * np.pi * 110 * t))] * 2).astype(np.float32)  # RMS = peak
    # moss-run/3: the point and the original both exactly as their files are (no makeup gain on either: a point
    # quieter than the song is heard quieter)
    played, original = listening_pair(point, reference)
    np.testing.assert_array_equal(played, point)
    np.testing.assert_array_equal(original, reference)
    assert rms(original) == pytest.approx(0.02, rel=1e-4) and rms(played) == pytest.approx(0.05 / np.sqrt(2), rel=1e-3)
    # a point peaking at 5.0 (as no written point does): one gain for both, the louder peak at -1 dBFS, their
    # levels against each other kept
    played, original = listening_pair(100 * point, reference)
    assert np.max(np.abs(played)) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert rms(played) / rms(original) == pytest.approx(rms(100 * point) / rms(reference), rel=1e-4)
    # a song with overs of its own (a lossy decode past full scale) is turned down with its point, the same gain
    played, original = listening_pair(point, 60 * reference)
    assert np.max(np.abs(original)) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert rms(played) / rms(original) == pytest.approx(rms(point) / rms(60 * reference), rel=1e-4)
    # silence stays silence
    played, original = listening_pair(np.zeros_like(point), reference)
    assert not np.any(played) and np.array_equal(original, reference)


@pytest.fixture
def played(fake_sd, window, tiny_result):  # fake_sd first: the window probes the fake
    window.show_result(tiny_result)
    return window


def test_play_pulls_the_selected_points_samples_and_moves_the_playhead(qtbot, played, tiny_result, fake_sd):
    window = played
    point = tiny_result.points[window.selected]
    audio, _ = heard(tiny_result, window.selected)
    np.testing.assert_array_equal(audio, point.samples)  # the point as its file is
    assert window.transport.play_button.isEnabled()
    qtbot.mouseClick(window.transport.play_button, Qt.MouseButton.LeftButton)
    assert window.player.state == "playing" and window.transport.play_button.text() == "Pause"
    assert len(fake_sd.instances) == 1
    stream = fake_sd.instances[0]
    assert (stream.samplerate, stream.channels, stream.calls) == (
        tiny_result.sample_rate,
        point.samples.shape[0],
        ["start"],
    )
    first = stream.pull(1000)
    second = stream.pull(500)
    np.testing.assert_array_equal(np.concatenate([first, second]), audio[:, :1500].T)
    qtbot.waitUntil(lambda: window.spectrogram_view.playhead.isVisible(), timeout=2000)
    assert window.spectrogram_view.playhead.value() == pytest.approx(1500 / tiny_result.sample_rate)
    # Space pauses (the stream stops, the position stays), Space again resumes on the same stream
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.player.state == "paused" and stream.calls == ["start", "stop"]
    assert window.player.position_s == pytest.approx(1500 / tiny_result.sample_rate)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.player.state == "playing" and stream.calls[-1] == "start" and len(fake_sd.instances) == 1
    # Stop resets to the start and hides the playhead
    qtbot.mouseClick(window.transport.stop_button, Qt.MouseButton.LeftButton)
    assert window.player.state == "stopped" and window.player.position_s == 0
    assert not window.spectrogram_view.playhead.isVisible()
    window.player.play()
    np.testing.assert_array_equal(stream.pull(10), audio[:, :10].T)


def test_playback_stops_at_the_end_with_silence_after_the_last_frame(qtbot, played, tiny_result, fake_sd):
    window = played
    window.player.play()
    stream = fake_sd.instances[0]
    n = tiny_result.points[window.selected].samples.shape[-1]
    tail = stream.pull(n + 100)[n:]
    assert np.all(tail == 0)
    qtbot.waitUntil(lambda: window.player.state == "stopped", timeout=2000)
    assert window.transport.play_button.text() == "Play" and stream.calls[-1] == "stop"


def test_ab_plays_the_original_as_it_is(qtbot, played, tiny_result, fake_sd):
    """moss-run/3: every point is at the song's loudness, so A/B plays the song's segment as it is, with no gain of
    its own (a point that were quieter would be heard quieter: what the file is)."""
    window = played
    window.player.play()
    stream = fake_sd.instances[0]
    stream.pull(2000)
    window.transport.ab_button.setChecked(True)
    assert "as it is" in window.transport.ab_button.toolTip()
    assert window.player.state == "playing"
    assert window.player.position_s == pytest.approx(2000 / tiny_result.sample_rate)
    audio, original = heard(tiny_result, window.selected)
    got = stream.pull(3000)
    np.testing.assert_allclose(got, original[:, 2000:5000].T, rtol=1e-5, atol=1e-7)
    whole = window.playback_audio()
    assert not np.allclose(whole, audio)  # it really is the original, not the point
    np.testing.assert_array_equal(whole, tiny_result.reference)  # as it is: no makeup gain
    window.transport.ab_button.setChecked(False)
    np.testing.assert_array_equal(stream.pull(100), audio[:, 5000:5100].T)


def test_no_output_device_disables_play_with_the_reason(qtbot, monkeypatch, store, sample):
    from moss_app.main_window import MainWindow

    def query(kind=None):
        raise ValueError("No output device available")

    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(query))
    sd, reason = find_output()
    assert sd is None and reason.startswith(NO_DEVICE)
    win = MainWindow(store, None, *sample)
    qtbot.addWidget(win)
    try:
        assert not win.player.available
        assert not win.transport.play_button.isEnabled() and not win.play_action.isEnabled()
        assert NO_DEVICE in win.transport.play_button.toolTip()
        win.player.toggle()  # Space with no device: nothing happens, nothing breaks
        assert win.player.state == "stopped"
    finally:
        win.shutdown()


def test_a_missing_portaudio_is_no_device(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    sd, reason = find_output()
    assert sd is None and reason.startswith(NO_DEVICE)


def play_to_the_end(qtbot, player, samples, rate, pull=None):
    """Play ``samples`` from the start and wait for the end; returns (states, positions) as the player signalled
    them. ``pull``: for a fake device, a callable that plays the frames as PortAudio's thread would."""
    states, positions, failed = [], [], []
    player.state_changed.connect(states.append)
    player.position_changed.connect(positions.append)
    player.unavailable.connect(failed.append)
    player.set_audio(samples, rate)
    player.play()
    assert player.state == "playing", f"play() did not start: {failed or player.unavailable_reason}"
    if pull is not None:
        pull()
    qtbot.waitUntil(lambda: player.state == "stopped", timeout=5000)
    assert not failed, failed
    return states, positions


def assert_played_through(states, positions, duration_s):
    """It started, moved on while playing (a playhead that advances) and stopped at the end, back at 0."""
    assert states[-2:] == ["playing", "stopped"], states
    moving = [p for p in positions[:-1] if p > 0]
    assert moving and moving == sorted(moving), positions  # the playhead advanced, never backwards
    assert duration_s / 2 < max(positions) <= duration_s  # it got past half way, and never past the end
    assert positions[-1] == 0.0


def test_a_fake_device_plays_to_the_end_and_the_playhead_moves(qtbot, fake_sd, tiny_result):
    from moss_app.player import Player

    player = Player()
    samples = tiny_result.points[0].samples[:, :4410]
    rate = tiny_result.sample_rate

    def pull():  # PortAudio's thread, in 10 blocks, with time for the position timer between them
        for _ in range(10):
            fake_sd.instances[-1].pull(441)
            qtbot.wait(40)

    states, positions = play_to_the_end(qtbot, player, samples, rate, pull)
    assert_played_through(states, positions, samples.shape[1] / rate)
    player.close()


def test_a_real_device_plays_when_there_is_one(qtbot, tiny_result):
    sd, reason = find_output()
    if sd is None:
        pytest.skip(f"this machine has no audio output: {reason}")
    from moss_app.player import Player

    player = Player()
    samples = tiny_result.points[0].samples[:, : tiny_result.sample_rate // 2]  # half a second
    states, positions = play_to_the_end(qtbot, player, samples, tiny_result.sample_rate)
    assert_played_through(states, positions, samples.shape[1] / tiny_result.sample_rate)
    player.close()


def test_space_plays_unless_a_control_that_takes_space_has_the_focus(qtbot, played, fake_sd):
    window = played
    window.activateWindow()
    # a button or a list with the focus takes Space as it always does (the A/B button toggles, nothing plays)
    window.transport.ab_button.setFocus()
    qtbot.waitUntil(window.transport.ab_button.hasFocus, timeout=2000)
    qtbot.keyClick(window.transport.ab_button, Qt.Key.Key_Space)
    assert window.transport.ab_button.isChecked() and window.player.state == "stopped"
    window.transport.ab_button.setChecked(False)
    window.preset_combo.setFocus()
    qtbot.keyClick(window.preset_combo, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.preset_combo.view().isVisible(), timeout=2000)
    assert window.player.state == "stopped"
    window.preset_combo.hidePopup()
    # elsewhere (the front plot), Space plays and pauses
    window.front_plot.setFocus()
    qtbot.keyClick(window.front_plot, Qt.Key.Key_Space)
    assert window.player.state == "playing"
    qtbot.keyClick(window.front_plot, Qt.Key.Key_Space)
    assert window.player.state == "paused"


def test_without_a_device_the_reason_is_shown_beside_the_buttons(qtbot, monkeypatch, store, sample, tiny_result):
    from moss_app.main_window import MainWindow

    def query(kind=None):
        raise ValueError("No output device available")

    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(query))
    win = MainWindow(store, None, *sample)
    qtbot.addWidget(win)
    try:
        win.show()
        win.show_result(tiny_result)
        note = win.transport.reason_label
        assert note.isVisible() and NO_DEVICE.split(" (")[0] in note.text()
        assert not win.play_action.isEnabled()
    finally:
        win.shutdown()
