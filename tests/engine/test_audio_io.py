"""Audio input: every real test file, every format soundfile writes, the ffmpeg path, and every bad input."""

import errno
import os
import signal
import subprocess
import sys
import time

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf

from moss_engine.errors import MossInputError
from moss_engine.io.audio import AudioClip, load_audio, probe_audio, sha256_file, write_wav

# (file, sample rate, channels, decoded duration in seconds) from tests/data/NOTICE.md
REAL_AUDIO = [
    ("music_orchestral_wesnoth_transience.ogg", 44100, 2, 48.000),
    ("music_rock_sectoid_metal_madness_30s.ogg", 44100, 2, 30.000),
    ("music_electronic_scratch_techno2.mp3", 44100, 1, 654336 / 44100),  # the decode, not the header (14.907 s)
    ("music_ambient_sonicpi_ambi_glass_hum.flac", 44100, 2, 10.000),
    ("speech_apollo11_a11wlk01.wav", 44100, 1, 188893 / 44100),
    ("awkward_mono22k_u8_freedroid_thouartdefeated.wav", 22050, 1, 2.500),
    ("awkward_48k_stereo_etr_calmrace_30s.ogg", 48000, 2, 30.000),
    ("awkward_short_alsa_front_center.wav", 48000, 1, 68545 / 48000),
    ("awkward_24bit_csound_oboe.aiff", 44100, 1, 344606 / 44100),
]


def sine(rate: int, seconds: float = 1.0, freq: float = 1000.0, channels: int = 1) -> np.ndarray:
    """``(channels, frames)`` float32 sine at half scale."""
    t = np.arange(round(rate * seconds)) / rate
    return np.tile(0.5 * np.sin(2 * np.pi * freq * t), (channels, 1)).astype(np.float32)


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 0) -> float:
    """Highest normalised correlation of two 1-D signals over lags up to ``max_lag`` (codec delays)."""
    n = min(len(a), len(b)) - max_lag
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, lag) : max(0, lag) + n]
        y = b[max(0, -lag) : max(0, -lag) + n]
        best = max(best, float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y))))
    return best


def assert_one_line_naming(exc: pytest.ExceptionInfo, name: str) -> None:
    text = str(exc.value)
    assert name in text
    assert "\n" not in text


@pytest.mark.parametrize("name,rate,channels,duration", REAL_AUDIO, ids=[r[0] for r in REAL_AUDIO])
def test_real_files_load_at_their_own_rate(data_dir, name, rate, channels, duration):
    clip = load_audio(data_dir / name, sample_rate=None, min_duration_s=0.0)
    assert isinstance(clip, AudioClip)
    assert clip.sample_rate == clip.source_rate == rate
    assert clip.channels == clip.source_channels == channels
    assert clip.samples.dtype == np.float32 and clip.samples.shape[0] == channels
    assert clip.duration_s == pytest.approx(duration, abs=0.01)
    assert clip.start_s == 0.0 and clip.notices == ()
    assert np.isfinite(clip.samples).all()
    assert 0.01 < np.abs(clip.samples).max() < 1.1


@pytest.mark.parametrize("name,rate,channels,duration", REAL_AUDIO, ids=[r[0] for r in REAL_AUDIO])
def test_probe_reads_the_header(data_dir, name, rate, channels, duration):
    info = probe_audio(data_dir / name)
    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.duration_s == pytest.approx(duration, abs=0.1)  # the MP3 header is 0.07 s long
    assert info.frames == pytest.approx(duration * rate, abs=0.1 * rate)


def test_mp3_reads_every_decoded_frame(data_dir):
    clip = load_audio(data_dir / "music_electronic_scratch_techno2.mp3", sample_rate=None)
    assert clip.samples.shape == (1, 654336)


def test_resampling_48k_ogg_to_44100(data_dir):
    clip = load_audio(data_dir / "awkward_48k_stereo_etr_calmrace_30s.ogg", sample_rate=44100)
    assert clip.sample_rate == 44100 and clip.source_rate == 48000
    assert clip.channels == 2
    assert abs(clip.samples.shape[1] - 30 * 44100) <= 30  # one frame per second
    assert clip.duration_s == pytest.approx(30.0, abs=1e-3)


@pytest.mark.parametrize(
    "name",
    [
        "music_ambient_sonicpi_ambi_glass_hum.flac",
        "music_electronic_scratch_techno2.mp3",
        "awkward_48k_stereo_etr_calmrace_30s.ogg",
        "awkward_24bit_csound_oboe.aiff",
    ],
)
def test_segment_matches_full_read(data_dir, name):
    full = load_audio(data_dir / name, sample_rate=None)
    rate = full.sample_rate
    clip = load_audio(data_dir / name, sample_rate=None, start_s=2.25, duration_s=3.0)
    assert clip.samples.shape == (full.channels, 3 * rate)
    assert clip.start_s == pytest.approx(2.25, abs=1 / rate)
    start = round(2.25 * rate)
    np.testing.assert_allclose(clip.samples, full.samples[:, start : start + 3 * rate], atol=1e-6)


