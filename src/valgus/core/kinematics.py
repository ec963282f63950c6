"""Per-frame, per-leg knee kinematics from landmark arrays. Pure numpy.

Sign conventions come from anatomy, never from image x: "medial" for a leg is the direction from
its hip towards the other hip, so a left leg, a right leg and a mirrored selfie clip all read the
same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valgus import landmarks as lm
from valgus.config import KinematicsConfig, SmoothingConfig
from valgus.core.flexion import (
    StandingLengthTracker,
    body_scale_px,
    body_width_px,
    flexion_from_shortening_deg,
    hip_ankle_length_px,
    leg_tilt_deg,
    standing_leg_length_px,
    trunk_length_px,
)
from valgus.core.pose import PoseSeries, check_shape
from valgus.core.signal import fill_gaps, lowpass
from valgus.landmarks import Side

# Re-exported: the flexion reference lives in core/flexion.py.
__all__ = [
    "FEET", "LEG_JOINTS", "Kinematics", "LegSeries", "StandingLengthTracker", "body_axis_deg",
    "body_height_px", "body_scale_px", "body_width_px", "body_yaw_deg", "compute_kinematics",
    "flexion_from_shortening_deg", "fppa_deg", "hip_ankle_length_px", "knee_flexion_deg",
    "knee_medial_of_foot", "leg_series", "leg_tilt_deg", "pelvic_drop_deg",
    "smooth_landmarks", "standing_leg_length_px", "trunk_lean_deg", "trunk_length_px",
]

# Foot points (ankle, heel, toe of both feet) and the leg joints, as landmark indices.
FEET = (lm.LEFT_ANKLE, lm.RIGHT_ANKLE, lm.LEFT_HEEL, lm.RIGHT_HEEL,
        lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX)
LEG_JOINTS = (lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_KNEE, lm.RIGHT_KNEE,
              lm.LEFT_ANKLE, lm.RIGHT_ANKLE)


def body_height_px(xy_px: np.ndarray) -> np.ndarray:
    """(T,) image height of the body from the nose to the lowest foot point, y down.

    The nose sits ~10% of stature below the top of the head; the difference does not matter for
    the size checks this serves.
    """
    feet_y = xy_px[:, FEET, 1].max(axis=1)  # NaN where no person, as wanted
    return feet_y - xy_px[:, lm.NOSE, 1]


def body_axis_deg(xy_px: np.ndarray) -> np.ndarray:
    """(T,) angle of the feet -> nose axis from image "up", degrees in (-180, 180].

    0 = upright, +-90 = lying sideways in the image (rotation lost), 180 = upside down.
    """
    feet = np.nanmean(xy_px[:, (lm.LEFT_ANKLE, lm.RIGHT_ANKLE)], axis=1)
    axis = xy_px[:, lm.NOSE] - feet
    return np.degrees(np.arctan2(axis[:, 0], -axis[:, 1]))


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / norm


def _angle_between_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    cos = np.sum(_unit(u) * _unit(v), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def fppa_deg(
    hip_xy: np.ndarray, knee_xy: np.ndarray, ankle_xy: np.ndarray, other_hip_xy: np.ndarray
) -> np.ndarray:
    """Frontal plane projection angle of one leg, + = valgus.

    The angle between the thigh (hip -> knee) and the shank (knee -> ankle) in the image; positive
    when the knee lies medial to the hip-ankle line, medial meaning towards ``other_hip_xy``.

    Args:
        hip_xy, knee_xy, ankle_xy, other_hip_xy: (..., 2) image points, any consistent unit.
    Returns:
        (...) degrees; NaN where any point is missing.
    """
    thigh = knee_xy - hip_xy
    shank = ankle_xy - knee_xy
    magnitude = _angle_between_deg(thigh, shank)
    line = ankle_xy - hip_xy
    # Signed distance of the knee from the hip-ankle line, projected onto the medial direction.
    line_u = _unit(line)
    rel = knee_xy - hip_xy
    off_line = rel - np.sum(rel * line_u, axis=-1, keepdims=True) * line_u
    medial = other_hip_xy - hip_xy
    side = np.sign(np.sum(off_line * medial, axis=-1))
    return magnitude * side


def knee_flexion_deg(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """Knee flexion, 0 = straight leg: 180 minus the hip-knee-ankle angle.

    Args:
        hip, knee, ankle: (..., 3) world points in metres (or (..., 2) for a 2D estimate).
    Returns:
        (...) degrees.
    """
    return _angle_between_deg(knee - hip, ankle - knee)


def pelvic_drop_deg(stance_hip_xy: np.ndarray, free_hip_xy: np.ndarray) -> np.ndarray:
    """Tilt of the hip line, + = the free-side hip lower than the stance hip (contralateral drop).

    Args: (..., 2) image points, y down. Returns: (...) degrees from image horizontal.
    """
    d = free_hip_xy - stance_hip_xy
    return np.degrees(np.arctan2(d[..., 1], np.abs(d[..., 0])))


def trunk_lean_deg(
    stance_hip_xy: np.ndarray,
    free_hip_xy: np.ndarray,
    stance_shoulder_xy: np.ndarray,
    free_shoulder_xy: np.ndarray,
) -> np.ndarray:
    """Lateral trunk lean from image vertical, + = towards the stance side.

    Args: (..., 2) image points, y down. Returns: (...) degrees.
    """
    mid_hip = 0.5 * (stance_hip_xy + free_hip_xy)
    mid_shoulder = 0.5 * (stance_shoulder_xy + free_shoulder_xy)
    trunk = mid_shoulder - mid_hip
    towards_stance = np.sign(stance_hip_xy[..., 0] - free_hip_xy[..., 0])
    return np.degrees(np.arctan2(trunk[..., 0] * towards_stance, -trunk[..., 1]))


def knee_medial_of_foot(
    hip_xy: np.ndarray,
    knee_xy: np.ndarray,
    ankle_xy: np.ndarray,
    foot_xy: np.ndarray,
    other_hip_xy: np.ndarray,
) -> np.ndarray:
    """Horizontal knee position over the foot, + = knee medial to the foot, in leg lengths.

    The offset along the medial direction (towards the other hip) is divided by the hip-ankle
    distance so that it does not depend on how large the person is in the image.

    Args: (..., 2) image points. Returns: (...) dimensionless.
    """
    medial_u = _unit(other_hip_xy - hip_xy)
    leg_len = np.linalg.norm(ankle_xy - hip_xy, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum((knee_xy - foot_xy) * medial_u, axis=-1) / leg_len


def body_yaw_deg(world_m: np.ndarray) -> np.ndarray:
    """How far the body is turned from facing the camera, from hip and shoulder lines in 3D.

    0 = hips and shoulders square to the camera (front or back view); 90 = side view. Signed:
    + when the person's left side is farther from the camera than the right.

    Args: world_m: (T, 33, 3) metres, MediaPipe world axes (x right, y down, z away from camera).
    Returns: (T,) degrees in [-90, 90].
    """
    lines = [
        world_m[:, lm.LEFT_HIP] - world_m[:, lm.RIGHT_HIP],
        world_m[:, lm.LEFT_SHOULDER] - world_m[:, lm.RIGHT_SHOULDER],
    ]
    d = lines[0] + lines[1]
    yaw = np.degrees(np.arctan2(d[:, 2], d[:, 0]))
    # A back view has the left-right line reversed in x; fold it onto the front view.
    yaw = np.where(yaw > 90, yaw - 180, yaw)
    return np.where(yaw < -90, yaw + 180, yaw)


# The (T,) fields of a LegSeries (``foot_xy_px`` is (T, 2)).
_LEG_PER_FRAME = ("fppa_deg", "flexion_deg", "flexion_3d_deg", "pelvic_drop_deg",
                  "trunk_lean_deg", "knee_medial_of_foot", "thigh_len_px", "leg_len_px")


@dataclass(frozen=True)
class LegSeries:
    """Per-frame kinematics of one leg. All arrays (T,) float64; NaN where not measurable.

    fppa_deg: + = valgus.
    flexion_deg: knee flexion used for reps and depth, 0 = straight: from the shortening of the
        hip-ankle line in the image against the standing length when a standing reference is
        given (see ``flexion_from_shortening_deg``), else the 3D estimate.
    flexion_3d_deg: knee flexion from MediaPipe's 3D world landmarks. In frontal views it reads
        far too low (measured on the synthetic accuracy set: 80 deg true reads 41-57 deg).
    pelvic_drop_deg / trunk_lean_deg: as if this leg were the stance leg.
    knee_medial_of_foot: + = knee medial to the foot, leg lengths.
    thigh_len_px / leg_len_px: image lengths of hip-knee and hip-ankle.
    foot_xy_px: (T, 2) mean of ankle, heel and toe in the image.
    knee_xy_px / ankle_xy_px: (T, 2) the knee and ankle landmarks in the image (smoothed), for
        measures across both legs (``scoring.knee_ankle_separation_ratio``); None when not kept.
    fppa_keypoint_deg: (T,) the pose keypoints' FPPA where ``fppa_deg`` was put on another
        definition (``core.fppa.in_definition``); None when ``fppa_deg`` is the keypoint one.

    Raises ValueError naming the field, the expected and the actual shape when a field is not
    (T,) (or (T, 2)) with the T of ``fppa_deg``.
    """

    fppa_deg: np.ndarray
    flexion_deg: np.ndarray
    flexion_3d_deg: np.ndarray
    pelvic_drop_deg: np.ndarray
    trunk_lean_deg: np.ndarray
    knee_medial_of_foot: np.ndarray
    thigh_len_px: np.ndarray
    leg_len_px: np.ndarray
    foot_xy_px: np.ndarray
    knee_xy_px: np.ndarray | None = None
    ankle_xy_px: np.ndarray | None = None
    fppa_keypoint_deg: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_shape("fppa_deg", self.fppa_deg, (None,))
        if self.fppa_keypoint_deg is not None:
            check_shape("fppa_keypoint_deg", self.fppa_keypoint_deg, self.fppa_deg.shape)
        n = self.fppa_deg.shape[0]
        for name in _LEG_PER_FRAME:
            check_shape(name, getattr(self, name), (n,))
        check_shape("foot_xy_px", self.foot_xy_px, (n, 2))
        for name in ("knee_xy_px", "ankle_xy_px"):
            if getattr(self, name) is not None:
                check_shape(name, getattr(self, name), (n, 2))

    def __len__(self) -> int:
        return int(self.fppa_deg.shape[0])


@dataclass(frozen=True)
class Kinematics:
    """Smoothed kinematics of a whole clip.

    t_s: (T,) seconds. yaw_deg: (T,) body turn from the camera (see ``body_yaw_deg``).
    mid_hip_y_px: (T,) image height of the point between the hips, y down.
    detected: (T,) bool, a person was found in the frame.
    left / right: ``LegSeries`` of T frames each. Raises ValueError naming the field, the
    expected and the actual shape when any of them has another number of frames than ``t_s``.
    """

    t_s: np.ndarray
    left: LegSeries
    right: LegSeries
    yaw_deg: np.ndarray
    mid_hip_y_px: np.ndarray
    detected: np.ndarray
    # (T,) px: image x of the point between the hips and the hips' distance (the stance check's
    # weight-shift cue); None when not computed.
    mid_hip_x_px: np.ndarray | None = None
    hip_width_px: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_shape("t_s", self.t_s, (None,))
        n = self.t_s.shape[0]
        for name in ("yaw_deg", "mid_hip_y_px", "detected"):
            check_shape(name, getattr(self, name), (n,))
        for side in lm.SIDES:
            if len(self.leg(side)) != n:
                raise ValueError(
                    f"{side} leg must have {n} frames (as t_s), got {len(self.leg(side))}"
                )

    def leg(self, side: Side) -> LegSeries:
        return self.left if side == "left" else self.right

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def smooth_landmarks(series: PoseSeries, cfg: SmoothingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Gap-filled, low-passed copies of (xy_px, world_m), float64."""
    xy = fill_gaps(series.t_s, series.xy_px.astype(np.float64), cfg.max_gap_s)
    world = fill_gaps(series.t_s, series.world_m.astype(np.float64), cfg.max_gap_s)
    xy = lowpass(series.t_s, xy, cfg.cutoff_hz, cfg.filter_order)
    world = lowpass(series.t_s, world, cfg.cutoff_hz, cfg.filter_order)
    return xy, world


