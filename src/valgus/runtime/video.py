"""Video decoding: probe a clip and stream its frames as upright RGB arrays with timestamps.

Everything that touches PyAV lives here, so the rest of the package sees only
``(t_s, rgb)`` pairs and :class:`~valgus.errors.VideoError` for anything unreadable.

Conventions
-----------
* Frames are ``(H, W, 3)`` ``uint8`` RGB, C-contiguous, in *display* orientation: the
  container's display matrix (phone rotation metadata) is applied, and non-square pixels
  (sample aspect ratio != 1) are resampled to square ones, because joint angles are
  measured in pixel space and would be skewed otherwise.
* ``t_s`` is seconds since the first decoded frame, from the container's presentation
  timestamps, so variable-frame-rate phone clips keep their true timing.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.frame import VideoFrame

from valgus.config import InputLimits
from valgus.errors import InputTooLargeError, VideoError
from valgus.runtime.decode import (
    _check_file,
    _convert,
    _decode,
    _DecodeFromStart,
    _duration,
    _first_frame,
    _geometry,
    _open,
    _positive,
    _require_two_frames,
    _seek,
    _Segment,
    _Start,
    _to_rgb,
    _video_stream,
)

__all__ = ["VideoInfo", "check_input_limits", "iter_frames", "keyframes", "probe_video"]


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learns about a clip (cheap: decodes at most two frames)."""

    path: Path
    width: int  # display width in px after rotation (and sample-aspect correction) is applied
    height: int  # display height in px after rotation
    # Counter-clockwise quarter turns applied to the coded frames: 0, 90, 180 or 270. A
    # phone clip coded landscape and tagged "portrait" (libav display matrix -90) gives 270.
    rotation_deg: int
    fps_nominal: float  # container's average frame rate (1/s), information only; 0.0 if unknown
    duration_s: float | None  # video stream duration in s (container's if the stream has none)
    frame_count_estimate: int | None  # from the container index, else duration * fps
    codec: str  # decoder name, e.g. "h264", "hevc", "vp9", "mjpeg", "gif"
    size_bytes: int

    def frames_to_analyse(self, max_fps: float | None) -> int | None:
        """Frames ``iter_frames(max_fps=...)`` will yield, estimated (None if unknown): the
        clip's own count, or its duration x ``max_fps`` for a clip thinned to that rate."""
        if max_fps is None or self.frame_count_estimate is None or not self.duration_s:
            return self.frame_count_estimate
        return min(self.frame_count_estimate, math.ceil(self.duration_s * max_fps))


def probe_video(path: str | Path) -> VideoInfo:
    """Open ``path``, check it holds a decodable video, and describe it.

    Decodes the first frames because rotation arrives as frame side data and because a
    clip that opens but never decodes is as useless as one that does not open.

    Raises:
        VideoError: missing/empty/unreadable file, no video stream, a still image,
            or no decodable frames.
    """
    p = _check_file(path)
    with _open(p) as container:
        stream = _video_stream(container, p)
        frames: list[VideoFrame] = []
        decoded = _decode(container, stream, p)
        try:
            for frame in decoded:
                frames.append(frame)
                if len(frames) == 2:
                    break
        except VideoError:
            if len(frames) < 2:
                raise
            # Damage later in the file is iter_frames' business; the start decodes fine.
        finally:
            decoded.close()
        _require_two_frames(len(frames), container, stream, p)
        geo = _geometry(frames[0], stream, max_side_px=None)
        width, height = (geo.coded_h, geo.coded_w) if geo.rot_k % 2 else (geo.coded_w, geo.coded_h)

        fps = _positive(stream.average_rate) or _positive(stream.guessed_rate)
        duration_s: float | None = None
        if stream.duration and stream.time_base:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration:
            duration_s = container.duration / av.time_base
        frame_count: int | None = stream.frames or None
        if frame_count is None and duration_s and fps:
            frame_count = round(duration_s * float(fps))

        return VideoInfo(
            path=p,
            width=width,
            height=height,
            rotation_deg=geo.rot_k * 90,
            fps_nominal=float(fps) if fps else 0.0,
            duration_s=duration_s,
            frame_count_estimate=frame_count,
            codec=stream.codec_context.name,
            size_bytes=p.stat().st_size,
        )


