"""PyAV building blocks of ``runtime.video``: opening a file, finding its video stream, decoding
with clear errors, seeking, and turning a decoded frame into an upright, square-pixel RGB array.
Internal to ``runtime`` (the names keep their leading underscore); the rest of the package calls
``runtime.video``."""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from valgus.errors import InputTooLargeError, VideoError

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
class _Geometry:
    """How each decoded frame is turned into an output array (fixed from the first frame)."""

    rot_k: int  # np.rot90 quarter turns (counter-clockwise), 0..3
    coded_w: int  # width/height to resample the *coded* frame to, before rotation
    coded_h: int
    scaled: bool  # True if resampling changes the size (not just pixel format)
    source_w: int = 0  # the first frame's coded size (px): a frame of another size is fitted
    source_h: int = 0
    sar: float = 1.0  # sample aspect ratio applied to the width (1 = square pixels)


@dataclass(frozen=True)
class _Segment:
    """The part of a clip to yield, in s since its first frame (``end_s`` None = to the end)."""

    start_s: float = 0.0
    end_s: float | None = None


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
        kinds: list[str] = sorted({str(s.type) for s in container.streams}) or ["nothing"]
        raise VideoError(
            f"{p} has no video stream (it contains {', '.join(kinds)}); choose a video file."
        )
    # The "best" stream is what players show; files with several video streams (e.g. a
    # cover picture plus the clip) would otherwise depend on stream order.
    try:
        best = container.streams.best("video")
    except _AV_ERRORS:
        best = None
    stream = best if isinstance(best, VideoStream) else container.streams.video[0]
    if stream.codec_context is None:
        raise VideoError(
            f"{p}: no decoder available for its video codec; re-export it as H.264 MP4."
        )
    ctx = stream.codec_context
    pixels = (ctx.width or 0) * (ctx.height or 0)
    stream.thread_type = "NONE" if 0 < pixels <= SINGLE_THREAD_DECODE_MAX_PX else "AUTO"
    return stream


def _decode(
    container: InputContainer, stream: VideoStream, p: Path
) -> Generator[VideoFrame, None, None]:
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
    max_fps: float | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Turn decoded frames into ``(t_s, rgb)`` with a one-frame look-ahead.

    ``max_fps``: a clip whose nominal rate exceeds it by more than ``_RATE_TOLERANCE`` keeps one
    frame per ``1 / max_fps`` slot of its own clock (``_rate_slot``); the others are decoded
    (later frames need them) but not converted. The choice depends only on each frame's time, so
    a segment keeps the same frames as a full pass.

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
    thin = max_fps is not None and rate is not None and float(rate) > max_fps * _RATE_TOLERANCE
    last_slot: int | None = None
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
            if thin:
                assert max_fps is not None
                slot = _rate_slot(float(t), max_fps)
                if slot == last_slot:
                    continue  # another frame of this slot was kept: decoded, not converted
                last_slot = slot

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


# A clip is thinned only when its nominal rate exceeds ``max_fps`` by more than this factor, so
# that a 60 fps phone clip whose timestamps jitter by a millisecond or two keeps every frame.
_RATE_TOLERANCE = 1.1
# Slot boundaries sit this fraction of a slot before the multiples of ``1 / max_fps``: away from
# the frame times of 90-300 fps clips (a 240 fps frame lands exactly on every quarter slot), so
# a millisecond of timestamp jitter does not move a frame into the next slot.
_SLOT_PHASE = 0.1


def _rate_slot(t_s: float, max_fps: float) -> int:
    """The ``1 / max_fps`` slot of the clip's clock that a frame at ``t_s`` falls in."""
    return math.floor(t_s * max_fps + _SLOT_PHASE)


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
    return _Geometry(rot_k=rot_k, coded_w=coded_w, coded_h=coded_h, scaled=scaled,
                     source_w=frame.width, source_h=frame.height, sar=float(sar or 1))


def _fit_size(w: float, h: float, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest (width, height) px with the aspect of ``w`` x ``h`` that fits in the box
    (even-agnostic, at least 1 px each)."""
    scale = min(box_w / w, box_h / h)
    return max(1, min(box_w, round(w * scale))), max(1, min(box_h, round(h * scale)))


def _to_rgb(frame: VideoFrame, geo: _Geometry) -> np.ndarray:
    """Convert one decoded frame to the output array described by ``geo``.

    A frame whose size differs from the first frame's (a stream whose resolution or aspect
    changes part-way) is never stretched to it: it is scaled uniformly to fit inside the first
    frame's size and centred on black (``_fit_size``), so a person keeps their true proportions
    and the angles their values.
    """
    if (frame.width, frame.height) != (geo.source_w, geo.source_h):
        w, h = _fit_size(frame.width * geo.sar, frame.height, geo.coded_w, geo.coded_h)
        small = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA")
        fitted = np.zeros((geo.coded_h, geo.coded_w, 3), np.uint8)
        x0, y0 = (geo.coded_w - w) // 2, (geo.coded_h - h) // 2
        fitted[y0:y0 + h, x0:x0 + w] = small.to_ndarray(format="rgb24")
        return np.ascontiguousarray(np.rot90(fitted, geo.rot_k) if geo.rot_k else fitted)
    if geo.scaled:
        # AREA averages source pixels when shrinking (no aliasing on thin limbs).
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