def leg_series(
    xy: np.ndarray,
    world: np.ndarray,
    side: Side,
    standing_leg_len_px: np.ndarray | float | None = None,
) -> LegSeries:
    """Kinematics of one leg from (T, 33, 2) image and (T, 33, 3) world landmarks.

    ``standing_leg_len_px``: the leg's standing hip-ankle image length, (T,) or scalar; without
    it ``flexion_deg`` falls back to the 3D estimate.
    """
    o = lm.other(side)
    hip, knee, ankle = xy[:, lm.hip(side)], xy[:, lm.knee(side)], xy[:, lm.ankle(side)]
    other_hip = xy[:, lm.hip(o)]
    foot = (ankle + xy[:, lm.heel(side)] + xy[:, lm.foot_index(side)]) / 3.0
    leg_len = hip_ankle_length_px(xy, side)
    flexion_3d = knee_flexion_deg(
        world[:, lm.hip(side)], world[:, lm.knee(side)], world[:, lm.ankle(side)]
    )
    flexion = (
        flexion_3d
        if standing_leg_len_px is None
        else flexion_from_shortening_deg(leg_len, standing_leg_len_px)
    )
    return LegSeries(
        fppa_deg=fppa_deg(hip, knee, ankle, other_hip),
        flexion_deg=flexion,
        flexion_3d_deg=flexion_3d,
        pelvic_drop_deg=pelvic_drop_deg(hip, other_hip),
        trunk_lean_deg=trunk_lean_deg(
            hip, other_hip, xy[:, lm.shoulder(side)], xy[:, lm.shoulder(o)]
        ),
        knee_medial_of_foot=knee_medial_of_foot(hip, knee, ankle, foot, other_hip),
        thigh_len_px=np.linalg.norm(knee - hip, axis=-1),
        leg_len_px=leg_len,
        foot_xy_px=foot,
        knee_xy_px=knee,
        ankle_xy_px=ankle,
    )


