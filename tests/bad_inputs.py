"""The bad-input corpus: every file is made here, in a test's temporary folder.

Person footage comes from the bundled synthetic clip (sample_videos/demo_single_leg_squats.mp4:
one person, plain wall, square-on camera, single-leg squats left, right, left, ...; first rep
bottoms out at 2.2 s, the second at 5.4 s), cut short and halved to 270x360 px so that the pose
model, the slow part, sees few small frames. Each builder takes a folder and returns the path of
the input it wrote there; ``BUILDERS`` lists them by name for tests/integration/test_bad_inputs.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.clip_making import (  # noqa: F401  (re-exported: tests import them from here)
    DEMO_CLIP,
    FPS,
    HEIGHT,
    ROOT,
    SEED,
    SHORT_S,
    SIDE_VIEW_CLIP,
    TWO_REPS_S,
    WIDTH,
    _transformed,
    demo_frames,
    person_clip,
    wall_colour,
    write_video,
)
from valgus.runtime.video import iter_frames

# ----------------------------------------------------------------- files that are not videos


def empty_file(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def text_file(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("squat notes, not a video\n" * 40)
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "random.mp4"
    path.write_bytes(np.random.default_rng(SEED).integers(0, 256, 200_000, np.uint8).tobytes())
    return path


def png_image(folder: Path) -> Path:
    path = folder / "photo.png"
    cv2.imwrite(str(path), cv2.cvtColor(demo_frames(SHORT_S)[50], cv2.COLOR_RGB2BGR))
    return path


def jpeg_image(folder: Path) -> Path:
    path = folder / "photo.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(demo_frames(SHORT_S)[50], cv2.COLOR_RGB2BGR))
    return path


def audio_only(folder: Path) -> Path:
    """2 s of a 440 Hz tone in AAC/M4A: a container without a video stream."""
    path = folder / "voice_memo.m4a"
    rate = 44_100
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        t = np.arange(2 * rate) / rate
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, tone.size, 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="flt",
                                               layout="mono")
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def folder_named_like_a_video(folder: Path) -> Path:
    path = folder / "clip.mp4"
    path.mkdir()
    return path


# ----------------------------------------------------------------- damaged or odd video files


def zero_frames(folder: Path) -> Path:
    """An MP4 with a video track that holds no frame."""
    return write_video(folder / "zero_frames.mp4", [])


def single_frame(folder: Path) -> Path:
    return write_video(folder / "one_frame.mp4", demo_frames(SHORT_S)[:1])


def truncated(folder: Path) -> Path:
    """A clip cut to 60% of its bytes; the MP4 index (moov) sits at the end and is lost."""
    path = person_clip(folder, "truncated.mp4")
    data = path.read_bytes()
    path.write_bytes(data[: int(0.6 * len(data))])
    return path


def truncated_faststart(folder: Path) -> Path:
    """A clip cut to 60% of its bytes with the index at the front: the first ~2 s decode."""
    path = write_video(folder / "truncated_faststart.mp4", demo_frames(SHORT_S)[:90],
                       container_options={"movflags": "+faststart"})
    data = path.read_bytes()
    path.write_bytes(data[: int(0.6 * len(data))])
    return path


def corrupt_middle(folder: Path) -> Path:
    """A good clip with a tenth of its bytes, in the middle, overwritten with random bytes."""
    path = person_clip(folder, "corrupt_middle.mp4")
    data = bytearray(path.read_bytes())
    n = len(data) // 10
    start = len(data) // 2 - n // 2
    data[start:start + n] = np.random.default_rng(SEED).integers(0, 256, n, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def unknown_codec(folder: Path) -> Path:
    """An AVI whose video FourCC names a codec no decoder knows ('VLGS' instead of 'MJPG')."""
    path = write_video(folder / "unknown_codec.avi", demo_frames(SHORT_S)[:25], codec="mjpeg")
    data = path.read_bytes()
    assert data.count(b"MJPG") >= 1, "mjpeg AVI without its FourCC"
    path.write_bytes(data.replace(b"MJPG", b"VLGS"))
    return path


def wrong_extension(folder: Path) -> Path:
    """A good MP4 named .txt (libav recognises the content, not the name)."""
    return person_clip(folder).rename(folder / "squats.txt")


# ----------------------------------------------------------------- too big


HIGH_RES_SIZE = (7680, 4320)  # 8K UHD (w, h)


def high_resolution(folder: Path, seconds: float = 2.4) -> Path:
    """8K (7680x4320) H.264: the demo person scaled up to the full 4320 px height on the wall.

    Frames are built directly as YUV 4:2:0 planes, one at a time: an RGB 8K frame is 100 MB
    and converting it costs more than encoding (x264 still takes ~0.2 s per 8K frame, hence
    the short clip).
    """
    big_w, big_h = HIGH_RES_SIZE
    person_w = WIDTH * big_h // HEIGHT
    x0 = (big_w - person_w) // 2
    wall = cv2.cvtColor(np.full((2, 2, 3), wall_colour(), np.uint8), cv2.COLOR_RGB2YUV_I420)
    wall_yuv = (wall[0, 0], wall[2, 0], wall[2, 1])  # I420 of a 2x2 block: Y rows, then U, V

    def frames() -> Iterable[av.VideoFrame]:
        for rgb in demo_frames(SHORT_S)[: round(seconds * FPS)]:
            i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)  # Y (h rows), U, V (h/4 rows each)
            q = HEIGHT // 4
            planes_in = (i420[:HEIGHT],
                         i420[HEIGHT:HEIGHT + q].reshape(HEIGHT // 2, WIDTH // 2),
                         i420[HEIGHT + q:].reshape(HEIGHT // 2, WIDTH // 2))
            frame = av.VideoFrame(big_w, big_h, "yuv420p")
            for plane, src, fill, sub in zip(frame.planes, planes_in, wall_yuv, (1, 2, 2),
                                             strict=True):
                out = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
                out[:] = fill
                out[:, x0 // sub:(x0 + person_w) // sub] = cv2.resize(
                    src, (person_w // sub, big_h // sub), interpolation=cv2.INTER_LINEAR)
            yield frame

    return write_video(folder / "squats_8k.mp4", frames(), size=HIGH_RES_SIZE)


def no_duration_in_header(folder: Path) -> Path:
    """A raw H.264 stream (.h264): no container, so no stated duration; only the frames'
    timestamps tell its length (for the streaming duration limit)."""
    return write_video(folder / "raw_stream.h264", demo_frames(SHORT_S)[: round(SHORT_S * FPS)],
                       container_format="h264")


# ----------------------------------------------------------------- readable, but not right


def blank(folder: Path) -> Path:
    frame = np.full((HEIGHT, WIDTH, 3), wall_colour(), np.uint8)
    return write_video(folder / "blank_wall.mp4", [frame] * round(SHORT_S * FPS))


def noise(folder: Path) -> Path:
    rng = np.random.default_rng(SEED)
    frames = (rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
              for _ in range(round(SHORT_S * FPS)))
    return write_video(folder / "noise.mp4", frames)


def too_short(folder: Path) -> Path:
    return person_clip(folder, "too_short.mp4", seconds=1.2)


def two_people(folder: Path) -> Path:
    """The demo person twice side by side, 3.2 s apart in time (one squats on the left leg
    while the other is on the right)."""
    frames = demo_frames(TWO_REPS_S)
    n = round(SHORT_S * FPS)
    lag = 80
    return write_video(folder / "two_people.mp4",
                       (np.hstack([frames[i], frames[i + lag]]) for i in range(n)))


def person_switch(folder: Path) -> Path:
    """The demo person on the left half, and a second one half their size further back on the
    right half (the demo 1.6 s later, scaled to 0.5, standing on the same floor line); the
    person vanishes from 3.3 s to 4.0 s (between their left and right reps), so that the
    tracker meets only the smaller one, then comes back."""
    lag = 40
    frames = demo_frames(TWO_REPS_S + lag / FPS)
    wall = wall_colour()
    n = round(TWO_REPS_S * FPS)
    small_w, small_h = WIDTH // 2, HEIGHT // 2

    def frame(i: int) -> np.ndarray:
        left = frames[i].copy()
        if 3.3 <= i / FPS < 4.0:
            left[:] = wall
        right = np.empty_like(left)
        right[:] = wall
        small = cv2.resize(frames[i + lag], (small_w, small_h), interpolation=cv2.INTER_AREA)
        top = HEIGHT - small_h - HEIGHT // 6
        right[top:top + small_h, (WIDTH - small_w) // 2:(WIDTH + small_w) // 2] = small
        return np.hstack([left, right])

    return write_video(folder / "person_switch.mp4", (frame(i) for i in range(n)),
                       size=(2 * WIDTH, HEIGHT))


def box_over_knee(folder: Path, both: bool = False) -> Path:
    """A brown box (as in ../shared/cases/occluded_one_knee.mp4) in front of the person's left
    knee over the first two reps (left, then right), or of both knees with ``both``; the
    knees sit at x 107-163, y 215-241 px in these frames."""
    brown = np.array([0x6B, 0x4A, 0x2B], np.uint8)
    name = "box_over_knees.mp4" if both else "box_over_knee.mp4"
    return _boxed(folder, name, np.s_[205:252, 90 if both else 138 : 180], brown)


def box_over_knees(folder: Path) -> Path:
    return box_over_knee(folder, both=True)


def box_over_right_knee(folder: Path) -> Path:
    """A grey-blue box of another size and place, in front of the right knee only (that knee
    at x 107-121, y 215-242 over the first two reps; the left one at x >= 151 stays in view)."""
    return _boxed(folder, "box_over_right_knee.mp4", np.s_[200:244, 88:136],
                  np.array([0x70, 0x84, 0x9C], np.uint8))


def box_over_shin(folder: Path) -> Path:
    """A dark blue box across the left mid-shin (y 244-268), the knee above it in view."""
    return _boxed(folder, "box_over_shin.mp4", np.s_[244:268, 140:182],
                  np.array([0x2B, 0x4A, 0x6B], np.uint8))


def patterned_box_over_knee(folder: Path) -> Path:
    """A box with a pattern (4 px blocks of dark and light grey, fixed seed) in front of the
    left knee, where ``box_over_knee`` puts its flat brown one."""
    blocks = np.random.default_rng(SEED).integers(0, 2, (12, 11, 1)) * 160 + 40
    pattern = np.kron(blocks.astype(np.uint8), np.ones((4, 4, 3), np.uint8))[:47, :42]
    return _boxed(folder, "patterned_box_over_knee.mp4", np.s_[205:252, 138:180], pattern)


def _boxed(folder: Path, name: str, where: tuple[slice, slice], fill: np.ndarray) -> Path:
    """The first two reps with ``fill`` (a colour, or an image of the box's size) painted over
    ``where`` (rows, columns) of every frame, as a still object in front of the person."""

    def boxed(rgb: np.ndarray) -> np.ndarray:
        out = rgb.copy()
        out[where] = fill
        return out

    return _transformed(folder, name, boxed, seconds=TWO_REPS_S)


def upside_down(folder: Path) -> Path:
    """Turned 180 deg, as a phone filming upside down without rotation metadata."""
    return _transformed(folder, "upside_down.mp4", lambda f: np.rot90(f, 2))


def sideways(folder: Path) -> Path:
    """Turned 90 deg clockwise, as a portrait clip whose rotation metadata was lost."""
    return _transformed(folder, "sideways.mp4", lambda f: np.rot90(f, -1))


def mirrored(folder: Path) -> Path:
    """Flipped left-right, as a selfie camera records: left and right legs swap in the image."""
    return _transformed(folder, "mirrored.mp4", np.fliplr, seconds=TWO_REPS_S)


def unmirrored(folder: Path) -> Path:
    """The same frames as ``mirrored`` without the flip, to compare against."""
    return person_clip(folder, "unmirrored.mp4", seconds=TWO_REPS_S)


def leaving_frame(folder: Path) -> Path:
    """The person slides out of the picture to the right (0.8-1.6 s), stays out until 2.6 s,
    slides back by 3.4 s and stays for the rest of the 4.4 s clip."""
    wall = wall_colour()
    frames = demo_frames(TWO_REPS_S)[: round(4.4 * FPS)]

    def shift_px(t_s: float) -> int:
        out = float(np.interp(t_s, [0.8, 1.6, 2.6, 3.4], [0.0, 1.0, 1.0, 0.0]))
        return round(out * WIDTH)

    def shifted(i: int, rgb: np.ndarray) -> np.ndarray:
        dx = shift_px(i / FPS)
        out = np.empty_like(rgb)
        out[:] = wall
        if dx < WIDTH:
            out[:, dx:] = rgb[:, : WIDTH - dx]
        return out

    return write_video(folder / "leaving_frame.mp4",
                       (shifted(i, f) for i, f in enumerate(frames)))


def too_dark(folder: Path) -> Path:
    """Brightness scaled to 12%: the wall's luma ~200 becomes ~24, a dim room at night."""
    return _transformed(folder, "too_dark.mp4",
                        lambda f: (f.astype(np.float32) * 0.12).astype(np.uint8))


def too_blurred(folder: Path) -> Path:
    """Gaussian blur of sigma 4 px on the 270 px wide frame: an out-of-focus lens."""
    return _transformed(folder, "too_blurred.mp4", lambda f: cv2.GaussianBlur(f, (0, 0), 4.0))


def low_frame_rate(folder: Path) -> Path:
    """Every third frame: 8.3 frames per second."""
    frames = demo_frames(SHORT_S)[: round(SHORT_S * FPS): 3]
    return write_video(folder / "low_frame_rate.mp4", frames, Fraction(FPS, 3))


def too_small(folder: Path) -> Path:
    """The picture shrunk to 30% and padded with wall: the person is far away."""
    wall = wall_colour()
    w, h = round(0.3 * WIDTH), round(0.3 * HEIGHT)
    x0, y0 = (WIDTH - w) // 2, (HEIGHT - h) // 2

    def padded(rgb: np.ndarray) -> np.ndarray:
        out = np.empty_like(rgb)
        out[:] = wall
        out[y0:y0 + h, x0:x0 + w] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        return out

    return _transformed(folder, "too_small.mp4", padded)


def feet_cropped(folder: Path) -> Path:
    """The bottom 20% of the picture cut off: the camera is tilted up or too close."""
    keep = round(0.8 * HEIGHT) // 2 * 2  # even, for 4:2:0
    return _transformed(folder, "feet_cropped.mp4", lambda f: f[:keep])


def high_frame_rate(folder: Path, fps: int = 240) -> Path:
    """The first two reps recorded at ``fps`` (a phone's slow-motion setting, real-time
    timestamps): each 25 fps demo frame is repeated for its 1/25 s."""
    frames = demo_frames(TWO_REPS_S)
    n = round(TWO_REPS_S * fps)
    return write_video(folder / f"hfr{fps}.mp4",
                       (frames[min(len(frames) - 1, i * FPS // fps)] for i in range(n)), fps)


def black(folder: Path, seconds: float = 8.0) -> Path:
    """``seconds`` of black at 25 fps, 160x120 (a lens cap left on, or nobody in a dark room)."""
    frame = np.zeros((120, 160, 3), np.uint8)
    return write_video(folder / "black.mp4", [frame] * round(seconds * FPS))


def in_bars(folder: Path, colour: tuple[int, int, int] = (0, 0, 0), top: int = 140,
            side: int = 0) -> Path:
    """The two-rep clip inside static bars of ``colour``: ``top`` px above and below (a
    landscape export inside a portrait frame) and ``side`` px left and right."""
    frames = demo_frames(TWO_REPS_S)

    def boxed(rgb: np.ndarray) -> np.ndarray:
        out = np.empty((HEIGHT + 2 * top, WIDTH + 2 * side, 3), np.uint8)
        out[:] = colour
        out[top:top + HEIGHT, side:side + WIDTH] = rgb
        return out

    name = f"bars_{'_'.join(map(str, colour))}_{top}_{side}.mp4"
    return write_video(folder / name, (boxed(f) for f in frames))


def side_view(folder: Path) -> Path:
    """The first 4 s of a real side-on squat clip (../shared/videos), at 360 px height.

    Raises FileNotFoundError where the shared clips are absent (tests skip on it).
    """
    if not SIDE_VIEW_CLIP.is_file():
        raise FileNotFoundError(SIDE_VIEW_CLIP)
    frames = []
    for t_s, rgb in iter_frames(SIDE_VIEW_CLIP, max_side_px=HEIGHT):
        if t_s >= 4.0:
            break
        frames.append(rgb[:, : rgb.shape[1] // 2 * 2])
    return write_video(folder / "side_view.mp4", frames, 30)


REAR_VIEW_CLIP = ROOT / "tests" / "data" / "rear_view_yaw180.mp4"


def rear_view(folder: Path, mirrored: bool = False) -> Path:
    """A rendered single-leg squat filmed from behind (tests/data, the camera at yaw 180 deg,
    320x240, 4 s), or its mirror image (a front camera's selfie picture of a back)."""
    frames = [rgb[:, ::-1] if mirrored else rgb for _, rgb in iter_frames(REAR_VIEW_CLIP)]
    name = "rear_view_mirrored.mp4" if mirrored else "rear_view.mp4"
    return write_video(folder / name, (np.ascontiguousarray(f) for f in frames))


def rear_view_mirrored(folder: Path) -> Path:
    return rear_view(folder, mirrored=True)


BUILDERS: dict[str, Callable[[Path], Path]] = {
    fn.__name__: fn
    for fn in (
        empty_file, text_file, random_bytes, png_image, jpeg_image, audio_only,
        folder_named_like_a_video, zero_frames, single_frame, truncated, truncated_faststart,
        corrupt_middle, unknown_codec, wrong_extension, high_resolution, no_duration_in_header,
        blank, noise, too_short, two_people, person_switch, box_over_knee, box_over_knees,
        box_over_right_knee, box_over_shin, patterned_box_over_knee,
        upside_down, sideways, mirrored,
        unmirrored,
        leaving_frame, too_dark, too_blurred, low_frame_rate, too_small, feet_cropped,
        side_view, high_frame_rate, black, rear_view, rear_view_mirrored,
    )
}
