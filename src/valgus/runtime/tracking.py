"""From a video file to a ``PoseSeries``: the pose estimator over every frame, streamed, one
segment of the clip per estimator (each in a thread of its own)."""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from valgus import landmarks as lm
from valgus.config import InputLimits, QualityConfig
from valgus.core.kinematics import (
    LEG_JOINTS,
    flexion_from_shortening_deg,
    hip_ankle_length_px,
)
from valgus.core.pose import PoseSeries
from valgus.core.trust import other_person_frames
from valgus.errors import NoPersonError
from valgus.runtime.camera_motion import CameraMotionTracker, person_box, small_gray
from valgus.runtime.estimator import PoseEstimator
from valgus.runtime.frame_stats import IMAGE_STATS_EVERY_N, frame_image_stats
from valgus.runtime.occluder import OccluderMeter
from valgus.runtime.picture import crop_box, find_active_picture, series_in_frame
from valgus.runtime.prefetch import prefetched
from valgus.runtime.video import check_input_limits, iter_frames, probe_video

# Decoded frames waiting for inference: enough to ride out decoding jitter, few enough that
# memory stays flat (a 1080p RGB frame is 6 MB).
PREFETCH_FRAMES = 4
ProgressFn = Callable[[int, int | None], None]


# A later segment's landmarker starts cold: it finds the person, then its tracking settles. It
# runs over this many seconds before the first frame it may hand over on. Measured on the sample
# clip (a split at 30 points 0.5 s apart): without warm-up a split changed one rep's band; with
# 0.25 s or more reps, legs and bands always matched the single pass, and a longer warm-up did
# not bring the FPPA closer (the tracker's path after any fresh start differs from the single
# pass by ~0.5 px, as does the single pass started one frame later: the two paths do not
# converge, measured over 8 s after 12 starts).
SEGMENT_WARMUP_S = 1.0
# Consecutive segments both track this many seconds around their nominal boundary; the clip is
# handed over from one to the next inside it, on a frame where the person stands
# (``handover_index``), so that no rep is made of two trackers' frames. Longer than one rep
# (2-4 s in the clips measured), so that it holds a moment of standing.
SEGMENT_OVERLAP_S = 4.0
# A segment keeping less of the clip than this does not pay for its warm-up and for loading its
# landmarkers (~0.15 s of one core).
MIN_SEGMENT_S = 4.0
# Hand-over frames: within this many degrees of the overlap's least knee flexion (both legs),
# the frame where the two trackers agree best.
HANDOVER_STANDING_TOLERANCE_DEG = 5.0


@dataclass(frozen=True)
class Segment:
    """A part of a clip tracked by a landmarker of its own, in s from the first frame.

    Frames with ``start_s <= t < end_s`` are kept (``end_s`` None = to the end); tracking begins
    ``warmup_s`` before ``start_s``. Consecutive segments may overlap: the clip is then handed
    over from one to the next inside the overlap (``handover_index``).
    """

    start_s: float
    end_s: float | None
    warmup_s: float = 0.0