def test_file_shorter_than_asked_gives_what_exists(data_dir):
    clip = load_audio(
        data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac", sample_rate=None, start_s=8.0, duration_s=30.0
    )
    assert clip.duration_s == pytest.approx(2.0, abs=1e-6)
    assert clip.start_s == 8.0
    assert len(clip.notices) == 1 and "music_ambient_sonicpi_ambi_glass_hum.flac" in clip.notices[0]


WRITTEN = [
    ("u8.wav", "WAV", "PCM_U8", 22050),
    ("s16.wav", "WAV", "PCM_16", 44100),
    ("s24.wav", "WAV", "PCM_24", 44100),
    ("s32.wav", "WAV", "PCM_32", 96000),
    ("f32.wav", "WAV", "FLOAT", 48000),
    ("s16.flac", "FLAC", "PCM_16", 44100),
    ("vorbis.ogg", "OGG", "VORBIS", 44100),
    ("opus.opus", "OGG", "OPUS", 48000),
    ("s24.aiff", "AIFF", "PCM_24", 32000),
    ("mp3.mp3", "MP3", "MPEG_LAYER_III", 44100),
]


@pytest.mark.parametrize("filename,fmt,subtype,rate", WRITTEN, ids=[w[0] for w in WRITTEN])
def test_formats_round_trip(tmp_path, filename, fmt, subtype, rate):
    source = sine(rate, 1.0)
    path = tmp_path / filename
    sf.write(path, source.T, rate, format=fmt, subtype=subtype)
    clip = load_audio(path, sample_rate=None)
    assert clip.sample_rate == rate and clip.channels == 1
    assert clip.duration_s == pytest.approx(1.0, abs=0.06)  # lossy codecs pad to their frame size
    lossy = subtype in ("VORBIS", "OPUS", "MPEG_LAYER_III")
    assert best_correlation(clip.samples[0], source[0], max_lag=2000 if lossy else 0) > 0.99


def make_m4a(tmp_path, seconds: float = 2.0, rate: int = 44100, channels: int = 2, layout: str = ""):
    source = tmp_path / "source.wav"
    write_wav(source, sine(rate, seconds, channels=channels), rate, subtype="PCM_16")
    out = tmp_path / "song.m4a"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(source)]
    command += ["-af", f"channelmap=channel_layout={layout}"] if layout else []
    subprocess.run(command + ["-c:a", "aac", "-b:a", "128k", str(out)], check=True, capture_output=True)
    return out


def test_m4a_decodes_through_ffmpeg(tmp_path):
    path = make_m4a(tmp_path)
    info = probe_audio(path)
    assert info.format == "ffmpeg:aac" and (info.sample_rate, info.channels) == (44100, 2)
    clip = load_audio(path, sample_rate=None)
    assert (clip.sample_rate, clip.channels, clip.source_channels) == (44100, 2, 2)
    assert clip.duration_s == pytest.approx(2.0, abs=0.05)
    assert best_correlation(clip.samples[0], sine(44100, 2.0)[0], max_lag=3000) > 0.99
    segment = load_audio(path, sample_rate=22050, start_s=0.5, duration_s=1.0)
    assert segment.sample_rate == 22050 and segment.samples.shape == (2, 22050)
    assert segment.start_s == pytest.approx(0.5)


def test_m4a_with_six_channels_is_mixed_by_ffmpeg(tmp_path):
    path = make_m4a(tmp_path, seconds=1.0, channels=6, layout="5.1")
    clip = load_audio(path, sample_rate=None)
    assert (clip.channels, clip.source_channels) == (2, 6)
    assert clip.notices == ("song.m4a: 6 channels mixed to stereo",)


def test_six_channel_wav_becomes_stereo(tmp_path):
    samples = np.zeros((6, 44100), dtype=np.float32)
    samples[0] = sine(44100)[0]  # front left only
    samples[3] = 0.9  # LFE is dropped
    path = tmp_path / "surround.wav"
    write_wav(path, samples, 44100)
    clip = load_audio(path, sample_rate=None)
    assert (clip.channels, clip.source_channels) == (2, 6)
    assert clip.notices == ("surround.wav: 6 channels mixed to stereo",)
    assert np.abs(clip.samples[1]).max() == 0.0
    assert best_correlation(clip.samples[0], samples[0]) > 0.999


