"""From a pose series to per-rep scores and per-leg verdicts (pure), and from a video file to a
pose series (through a ``PoseEstimator``)."""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valgus import __version__
from valgus import landmarks as lm
from valgus.config import AnalysisConfig, InputLimits
from valgus.errors import NoPersonError
from valgus.estimator import PoseEstimator
from valgus.kinematics import Kinematics, compute_kinematics
from valgus.landmarks import SIDES, Side
from valgus.pose import PoseSeries
from valgus.prefetch import prefetched
from valgus.quality import (
    QualityIssue,
    assess_quality,
    frame_image_stats,
    glitch_frames,
    landmark_trust,
    without_frames,
    yaw_guidance,
)
from valgus.reps import detect_reps
from valgus.scoring import LegVerdict, RepScore, Symmetry, all_leg_verdicts, score_rep, symmetry
from valgus.video import check_input_limits, iter_frames, probe_video

SCHEMA = "valgus.analysis/1"
IMAGE_STATS_EVERY_N = 5
# Decoded frames waiting for inference: enough to ride out decoding jitter, few enough that
# memory stays flat (a 1080p RGB frame is 6 MB).
PREFETCH_FRAMES = 4
ExerciseLabel = Literal["single_leg", "double_leg", "unknown"]
LegChoice = Literal["auto", "left", "right"]

# Quality issue codes of a video whose rotation is wrong (quality.assess_quality).
ROTATED_VIDEO_CODES = frozenset({"sideways", "upside_down"})
ROTATED_VIEW_GUIDANCE = (
    "Whether the camera is in front of you can be judged once the video is upright."
)
FILMING_GUIDANCE = (
    "Place the camera straight in front of you at knee-to-hip height, 2-4 m away, "
    "with your whole body from head to feet in the picture, and face it squarely."
)


@dataclass(frozen=True)
class ViewAssessment:
    """Whether the camera looked at the person from the front.

    ``median_yaw_deg``: how far the body was turned from the camera (0 = square, 90 = side on).
    ``frontal_fraction``: share of frames with a person whose yaw was within the limit.
    """

    frontal: bool
    median_yaw_deg: float | None
    frontal_fraction: float
    guidance: tuple[str, ...]


def assess_view(kin: Kinematics, cfg: AnalysisConfig) -> ViewAssessment:
    signed = kin.yaw_deg[kin.detected]
    signed = signed[np.isfinite(signed)]
    if signed.size == 0:
        return ViewAssessment(False, None, 0.0, ("No person was found. " + FILMING_GUIDANCE,))
    yaw = np.abs(signed)
    frac = float(np.mean(yaw <= cfg.view.max_yaw_deg))
    median = float(np.median(yaw))
    frontal = frac >= cfg.view.min_frontal_fraction
    guidance: tuple[str, ...] = ()
    if not frontal:
        turned = signed[yaw > cfg.view.max_yaw_deg]
        guidance = (
            f"Camera not in front of you: your body is turned about "
            f"{np.median(np.abs(turned)):.0f} deg away from it in {100 * (1 - frac):.0f}% of "
            "the video, so knee valgus cannot be measured from this view. "
            + yaw_guidance(float(np.median(turned)))
            + " "
            + FILMING_GUIDANCE,
        )
    return ViewAssessment(frontal, median, frac, guidance)