def plan_segments(
    duration_s: float | None,
    n: int,
    warmup_s: float = SEGMENT_WARMUP_S,
    min_segment_s: float = MIN_SEGMENT_S,
    overlap_s: float = SEGMENT_OVERLAP_S,
) -> list[Segment]:
    """Split a clip of ``duration_s`` seconds into at most ``n`` segments of equal work.

    Consecutive segments both keep ``overlap_s`` seconds around their nominal boundary, and every
    segment but the first also tracks ``warmup_s`` before its first kept frame; the work of a
    segment is the seconds it tracks, and all get the same. Fewer segments where one would keep
    less than ``min_segment_s`` beyond the overlaps; one (the whole clip) where the duration is
    unknown or ``n`` < 2.
    """
    if duration_s is None or not duration_s > 0 or n < 2:
        return [Segment(0.0, None)]
    cost_s = overlap_s + warmup_s  # what each boundary adds to the work
    n = max(1, min(n, int((duration_s - cost_s) // min_segment_s)))
    if n == 1:
        return [Segment(0.0, None)]
    # n segments of work w: duration + (n - 1) * (overlap + warmup) = n * w. The first ends
    # half an overlap after its boundary b1 = w - overlap / 2; between two boundaries lie
    # w - overlap - warmup seconds.
    work_s = (duration_s + (n - 1) * cost_s) / n
    half = overlap_s / 2
    bounds = [work_s - half + i * (work_s - cost_s) for i in range(n - 1)]
    starts = [0.0] + [b - half for b in bounds]
    ends: list[float | None] = [b + half for b in bounds] + [None]
    return [
        Segment(starts[i], ends[i], warmup_s if i else 0.0) for i in range(n)
    ]


def handover_index(
    earlier: PoseSeries,
    later: PoseSeries,
    tolerance_deg: float = HANDOVER_STANDING_TOLERANCE_DEG,
) -> int:
    """Where ``later`` takes over from ``earlier``: an index into ``later`` (its frames from it
    on are kept, ``earlier``'s before its time).

    The two series track the same frames over their overlap (``later`` starts inside
    ``earlier``). Among the overlap's frames where both see the person, those within
    ``tolerance_deg`` of the least knee flexion of both legs together (the sum; each from the
    shortening of the hip-ankle line against its longest in the overlap, on the mean of the two
    trackers' landmarks) count as standing;
    of them, the one where the two trackers' hips, knees and ankles agree best (largest distance,
    px). 0 where they share no frame with the person seen. Raises ValueError if ``later`` starts
    before ``earlier`` or their overlapping times differ.
    """
    if len(later) == 0 or len(earlier) == 0:
        return 0
    a = earlier.between(float(later.t_s[0]))
    if len(a) == 0:
        return 0
    if (
        later.t_s[0] < earlier.t_s[0]
        or len(later) < len(a)
        or not np.allclose(a.t_s, later.t_s[: len(a)], rtol=0.0, atol=1e-6)
    ):
        raise ValueError(
            "the later track must start inside the earlier one, on the same frames, and end "
            "after it"
        )
    b = later[: len(a)]
    both = a.detected & b.detected
    if not both.any():
        return 0
    legs = [hip_ankle_length_px(0.5 * (a.xy_px + b.xy_px).astype(np.float64), s)
            for s in lm.SIDES]
    with np.errstate(invalid="ignore"):
        flexion = np.sum(
            [flexion_from_shortening_deg(length, np.nanmax(length[both])) for length in legs],
            axis=0,
        )
    standing = both & (flexion <= np.nanmin(flexion[both]) + tolerance_deg)
    joints = list(LEG_JOINTS)
    apart = np.linalg.norm(a.xy_px[:, joints] - b.xy_px[:, joints], axis=-1).max(axis=1)
    return int(np.argmin(np.where(standing, apart, np.inf)))


def join_tracks(parts: Sequence[PoseSeries], source: str | None = None) -> PoseSeries:
    """Consecutive, possibly overlapping tracks of one clip joined into one series, each handing
    over to the next at ``handover_index``. ValueError as ``handover_index`` and
    ``PoseSeries.concat``."""
    kept = [p for p in parts if len(p)]
    if not kept:
        return PoseSeries.concat(parts, source)
    pieces = [kept[0]]
    for later in kept[1:]:
        k = handover_index(pieces[-1], later)
        later = later[k:]
        if len(later):
            pieces[-1] = pieces[-1].between(float(pieces[-1].t_s[0]), float(later.t_s[0]))
        pieces.append(later)
    return PoseSeries.concat(pieces, source)


def set_aside_other_person(series: PoseSeries, cfg: QualityConfig | None = None) -> PoseSeries:
    """``series`` with the frames of anyone but the person under test set aside: landmarks
    missing and ``other_person`` True where ``trust.other_person_frames`` finds another body (a
    tracker that stayed on someone else, e.g. a segment that started on them, or an estimator
    without the lock)."""
    other = other_person_frames(series, cfg or QualityConfig())
    if not other.any():
        return series
    return dataclasses.replace(series.without(other), other_person=other)


def usable_cores() -> int:
    """CPU cores this process may run on (affinity and container limits via sched_getaffinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class _Track:
    """Per-frame output of one segment (lists, stacked once the whole clip is done)."""

    t_s: list[float] = field(default_factory=list)
    xy: list[np.ndarray] = field(default_factory=list)
    world: list[np.ndarray] = field(default_factory=list)
    vis: list[np.ndarray] = field(default_factory=list)
    people: list[int] = field(default_factory=list)
    other: list[bool] = field(default_factory=list)
    seen: list[np.ndarray] = field(default_factory=list)
    still: list[np.ndarray] = field(default_factory=list)
    brightness: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    motion: list[np.ndarray] = field(default_factory=list)
    size: tuple[int, int] | None = None
    error: BaseException | None = None

    def series(self, source: str) -> PoseSeries:
        """The frames kept so far (at least one) as a series."""
        return PoseSeries(
            t_s=np.asarray(self.t_s),
            xy_px=np.stack(self.xy),
            world_m=np.stack(self.world),
            visibility=np.stack(self.vis),
            image_size=self.size or (0, 0),
            n_people=np.asarray(self.people, np.int16),
            source=source,
            brightness=np.asarray(self.brightness, np.float32),
            sharpness=np.asarray(self.sharpness, np.float32),
            other_person=np.asarray(self.other, bool),
            leg_seen=np.asarray(self.seen, np.float32).reshape(-1, 2),
            camera_motion=np.asarray(self.motion, np.float32).reshape(-1, 4),
            leg_still=np.asarray(self.still, np.float32).reshape(-1, 2),
        )


class _Stopped(Exception):
    """Another segment failed: this one stops at its next frame."""


_MISSING_XY = np.full((lm.NUM_LANDMARKS, 2), np.nan, np.float32)
_MISSING_WORLD = np.full((lm.NUM_LANDMARKS, 3), np.nan, np.float32)
_MISSING_VIS = np.zeros(lm.NUM_LANDMARKS, np.float32)
_UNSEEN = np.full(2, np.nan, np.float32)


def _track_segment(
    video_path: str | Path,
    estimator: PoseEstimator,
    segment: Segment,
    side_px: int,
    limits: InputLimits,
    track: _Track,
    stop: threading.Event,
    on_frame: Callable[[], None],
    crop: tuple[int, int, int, int] | None = None,
) -> None:
    """Run ``estimator`` over one segment of the clip, appending to ``track``.

    The segment that starts the clip raises ``NoPersonError`` once ``limits.no_person_stop_s``
    have passed without anyone found (an empty or black clip answers at once)."""
    frames = iter_frames(
        video_path,
        max_side_px=side_px,
        max_duration_s=limits.max_duration_s,
        start_s=max(0.0, segment.start_s - segment.warmup_s),
        end_s=segment.end_s,
        max_fps=limits.max_fps,
        crop=crop,
    )
    searching = segment.start_s == 0.0  # nobody found yet since the clip's start

    def with_image_stats() -> Iterator[
        tuple[float, np.ndarray, tuple[float, float] | None, np.ndarray]
    ]:
        """The frames, with light and blur on every few kept frames (they change slowly; ~1 ms
        a frame, spent here in the decoding thread rather than the model's), and every frame's
        small luma for the camera's motion."""
        kept = 0
        try:
            for t_s, rgb in frames:
                stats = None  # warm-up frame: nothing is kept
                if t_s >= segment.start_s:
                    stats = (
                        frame_image_stats(rgb) if kept % IMAGE_STATS_EVERY_N == 0
                        else (math.nan, math.nan)
                    )
                    kept += 1
                yield t_s, rgb, stats, small_gray(rgb)
        finally:
            if isinstance(frames, Generator):
                frames.close()  # closes the file now, also when the consumer stops early

    camera = CameraMotionTracker()  # warm-up frames included: the first kept one has a step
    occluder = OccluderMeter()  # likewise: a kept frame compares with earlier ones
    with estimator:
        # Decoding runs a few frames ahead in a background thread so that it overlaps with
        # inference (both release the GIL).
        for t_s, rgb, stats, gray in prefetched(with_image_stats(), depth=PREFETCH_FRAMES):
            if stop.is_set():
                raise _Stopped
            pose = estimator.estimate(rgb, t_s)
            if pose is not None and not pose.other_person:
                searching = False
            elif searching and t_s >= limits.no_person_stop_s:
                raise NoPersonError(
                    f"nobody was found in the first {limits.no_person_stop_s:.0f} s of the video; "
                    "film with your whole body in the picture and good light, and trim the "
                    "video to the squats"
                )
            # The camera's step from the background, the person (this frame's landmarks and the
            # previous frame's) masked out.
            step = camera.step(
                gray, person_box(None if pose is None else pose.xy_px, rgb.shape[1::-1])
            )
            still = occluder.step(
                rgb, t_s, None if pose is None or pose.other_person else pose.xy_px
            )
            if stats is None:
                continue  # warm-up: tracking settles, nothing is kept
            track.size = (rgb.shape[1], rgb.shape[0])
            track.brightness.append(stats[0])
            track.sharpness.append(stats[1])
            track.t_s.append(t_s)
            track.motion.append(step)
            track.still.append(still)
            if pose is None:
                track.xy.append(_MISSING_XY)
                track.world.append(_MISSING_WORLD)
                track.vis.append(_MISSING_VIS)
                track.people.append(0)
                track.other.append(False)
                track.seen.append(_UNSEEN)
            else:
                track.xy.append(pose.xy_px)
                track.world.append(pose.world_m)
                track.vis.append(pose.visibility)
                track.people.append(pose.n_people)
                track.other.append(pose.other_person)
                track.seen.append(_UNSEEN if pose.leg_seen is None else pose.leg_seen)
            on_frame()


def estimate_poses(
    video_path: str | Path,
    estimator: PoseEstimator | Sequence[PoseEstimator],
    progress: ProgressFn | None = None,
    max_side_px: int | None = None,
    limits: InputLimits | None = None,
    overlap_s: float = SEGMENT_OVERLAP_S,
) -> PoseSeries:
    """Run the pose estimator over every frame of a video (streamed) and collect a ``PoseSeries``.

    ``estimator``: one estimator tracks the whole clip in one pass. Several (fresh, unopened)
    estimators split a long enough clip into that many segments (``plan_segments``) tracked at
    once in threads, each by its own estimator; both the model and the decoder release the GIL,
    so n estimators use n cores. Consecutive segments both track ``overlap_s`` seconds around
    their boundary, and the clip is handed over from one to the next where the person stands
    (``join_tracks``). A later segment's landmarker starts cold, so its tracking path differs
    from a single pass's by the model's own path-to-path spread (~0.5 px; the same as starting
    the single pass a frame later: see README "Speed"). Estimators a clip does not need are never
    opened.

    ``progress(done_frames, total_frames_or_None)`` is called every few frames, from the
    calling thread (frames tracked twice in an overlap count twice, up to the total).
    ``limits`` (default ``InputLimits()``): file size and stated duration are checked before the
    model loads, the duration again on the frames' timestamps (``InputTooLargeError``); frames
    are downscaled to a longer side of ``max_side_px`` px if given, else
    ``limits.max_side_px``, so the series' pixel coordinates are in the downscaled frame.
    """
    limits = limits or InputLimits()
    estimators = [estimator] if not isinstance(estimator, Sequence) else list(estimator)
    if not estimators:
        raise ValueError("estimate_poses needs at least one estimator")
    info = probe_video(video_path)
    check_input_limits(info, limits)
    side_px = max_side_px if max_side_px is not None else limits.max_side_px
    # Static bars around the picture are left out of tracking and every check; the landmarks
    # are mapped back into the whole frame below (``runtime.picture``).
    picture = find_active_picture(video_path, info)
    segments = plan_segments(info.duration_s, len(estimators), overlap_s=overlap_s)
    tracks = [_Track() for _ in segments]
    done = [0] * len(segments)  # frames kept per segment; each entry has one writer
    stop = threading.Event()

    def report() -> None:
        if progress is not None:
            total = info.frames_to_analyse(limits.max_fps)
            progress(sum(done) if total is None else min(sum(done), total), total)

    def counter(i: int) -> Callable[[], None]:
        def on_frame() -> None:
            done[i] += 1
            if i == 0 and done[0] % 10 == 0:
                report()  # from the calling thread only (GUI toolkits want that)

        return on_frame

    def run(i: int) -> None:
        try:
            _track_segment(
                video_path, estimators[i], segments[i], side_px, limits, tracks[i], stop,
                counter(i), crop_box(picture),
            )
        except BaseException as error:  # re-raised in the calling thread below
            tracks[i].error = error
            stop.set()

    workers = [
        threading.Thread(target=run, args=(i,), name=f"valgus-segment-{i}", daemon=True)
        for i in range(1, len(segments))
    ]
    for worker in workers:
        worker.start()
    try:
        run(0)
        if tracks[0].error is None:
            for worker in workers:
                while worker.is_alive():
                    # Keeps the progress moving while later segments finish.
                    worker.join(timeout=0.25)
                    report()
    finally:
        # Normally every segment is done here; after an error or an interrupt the others stop
        # at their next frame.
        stop.set()
        for worker in workers:
            worker.join()
    # The first failure in clip order is the one a single pass would have met first.
    for track in tracks:
        if track.error is not None and not isinstance(track.error, _Stopped):
            raise track.error
    source = Path(video_path).name
    if sum(done) == 0:
        series = PoseSeries.empty((info.width, info.height), source=str(video_path))
    else:
        series = join_tracks([t.series(source) for t in tracks if t.t_s])
        series = series_in_frame(series, picture, side_px)
        series = set_aside_other_person(series)
    if progress is not None:
        progress(len(series), len(series))
    return series
