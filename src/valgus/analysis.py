"""From a pose series to per-rep scores and per-leg verdicts (pure), and from a video file to a
pose series (through a ``PoseEstimator``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
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


def estimate_poses(
    video_path: str | Path,
    estimator: PoseEstimator,
    progress: ProgressFn | None = None,
    max_side_px: int | None = None,
    limits: InputLimits | None = None,
) -> PoseSeries:
    """Run ``estimator`` over every frame of a video (streamed) and collect a ``PoseSeries``.

    ``progress(done_frames, total_frames_or_None)`` is called every few frames.
    ``limits`` (default ``InputLimits()``): file size and stated duration are checked before the
    model loads, the duration again on the frames' timestamps (``InputTooLargeError``); frames
    are downscaled to a longer side of ``max_side_px`` px if given, else
    ``limits.max_side_px``, so the series' pixel coordinates are in the downscaled frame.
    """
    limits = limits or InputLimits()
    info = probe_video(video_path)
    check_input_limits(info, limits)
    side_px = max_side_px if max_side_px is not None else limits.max_side_px
    t_list: list[float] = []
    xy: list[np.ndarray] = []
    world: list[np.ndarray] = []
    vis: list[np.ndarray] = []
    people: list[int] = []
    brightness: list[float] = []
    sharpness: list[float] = []
    size = (info.width, info.height)
    missing_xy = np.full((lm.NUM_LANDMARKS, 2), np.nan, np.float32)
    missing_world = np.full((lm.NUM_LANDMARKS, 3), np.nan, np.float32)
    missing_vis = np.zeros(lm.NUM_LANDMARKS, np.float32)
    with estimator:
        # Decoding runs a few frames ahead in a background thread so that it overlaps with
        # inference (both release the GIL): the two cores work at once.
        frames = iter_frames(video_path, max_side_px=side_px, max_duration_s=limits.max_duration_s)
        for t_s, rgb in prefetched(frames, depth=PREFETCH_FRAMES):
            size = (rgb.shape[1], rgb.shape[0])
            pose = estimator.estimate(rgb, t_s)
            # Light and blur change slowly; every few frames is enough and costs ~1 ms.
            stats = (
                frame_image_stats(rgb) if len(t_list) % IMAGE_STATS_EVERY_N == 0
                else (math.nan, math.nan)
            )
            brightness.append(stats[0])
            sharpness.append(stats[1])
            t_list.append(t_s)
            if pose is None:
                xy.append(missing_xy)
                world.append(missing_world)
                vis.append(missing_vis)
                people.append(0)
            else:
                xy.append(pose.xy_px)
                world.append(pose.world_m)
                vis.append(pose.visibility)
                people.append(pose.n_people)
            if progress is not None and len(t_list) % 10 == 0:
                progress(len(t_list), info.frame_count_estimate)
    if progress is not None:
        progress(len(t_list), len(t_list))
    if not t_list:
        return PoseSeries.empty(size, source=str(video_path))
    return PoseSeries(
        t_s=np.asarray(t_list),
        xy_px=np.stack(xy),
        world_m=np.stack(world),
        visibility=np.stack(vis),
        image_size=size,
        n_people=np.asarray(people, np.int16),
        source=Path(video_path).name,
        brightness=np.asarray(brightness, np.float32),
        sharpness=np.asarray(sharpness, np.float32),
    )
