"""The active picture of a clip: the part of the frame the camera filled, without the static
black (or uniform) bars an editor or a messaging app put around it, and frame fitting without
distortion.

A landscape clip exported inside a portrait frame carries bars above and below; checks and the
pose model must see only the picture between them (``find_active_picture``), and the landmarks
are mapped back to the whole frame for drawing (``Picture.to_frame``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from valgus.core.pose import PoseSeries
from valgus.errors import VideoError
from valgus.runtime.video import VideoInfo, iter_frames, keyframes

# Frames sampled to find static bars: the key frames (spread over the whole clip), and one frame
# every this many seconds (s) over the first seconds, so that the person has moved through the
# picture in the samples even where key frames are 10 s apart; well under a second of decoding.
PICTURE_SAMPLE_EVERY_S = 0.5
PICTURE_FIRST_S = 4.0
# A bar row (or column) is uniform: the standard deviation of each colour channel along it is
# at most this (0-255). Encoded solid bars read 0-2; a row of a filmed wall or floor 5-30
# (texture, light falloff, sensor noise).
BAR_MAX_STD = 4.0
# ...its mean colour differs from the bar's colour by at most this (0-255 per channel), in every
# sampled frame: a bar is static, and one colour.
BAR_MAX_COLOUR_DIFFERENCE = 8.0
# A bar that is not dark must end at a sharp edge: in the median of the sampled frames, at least
# this share of the first picture row differs from the bar's colour by more than
# 3 x BAR_MAX_COLOUR_DIFFERENCE. A plain wall above a person ends where the head passes in a
# few frames, so it is never taken for a bar.
BAR_EDGE_MIN_FRACTION = 0.5
# A bar at most this dark (mean luma 0-255) is a black bar and needs no edge test...
BLACK_BAR_MAX_LUMA = 40.0
# ...unless the rest of the frame is dark too (median luma beyond the bar at most this): in a clip
# filmed in a dim room every wall and floor row is dark and nearly uniform (the demo dimmed to 12%
# reads 20-30), and only a sharp edge tells a bar from the scene.
DARK_PICTURE_MAX_LUMA = 64.0
# Rows next to a bar may carry compression ringing; the edge test looks this far inside.
EDGE_INSET_PX = 2
# Bars thinner than this (px) are ignored (encoder padding of a few rows changes nothing), and
# a picture narrower or lower than this share of the frame is not believed (a nearly uniform
# clip, e.g. a blank wall, is left whole).
MIN_BAR_PX = 4
MIN_PICTURE_FRACTION = 0.2


@dataclass(frozen=True)
class Picture:
    """The active picture inside a frame of ``frame_w`` x ``frame_h`` px (full-resolution, upright
    frames as ``iter_frames`` gives them without ``max_side_px``): x, y of its top-left corner and
    its width and height, px."""

    x: int
    y: int
    w: int
    h: int
    frame_w: int
    frame_h: int

    @property
    def whole(self) -> bool:
        return (self.x, self.y, self.w, self.h) == (0, 0, self.frame_w, self.frame_h)

    def crop(self, rgb: np.ndarray) -> np.ndarray:
        """The picture out of a full-resolution (frame_h, frame_w, 3) frame (C-contiguous)."""
        if self.whole:
            return rgb
        return np.ascontiguousarray(rgb[self.y:self.y + self.h, self.x:self.x + self.w])

    def to_frame(self, xy: np.ndarray, picture_size: tuple[int, int],
                 frame_size: tuple[int, int]) -> np.ndarray:
        """Points (..., 2) px in the picture as analysed (``picture_size`` = (w, h), the crop
        after any downscaling) mapped to a frame of ``frame_size`` (w, h): the whole frame at
        the scale the drawing code decodes it at."""
        sx = frame_size[0] / self.frame_w
        sy = frame_size[1] / self.frame_h
        out = np.asarray(xy, dtype=np.float64).copy()
        out[..., 0] = (self.x + out[..., 0] * self.w / picture_size[0]) * sx
        out[..., 1] = (self.y + out[..., 1] * self.h / picture_size[1]) * sy
        return out.astype(np.float32)

    def in_frame(self, frame_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the picture in a frame of ``frame_size`` (w, h) px."""
        sx, sy = frame_size[0] / self.frame_w, frame_size[1] / self.frame_h
        return (self.x * sx, self.y * sy, self.w * sx, self.h * sy)


@dataclass(frozen=True)
class _Lines:
    """Statistics of the lines (rows, or columns) of sampled frames, edge first.

    mean: (S, L, 3) mean colour of each line; std: (S, L, 3) its spread along the line; frames:
    the S (L, N, 3) uint8 frames themselves (lines first), for the edge test.
    """

    mean: np.ndarray
    std: np.ndarray
    frames: list[np.ndarray]

    @classmethod
    def of(cls, frames: list[np.ndarray]) -> _Lines:
        means, stds = [], []
        for f in frames:
            m, sd = _line_stats(f)
            means.append(m)
            stds.append(sd)
        return cls(np.stack(means), np.stack(stds), frames)

    def reversed(self) -> _Lines:
        return _Lines(self.mean[:, ::-1], self.std[:, ::-1], [f[::-1] for f in self.frames])


