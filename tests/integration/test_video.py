"""Tests for valgus.video: decoding, timestamps, rotation, scaling and bad inputs.

Clips are synthesised with PyAV itself (tiny, a few frames) so the suite is fast and needs
no fixtures; the real phone clips in the shared folder are used only where available.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from valgus.errors import VideoError
from valgus.runtime.video import VideoInfo, iter_frames, probe_video

SHARED = Path(__file__).resolve().parents[3] / "shared" / "videos"
IPHONE_MOV = SHARED / "benrandoing20__LNewCo__IMG_7027.mov"

W, H = 64, 48  # synthetic clip size (px); even, as 4:2:0 encoders require
RED = (255, 0, 0)


def _picture(i: int, w: int = W, h: int = H) -> np.ndarray:
    """(h, w, 3) uint8 RGB: grey background, a red square marker in the top-left corner, and a
    white square that moves right by 2 px per frame (so frames differ, like real motion)."""
    rgb = np.full((h, w, 3), 60, np.uint8)
    m = max(8, min(w, h) // 5)  # marker stays visible after downscaling
    rgb[:m, :m] = RED
    x = 12 + 2 * i
    rgb[h // 2 - 6 : h // 2 + 6, x : x + 12] = 255
    return rgb


def _write_clip(
    path: Path,
    codec: str,
    *,
    n: int = 8,
    rate: int = 25,
    pix_fmt: str = "yuv420p",
    pts_ms: Sequence[int] | None = None,
    rotation: int | None = None,
    sar: Fraction | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    size: tuple[int, int] = (W, H),
) -> Path:
    """Encode ``n`` synthetic frames (or one per entry of ``pts_ms``, at those times in ms)."""
    w, h = size
    with av.open(str(path), mode="w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if pts_ms is not None:
            stream.time_base = Fraction(1, 1000)
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        times = list(pts_ms) if pts_ms is not None else list(range(n))
        for i, pts in enumerate(times):
            frame = av.VideoFrame.from_ndarray(_picture(i, w, h), format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _red_corner(rgb: np.ndarray) -> tuple[bool, bool]:
    """(is_top, is_left) of the red marker's centre in an RGB frame."""
    red = (rgb[..., 0] > 180) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    ys, xs = np.nonzero(red)
    assert len(ys) > 10, "red marker not found"
    h, w = red.shape
    return bool(ys.mean() < h / 2), bool(xs.mean() < w / 2)


def _check_frames(frames: list[tuple[float, np.ndarray]], shape: tuple[int, int, int]) -> None:
    assert len(frames) >= 2
    ts = [t for t, _ in frames]
    assert ts[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(ts))
    for t, rgb in frames:
        assert isinstance(t, float)
        assert rgb.shape == shape
        assert rgb.dtype == np.uint8
        assert rgb.flags.c_contiguous


# --------------------------------------------------------------------------- formats