@pytest.mark.parametrize("rate", [8000, 192000])
def test_rate_limits_load(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    write_wav(path, sine(rate), rate)
    clip = load_audio(path, sample_rate=None)
    assert clip.sample_rate == rate and clip.samples.shape == (1, rate)
    resampled = load_audio(path, sample_rate=44100)
    assert abs(resampled.samples.shape[1] - 44100) <= 1


def test_rate_below_8k_is_rejected(tmp_path):
    path = tmp_path / "low.wav"
    write_wav(path, sine(4000, 1.0, freq=500), 4000)
    with pytest.raises(MossInputError, match="sample rate 4000 Hz is outside 8000..192000 Hz") as exc:
        load_audio(path)
    assert_one_line_naming(exc, "low.wav")


def test_mono_stays_mono_and_resamples(data_dir):
    clip = load_audio(data_dir / "awkward_mono22k_u8_freedroid_thouartdefeated.wav", sample_rate=44100)
    assert clip.channels == 1 and clip.source_rate == 22050
    assert abs(clip.samples.shape[1] - 2.5 * 44100) <= 3


def truncated_flac(data_dir, tmp_path):
    data = (data_dir / "music_ambient_sonicpi_ambi_glass_hum.flac").read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(data[: len(data) // 2])
    return path


def text_wav(data_dir, tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 20)
    return path


def short_song(data_dir, tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, sine(44100, seconds=0.3).T, 44100)
    return path


def empty_file(data_dir, tmp_path):
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    "make,kwargs,message",
    [
        (lambda d, t: t / "missing.wav", {}, "file not found"),
        (empty_file, {}, "empty file (0 bytes)"),
        (text_wav, {}, "not an audio file MOSS can read (WAV, FLAC, Ogg, MP3, AIFF, M4A...)"),
        (truncated_flac, {}, "the file is truncated or damaged"),
        (
            lambda d, t: d / "music_ambient_sonicpi_ambi_glass_hum.flac",
            {"start_s": 12.0},
            "start 12.0 s is past the end of the audio (10.0 s)",
        ),
        (
            lambda d, t: d / "awkward_short_alsa_front_center.wav",
            {"start_s": 1.1},  # the song is 1.428 s long
            "only 0.33 s of audio from 1.10 s; at least 0.50 s is needed: start the segment at 0.92 s or earlier",
        ),
        (short_song, {}, "only 0.30 s of audio from 0.00 s; at least 0.50 s is needed: use a song at least 0.5 s long"),
        (lambda d, t: t, {}, "is a folder, not a file"),
    ],
    ids=["missing", "empty", "text", "truncated-flac", "past-end", "too-short", "song-too-short", "folder"],
)
def test_bad_inputs(data_dir, tmp_path, make, kwargs, message):
    path = make(data_dir, tmp_path)
    with pytest.raises(MossInputError) as exc:
        load_audio(path, **kwargs)
    assert message in str(exc.value)
    assert_one_line_naming(exc, path.name)
    assert exc.value.path == path


def test_nan_samples_are_rejected(tmp_path):
    samples = sine(44100)
    samples[0, 100] = np.nan
    path = tmp_path / "nan.wav"
    write_wav(path, samples, 44100)
    with pytest.raises(MossInputError, match="NaN") as exc:
        load_audio(path)
    assert_one_line_naming(exc, "nan.wav")


def test_probe_rejects_text(tmp_path):
    path = tmp_path / "song.m4a"
    path.write_text("not audio")
    with pytest.raises(MossInputError, match="not an audio file") as exc:
        probe_audio(path)
    assert_one_line_naming(exc, "song.m4a")


def test_bad_options():
    with pytest.raises(MossInputError, match="start"):
        load_audio("whatever.wav", start_s=-1.0)
    with pytest.raises(MossInputError, match="duration"):
        load_audio("whatever.wav", duration_s=0.0)
    with pytest.raises(MossInputError, match="sample rate 1000 Hz"):
        load_audio("whatever.wav", sample_rate=1000)


def test_write_wav_is_float32(tmp_path):
    samples = sine(44100, 0.5, channels=2)
    samples[1] *= 1.5  # float WAV keeps values above full scale
    path = tmp_path / "out.wav"
    write_wav(path, samples, 44100)
    info = sf.info(path)
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == ("WAV", "FLOAT", 44100, 2, 22050)
    back, _ = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(back.T, samples)
    with pytest.raises(ValueError, match="channels, frames"):
        write_wav(path, samples[0], 44100)


def test_sha256_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_ffmpeg_segment_matches_full_read(tmp_path):
    rng = np.random.default_rng(0)
    noise = np.convolve(rng.standard_normal(3 * 44100), np.ones(8) / 8, "same")  # aperiodic, so a lag would show
    source = tmp_path / "noise.wav"
    write_wav(source, np.tile(0.3 * noise, (2, 1)), 44100, subtype="PCM_16")
    path = tmp_path / "noise.m4a"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-nostdin",
            "-i",
            str(source),
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    full = load_audio(path, sample_rate=None)
    clip = load_audio(path, sample_rate=None, start_s=1.3, duration_s=1.0)
    start = round(1.3 * 44100)
    assert clip.samples.shape == (2, 44100)
    np.testing.assert_allclose(clip.samples, full.samples[:, start : start + 44100], atol=1e-6)
    with pytest.raises(MossInputError, match=r"start 4\.0 s is past the end of the audio \(3\.0") as exc:
        load_audio(path, start_s=4.0)
    assert_one_line_naming(exc, "noise.m4a")


def test_a_file_moss_may_not_read_says_permission_denied(data_dir, tmp_path, monkeypatch):
    """chmod 000 (simulated: the tests may run as root, who reads anything): "permission denied", not "not audio"."""
    import builtins

    from moss_engine.io import audio as audio_io

    song = tmp_path / "locked.wav"
    song.write_bytes((data_dir / "awkward_short_alsa_front_center.wav").read_bytes())

    def locked(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(song):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(audio_io, "open", locked, raising=False)
    with pytest.raises(MossInputError, match="permission denied") as exc:
        audio_io.load_audio(song)
    assert str(song) in str(exc.value)


def test_a_wav_cut_short_is_used_with_a_notice_naming_what_its_header_announced(tmp_path):
    """Every player plays what is there; MOSS does too, and says the file ends before its header says it does."""
    path = tmp_path / "cut.wav"
    sf.write(path, sine(8000, 4.0).T, 8000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + (len(data) - 44) // 2])  # the header still announces 4 s
    clip = load_audio(path, sample_rate=None)
    assert clip.samples.shape[1] == pytest.approx(2.0 * 8000, abs=2)
    assert any("header announces 4.00 s" in n and "cut.wav" in n for n in clip.notices)
    whole = tmp_path / "whole.wav"
    sf.write(whole, sine(8000, 4.0).T, 8000, subtype="PCM_16")
    assert load_audio(whole, sample_rate=None).notices == ()


def test_a_named_pipe_is_not_a_regular_file(tmp_path):
    import os

    fifo = tmp_path / "song.wav"
    os.mkfifo(fifo)
    with pytest.raises(MossInputError, match="song.wav: not a regular file"):
        load_audio(fifo)


class _Stop(Exception):
    """What a signal handler raises mid-write in the test below (as Ctrl-C's ``KeyboardInterrupt`` or the CLI's
    ``Terminated`` would)."""


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="interval timers are POSIX")
def test_a_signal_while_a_wav_is_written_comes_out_as_itself(tmp_path):
    """Issue 26 item 3: a signal handler's exception raised while libsndfile writes is the exception that leaves
    ``write_wav`` (the run's cleanup then runs), never an ``AssertionError`` from soundfile or a swallowed one."""
    samples = np.zeros((2, 2_000_000), dtype=np.float32)  # 16 MB: each write takes a few milliseconds

    def stop(signum, frame):
        raise _Stop()

    previous = signal.signal(signal.SIGALRM, stop)
    try:
        outcomes = []
        for n in range(20):
            signal.setitimer(signal.ITIMER_REAL, 0.0005 + 0.0008 * n)  # once, at moments through the write
            try:
                write_wav(tmp_path / "x.wav", samples, 8000)
                while True:  # a write quicker than the timer: it fires here
                    time.sleep(0.01)
            except _Stop:
                outcomes.append("stopped")
            except BaseException as exc:  # noqa: BLE001 - what else escapes is the finding
                outcomes.append(f"{type(exc).__name__}: {exc}")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert outcomes == ["stopped"] * 20


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux), a device that is always full")
def test_a_full_disk_while_a_wav_is_written_is_an_oserror_saying_so():
    """Issue 26 item 4: no space left while libsndfile writes is ``OSError(ENOSPC)`` (every writer turns that into
    one line), not soundfile's ``AssertionError``."""
    with pytest.raises(OSError) as exc:
        write_wav("/dev/full", np.zeros((2, 100_000), dtype=np.float32), 8000)
    assert exc.value.errno == errno.ENOSPC and "No space left on device" in str(exc.value)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="file size limits are POSIX")
def test_a_write_that_fails_half_way_is_an_oserror_with_its_cause(tmp_path):
    """Issue 26 item 4: a disk that fills after the header is written (here a file size limit, which fails the same
    write(2) calls as a full disk, with EFBIG instead of ENOSPC) is ``OSError`` with the system's errno, not
    soundfile's ``AssertionError``."""
    script = (
        "import resource, signal, numpy as np\n"
        "from moss_engine.io.audio import write_wav\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
        "try:\n"
        "    write_wav('x.wav', np.zeros((2, 2_000_000), dtype=np.float32), 8000)\n"
        "except OSError as exc:\n"
        "    print('OSError', exc.errno)\n"
        "except BaseException as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.stdout.split() == ["OSError", str(errno.EFBIG)], done.stdout + done.stderr
