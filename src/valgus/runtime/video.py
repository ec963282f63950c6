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
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from valgus.config import InputLimits
from valgus.errors import InputTooLargeError, VideoError

__all__ = ["VideoInfo", "check_input_limits", "iter_frames", "probe_video"]

# Demuxers that read one still picture; named in the error message so users see why.
_STILL_IMAGE_FORMATS = frozenset({"image2", "image2pipe"})

# Errors PyAV raises for unreadable or damaged input. av.FFmpegError covers every libav
# error code (InvalidDataError, DecoderNotFoundError, av.error.EOFError, ...); OSError
# covers failures in Python-side I/O; ValueError is what PyAV raises for formats
# it cannot convert.
_AV_ERRORS: tuple[type[BaseException], ...] = (av.FFmpegError, OSError, ValueError)

_SUPPORTED = "use an MP4, MOV, WebM, AVI or animated GIF video"
# Frames up to this size (px, width x height) decode on one thread: decoding then stays well
# under the model's time per frame (1080p H.264: ~7 ms against ~18 ms), and in the pipeline a
# second decoding thread only competes with the model for the other core. On 20 s clips (4
# interleaved runs) one pass took 2-5% less time than with libav's frame + slice threads (720p
# +6% over inference alone instead of +8%, 1080p +2% instead of +8%). Larger frames (4K, 8K) use
# those threads, which decode them 15-25% faster, or decoding would hold the model up.
SINGLE_THREAD_DECODE_MAX_PX = 1920 * 1088


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


@dataclass(frozen=True)
class _Geometry:
    """How each decoded frame is turned into an output array (fixed from the first frame)."""

    rot_k: int  # np.rot90 quarter turns (counter-clockwise), 0..3
    coded_w: int  # width/height to resample the *coded* frame to, before rotation
    coded_h: int
    scaled: bool  # True if resampling changes the size (not just pixel format)


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
            f"{info.path} is {size_mb:,.0f} MB, more than the {limits.max_file_size_mb:,.0f} MB "
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
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(t_s, rgb)`` for every frame of the clip, one at a time.

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
        ValueError: ``max_side_px`` < 1 or ``max_duration_s`` <= 0.
    """
    if max_side_px is not None and max_side_px < 1:
        raise ValueError(f"max_side_px must be a positive integer, got {max_side_px}")
    if max_duration_s is not None and not max_duration_s > 0:
        raise ValueError(f"max_duration_s must be positive, got {max_duration_s}")
    if not start_s >= 0 or (end_s is not None and not end_s > start_s):
        raise ValueError(f"need 0 <= start_s < end_s, got start_s={start_s}, end_s={end_s}")
    # Checked eagerly (a generator would defer it to the first next()); opening is
    # deferred so an iterator that is never consumed holds no file.
    return _stream_frames(
        _check_file(path), max_side_px, max_duration_s, _Segment(start_s, end_s)
    )


@dataclass(frozen=True)
class _Segment:
    """The part of a clip to yield, in s since its first frame (``end_s`` None = to the end)."""

    start_s: float = 0.0
    end_s: float | None = None


def _stream_frames(
    p: Path, max_side_px: int | None, max_duration_s: float | None, segment: _Segment
) -> Iterator[tuple[float, np.ndarray]]:
    """Generator behind :func:`iter_frames`."""
    start: _Start | None = _first_frame(p) if segment.start_s > 0 else None
    try:
        yield from _decoded_segment(
            p, max_side_px, max_duration_s, segment, start, seek=start is not None
        )
    except _DecodeFromStart:  # raised before any frame was yielded
        yield from _decoded_segment(p, max_side_px, max_duration_s, segment, start, seek=False)


def _decoded_segment(
    p: Path,
    max_side_px: int | None,
    max_duration_s: float | None,
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
                decoded, container, stream, p, max_side_px, max_duration_s, segment, start,
                after_seek=seek,
            )
        finally:
            # Close the inner generator first so no libav object outlives the container.
            decoded.close()


@dataclass(frozen=True)
class _Start:
    """What a segment needs from the clip's first frame: its time (s, container clock; None
    without a pts) and the frame itself, which fixes the output geometry as in a full pass."""

    t0: Fraction | None
    frame: VideoFrame


def _first_frame(p: Path) -> _Start:
    """Decode the clip's first frame in a container of its own."""
    with _open(p) as container:
        stream = _video_stream(container, p)
        decoded = _decode(container, stream, p)
        try:
            frame = next(decoded, None)
        except VideoError:
            frame = None
        finally:
            decoded.close()
        if frame is None:
            raise VideoError(
                f"No frame of {p} could be decoded (codec {stream.codec_context.name}); the "
                "file may be damaged: re-export it as H.264 MP4."
            )
        tb = frame.time_base or stream.time_base
        t0 = Fraction(frame.pts) * Fraction(tb) if frame.pts is not None and tb else None
        return _Start(t0, frame)