def compute_kinematics(
    series: PoseSeries,
    cfg: SmoothingConfig,
    standing_window_s: float | None = None,
    kin_cfg: KinematicsConfig | None = None,
) -> Kinematics:
    """Smooth the landmarks of ``series`` and compute both legs' kinematics per frame.

    Knee flexion is measured against each leg's standing length (``standing_leg_length_px``,
    settings from ``kin_cfg``; ``standing_window_s`` overrides its window).
    """
    kin_cfg = kin_cfg or KinematicsConfig()
    window_s = kin_cfg.standing_window_s if standing_window_s is None else standing_window_s
    xy, world = smooth_landmarks(series, cfg)
    scale = body_scale_px(series.t_s, xy, world, kin_cfg)
    yaw = body_yaw_deg(world)
    frontal = np.abs(yaw) <= kin_cfg.body_width_max_yaw_deg
    legs = {}
    for side in lm.SIDES:
        upright = leg_tilt_deg(world, side) <= kin_cfg.standing_max_leg_tilt_deg
        standing = standing_leg_length_px(
            series.t_s, hip_ankle_length_px(xy, side), window_s, scale, upright, kin_cfg, frontal
        )
        legs[side] = leg_series(xy, world, side, standing)
    return Kinematics(
        t_s=series.t_s,
        left=legs["left"],
        right=legs["right"],
        yaw_deg=yaw,
        mid_hip_y_px=0.5 * (xy[:, lm.LEFT_HIP, 1] + xy[:, lm.RIGHT_HIP, 1]),
        detected=series.detected,
        mid_hip_x_px=0.5 * (xy[:, lm.LEFT_HIP, 0] + xy[:, lm.RIGHT_HIP, 0]),
        hip_width_px=np.linalg.norm(xy[:, lm.LEFT_HIP] - xy[:, lm.RIGHT_HIP], axis=-1),
    )
