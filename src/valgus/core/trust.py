"""Landmark trust: frames where the model's leg landmarks jump, swap or change bone lengths.

Pure numpy over a ``PoseSeries``. Does not rely on MediaPipe's visibility score, which stays near
0.99 even for hidden joints (REFERENCE section 2): it checks bone lengths, joint speeds and
left-right swaps instead.
"""

from __future__ import annotations

import math

import numpy as np

from valgus import landmarks as lm
from valgus.config import QualityConfig
from valgus.core.kinematics import LEG_JOINTS, body_height_px
from valgus.core.pose import PoseSeries


def glitch_frames(series: PoseSeries, cfg: QualityConfig) -> np.ndarray:
    """(T,) bool: frames where a leg landmark jumps or the legs swap (estimator glitches).

    A hip, knee or ankle moving faster than ``max_joint_speed_body_per_s`` marks both frames of
    the step; left and right knees (or ankles) trading places marks the frame of the swap. These
    frames are dropped before smoothing, so a glitch does not leak into its neighbours.
    """
    n = len(series)
    glitch = np.zeros(n, bool)
    detected = series.detected
    if n < 2 or not detected.any():
        return glitch
    xy = series.xy_px.astype(np.float64)
    height = float(np.nanmedian(body_height_px(xy)[detected]))
    if not (math.isfinite(height) and height > 0):
        return glitch
    dt = np.diff(series.t_s)[:, None]
    step = np.linalg.norm(np.diff(xy[:, LEG_JOINTS], axis=0), axis=2)
    speed = np.where(np.isnan(step), -np.inf, step / dt).max(axis=1) / height
    fast = speed > cfg.max_joint_speed_body_per_s
    glitch[1:] |= fast
    glitch[:-1] |= fast
    for left, right in ((lm.LEFT_KNEE, lm.RIGHT_KNEE), (lm.LEFT_ANKLE, lm.RIGHT_ANKLE)):
        same = (np.linalg.norm(xy[1:, left] - xy[:-1, left], axis=1)
                + np.linalg.norm(xy[1:, right] - xy[:-1, right], axis=1))
        crossed = (np.linalg.norm(xy[1:, left] - xy[:-1, right], axis=1)
                   + np.linalg.norm(xy[1:, right] - xy[:-1, left], axis=1))
        apart = np.linalg.norm(xy[:-1, left] - xy[:-1, right], axis=1)
        glitch[1:] |= (crossed < 0.5 * same) & (apart > cfg.swap_min_hip_width_fraction * height)
    return glitch


def implausible_bone_frames(series: PoseSeries, cfg: QualityConfig) -> np.ndarray:
    """(T,) bool: a 3D thigh or shank length far from its clip median.

    Bones do not change length; MediaPipe's 3D estimate does, notably in very deep squats. These
    frames are kept (the 2D image landmarks may still be fine) but not trusted for scoring.
    """
    detected = series.detected
    if not detected.any():
        return np.zeros(len(series), bool)
    w = series.world_m.astype(np.float64)
    bones = np.stack(
        [np.linalg.norm(w[:, lm.hip(s)] - w[:, lm.knee(s)], axis=1) for s in lm.SIDES]
        + [np.linalg.norm(w[:, lm.knee(s)] - w[:, lm.ankle(s)], axis=1) for s in lm.SIDES],
        axis=1,
    )
    median = np.nanmedian(bones[detected], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.abs(bones / median - 1.0)
    return np.any(deviation > cfg.max_bone_length_deviation, axis=1)


def landmark_trust(series: PoseSeries, cfg: QualityConfig) -> np.ndarray:
    """(T,) bool: a person is seen and the leg landmarks look physically consistent (no glitch,
    plausible bone lengths). Does not rely on MediaPipe's visibility score."""
    return (
        series.detected
        & ~glitch_frames(series, cfg)
        & ~implausible_bone_frames(series, cfg)
    )