def _seek(container: InputContainer, stream: VideoStream, abs_s: Fraction) -> bool:
    """Seek ``stream`` to the keyframe at or before ``abs_s`` (container clock, s).

    Returns False where that is impossible (no time base, a demuxer that cannot seek); the
    caller then decodes from the start. Whether the seek landed early enough is checked on the
    decoded frames (``_convert`` raises ``_DecodeFromStart``).
    """
    if not stream.time_base:
        return False
    try:
        container.seek(
            math.floor(abs_s / Fraction(stream.time_base)), stream=stream, backward=True,
            any_frame=False,
        )
    except _AV_ERRORS:
        return False
    return True


# --------------------------------------------------------------------------- helpers


def _check_file(path: str | Path) -> Path:
    """Reject missing, non-regular and empty files before libav sees them."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise VideoError(f"Video file not found: {p}; check the path and try again.") from None
    except OSError as err:
        raise VideoError(
            f"Cannot access {p} ({err.strerror}); check the path and its permissions."
        ) from None
    if p.is_dir():
        raise VideoError(f"{p} is a folder, not a video file; give the path of one video file.")
    if st.st_size == 0:
        raise VideoError(f"Video file is empty (0 bytes): {p}; copy or export the clip again.")
    return p


def _open(p: Path) -> InputContainer:
    """``av.open`` with libav failures mapped to VideoError."""
    try:
        return av.open(str(p), mode="r")
    except _AV_ERRORS as err:
        raise VideoError(
            f"Cannot read {p} as a video ({_reason(err)}); {_SUPPORTED}, and if it is one, "
            "it may be incomplete or damaged: copy or export it again."
        ) from None


def _video_stream(container: InputContainer, p: Path) -> VideoStream:
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        raise VideoError(
            f"{p} has no video stream (it contains {', '.join(kinds)}); choose a video file."
        )
    # The "best" stream is what players show; files with several video streams (e.g. a
    # cover picture plus the clip) would otherwise depend on stream order.
    try:
        stream = container.streams.best("video") or container.streams.video[0]
    except _AV_ERRORS:
        stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoError(
            f"{p}: no decoder available for its video codec; re-export it as H.264 MP4."
        )
    ctx = stream.codec_context
    pixels = (ctx.width or 0) * (ctx.height or 0)
    stream.thread_type = "NONE" if 0 < pixels <= SINGLE_THREAD_DECODE_MAX_PX else "AUTO"
    return stream


def _decode(container: InputContainer, stream: VideoStream, p: Path) -> Iterator[VideoFrame]:
    """Decode ``stream`` packet by packet, raising VideoError on damage.

    Packet-level demuxing (instead of ``container.decode``) lets us see the
    ``is_corrupt`` flag: libav marks the last, partial packet of a cut-off file that way
    and then just reports end-of-file, so without it a truncated MP4 with its index at the
    front would silently end early.
    """
    last_time: float | None = None  # absolute seconds of last good frame, for messages
    first_time: float | None = None
    n_frames = 0
    tail_corrupt = False
    try:
        for packet in container.demux(stream):
            if packet.size:  # the final empty packet only flushes the decoder
                tail_corrupt = packet.is_corrupt
            for frame in stream.decode(packet):
                n_frames += 1
                if frame.time is not None:
                    last_time = frame.time
                    if first_time is None:
                        first_time = frame.time
                yield frame
    except _AV_ERRORS as err:
        at = _rel(last_time, first_time, n_frames)
        raise VideoError(
            f"Decoding {p} failed after {at} ({_reason(err)}); the file is damaged from "
            "there on: copy or export it again."
        ) from None
    if tail_corrupt:
        at = _rel(last_time, first_time, n_frames)
        raise VideoError(
            f"{p} ends abruptly after {at}: the file is truncated "
            "(incomplete copy or recording); copy or export it again."
        )


class _DecodeFromStart(Exception):
    """The demuxer cannot seek, or a seek landed after the start of the wanted segment (inexact
    index): decode from the clip's start instead. Raised before any frame is yielded."""


