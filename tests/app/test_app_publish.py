"""Issue 24, items 2 and 3: "Publish as" beside the quality preset, the codec's low-pass on the music view, and a band
above it refused."""

import dataclasses
import json

import numpy as np
import pytest

from moss_app.run_inputs import advanced_state
from moss_app.ui.advanced_panel import explain
from moss_app.ui.inputs_panel import InputsPanel
from moss_engine.errors import MossInputError
from moss_engine.options import PUBLISH
from moss_engine.run.folder import write_run_folder
from moss_engine.settings import RunSettings

#: What a user reads in "Publish as", in the engine's order.
NAMES = ["Lossless (WAV, FLAC)", "MP3 128 kb/s", "AAC 128 kb/s", "Opus 96 kb/s"]


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def at_44k(window) -> None:
    """The run's rate to 44.1 kHz (Advanced), where MP3 128's low-pass is under the rate's limit."""
    choose(window.advanced.fields["sample_rate"], 44100)
    assert window.placement_view.limit_hz == 22050.0


def test_publish_as_names_the_engines_choices_as_users_do_and_reaches_the_run(qtbot, window):
    combo = window.inputs.publish_combo
    assert [combo.itemText(i) for i in range(combo.count())] == NAMES
    assert [combo.itemData(i) for i in range(combo.count())] == list(PUBLISH)
    tip = " ".join(combo.toolTip().split())
    assert "a spectrogram viewer still shows the picture after that codec" in tip
    assert "its points are chosen on what the real codec leaves" in tip
    assert window.inputs.publish == "lossless"  # the default: today's runs
    assert "publish" not in window.inputs.settings_overrides() and window.next_settings().publish == "lossless"
    for name in ("mp3-128", "aac-128", "opus-96"):
        choose(combo, name)
        assert window.inputs.settings_overrides()["publish"] == name
        assert window.next_settings().publish == name
    choose(combo, "lossless")
    assert window.next_settings().publish == "lossless"


def test_publish_as_is_remembered_by_the_next_panel(qtbot, store):
    first = InputsPanel(store)
    qtbot.addWidget(first)
    first.restore()
    choose(first.publish_combo, "aac-128")
    assert store.publish == "aac-128"
    second = InputsPanel(store)
    qtbot.addWidget(second)
    second.restore()
    assert second.publish == "aac-128" and second.publish_combo.currentText() == "AAC 128 kb/s"
    store.publish = "flac-9000"  # another MOSS's name, or a damaged file: lossless
    third = InputsPanel(store)
    qtbot.addWidget(third)
    third.restore()
    assert third.publish == "lossless"


def test_the_mp3_limit_is_drawn_at_its_low_pass_of_a_stereo_song_at_44k(qtbot, window):
    view = window.placement_view
    assert view.song_channels == 2 and view.song_rate == 44100  # the bundled sample
    at_44k(window)
    assert not view.codec_line.isVisible() and view.codec_limit_hz is None  # lossless: no line
    choose(window.inputs.publish_combo, "mp3-128")
    assert view.codec_limit_hz == 16550.0
    assert view.codec_line.isVisible() and view.codec_line.value() == pytest.approx(16.55)  # kHz
    assert view.codec_line.label.format == "MP3 128 kb/s: max 16.55 kHz"
    shade = view.codec_shade.rect()
    assert view.codec_shade.isVisible()
    assert (shade.top(), shade.bottom()) == pytest.approx((16.55, 22.05))  # from the line to the rate's limit
    # a rectangle drawn past it stops at it, as at the rate's limit
    with qtbot.waitSignal(view.placement_changed) as got:
        view._on_draw(2.0, 1.0, 8.0, 21.0, True)  # s, kHz
    assert got.args[0].f1_hz == 16550.0 and window.start_button.isEnabled()
    choose(window.inputs.publish_combo, "opus-96")
    assert view.codec_line.value() == pytest.approx(20.02)
    assert view.codec_line.label.format == "Opus 96 kb/s: max 20.02 kHz"
    choose(window.inputs.publish_combo, "lossless")
    assert not view.codec_line.isVisible() and not view.codec_shade.isVisible() and view.codec_limit_hz is None