def check_input_limits(info: VideoInfo, limits: InputLimits) -> None:
    """Reject a probed clip that is bigger or (by its header) longer than ``limits`` allow.

    A duration the container does not state is not checked here; ``iter_frames`` with
    ``max_duration_s`` stops such a clip once its frames pass the limit.

    Raises:
        InputTooLargeError: file size over ``limits.max_file_size_mb`` (MB = 10^6 bytes) or
            duration over ``limits.max_duration_s``.
    """
    size_mb = info.size_bytes / 1e6
    if size_mb > limits.max_file_size_mb:
        raise InputTooLargeError(
            f"{info.path} is {_mb(size_mb)} MB, more than the {_mb(limits.max_file_size_mb)} MB "
            "valgus accepts; trim the video to the squats, or export it as H.264 MP4 at 1080p.",
            "max_file_size_mb",
        )
    if info.duration_s is not None and info.duration_s > limits.max_duration_s:
        raise InputTooLargeError(
            f"{info.path} is {_duration(info.duration_s)} long, more than the "
            f"{_duration(limits.max_duration_s)} valgus analyses; trim the video to the squats.",
            "max_duration_s",
        )


def iter_frames(
    path: str | Path,
    *,
    max_side_px: int | None = None,
    max_duration_s: float | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
    max_fps: float | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(t_s, rgb)`` for every frame of the clip (or at most ``max_fps`` a second), one at
    a time.

    Args:
        path: video file.
        max_side_px: if given, frames whose longer side exceeds it are downscaled
            (aspect kept) so the longer side is ``max_side_px``; smaller frames are
            never upscaled.
        max_duration_s: if given, a frame later than this (s since the first frame) raises
            :class:`~valgus.errors.InputTooLargeError` instead of being yielded: the
            duration limit for clips whose container does not state their length (or
            understates it).
        start_s, end_s: only the frames with ``start_s <= t_s < end_s`` (s since the clip's
            first frame, as in a full pass) are yielded, with the same timestamps and pixels
            a full pass gives them. For ``start_s > 0`` the decoder first seeks to the
            keyframe before ``start_s`` (clips with timestamps), so a late segment costs
            little more than its own frames; frames before ``start_s`` are decoded but not
            converted. A segment of a clip is not checked for being a single picture.
        max_fps: if given (1/s), a clip whose nominal frame rate is over 1.1 x ``max_fps`` (a
            slow-motion 120 or 240 fps recording) yields only the first frame of each
            ``1 / max_fps`` s slot of its timestamps (chosen from the timestamps, so variable
            frame rates and segments keep the same frames as a full pass); the other frames are
            decoded but not converted. Clips at or near ``max_fps`` keep every frame.
        crop: if given, (x, y, width, height) px of the part of each full-resolution upright
            frame to yield (the active picture, ``runtime.picture``); ``max_side_px`` then
            applies to that part.

    Yields:
        t_s: seconds since the first decoded frame, from presentation timestamps
            (``pts * time_base``); strictly increasing. Frames whose timestamp does not
            increase are dropped. Frames without a pts are placed one nominal frame
            interval after the previous frame (index / average rate for a clip
            without any pts).
        rgb: ``(H, W, 3)`` uint8 RGB, C-contiguous, upright (rotation applied). All
            frames of a clip have the same shape, fixed by the first frame.

    The first frame is held back until a second one decodes, so a single still image
    raises before anything is yielded. The container is opened on the first ``next()``
    and closed when the iterator is exhausted, raises, or is closed/garbage-collected
    after the consumer stops early.

    Raises:
        VideoError: at call time for a missing, non-regular or empty file; during
            iteration as :func:`probe_video`, and also if decoding fails or the file
            turns out to be truncated part-way, *after* yielding the frames decoded
            before that point (the message says at what time).
        InputTooLargeError: during iteration, a frame later than ``max_duration_s``.
        ValueError: ``max_side_px`` < 1, ``max_duration_s`` <= 0 or ``max_fps`` <= 0.
    """
    if max_side_px is not None and max_side_px < 1:
        raise ValueError(f"max_side_px must be a positive integer, got {max_side_px}")
    if max_duration_s is not None and not max_duration_s > 0:
        raise ValueError(f"max_duration_s must be positive, got {max_duration_s}")
    if max_fps is not None and not max_fps > 0:
        raise ValueError(f"max_fps must be positive, got {max_fps}")
    if not start_s >= 0 or (end_s is not None and not end_s > start_s):
        raise ValueError(f"need 0 <= start_s < end_s, got start_s={start_s}, end_s={end_s}")
    # Checked eagerly (a generator would defer it to the first next()); opening is
    # deferred so an iterator that is never consumed holds no file.
    p = _check_file(path)
    if crop is not None:
        return _cropped(_stream_frames(p, _Options(None, max_duration_s, max_fps),
                                       _Segment(start_s, end_s)), crop, max_side_px)
    return _stream_frames(p, _Options(max_side_px, max_duration_s, max_fps),
                          _Segment(start_s, end_s))


def _cropped(
    frames: Iterator[tuple[float, np.ndarray]],
    crop: tuple[int, int, int, int],
    max_side_px: int | None,
) -> Iterator[tuple[float, np.ndarray]]:
    """``frames`` cut to ``crop`` = (x, y, w, h) px, then downscaled to ``max_side_px``."""
    x, y, w, h = crop
    scale = 1.0 if max_side_px is None else min(1.0, max_side_px / max(w, h))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    try:
        for t_s, rgb in frames:
            part = rgb[y:y + h, x:x + w]
            if scale < 1.0:
                part = cv2.resize(part, size, interpolation=cv2.INTER_AREA)
            yield t_s, np.ascontiguousarray(part)
    finally:
        if isinstance(frames, Generator):
            frames.close()


@dataclass(frozen=True)
class _Options:
    """How :func:`iter_frames` shapes, bounds and thins the frames (its keyword arguments)."""

    max_side_px: int | None
    max_duration_s: float | None
    max_fps: float | None


def _stream_frames(
    p: Path, options: _Options, segment: _Segment
) -> Iterator[tuple[float, np.ndarray]]:
    """Generator behind :func:`iter_frames`."""
    start: _Start | None = _first_frame(p) if segment.start_s > 0 else None
    try:
        yield from _decoded_segment(p, options, segment, start, seek=start is not None)
    except _DecodeFromStart:  # raised before any frame was yielded
        yield from _decoded_segment(p, options, segment, start, seek=False)


def _decoded_segment(
    p: Path,
    options: _Options,
    segment: _Segment,
    start: _Start | None,
    seek: bool,
) -> Iterator[tuple[float, np.ndarray]]:
    """The segment's frames from a container of its own, sought to the keyframe before the
    segment if ``seek`` (``_DecodeFromStart`` where that is impossible or lands too late)."""
    with _open(p) as container:
        stream = _video_stream(container, p)
        if seek:
            assert start is not None
            if start.t0 is None or not _seek(
                container, stream, start.t0 + Fraction(segment.start_s)
            ):
                raise _DecodeFromStart
        decoded = _decode(container, stream, p)
        try:
            yield from _convert(
                decoded, container, stream, p, options.max_side_px, options.max_duration_s,
                segment, start, after_seek=seek, max_fps=options.max_fps,
            )
        finally:
            # Close the inner generator first so no libav object outlives the container.
            decoded.close()


def keyframes(path: str | Path, max_frames: int = 64) -> list[np.ndarray]:
    """Up to ``max_frames`` key frames of the clip, spread over it, as full-resolution upright RGB
    (the first frame's geometry, as ``iter_frames`` without ``max_side_px``).

    Cheap: only key frames are decoded (a phone puts one every 1-10 s), so a whole 10-minute clip
    costs a fraction of a second. Damage part-way ends the list early; VideoError only where the
    file cannot be opened at all.
    """
    p = _check_file(path)
    out: list[np.ndarray] = []
    with _open(p) as container:
        stream = _video_stream(container, p)
        stream.codec_context.skip_frame = "NONKEY"
        decoded = _decode(container, stream, p)
        frames: list[VideoFrame] = []
        try:
            for frame in decoded:
                frames.append(frame)
        except VideoError:
            pass  # the analysis pass reports the damage; the frames before it are kept
        finally:
            decoded.close()
        if not frames:
            return out
        step = max(1, math.ceil(len(frames) / max_frames))
        geo = _geometry(frames[0], stream, max_side_px=None)
        out = [_to_rgb(frame, geo) for frame in frames[::step]]
    return out


def _mb(value: float) -> str:
    """Megabytes in words: whole above 10, else with the digits that tell it apart from 0."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"
