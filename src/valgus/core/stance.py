"""Which leg stands during a knee-flexion cycle, and whether it is a single-leg squat at all.

Cues are combined rather than one ratio tuned, and every cue is measured relative to the body
(hip travel, hip width, the other foot), never in raw image pixels alone, so that a swaying or
zooming camera, which moves both feet alike, does not change the decision:

* relative foot motion: how much the feet move relative to each other during the cycle (a free
  foot bent back or held forward moves with the body; a planted foot does not);
* image foot motion: which of the two feet moved (a camera shift adds the same to both);
* weight shift: where the hips sit between the feet (balance puts the hips over the stance foot
  in a single-leg squat, between the feet in a double-leg squat);
* a lift: the other foot was seen to move off its place shortly before the cycle, or the same
  stance continues from the previous single-leg rep of this leg with the feet unmoved since;
* free foot height: a free foot below the stance foot in the image rests on the floor, which
  makes the rep invalid for the test (``free_foot_down``); one level with it cannot be told from
  one resting on the floor a little in front (``free_foot_low``: listed, not counted); one held
  clearly up counts, with a lift, towards a single-leg stance.

A single-leg stance needs two cues that agree: a lift (or the stance continuing) and balance, a
lean, or the free foot held up; no single cue decides, each having a look-alike in a double-leg
squat.

The cues across the body (weight shift, a lift, free foot height: all in hip widths) are read only
while the body faces the camera: turned by psi the hips' image width shrinks as cos(psi) and the
feet overlap in the image, so "between the feet" means nothing (an oblique view of a double-leg
squat read the hips at 1.4-1.8 of the way to one foot, and a 0.1 hip-width jitter of the feet as
a lift). A turned body is decided on the feet's image motions alone: one foot clearly more than
the other is the free one; both small and alike is a double-leg squat.

A cycle the cues cannot attribute is never dropped silently: ``reps.RepCounter`` lists it with the
reason ``stance_unclear`` (or ``free_leg_phase`` for the free knee's own cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import StanceConfig

StanceVerdict = Literal["single_leg", "double_leg", "free_leg", "unknown"]
# Why a knee-bend cycle that was found is not a valid rep for the test: "" = valid;
# "free_foot_down": a single-leg rep with the free foot resting on the floor; "free_foot_low":
# the free foot level with the standing one, where a frontal camera cannot tell hovering from
# resting on the floor; "free_leg_phase":
# the cycle is the free knee moving during the other leg's stance; "stance_unclear": the cues do
# not tell which foot stands.
RepReason = Literal["", "free_foot_down", "free_foot_low", "free_leg_phase", "stance_unclear"]


def spread_px(xy: np.ndarray) -> float:
    """Extent of a point's movement over a window: the length of its 2nd-98th percentile box.

    ``xy``: (N, 2) or (N,) pixels; NaN rows ignored. NaN if fewer than 2 valid rows. Percentiles
    rather than min-max so that a single landmark glitch does not count as movement.
    """
    pts = np.asarray(xy, dtype=np.float64).reshape(len(xy), -1)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if pts.shape[0] < 2:
        return math.nan
    lo, hi = np.percentile(pts, [2.0, 98.0], axis=0)
    return float(np.linalg.norm(hi - lo))


@dataclass(frozen=True)
class StanceWindow:
    """Samples of one window. Feet (N, 2) px; hip_y, hip_x, hip_width (N,) px (NaN = unknown);
    yaw_deg (N,) the body's turn from the camera (``kinematics.body_yaw_deg``; None or NaN =
    unknown, taken as facing the camera)."""

    own_foot: np.ndarray
    other_foot: np.ndarray
    hip_y: np.ndarray
    hip_x: np.ndarray
    hip_width: np.ndarray
    yaw_deg: np.ndarray | None = None


def faces_camera(w: StanceWindow, cfg: StanceConfig) -> bool:
    """The body's median turn over the window is within ``cfg.cross_body_max_yaw_deg`` (or
    unknown): the cues measured across the body (in hip widths) can be read."""
    if w.yaw_deg is None:
        return True
    yaw = _median(np.abs(np.asarray(w.yaw_deg, np.float64)))
    return not yaw > cfg.cross_body_max_yaw_deg


@dataclass(frozen=True)
class StanceEvidence:
    """What the cues say about one leg during one cycle.

    verdict: "single_leg" (this leg stands, the other foot is off the floor or moving),
    "double_leg", "free_leg" (this leg's foot is the free one), "unknown" (no decision).
    reason: "free_foot_down" when a single-leg stance has the free foot resting on the floor,
    "free_foot_low" when it is too low to tell.
    own_motion / other_motion: image foot motion over the hips' vertical travel.
    relative_motion: motion of one foot relative to the other over the hips' travel.
    weight_shift: (hip_x - other foot x) / (own foot x - other foot x): 1 = hips over this foot,
    0.5 = centred between the feet. free_foot_height: other foot above this one, hip widths.
    """

    verdict: StanceVerdict
    reason: RepReason
    own_motion: float
    other_motion: float
    relative_motion: float
    weight_shift: float
    free_foot_height: float


def _median(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else math.nan


def weight_shift(w: StanceWindow, cfg: StanceConfig) -> float:
    """Median position of the hips between the feet, 1 = over ``own_foot`` (NaN if unknown or
    the feet are closer together than ``cfg.min_feet_apart_hip_widths``)."""
    gap = w.own_foot[:, 0] - w.other_foot[:, 0]
    apart = _median(np.abs(gap) / w.hip_width)
    if not apart >= cfg.min_feet_apart_hip_widths:
        return math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return _median((w.hip_x - w.other_foot[:, 0]) / gap)


def _lifted_in(w: StanceWindow, lo: int, hi: int, width: float, cfg: StanceConfig) -> bool:
    other, own = w.other_foot[lo:hi], w.own_foot[lo:hi]
    rel = spread_px(other - own) / width
    return bool(rel >= cfg.lift_min_hip_widths and spread_px(other) > spread_px(own))


def other_foot_lifted(
    before: StanceWindow | None, cfg: StanceConfig, t_s: np.ndarray | None = None
) -> bool:
    """The other foot moved off its place (relative to this one, by ``cfg.lift_min_hip_widths``)
    and more in the image than this foot, within some ``cfg.lift_window_s`` stretch of the
    window before the cycle (``t_s``: (N,) s of its samples; None = the whole window at once).

    Stretches rather than the whole window: when legs are switched, this foot is set down and
    the other lifted within a second or two, and over the whole window both moved alike.
    False when the body is turned from the camera (hip widths mean nothing there:
    ``faces_camera``).
    """
    if before is None or before.own_foot.shape[0] < 2 or not faces_camera(before, cfg):
        return False
    width = _median(before.hip_width)
    if not width > 0:
        return False
    n = before.own_foot.shape[0]
    if t_s is None:
        return _lifted_in(before, 0, n, width, cfg)
    t = np.asarray(t_s, np.float64)
    step = max(1, int(np.searchsorted(t, t[0] + cfg.lift_window_s / 4.0)))
    for lo in range(0, n, step):
        hi = int(np.searchsorted(t, t[lo] + cfg.lift_window_s, side="right"))
        if hi - lo >= 2 and _lifted_in(before, lo, hi, width, cfg):
            return True
        if hi >= n:
            break
    return False


def stance_evidence(
    w: StanceWindow,
    cfg: StanceConfig,
    lifted_before: bool = False,
    continues: bool = False,
    own_lifted_before: bool = False,
) -> StanceEvidence:
    """Combine the cues over one cycle's window ``w`` (see the module docstring).

    ``lifted_before``: ``other_foot_lifted`` on the window before the cycle. ``continues``: the
    previous rep of this leg was single-leg and the feet have not moved relative to each other
    since (the free foot still hovers where it was). ``own_lifted_before``: the same look for a
    lift of this leg's foot (the other leg's view), which makes this knee's cycle the free
    knee's when the hips lean towards the other foot or this foot is held up.
    """
    nan = math.nan
    travel = spread_px(w.hip_y)
    if not travel > 0:
        return StanceEvidence("unknown", "stance_unclear", nan, nan, nan, nan, nan)
    own = spread_px(w.own_foot) / travel
    other = spread_px(w.other_foot) / travel
    if not math.isfinite(own):
        return StanceEvidence("unknown", "stance_unclear", own, other, nan, nan, nan)
    if not math.isfinite(other):
        # Only this foot is seen: it stands if it stays put relative to the hips' travel.
        if own <= cfg.lone_foot_max_motion:
            return StanceEvidence("single_leg", "", own, other, nan, nan, nan)
        return StanceEvidence("unknown", "stance_unclear", own, other, nan, nan, nan)
    relative = spread_px(w.own_foot - w.other_foot) / travel
    frontal = faces_camera(w, cfg)
    shift = weight_shift(w, cfg) if frontal else nan
    with np.errstate(invalid="ignore", divide="ignore"):
        height = _median((w.own_foot[:, 1] - w.other_foot[:, 1]) / w.hip_width) if frontal else nan

    def result(verdict: StanceVerdict, reason: RepReason = "") -> StanceEvidence:
        return StanceEvidence(verdict, reason, own, other, relative, shift, height)

    def single_leg() -> StanceEvidence:
        # Where the free foot was (median over the cycle, still or moving): below the standing
        # foot it rests on the floor; level with it nobody can tell from the picture.
        if height < -cfg.free_foot_floor_hip_widths:
            return result("single_leg", "free_foot_down")
        if height < cfg.free_foot_clear_hip_widths:
            return result("single_leg", "free_foot_low")
        return result("single_leg")

    if relative > cfg.feet_motion_difference:
        # One foot moves relative to the other: the one that moved more in the image is free
        # (a camera shift adds the same to both, so the comparison still holds).
        if other - own > cfg.feet_motion_difference and other >= (
            cfg.free_to_stance_motion_min_ratio * own
        ):
            return single_leg()
        if own - other > cfg.feet_motion_difference and own >= (
            cfg.free_to_stance_motion_min_ratio * other
        ):
            return result("free_leg", "free_leg_phase")
    # Balance on one foot puts the hips over it; a lift before says the other foot left the
    # floor. This decides both a free foot hovering still (feet still relative to each other)
    # and feet that move relative to each other while a moving camera adds the same image
    # motion to both, so the image motions do not say which one is free.
    # No cue alone decides it (each has a look-alike in a double-leg squat: feet set wide and
    # the hips off centre, a foot shuffled into place before the squat, a staggered foot that
    # projects higher); a lift seen (or the stance continued) together with balance, a lean or
    # a foot held up does. Balance and a foot held up without a lift do not: a double-leg squat
    # with one foot a little behind read both (hips 0.62, foot 0.23 higher; a real GIF).
    over_own = frontal and cfg.weight_shift_min <= shift <= cfg.weight_shift_max
    over_other = frontal and cfg.weight_shift_min <= 1.0 - shift <= cfg.weight_shift_max
    leans_own = frontal and cfg.weight_shift_lean_min <= shift <= cfg.weight_shift_max
    leans_other = frontal and cfg.weight_shift_lean_min <= 1.0 - shift <= cfg.weight_shift_max
    held_up = frontal and height >= cfg.free_foot_up_hip_widths
    history = lifted_before or continues
    # A foot held up does not count against hips over the other foot: a free foot resting on
    # the floor in front projects lower, so from the free leg the standing foot looks "up".
    if history and (over_own or leans_own or (held_up and not leans_other)):
        return single_leg()
    own_held_up = frontal and -height >= cfg.free_foot_up_hip_widths
    if over_other or (own_lifted_before and (leans_other or own_held_up)):
        return result("free_leg", "free_leg_phase")
    if max(own, other) > cfg.double_max_motion:
        # A foot moves too much to be planted, and neither the image nor the body says which.
        return result("unknown", "stance_unclear")
    # Both feet still and alike (within the landmarks' drift and a camera's sway): double-leg.
    return result("double_leg")