def _convert(
    frames: Iterator[VideoFrame],
    container: InputContainer,
    stream: VideoStream,
    p: Path,
    max_side_px: int | None,
    max_duration_s: float | None = None,
    segment: _Segment | None = None,
    start: _Start | None = None,
    after_seek: bool = False,
) -> Iterator[tuple[float, np.ndarray]]:
    """Turn decoded frames into ``(t_s, rgb)`` with a one-frame look-ahead.

    ``segment``: only frames inside it are converted and yielded. ``start``: the clip's first
    frame, decoded separately (given for a segment): its time is the clock's zero and it fixes
    the geometry, exactly as in a full pass. ``after_seek``: the decoder was sought, so the first
    frame must not lie after the segment's start (else ``_DecodeFromStart``).
    """
    segment = segment or _Segment()
    is_segment = segment.start_s > 0 or segment.end_s is not None
    geo: _Geometry | None = None
    rate = _positive(stream.average_rate) or _positive(stream.guessed_rate)
    rate = rate or _positive(stream.base_rate)
    t0: Fraction | None = start.t0 if start is not None else None
    if start is not None:
        geo = _geometry(start.frame, stream, max_side_px)
    prev_abs: Fraction | None = None
    last_t: Fraction | None = None
    pending: tuple[float, np.ndarray] | None = None  # held until a 2nd frame proves motion
    n_out = 0

    try:
        for index, frame in enumerate(frames):
            tb = frame.time_base or stream.time_base
            if frame.pts is not None and tb is not None:
                abs_t = Fraction(frame.pts) * Fraction(tb)
            elif rate is not None:
                # No pts: one nominal frame interval after the previous frame.
                abs_t = prev_abs + 1 / rate if prev_abs is not None else Fraction(index) / rate
            else:
                raise VideoError(
                    f"{p} has neither timestamps nor a frame rate, so frame times are unknown; "
                    "re-export it as H.264 MP4."
                )
            prev_abs = abs_t
            if t0 is None:
                t0 = abs_t
            t = abs_t - t0
            # Segment bounds are compared with the float times the frames are yielded with.
            if after_seek and index == 0 and float(t) > segment.start_s:
                raise _DecodeFromStart
            if last_t is not None and t <= last_t:
                continue  # duplicate/backwards pts (broken muxers): keep time strictly increasing
            last_t = t
            if max_duration_s is not None and t > max_duration_s:
                # Checked on the frames themselves: the header may not state the length.
                if pending is not None:
                    yield pending  # the last frame within the limit
                    pending = None
                raise InputTooLargeError(
                    f"{p} runs longer than the {_duration(max_duration_s)} valgus analyses; "
                    "trim the video to the squats.",
                    "max_duration_s",
                )
            if float(t) < segment.start_s:
                continue  # before the segment: decoded (the next frames need it), not converted
            if segment.end_s is not None and float(t) >= segment.end_s:
                break

            if geo is None:
                geo = _geometry(frame, stream, max_side_px)
            item = (float(t), _to_rgb(frame, geo))
            n_out += 1
            if pending is not None:
                yield pending
            pending = item  # yielded once the next frame decodes: one picture is not a video
    except VideoError:
        # Damage part-way: hand over the good frame still held back, then report.
        if pending is not None and (n_out >= 2 or is_segment):
            yield pending
        raise
    if not is_segment:
        _require_two_frames(n_out, container, stream, p)
    if pending is not None:
        yield pending


def _require_two_frames(n: int, container: InputContainer, stream: VideoStream, p: Path) -> None:
    if n == 0:
        raise VideoError(
            f"No frame of {p} could be decoded (codec {stream.codec_context.name}); the file "
            "may be damaged: re-export it as H.264 MP4."
        )
    if n == 1:
        fmt = container.format.name
        what = (
            "a still image"
            if fmt in _STILL_IMAGE_FORMATS or fmt.endswith("_pipe")
            else "a single frame"
        )
        raise VideoError(f"{p} is {what}, not a video; record or choose a video clip.")