def _line_stats(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, 3) mean and standard deviation along each line of an (L, N, 3) uint8 frame."""
    x = frame.astype(np.float32)
    mean = x.mean(axis=1)
    std = np.sqrt(np.maximum((x * x).mean(axis=1) - mean * mean, 0.0))
    return mean, std


def _bar_length(lines: _Lines) -> int:
    """How many leading lines form one static, uniform bar (0 if none)."""
    colour = np.median(lines.mean[:, 0], axis=0)  # the edge line's colour over the samples
    same = np.abs(lines.mean - colour).max(axis=(0, 2)) <= BAR_MAX_COLOUR_DIFFERENCE
    bar = (lines.std.max(axis=(0, 2)) <= BAR_MAX_STD) & same
    n = int(np.argmin(bar)) if not bar.all() else len(bar)
    if n < MIN_BAR_PX:
        return 0
    weights = np.array([0.299, 0.587, 0.114])
    luma = float(colour @ weights)
    rest = float(np.median(lines.mean[:, n:] @ weights)) if n < lines.mean.shape[1] else 0.0
    if luma <= BLACK_BAR_MAX_LUMA and rest > DARK_PICTURE_MAX_LUMA:
        return n
    inside = min(n + EDGE_INSET_PX, len(bar) - 1)
    edge = np.median(np.stack([f[inside] for f in lines.frames]).astype(np.float32), axis=0)
    differs = np.abs(edge - colour).max(axis=1) > 3 * BAR_MAX_COLOUR_DIFFERENCE
    return n if float(np.mean(differs)) >= BAR_EDGE_MIN_FRACTION else 0


def picture_of(frames: Sequence[np.ndarray]) -> Picture:
    """The active picture common to ``frames`` ((H, W, 3) uint8 RGB, all one size, sampled
    across a clip): the frame minus static uniform bars along its edges (``_bar_length``)."""
    h, w = frames[0].shape[:2]
    rows = _Lines.of(list(frames))
    top, bottom = _bar_length(rows), _bar_length(rows.reversed())
    # Side bars are judged between the top and bottom ones (a frame of bars all round).
    cols = _Lines.of([f[top:h - bottom].transpose(1, 0, 2) for f in frames])
    left, right = _bar_length(cols), _bar_length(cols.reversed())
    pw, ph = w - left - right, h - top - bottom
    if pw < MIN_PICTURE_FRACTION * w or ph < MIN_PICTURE_FRACTION * h:
        return Picture(0, 0, w, h, w, h)
    return Picture(left, top, pw, ph, w, h)


def find_active_picture(path: str | Path, info: VideoInfo) -> Picture:
    """The clip's active picture (full resolution), from its key frames spread over the whole
    clip and a frame every ``PICTURE_SAMPLE_EVERY_S`` over its first ``PICTURE_FIRST_S`` seconds
    (key frames alone may be 10 s apart). Costs a fraction of a second on any clip."""
    frames = keyframes(path)
    with contextlib.suppress(VideoError):  # damage is reported by the analysis pass itself
        frames += [rgb for _, rgb in iter_frames(path, end_s=PICTURE_FIRST_S,
                                                 max_fps=1 / PICTURE_SAMPLE_EVERY_S)]
    frames = [f for f in frames if frames and f.shape == frames[0].shape]
    if len(frames) < 2:
        return Picture(0, 0, info.width, info.height, info.width, info.height)
    return picture_of(frames)


def fit_frame(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 scaled uniformly to fit inside ``size`` = (w, h) px and centred on
    black: a frame of another shape is never stretched (a phone turned during a live test)."""
    h, w = rgb.shape[:2]
    if (w, h) == size:
        return rgb
    scale = min(size[0] / w, size[1] / h)
    fw, fh = max(1, min(size[0], round(w * scale))), max(1, min(size[1], round(h * scale)))
    small = cv2.resize(rgb, (fw, fh), interpolation=cv2.INTER_AREA if scale < 1
                       else cv2.INTER_LINEAR)
    out = np.zeros((size[1], size[0], 3), np.uint8)
    x0, y0 = (size[0] - fw) // 2, (size[1] - fh) // 2
    out[y0:y0 + fh, x0:x0 + fw] = small
    return out


def crop_box(picture: Picture) -> tuple[int, int, int, int] | None:
    """``iter_frames``' ``crop`` for the picture: None where it is the whole frame."""
    return None if picture.whole else (picture.x, picture.y, picture.w, picture.h)


def series_in_frame(series: PoseSeries, picture: Picture, max_side_px: int) -> PoseSeries:
    """A series tracked on the picture alone (``iter_frames(crop=...)``, its ``image_size`` the
    picture's as analysed) with its landmarks mapped into the whole frame, downscaled as
    ``iter_frames(max_side_px=max_side_px)`` would give it (what drawing code decodes), and the
    picture recorded in ``picture_px``. Unchanged where the picture is the whole frame."""
    if picture.whole:
        return series
    scale = min(1.0, max_side_px / max(picture.frame_w, picture.frame_h))
    frame = (max(1, round(picture.frame_w * scale)), max(1, round(picture.frame_h * scale)))
    xy = picture.to_frame(series.xy_px, series.image_size, frame)
    return dataclasses.replace(series, xy_px=xy, image_size=frame,
                               picture_px=picture.in_frame(frame))