def test_no_codec_line_where_the_rate_already_cuts_lower(qtbot, window):
    """On Preview (22.05 kHz) MP3 128 keeps all the run holds: its line would lie on the rate's own."""
    choose(window.inputs.publish_combo, "mp3-128")
    view = window.placement_view
    assert view.limit_hz == 11025.0 and view.codec_limit_hz == 11025.0
    assert view.limit_line.isVisible() and not view.codec_line.isVisible()


def test_a_mono_song_keeps_more_through_mp3(qtbot, window, tmp_path):
    """LAME keeps 20 kHz of a mono song at 128 kb/s (16.55 kHz of a stereo one): the line follows the song."""
    import soundfile

    mono = tmp_path / "mono.wav"
    soundfile.write(mono, np.random.default_rng(0).normal(0, 0.1, 44100 * 4).astype(np.float32), 44100)
    assert window.inputs.open_file("music", mono)
    at_44k(window)
    choose(window.inputs.publish_combo, "mp3-128")
    view = window.placement_view
    assert view.song_channels == 1 and view.codec_limit_hz == 20000.0
    assert view.codec_line.isVisible() and view.codec_line.value() == pytest.approx(20.0)


def test_a_band_above_the_codecs_low_pass_is_refused_and_start_waits(qtbot, window):
    at_44k(window)
    window.advanced.fields["f1_hz"].setValue(20000)
    assert window.start_button.isEnabled()  # lossless keeps 20 kHz
    choose(window.inputs.publish_combo, "mp3-128")
    said = "Band top above MP3 128 kb/s's 16.55 kHz: lower it or publish lossless"
    assert window.status_label.text() == f"Cannot start: {said}."
    assert not window.start_button.isEnabled() and not window.start_action.isEnabled()
    assert window.advanced.fields["f1_hz"].property("invalid") and window.advanced.body.isVisible()
    window.advanced.fields["f1_hz"].setValue(16550)  # at the limit: accepted
    assert window.start_button.isEnabled() and not window.advanced.fields["f1_hz"].property("invalid")
    window.advanced.fields["f1_hz"].setValue(17000)
    assert not window.start_button.isEnabled()
    choose(window.inputs.publish_combo, "lossless")  # the other remedy
    assert window.start_button.isEnabled() and not window.status_label.text().startswith("Cannot start")


def test_the_above_codec_refusal_in_words():
    error = MossInputError("--freq 0:18000: ...", field="freq", reason="above_codec", cutoff_hz=17240.0)
    assert explain(error, "Standard", "aac-128") == (
        "Band top above AAC 128 kb/s's 17.24 kHz: lower it or publish lossless",
        ("f1_hz",),
    )


def test_open_run_brings_back_publish_as_and_an_older_run_is_lossless(qtbot, window, tiny_result, tmp_path):
    made = dataclasses.replace(tiny_result, settings=dataclasses.replace(tiny_result.settings, publish="opus-96"))
    assert advanced_state(made.settings)[1]["publish"] == "opus-96"
    run = write_run_folder(made, tmp_path / "run")
    assert json.loads((run / "manifest.json").read_text())["settings"]["publish"] == "opus-96"
    assert window.open_run(run)
    assert window.inputs.publish == "opus-96" and window.store.publish == "opus-96"
    # a run made before "Publish as": its record has no "publish", so it was lossless
    record = tiny_result.settings.to_record()
    del record["publish"]
    older = RunSettings.from_record(record)
    assert older.publish == "lossless"
    window.inputs.show_settings(*advanced_state(older))
    assert window.inputs.publish == "lossless" and window.store.publish == "lossless"