def _geometry(frame: VideoFrame, stream: VideoStream, max_side_px: int | None) -> _Geometry:
    """Fix output orientation and size from the first frame."""
    # VideoFrame.rotation is libav's av_display_rotation_get(): counter-clockwise degrees,
    # in [-180, 180]. Displaying means rotating the coded picture counter-clockwise by it
    # (an iPhone landscape-coded portrait clip says -90 -> turn 90 deg clockwise); checked
    # against OpenCV's independent auto-rotation. np.rot90 with k > 0 is also
    # counter-clockwise. Odd angles are rounded to the nearest quarter turn.
    rot_k = round(frame.rotation / 90) % 4

    # Non-square pixels: stretch width so 1 px == same distance along x and y.
    sar = _positive(stream.codec_context.sample_aspect_ratio) or _positive(
        stream.sample_aspect_ratio
    )
    w = frame.width * float(sar) if sar else float(frame.width)
    h = float(frame.height)
    scale = 1.0
    if max_side_px is not None and max(w, h) > max_side_px:
        scale = max_side_px / max(w, h)
    coded_w = max(1, round(w * scale))
    coded_h = max(1, round(h * scale))
    scaled = (coded_w, coded_h) != (frame.width, frame.height)
    return _Geometry(rot_k=rot_k, coded_w=coded_w, coded_h=coded_h, scaled=scaled)


def _to_rgb(frame: VideoFrame, geo: _Geometry) -> np.ndarray:
    """Convert one decoded frame to the output array described by ``geo``."""
    if geo.scaled or (frame.width, frame.height) != (geo.coded_w, geo.coded_h):
        # AREA averages source pixels when shrinking (no aliasing on thin limbs);
        # also normalises mid-stream resolution changes to the first frame's size.
        frame = frame.reformat(
            width=geo.coded_w, height=geo.coded_h, format="rgb24", interpolation="AREA"
        )
    rgb = frame.to_ndarray(format="rgb24")
    if geo.rot_k:
        rgb = np.rot90(rgb, geo.rot_k)
    # to_ndarray keeps libav's row padding for some widths and rot90 returns a view;
    # consumers (MediaPipe, cv2) want a plain C-contiguous buffer.
    return np.ascontiguousarray(rgb)


def _positive(value: Fraction | int | float | None) -> Fraction | None:
    """Return ``value`` as a Fraction if it is a finite positive number, else None."""
    if value is None:
        return None
    try:
        f = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return f if f > 0 and math.isfinite(float(f)) else None


def _rel(t: float | None, t0: float | None, n_frames: int) -> str:
    """Human-readable position since the first frame, for error messages."""
    if n_frames == 0:
        return "the start"
    if t is None or t0 is None:
        return f"{n_frames} frames"  # no timestamps to quote
    return f"{t - t0:.2f} s"


def _duration(seconds: float) -> str:
    """``seconds`` for a message: '45.0 s', or minutes from 2 min on ('12.5 min')."""
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s"


def _reason(err: BaseException) -> str:
    """Short libav reason, e.g. 'Invalid data found when processing input'."""
    msg = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return " ".join(str(msg).split())


# Light and blur are measured on every few kept frames (they change slowly; ~1 ms a frame).
IMAGE_STATS_EVERY_N = 5


def frame_image_stats(rgb: np.ndarray) -> tuple[float, float]:
    """(brightness, sharpness) of an (H, W, 3) uint8 RGB frame.

    brightness: mean luma 0-255. sharpness: variance of the Laplacian of the luma resized to
    320 px width (comparable across resolutions) and scaled to unit standard deviation
    (comparable across light levels: the raw measure falls with the square of the contrast, so
    a dim clip would read as blurred). A flat frame has sharpness 0.
    """
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (320, max(1, round(320 * h / w))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float64)
    spread = float(gray.std())
    if spread < 1.0:
        return float(gray.mean()), 0.0  # a flat picture: nothing to be sharp
    return float(gray.mean()), float(cv2.Laplacian(gray / spread, cv2.CV_64F).var())
