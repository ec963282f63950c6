"""Landmark trust: frames where the model's leg landmarks jump, swap or change bone lengths.

Pure numpy over a ``PoseSeries``. Does not rely on MediaPipe's visibility score, which stays near
0.99 even for hidden joints (REFERENCE section 2): it checks bone lengths, joint speeds and
left-right swaps instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    """(T,) bool: a person is seen, it is the person under test (``other_person_frames``), and
    the leg landmarks look physically consistent (no glitch, plausible bone lengths). Does not
    rely on MediaPipe's visibility score."""
    return (
        series.detected
        & ~other_person_frames(series, cfg)
        & ~glitch_frames(series, cfg)
        & ~implausible_bone_frames(series, cfg)
    )


# Shoulder width counts this many times in the upper body's size: a frontal torso is ~1.4
# shoulder widths long, so either term alone gives about the same size (side view: the torso).
_SHOULDER_WEIGHT = 1.4


def body_scale_px(xy: np.ndarray) -> np.ndarray:
    """The upper body's size in px: max(mid-shoulder to mid-hip length, 1.4 x shoulder width).

    ``xy``: (..., 33, 2) px; returns (...,), NaN where a point is missing. A squat's forward
    lean shortens the trunk in a frontal picture but not the shoulders, a side view the
    shoulders but not the trunk: the larger of the two stays within ~7% for one person.
    """
    xy = np.asarray(xy, dtype=np.float64)
    shoulders = 0.5 * (xy[..., lm.LEFT_SHOULDER, :] + xy[..., lm.RIGHT_SHOULDER, :])
    hips = 0.5 * (xy[..., lm.LEFT_HIP, :] + xy[..., lm.RIGHT_HIP, :])
    trunk = np.linalg.norm(shoulders - hips, axis=-1)
    width = np.linalg.norm(xy[..., lm.LEFT_SHOULDER, :] - xy[..., lm.RIGHT_SHOULDER, :], axis=-1)
    return np.fmax(trunk, _SHOULDER_WEIGHT * width)


@dataclass
class PersonLock:
    """The person under test, followed frame by frame: the first body accepted sets the lock,
    and a body matches it while its size (``body_scale_px``) stays within
    ``cfg.person_max_scale_ratio`` of the last accepted one and its hips do not jump more than
    ``cfg.person_max_jump_scales`` sizes within ``cfg.person_jump_window_s`` s. Pure numpy; the
    runtime uses it to re-acquire the person, ``other_person_frames`` to judge a series.
    """

    cfg: QualityConfig
    scale_px: float | None = None
    hips_px: np.ndarray | None = None
    t_s: float = -math.inf

    def matches(self, xy: np.ndarray, t_s: float) -> bool:
        """Whether a body (``xy``: (33, 2) px) seen at ``t_s`` s is the locked person (True
        while nothing is locked; False for a body whose size cannot be measured)."""
        if self.scale_px is None or self.hips_px is None:
            return True
        scale = float(body_scale_px(xy))
        if not (math.isfinite(scale) and scale > 0):
            return False
        ratio = scale / self.scale_px
        if not 1.0 / self.cfg.person_max_scale_ratio <= ratio <= self.cfg.person_max_scale_ratio:
            return False
        if t_s - self.t_s > self.cfg.person_jump_window_s:
            return True
        jump = float(np.linalg.norm(_hips(xy) - self.hips_px))
        return not jump > self.cfg.person_max_jump_scales * self.scale_px

    def accept(self, xy: np.ndarray, t_s: float) -> None:
        """``xy`` ((33, 2) px, at ``t_s`` s) is the person: it becomes the reference."""
        scale = float(body_scale_px(xy))
        if math.isfinite(scale) and scale > 0:
            self.scale_px, self.hips_px, self.t_s = scale, _hips(xy), t_s


def _hips(xy: np.ndarray) -> np.ndarray:
    return 0.5 * (np.asarray(xy[lm.LEFT_HIP], np.float64) + xy[lm.RIGHT_HIP])


def hidden_leg_frames(series: PoseSeries, cfg: QualityConfig) -> np.ndarray:
    """(T, 2) bool, left then right leg: something hides the knee or shin on this frame: the
    person's segmentation there under ``cfg.min_leg_seen`` (``PoseSeries.leg_seen``), or the
    picture there staying put while the leg moved (``PoseSeries.leg_still`` under
    ``cfg.max_leg_still_ratio``: an object in front of one knee, which the segmentation counts
    as body). The model's landmarks stay plausible on a hidden knee, and its visibility score
    high, so the landmarks alone cannot tell. False where not measured."""
    with np.errstate(invalid="ignore"):
        return np.asarray(
            (series.leg_seen < cfg.min_leg_seen) | (series.leg_still < cfg.max_leg_still_ratio)
        )


def other_person_frames(series: PoseSeries, cfg: QualityConfig) -> np.ndarray:
    """(T,) bool: frames on which the tracked body is not the person under test: marked so by
    the tracker (``PoseSeries.other_person``), or not matching a ``PersonLock`` set on the first
    detected frame and carried through the series (a tracker that jumped to someone else and
    stayed there: all its frames until the person's own body is tracked again)."""
    other = series.other_person.copy()
    lock = PersonLock(cfg)
    for i in np.flatnonzero(series.detected & ~other):
        xy, t = series.xy_px[i], float(series.t_s[i])
        if lock.matches(xy, t):
            lock.accept(xy, t)
        else:
            other[i] = True
    return other

