"""Every threshold valgus uses, in one package, each with its unit in its name and the reason for
its value. Sources are cited by author and year; see README "Clinical basis". The settings live in
``movement`` (smoothing, kinematics, reps, stance), ``checks`` (view, quality gate, input limits)
and ``clinical`` (valgus bands, pelvic drop, clearance); ``AnalysisConfig`` gathers them and this
package's face exports every one, so callers import from ``valgus.config``.

All configs are frozen dataclasses; change a value with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from valgus.config.checks import CameraMotionConfig, InputLimits, QualityConfig, ViewConfig
from valgus.config.clinical import (
    ClearanceConfig,
    FppaDefinition,
    PelvicDropConfig,
    ValgusThresholds,
)
from valgus.config.movement import KinematicsConfig, RepConfig, SmoothingConfig, StanceConfig
from valgus.config.sex import Sex

__all__ = [
    "AnalysisConfig",
    "CameraMotionConfig",
    "ClearanceConfig",
    "FppaDefinition",
    "InputLimits",
    "KinematicsConfig",
    "LiveConfig",
    "PelvicDropConfig",
    "QualityConfig",
    "RepConfig",
    "Sex",
    "SmoothingConfig",
    "StanceConfig",
    "ValgusThresholds",
    "ViewConfig",
]


@dataclass(frozen=True)
class AnalysisConfig:
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    kinematics: KinematicsConfig = field(default_factory=KinematicsConfig)
    reps: RepConfig = field(default_factory=RepConfig)
    stance: StanceConfig = field(default_factory=StanceConfig)
    view: ViewConfig = field(default_factory=ViewConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    valgus: ValgusThresholds = field(default_factory=ValgusThresholds)
    pelvic_drop: PelvicDropConfig = field(default_factory=PelvicDropConfig)
    clearance: ClearanceConfig = field(default_factory=ClearanceConfig)
    camera: CameraMotionConfig = field(default_factory=CameraMotionConfig)
    sex: Sex = "unspecified"



@dataclass(frozen=True)
class LiveConfig:
    """The live webcam self-test (valgus.live): the setup check before counting starts.

    Reps, stance, scoring and thresholds come from ``AnalysisConfig`` as for a recorded clip.
    """

    # Every setup check must hold this long without a break before counting starts, so that a
    # person walking through the picture does not start the test.
    setup_hold_s: float = 1.0
    # Body turn from the camera allowed at setup. MediaPipe reads 4-7 deg for a person standing
    # square to the camera (synthetic sample clip rendered with a square camera), so a stricter
    # limit could never be met; beyond 10 deg the turn is visible and shifts the FPPA of a knee
    # flexed 60 deg by over 11 deg (ViewConfig: 2 atan(tan(theta / 2) sin(psi))).
    setup_max_yaw_deg: float = 10.0
    # The body turn is judged on its median over this window: single-frame estimates jitter.
    setup_yaw_window_s: float = 0.5
    # Head, hips, knees, ankles, heels and toes must lie at least this fraction of the image size
    # inside its edges: MediaPipe extrapolates joints outside the picture rather than dropping them.
    setup_edge_margin_fraction: float = 0.02
    # Head to feet must span at least this fraction of the image height. A person 2-4 m from a
    # phone or webcam fills 50-90 %; below half, the knee is a few pixels of the model's 256 px
    # input and the FPPA error grows.
    setup_min_body_height_fraction: float = 0.5
    # Landmarks kept for scoring a rep when it ends: the longest rep accepted
    # (RepConfig.max_duration_s) plus context for the zero-phase filter and the view check.
    buffer_s: float = 40.0
    # After a rep ends its band and FPPA stay on the picture this long.
    rep_feedback_s: float = 2.5
    # Between reps the stance leg shown is found with the offline stance rule (StanceConfig) over
    # the last 2 s, but only while the hips travel at least this fraction of the image height:
    # standing still, foot and hip jitter are of the same size and the rule says nothing.
    stance_window_s: float = 2.0
    stance_min_hip_travel_fraction: float = 0.02
    # Webcam frames are resized to this longer side before anything else. WebRTC changes the
    # resolution mid-stream when the CPU or network is busy; landmarks in pixels (foot motion,
    # hip travel) and the kept clip need one fixed frame size. 640 px is a common webcam width
    # and more than the pose model's 256 px input.
    frame_max_side_px: int = 640