@dataclass(frozen=True)
class AnalysisResult:
    """Everything valgus concludes about one clip. Times in seconds, angles in degrees."""

    source: str
    duration_s: float
    n_frames: int
    detection_fraction: float
    view: ViewAssessment
    quality: tuple[QualityIssue, ...]
    exercise: ExerciseLabel
    reps: tuple[RepScore, ...]
    legs: dict[Side, LegVerdict]
    symmetry: Symmetry | None
    config: AnalysisConfig
    leg_choice: LegChoice = "auto"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (schema ``valgus.analysis/1``)."""

        def clean(x: Any) -> Any:
            if isinstance(x, float):
                return round(x, 3) if math.isfinite(x) else None
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list | tuple):
                return [clean(v) for v in x]
            return x

        return clean(
            {
                "schema": SCHEMA,
                "valgus_version": __version__,
                "source": self.source,
                "duration_s": self.duration_s,
                "n_frames": self.n_frames,
                "detection_fraction": self.detection_fraction,
                "leg_choice": self.leg_choice,
                "view": dataclasses.asdict(self.view),
                "quality": [dataclasses.asdict(q) for q in self.quality],
                "exercise": self.exercise,
                "reps": [
                    {"index": n + 1, **dataclasses.asdict(r)} for n, r in enumerate(self.reps)
                ],
                "legs": {s: dataclasses.asdict(v) for s, v in self.legs.items()},
                "symmetry": dataclasses.asdict(self.symmetry) if self.symmetry else None,
                "thresholds": {
                    "sex": self.config.sex,
                    "excessive_fppa_deg": self.config.valgus.threshold_deg(self.config.sex),
                    "borderline_margin_deg": self.config.valgus.borderline_margin_deg,
                    "required_reps": self.config.clearance.required_reps,
                },
                "config": dataclasses.asdict(self.config),
            }
        )


def _exercise(reps: list[RepScore]) -> ExerciseLabel:
    kinds = [r.exercise for r in reps if r.complete] or [r.exercise for r in reps]
    if not kinds:
        return "unknown"
    single = kinds.count("single_leg")
    return "single_leg" if single >= len(kinds) - single else "double_leg"


@dataclass(frozen=True)
class ScoringContext:
    """What scoring a rep needs besides the rep: shared by recorded clips and the live page.

    kin: kinematics with estimator glitches dropped before smoothing. trusted: (T,) bool per
    frame (``quality.landmark_trust``). quality: the clip checks. blockers: the messages of the
    blocking ones, which make every rep not measurable.
    """

    kin: Kinematics
    view: ViewAssessment
    quality: tuple[QualityIssue, ...]
    trusted: np.ndarray

    @property
    def blockers(self) -> tuple[str, ...]:
        return tuple(q.message for q in self.quality if q.blocking)


def prepare_scoring(series: PoseSeries, cfg: AnalysisConfig) -> ScoringContext:
    """Landmark trust, clip checks, kinematics and view of a series, ready for ``score_rep``."""
    trusted = landmark_trust(series, cfg.quality)
    quality = assess_quality(series, trusted, cfg.quality)
    # Glitch frames are dropped before smoothing (and bridged like any short gap), so that a
    # one-frame jump does not leak into its neighbours.
    kin = compute_kinematics(
        without_frames(series, glitch_frames(series, cfg.quality)),
        cfg.smoothing,
        cfg.kinematics.standing_window_s,
    )
    view = assess_view(kin, cfg)
    if any(q.code in ROTATED_VIDEO_CODES for q in quality):
        # The body turn is read from 3D landmarks the model fits as if the person stood upright
        # in the picture: the demo clip turned 90 deg reads 85 deg side-on, with advice to turn
        # round. The fix is to rotate the video (the blocking issue says so); until then the
        # view is unknown.
        view = ViewAssessment(False, None, 0.0, (ROTATED_VIEW_GUIDANCE,))
    return ScoringContext(kin, view, tuple(quality), trusted)


def analyze_series(
    series: PoseSeries, cfg: AnalysisConfig | None = None, leg: LegChoice = "auto"
) -> tuple[AnalysisResult, Kinematics]:
    """Kinematics, reps, per-rep scores and verdicts of one pose series."""
    cfg = cfg or AnalysisConfig()
    n = len(series)
    detected = float(np.mean(series.detected)) if n else 0.0
    if n == 0 or detected < cfg.view.min_detection_fraction:
        raise NoPersonError(
            f"a person was found in only {100 * detected:.0f}% of the frames; "
            "film with your whole body in the picture and good light"
        )
    ctx = prepare_scoring(series, cfg)
    kin, view, quality, trusted, blockers = (
        ctx.kin, ctx.view, ctx.quality, ctx.trusted, ctx.blockers
    )
    candidates = detect_reps(
        kin.t_s,
        {s: kin.leg(s).flexion_deg for s in SIDES},
        {s: kin.leg(s).foot_xy_px for s in SIDES},
        kin.mid_hip_y_px,
        cfg.reps,
        cfg.stance,
        max_gap_s=max(cfg.smoothing.max_gap_s, 0.5),
        force_leg=None if leg == "auto" else leg,
    )
    reps = [score_rep(c, kin, cfg, view.frontal, trusted, blockers) for c in candidates]
    exercise = _exercise(reps)
    why_not = ""
    assessable = True
    # Clip-wide blockers first: they say why nothing in the clip can be scored (for a rotated
    # video, that is the rotation, not the view).
    if blockers:
        assessable, why_not = False, "the video cannot be scored: " + "; ".join(blockers)
    elif not view.frontal:
        assessable, why_not = False, "camera not in front of you"
    elif exercise == "double_leg":
        assessable, why_not = False, "this is a double-leg squat; the test is a single-leg squat"
    legs = all_leg_verdicts(reps, cfg, assessable, why_not)
    result = AnalysisResult(
        source=series.source,
        duration_s=float(series.t_s[-1] - series.t_s[0]) if n > 1 else 0.0,
        n_frames=n,
        detection_fraction=detected,
        view=view,
        quality=quality,
        exercise=exercise,
        reps=tuple(reps),
        legs=legs,
        symmetry=symmetry(legs["left"], legs["right"], cfg),
        config=cfg,
        leg_choice=leg,
    )
    return result, kin


ProgressFn = Callable[[int, int | None], None]

# A later segment's landmarker starts cold: it finds the person, then its tracking settles. It
# runs over this many seconds before the segment's first kept frame. Measured on the sample clip
# (a split at 30 points 0.5 s apart): without warm-up a split changed one rep's band; with
# 0.25 s or more reps, legs and bands always matched the single pass, and a longer warm-up did
# not bring the FPPA closer (the tracker's path after any fresh start differs from the single
# pass by ~0.5 px, as does the single pass started one frame later).
SEGMENT_WARMUP_S = 1.0
# A segment keeping less of the clip than this does not pay for its warm-up and for loading its
# landmarkers (~0.15 s of one core).
MIN_SEGMENT_S = 4.0


@dataclass(frozen=True)
class Segment:
    """A part of a clip tracked by a landmarker of its own, in s from the first frame.

    Frames with ``start_s <= t < end_s`` are kept (``end_s`` None = to the end); tracking begins
    ``warmup_s`` before ``start_s``.
    """

    start_s: float
    end_s: float | None
    warmup_s: float = 0.0


def plan_segments(
    duration_s: float | None,
    n: int,
    warmup_s: float = SEGMENT_WARMUP_S,
    min_segment_s: float = MIN_SEGMENT_S,
) -> list[Segment]:
    """Split a clip of ``duration_s`` seconds into at most ``n`` segments of equal work.

    Every segment but the first also tracks ``warmup_s`` before its start, so it keeps that much
    less of the clip. Fewer segments where one would keep less than ``min_segment_s``; one (the
    whole clip) where the duration is unknown.
    """
    if duration_s is None or not duration_s > 0 or n < 2:
        return [Segment(0.0, None)]
    # With n segments each later one keeps (duration_s - warmup_s) / n seconds.
    n = max(1, min(n, int((duration_s - warmup_s) // min_segment_s)))
    if n == 1:
        return [Segment(0.0, None)]
    # n segments of work w each: the first holds w seconds of clip, the others w - warmup_s.
    work_s = (duration_s + (n - 1) * warmup_s) / n
    bounds = [0.0, work_s]
    for _ in range(n - 2):
        bounds.append(bounds[-1] + work_s - warmup_s)
    return [
        Segment(bounds[i], bounds[i + 1] if i + 1 < len(bounds) else None, warmup_s if i else 0.0)
        for i in range(n)
    ]


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
    brightness: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    size: tuple[int, int] | None = None
    error: BaseException | None = None


class _Stopped(Exception):
    """Another segment failed: this one stops at its next frame."""


_MISSING_XY = np.full((lm.NUM_LANDMARKS, 2), np.nan, np.float32)
_MISSING_WORLD = np.full((lm.NUM_LANDMARKS, 3), np.nan, np.float32)
_MISSING_VIS = np.zeros(lm.NUM_LANDMARKS, np.float32)


def _track_segment(
    video_path: str | Path,
    estimator: PoseEstimator,
    segment: Segment,
    side_px: int,
    max_duration_s: float,
    track: _Track,
    stop: threading.Event,
    on_frame: Callable[[], None],
) -> None:
    """Run ``estimator`` over one segment of the clip, appending to ``track``."""
    frames = iter_frames(
        video_path,
        max_side_px=side_px,
        max_duration_s=max_duration_s,
        start_s=max(0.0, segment.start_s - segment.warmup_s),
        end_s=segment.end_s,
    )

    def with_image_stats() -> Iterator[tuple[float, np.ndarray, tuple[float, float] | None]]:
        """The frames, with light and blur on every few kept frames (they change slowly; ~1 ms
        a frame, spent here in the decoding thread rather than the model's)."""
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
                yield t_s, rgb, stats
        finally:
            frames.close()  # closes the file now, also when the consumer stops early

    with estimator:
        # Decoding runs a few frames ahead in a background thread so that it overlaps with
        # inference (both release the GIL).
        for t_s, rgb, stats in prefetched(with_image_stats(), depth=PREFETCH_FRAMES):
            if stop.is_set():
                raise _Stopped
            pose = estimator.estimate(rgb, t_s)
            if stats is None:
                continue  # warm-up: tracking settles, nothing is kept
            track.size = (rgb.shape[1], rgb.shape[0])
            track.brightness.append(stats[0])
            track.sharpness.append(stats[1])
            track.t_s.append(t_s)
            if pose is None:
                track.xy.append(_MISSING_XY)
                track.world.append(_MISSING_WORLD)
                track.vis.append(_MISSING_VIS)
                track.people.append(0)
            else:
                track.xy.append(pose.xy_px)
                track.world.append(pose.world_m)
                track.vis.append(pose.visibility)
                track.people.append(pose.n_people)
            on_frame()


def estimate_poses(
    video_path: str | Path,
    estimator: PoseEstimator | Sequence[PoseEstimator],
    progress: ProgressFn | None = None,
    max_side_px: int | None = None,
    limits: InputLimits | None = None,
) -> PoseSeries:
    """Run the pose estimator over every frame of a video (streamed) and collect a ``PoseSeries``.

    ``estimator``: one estimator tracks the whole clip in one pass. Several (fresh, unopened)
    estimators split a long enough clip into that many segments (``plan_segments``) tracked at
    once in threads, each by its own estimator; both the model and the decoder release the GIL,
    so n estimators use n cores. A later segment's landmarker starts cold, so its tracking path
    differs from a single pass's by the model's own path-to-path spread (~0.5 px; the same as
    starting the single pass a frame later: see README "Speed"). Estimators a clip does not need
    are never opened.

    ``progress(done_frames, total_frames_or_None)`` is called every few frames, from the
    calling thread.
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
    segments = plan_segments(info.duration_s, len(estimators))
    tracks = [_Track() for _ in segments]
    done = [0] * len(segments)  # frames kept per segment; each entry has one writer
    stop = threading.Event()

    def report() -> None:
        if progress is not None:
            progress(sum(done), info.frame_count_estimate)

    def counter(i: int) -> Callable[[], None]:
        def on_frame() -> None:
            done[i] += 1
            if i == 0 and done[0] % 10 == 0:
                report()  # from the calling thread only (GUI toolkits want that)

        return on_frame

    def run(i: int) -> None:
        try:
            _track_segment(
                video_path, estimators[i], segments[i], side_px, limits.max_duration_s,
                tracks[i], stop, counter(i),
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
    n = sum(done)
    if progress is not None:
        progress(n, n)
    source = Path(video_path).name
    if n == 0:
        return PoseSeries.empty((info.width, info.height), source=str(video_path))
    kept = [t for t in tracks if t.t_s]
    return PoseSeries(
        t_s=np.asarray([x for t in kept for x in t.t_s]),
        xy_px=np.stack([x for t in kept for x in t.xy]),
        world_m=np.stack([x for t in kept for x in t.world]),
        visibility=np.stack([x for t in kept for x in t.vis]),
        image_size=kept[0].size or (info.width, info.height),
        n_people=np.asarray([x for t in kept for x in t.people], np.int16),
        source=source,
        brightness=np.asarray([x for t in kept for x in t.brightness], np.float32),
        sharpness=np.asarray([x for t in kept for x in t.sharpness], np.float32),
    )
