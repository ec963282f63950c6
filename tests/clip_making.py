"""Making the test clips from the demo: its first seconds, halved to 270x360 px, encoded with
real codecs into a test's temporary folder (``tests/bad_inputs.py`` builds its corpus on it)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
DEMO_CLIP = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
SIDE_VIEW_CLIP = ROOT.parent / "shared" / "videos" / "rohanx01__Squat-Analysis-Model__squat.mp4"
FPS = 25  # the demo clip's frame rate
WIDTH, HEIGHT = 270, 360  # half the demo clip's 540x720
# Long enough for the first (left) rep and the quality checks' 2 s minimum.
SHORT_S = 3.6
# Both the first (left) and second (right) rep.
TWO_REPS_S = 7.0
# Fixed seed: a corpus that changes from run to run could pass or fail by chance.
SEED = 20240611


@functools.cache
def demo_frames(seconds: float = TWO_REPS_S) -> tuple[np.ndarray, ...]:
    """The first ``seconds`` of the demo clip as (360, 270, 3) uint8 RGB frames at 25 fps."""
    frames = []
    for t_s, rgb in iter_frames(DEMO_CLIP):
        if t_s >= seconds - 1e-6:
            break
        frames.append(cv2.resize(rgb, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA))
    return tuple(frames)


def wall_colour() -> np.ndarray:
    """(3,) uint8: the demo clip's background, from its top-left corner."""
    return demo_frames(SHORT_S)[0][:8, :8].reshape(-1, 3).mean(axis=0).astype(np.uint8)


def write_video(
    path: Path,
    frames: Iterable[np.ndarray | av.VideoFrame],
    fps: float | Fraction = FPS,
    *,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    codec: str = "libx264",
    container_format: str | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode frames (RGB arrays or ready ``av.VideoFrame``s, all of even size ``size`` = (w, h)
    unless the first array says otherwise) as a video; returns ``path``."""
    frames = iter(frames)
    first = next(frames, None)
    if isinstance(first, np.ndarray):
        size = (first.shape[1], first.shape[0])
    with av.open(str(path), "w", format=container_format,
                 options=container_options or {}) as container:
        stream = container.add_stream(
            codec, rate=Fraction(fps).limit_denominator(1000),
            # ultrafast: these clips are encoded on every test run.
            options={"preset": "ultrafast"} if codec == "libx264" else {},
        )
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        container.start_encoding()  # writes the header even when no frame follows
        for item in itertools.chain([] if first is None else [first], frames):
            frame = (item if isinstance(item, av.VideoFrame)
                     else av.VideoFrame.from_ndarray(item, format="rgb24"))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def person_clip(folder: Path, name: str = "person.mp4", seconds: float = SHORT_S) -> Path:
    """A good clip: the first ``seconds`` of the demo clip at 270x360."""
    return write_video(folder / name, demo_frames(seconds)[: round(seconds * FPS)])


def _transformed(folder: Path, name: str, fn: Callable[[np.ndarray], np.ndarray],
                 seconds: float = SHORT_S) -> Path:
    frames = demo_frames(max(seconds, SHORT_S))[: round(seconds * FPS)]
    return write_video(folder / name, (np.ascontiguousarray(fn(f)) for f in frames))
