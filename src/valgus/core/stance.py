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
* free foot height: a still free foot that is not above the stance foot in the image rests on
  the floor, which makes the rep invalid for the test (``free_foot_down``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import StanceConfig

StanceVerdict = Literal["single_leg", "double_leg", "free_leg", "unknown"]
# Why a rep that was found is not valid for the test: "" = valid.
RepReason = Literal["", "free_foot_down"]


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
    """Samples of one window. Feet (N, 2) px; hip_y, hip_x, hip_width (N,) px (NaN = unknown)."""

    own_foot: np.ndarray
    other_foot: np.ndarray
    hip_y: np.ndarray
    hip_x: np.ndarray
    hip_width: np.ndarray


@dataclass(frozen=True)
class StanceEvidence:
    """What the cues say about one leg during one cycle.

    verdict: "single_leg" (this leg stands, the other foot is off the floor or moving),
    "double_leg", "free_leg" (this leg's foot is the free one), "unknown" (no decision).
    reason: "free_foot_down" when a single-leg stance has the free foot resting on the floor.
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


def other_foot_lifted(before: StanceWindow | None, cfg: StanceConfig) -> bool:
    """The other foot moved off its place (relative to this one, by ``cfg.lift_min_hip_widths``)
    in the window before the cycle, and moved more in the image than this foot."""
    if before is None or before.own_foot.shape[0] < 2:
        return False
    width = _median(before.hip_width)
    if not width > 0:
        return False
    rel = spread_px(before.other_foot - before.own_foot) / width
    return bool(rel >= cfg.lift_min_hip_widths
                and spread_px(before.other_foot) > spread_px(before.own_foot))


def stance_evidence(
    w: StanceWindow,
    cfg: StanceConfig,
    lifted_before: bool = False,
    continues: bool = False,
) -> StanceEvidence:
    """Combine the cues over one cycle's window ``w`` (see the module docstring).

    ``lifted_before``: ``other_foot_lifted`` on the window before the cycle. ``continues``: the
    previous rep of this leg was single-leg and the feet have not moved relative to each other
    since (the free foot still hovers where it was).
    """
    nan = math.nan
    travel = spread_px(w.hip_y)
    if not travel > 0:
        return StanceEvidence("unknown", "", nan, nan, nan, nan, nan)
    own = spread_px(w.own_foot) / travel
    other = spread_px(w.other_foot) / travel
    if not math.isfinite(own):
        return StanceEvidence("unknown", "", own, other, nan, nan, nan)
    if not math.isfinite(other):
        # Only this foot is seen: it stands if it stays put relative to the hips' travel.
        verdict: StanceVerdict = "single_leg" if own <= cfg.lone_foot_max_motion else "unknown"
        return StanceEvidence(verdict, "", own, other, nan, nan, nan)
    relative = spread_px(w.own_foot - w.other_foot) / travel
    shift = weight_shift(w, cfg)
    with np.errstate(invalid="ignore", divide="ignore"):
        height = _median((w.own_foot[:, 1] - w.other_foot[:, 1]) / w.hip_width)

    def result(verdict: StanceVerdict, reason: RepReason = "") -> StanceEvidence:
        return StanceEvidence(verdict, reason, own, other, relative, shift, height)

    if relative > cfg.feet_motion_difference:
        # One foot moves relative to the other: the one that moved more in the image is free
        # (a camera shift adds the same to both, so the comparison still holds).
        if other - own > cfg.feet_motion_difference and other >= (
            cfg.free_to_stance_motion_min_ratio * own
        ):
            return result("single_leg")
        if own - other > cfg.feet_motion_difference and own >= (
            cfg.free_to_stance_motion_min_ratio * other
        ):
            return result("free_leg")
        return result("unknown")
    # Both feet keep their places relative to each other: both planted, or the free foot
    # hovers still. Balance on one foot puts the hips over it.
    over_own = cfg.weight_shift_min <= shift <= cfg.weight_shift_max
    over_other = cfg.weight_shift_min <= 1.0 - shift <= cfg.weight_shift_max
    if over_own and (lifted_before or continues):
        down = height < -cfg.free_foot_floor_hip_widths
        return result("single_leg", "free_foot_down" if down else "")
    if over_other:
        return result("free_leg")
    return result("double_leg")