# (file name, encoder, pix_fmt, encoder options, decoder name probe_video reports);
# the GIF encoder needs a palette format.
FORMATS = [
    ("h264.mp4", "libx264", "yuv420p", {"preset": "ultrafast"}, "h264"),
    (
        "hevc.mov",
        "libx265",
        "yuv420p",
        {"preset": "ultrafast", "x265-params": "log-level=none"},
        "hevc",
    ),
    ("vp8.webm", "libvpx", "yuv420p", {"deadline": "realtime", "cpu-used": "8"}, "vp8"),
    ("vp9.webm", "libvpx-vp9", "yuv420p", {"deadline": "realtime", "cpu-used": "8"}, "vp9"),
    ("mjpeg.avi", "mjpeg", "yuvj420p", {}, "mjpeg"),
    ("anim.gif", "gif", "rgb8", {}, "gif"),
]


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "options", "decoder"), FORMATS, ids=[f[0] for f in FORMATS]
)
def test_formats_decode(
    tmp_path: Path, name: str, codec: str, pix_fmt: str, options: dict[str, str], decoder: str
) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"encoder {codec} is not in PyAV's bundled FFmpeg")
    path = _write_clip(tmp_path / name, codec, n=8, rate=10, pix_fmt=pix_fmt, options=options)

    info = probe_video(path)
    assert isinstance(info, VideoInfo)
    assert (info.width, info.height, info.rotation_deg, info.codec) == (W, H, 0, decoder)
    assert info.size_bytes == path.stat().st_size
    assert info.fps_nominal == pytest.approx(10, rel=0.01)

    frames = list(iter_frames(path))
    _check_frames(frames, (H, W, 3))
    assert len(frames) == 8
    ts = np.array([t for t, _ in frames])
    np.testing.assert_allclose(np.diff(ts), 0.1, atol=0.011)
    # Colours survive (lossy codecs, palette GIF): corner red, moving square white.
    assert _red_corner(frames[0][1]) == (True, True)
    first, last = frames[0][1], frames[-1][1]
    assert first[H // 2, 14].min() > 200
    assert last[H // 2, 14].max() < 120  # the square has moved on


# --------------------------------------------------------------------------- timing


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_timestamps(tmp_path: Path, suffix: str) -> None:
    pts_ms = [0, 33, 50, 120, 121, 400]
    path = _write_clip(
        tmp_path / f"vfr{suffix}",
        "libx264",
        pts_ms=pts_ms,
        options={"preset": "ultrafast", "bf": "2"},  # B-frames: decode order != pts order
    )
    ts = [t for t, _ in iter_frames(path)]
    np.testing.assert_allclose(ts, np.array(pts_ms) / 1000, atol=1e-6)


def test_timestamps_relative_to_first_frame(tmp_path: Path) -> None:
    path = _write_clip(tmp_path / "late.mkv", "libx264", pts_ms=[5000, 5040, 5100])
    ts = [t for t, _ in iter_frames(path)]
    np.testing.assert_allclose(ts, [0.0, 0.04, 0.1], atol=1e-6)


def test_non_increasing_timestamps_are_dropped(tmp_path: Path) -> None:
    """A repeated and a backwards pts (broken muxers) are skipped, keeping t_s increasing."""
    path = tmp_path / "dup.mkv"
    pts_ms = [0, 40, 40, 30, 80]
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuvj420p"
        stream.time_base = Fraction(1, 1000)
        for i, pts in enumerate(pts_ms):
            frame = av.VideoFrame.from_ndarray(np.full((H, W, 3), 40 * i, np.uint8), "rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                # Intra-only codec: set the muxed times by hand (dts must still increase).
                packet.pts, packet.dts, packet.time_base = pts, i, Fraction(1, 1000)
                out.mux(packet)
    frames = list(iter_frames(path))
    np.testing.assert_allclose([t for t, _ in frames], [0.0, 0.04, 0.08], atol=1e-6)
    np.testing.assert_allclose([rgb.mean() for _, rgb in frames], [0, 40, 160], atol=3)


def test_missing_pts_fall_back_to_average_rate(tmp_path: Path) -> None:
    """A raw H.264 elementary stream has no container timestamps at all (pts is None)."""
    path = tmp_path / "raw.h264"
    with av.open(str(path), mode="w", format="h264") as out:
        stream = out.add_stream("libx264", rate=10, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(5):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(_picture(i), format="rgb24")))
        out.mux(stream.encode(None))
    with av.open(str(path)) as container:
        assert next(container.decode(video=0)).pts is None  # the case under test
    rate = probe_video(path).fps_nominal  # libav's guess for raw H.264 (25), not 10
    assert rate > 0
    ts = [t for t, _ in iter_frames(path)]
    np.testing.assert_allclose(ts, np.arange(5) / rate, atol=1e-9)


# --------------------------------------------------------------------------- geometry


def _cv2_first_frame(path: Path) -> np.ndarray | None:
    """First frame as OpenCV shows it (its FFmpeg backend auto-rotates); None if no cv2."""
    try:
        import cv2
    except ImportError:
        return None
    cap = cv2.VideoCapture(str(path))
    try:
        ok, bgr = cap.read()
    finally:
        cap.release()
    return np.ascontiguousarray(bgr[..., ::-1]) if ok else None


@pytest.mark.parametrize(
    ("rotation", "shape", "red_top_left"),
    [
        # Display-matrix angle (counter-clockwise, as libav reports it) -> expected output.
        # -90 is what iPhones write for portrait recorded on a landscape sensor: the picture
        # is turned 90 deg clockwise, so the coded top-left corner ends up top-right.
        (-90, (W, H, 3), (True, False)),
        (90, (W, H, 3), (False, True)),
        (180, (H, W, 3), (False, False)),
        (0, (H, W, 3), (True, True)),
    ],
)
def test_rotation_metadata_applied(
    tmp_path: Path, rotation: int, shape: tuple[int, int, int], red_top_left: tuple[bool, bool]
) -> None:
    path = _write_clip(
        tmp_path / f"rot{rotation}.mp4",
        "libx264",
        rotation=rotation,
        options={"preset": "ultrafast"},
    )
    info = probe_video(path)
    assert info.rotation_deg == rotation % 360
    assert (info.height, info.width, 3) == shape

    frames = list(iter_frames(path))
    _check_frames(frames, shape)
    assert _red_corner(frames[0][1]) == red_top_left

    # Independent oracle: OpenCV applies the same display matrix in its own code.
    cv_rgb = _cv2_first_frame(path)
    if cv_rgb is not None:
        assert cv_rgb.shape == shape
        assert np.abs(cv_rgb.astype(int) - frames[0][1].astype(int)).mean() < 8


def test_max_side_px_downscales_keeping_aspect(tmp_path: Path) -> None:
    path = _write_clip(
        tmp_path / "big.mp4", "libx264", size=(320, 240), options={"preset": "ultrafast"}
    )
    frames = list(iter_frames(path, max_side_px=100))
    _check_frames(frames, (75, 100, 3))
    assert _red_corner(frames[0][1]) == (True, True)
    # Never upscales; probe reports the full display size regardless.
    _check_frames(list(iter_frames(path, max_side_px=1000)), (240, 320, 3))
    assert (probe_video(path).width, probe_video(path).height) == (320, 240)


def test_max_side_px_with_rotation(tmp_path: Path) -> None:
    path = _write_clip(
        tmp_path / "rot_big.mp4",
        "libx264",
        size=(320, 240),
        rotation=-90,
        options={"preset": "ultrafast"},
    )
    frames = list(iter_frames(path, max_side_px=160))
    _check_frames(frames, (160, 120, 3))  # portrait after rotation, longer side 160
    assert _red_corner(frames[0][1]) == (True, False)


def test_max_side_px_must_be_positive(tmp_path: Path) -> None:
    path = _write_clip(tmp_path / "a.mp4", "libx264", options={"preset": "ultrafast"})
    with pytest.raises(ValueError, match="max_side_px"):
        iter_frames(path, max_side_px=0)


def test_non_square_pixels_are_made_square(tmp_path: Path) -> None:
    path = _write_clip(
        tmp_path / "sar.mp4", "libx264", sar=Fraction(2, 1), options={"preset": "ultrafast"}
    )
    info = probe_video(path)
    assert (info.width, info.height) == (2 * W, H)
    _check_frames(list(iter_frames(path)), (H, 2 * W, 3))


# --------------------------------------------------------------------------- bad inputs


def _expect_error(path: Path, *fragments: str) -> None:
    """Both entry points raise VideoError with a one-line message containing ``fragments``."""
    for call in (lambda: probe_video(path), lambda: list(iter_frames(path))):
        with pytest.raises(VideoError) as exc:
            call()
        msg = str(exc.value)
        assert "\n" not in msg
        for fragment in fragments:
            assert fragment in msg, msg


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope.mp4", "not found", "nope.mp4")
    with pytest.raises(VideoError):
        iter_frames(tmp_path / "nope.mp4")  # at call time, before any iteration


def test_directory(tmp_path: Path) -> None:
    _expect_error(tmp_path, "folder")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    _expect_error(path, "empty")


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are not the frames you are looking for\n" * 50)
    _expect_error(path, "Cannot read", "as a video")


def test_png_renamed_mp4(tmp_path: Path) -> None:
    path = tmp_path / "photo.mp4"
    with av.open(str(path), mode="w", format="image2pipe") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = W, H, "rgb24"
        out.mux(stream.encode(av.VideoFrame.from_ndarray(_picture(0), format="rgb24")))
        out.mux(stream.encode(None))
    assert path.read_bytes()[:4] == b"\x89PNG"
    _expect_error(path, "still image", "not a video")


def test_audio_only(tmp_path: Path) -> None:
    path = tmp_path / "voice.mp4"
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("aac", rate=44100)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 44100, i * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    _expect_error(path, "no video stream", "audio")


def test_truncated_mp4_index_at_end(tmp_path: Path) -> None:
    """A cut-off recording (MP4 index, written last, is missing) cannot be opened."""
    full = _write_clip(tmp_path / "full.mp4", "libx264", n=30, options={"preset": "ultrafast"})
    half = tmp_path / "half.mp4"
    data = full.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    _expect_error(half, "Cannot read", "incomplete")


def _packet_spans(path: Path) -> list[tuple[int, int]]:
    """(byte offset, size) of each video packet in ``path``, in file order."""
    with av.open(str(path)) as container:
        return [(p.pos, p.size) for p in container.demux(video=0) if p.size and p.pos is not None]


def _faststart_clip(tmp_path: Path) -> tuple[Path, list[tuple[int, int]]]:
    """30-frame H.264 MP4 with its index at the front, and the byte spans of its packets."""
    path = _write_clip(
        tmp_path / "full.mp4",
        "libx264",
        n=30,
        options={"preset": "ultrafast", "g": "300"},
        container_options={"movflags": "faststart"},
    )
    spans = _packet_spans(path)
    assert len(spans) == 30
    return path, spans


def test_truncated_mp4_index_at_front(tmp_path: Path) -> None:
    """With the index first (faststart) the file opens; frames before the cut are yielded,
    then VideoError says where it ended instead of ending silently."""
    full, spans = _faststart_clip(tmp_path)
    pos, size = spans[15]
    half = tmp_path / "half.mp4"
    half.write_bytes(full.read_bytes()[: pos + size // 2])  # cut inside the 16th frame

    got: list[float] = []
    with pytest.raises(VideoError, match="truncated") as exc:
        for t, _ in iter_frames(half):
            got.append(t)
    assert 2 <= len(got) <= 15
    assert f"after {got[-1]:.2f} s" in str(exc.value)
    assert probe_video(half).width == W  # the readable start is still a valid clip


def test_corrupt_middle_raises_after_good_frames(tmp_path: Path) -> None:
    full, spans = _faststart_clip(tmp_path)
    data = bytearray(full.read_bytes())
    rng = np.random.default_rng(0)
    for pos, size in spans[15:18]:  # garble three frames' payloads
        data[pos : pos + size] = rng.integers(0, 256, size, np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))

    got: list[float] = []
    with pytest.raises(VideoError, match="damaged") as exc:
        for t, _ in iter_frames(bad):
            got.append(t)
    assert 2 <= len(got) <= 15
    assert f"failed after {got[-1]:.2f} s" in str(exc.value)


# --------------------------------------------------------------------------- resources


def _open_fds_to(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    n = 0
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd) == str(path):
                n += 1
        except OSError:
            continue  # fd closed while listing
    return n


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc/self/fd")
def test_container_closed_when_consumer_stops_early(tmp_path: Path) -> None:
    path = _write_clip(tmp_path / "a.mp4", "libx264", n=20, options={"preset": "ultrafast"})
    path = path.resolve()
    assert _open_fds_to(path) == 0

    frames = iter_frames(path)
    next(frames)
    assert _open_fds_to(path) == 1  # open while streaming: the check below can fail
    frames.close()
    assert _open_fds_to(path) == 0

    # The usual pattern: break out of a for loop; CPython finalises the generator at once.
    for _t, _rgb in iter_frames(path):
        break
    assert _open_fds_to(path) == 0

    # After an error part-way the file is closed too.
    bad = tmp_path / "half.mp4"
    _write_clip(bad, "libx264", n=30, container_options={"movflags": "faststart"})
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    with pytest.raises(VideoError):
        list(iter_frames(bad))
    assert _open_fds_to(bad.resolve()) == 0


# --------------------------------------------------------------------------- real clips


@pytest.mark.skipif(not IPHONE_MOV.is_file(), reason=f"shared clip folder absent: {SHARED}")
def test_iphone_mov_portrait_variable_rate() -> None:
    """The iPhone clips are coded portrait (1080x1920) with no display rotation; output must
    stay portrait, timed by pts (variable rate: some frame gaps far below 1/30 s)."""
    info = probe_video(IPHONE_MOV)
    assert (info.width, info.height, info.rotation_deg, info.codec) == (1080, 1920, 0, "h264")
    frames = list(iter_frames(IPHONE_MOV, max_side_px=256))
    _check_frames(frames, (256, 144, 3))
    gaps = np.diff([t for t, _ in frames])
    assert gaps.min() < 0.01  # a 1/600 s gap: nominal-rate timing would be wrong here
    assert gaps.max() == pytest.approx(1 / 30, abs=1e-3)
    assert frames[-1][0] == pytest.approx(2.335, abs=0.01)


# ------------------------------------------------------------------ frame rate (issue 13)


def test_max_fps_thins_a_high_rate_clip_from_its_timestamps(tmp_path: Path) -> None:
    """A 240 fps (slow-motion) clip is analysed at 30 fps: one frame per 1/30 s slot of its own
    clock, and a segment keeps exactly the frames a full pass keeps."""
    clip = _write_clip(tmp_path / "hfr.mp4", "libx264", n=120, rate=240)
    every = [t for t, _ in iter_frames(clip)]
    assert len(every) == 120
    thinned = [t for t, _ in iter_frames(clip, max_fps=30)]
    assert len(thinned) == 15
    np.testing.assert_allclose(np.diff(thinned), 1 / 30, atol=1e-6)
    assert set(thinned) <= set(every)
    later = [t for t, _ in iter_frames(clip, max_fps=30, start_s=0.2)]
    assert later == [t for t in thinned if t >= 0.2]
    assert probe_video(clip).frames_to_analyse(30) == 15
    with pytest.raises(ValueError, match="max_fps"):
        iter_frames(clip, max_fps=0)


def test_max_fps_keeps_every_frame_near_the_rate(tmp_path: Path) -> None:
    """A 30 fps phone clip whose timestamps jitter by 2 ms keeps every frame; so does a 25 fps
    one (a clip is only thinned well above the limit)."""
    jitter = [round(1000 * i / 30) + (2 if i % 3 == 1 else 0) for i in range(30)]
    clip = _write_clip(tmp_path / "vfr.mp4", "libx264", rate=30, pts_ms=jitter)
    assert len(list(iter_frames(clip, max_fps=30))) == 30
    slow = _write_clip(tmp_path / "slow.mp4", "libx264", n=20, rate=25)
    assert len(list(iter_frames(slow, max_fps=30))) == 20


# ------------------------------------------------------------------ true geometry (issue 13)


def _ts_piece(path: Path, size: tuple[int, int], first_pts: int, n: int = 6) -> bytes:
    """MPEG-TS bytes of ``n`` frames of ``size`` (w, h) whose pts start at ``first_pts``."""
    w, h = size
    with av.open(str(path), mode="w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(_picture(i, w, h), format="rgb24")
            frame.pts = first_pts + i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path.read_bytes()


def _red_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, width, height) px of the red pixels."""
    red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    ys, xs = np.nonzero(red)
    return int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1


def test_size_change_midstream_is_fitted_never_stretched(tmp_path: Path) -> None:
    """A stream whose frames turn from 64x48 to 32x48 part-way (two MPEG-TS pieces, as an
    edited or re-encoded clip): later frames keep their proportions, centred on black inside
    the first frame's size, instead of being stretched to it."""
    clip = tmp_path / "two_sizes.ts"
    clip.write_bytes(_ts_piece(tmp_path / "a.ts", (64, 48), 0)
                     + _ts_piece(tmp_path / "b.ts", (32, 48), 6))
    frames = list(iter_frames(clip))
    assert len(frames) == 12
    assert {rgb.shape for _, rgb in frames} == {(48, 64, 3)}
    first, last = frames[0][1], frames[-1][1]
    assert _red_box(first) == (0, 0, 8, 8)  # the marker: 8 px square
    x0, y0, w, h = _red_box(last)
    assert (x0, y0) == (16, 0) and w == h == 8  # square, not 16 x 8
    assert last[:, :14].max() < 30 and last[:, 50:].max() < 30  # black either side


def test_fit_frame_never_stretches() -> None:
    """The live path's fixed frame size: a phone turned mid-test is fitted, centred on black."""
    from valgus.runtime.picture import fit_frame

    portrait = np.full((640, 360, 3), 200, np.uint8)
    fitted = fit_frame(portrait, (640, 360))
    assert fitted.shape == (360, 640, 3)
    lit = np.nonzero(fitted[180, :, 0])[0]
    assert lit[0] == 219 and lit[-1] == 420  # 202 px wide: 360 x 360/640, centred
    assert fit_frame(portrait, (360, 640)) is portrait


def test_active_picture_finds_bars_of_any_colour_and_keeps_a_plain_wall() -> None:
    from valgus.runtime.picture import picture_of

    rng = np.random.default_rng(3)
    frames = []
    for _ in range(6):
        scene = rng.integers(60, 200, (120, 160, 3)).astype(np.uint8)  # a textured picture
        frame = np.zeros((300, 200, 3), np.uint8)
        frame[:] = (30, 200, 90)  # green bars
        frame[90:210, 20:180] = scene
        frames.append(frame)
    pic = picture_of(frames)
    assert (pic.x, pic.y, pic.w, pic.h) == (20, 90, 160, 120)
    black = [np.where(f == (30, 200, 90), 0, f).astype(np.uint8) for f in frames]
    assert (lambda p: (p.x, p.y, p.w, p.h))(picture_of(black)) == (20, 90, 160, 120)
    # A plain wall above a moving person is not a bar: it has no straight edge.
    walls = []
    for i in range(6):
        frame = np.full((200, 160, 3), 235, np.uint8)
        frame[60 + 10 * i:, 40 + 10 * i:70 + 10 * i] = (90, 60, 40)  # the person, moving
        frame[150:] = rng.integers(0, 255, (50, 160, 3))
        walls.append(frame)
    assert picture_of(walls).whole
