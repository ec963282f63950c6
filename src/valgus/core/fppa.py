"""FPPA definitions and the mapping from the keypoint FPPA to a clinical one (pure numpy).

valgus measures the frontal plane projection angle on the pose model's hip, knee and ankle
keypoints (``kinematics.fppa_deg``). The clinical thresholds were set on other definitions (skin
markers digitised on the frame, or another model's keypoints; ``config.ValgusThresholds``), so
a number is only comparable with a threshold after it is put on that threshold's definition.
This module holds

* the definition names (``FppaDefinition``);
* ``FppaMapping``: a linear map ``mapped = offset + slope * raw + ratio_deg * ratio`` from the
  keypoint FPPA (and the body's ``hip_width_ratio`` at that frame) to a target definition, and
  ``apply_mapping``;
* the fitting and the leave-bodies-out validation the benchmark uses to decide whether a map is
  worth adopting (``fit_mapping``, ``held_out_predictions``), and the agreement statistics it
  reports (``agreement``: bias, SD, mean absolute error, 95 % limits of agreement after Bland &
  Altman 1986: bias +/- 1.96 SD).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus import landmarks as lm
from valgus.config import AnalysisConfig, FppaDefinition
from valgus.core.kinematics import Kinematics
from valgus.landmarks import Side

MappingKind = Literal["offset", "linear", "linear_ratio"]


@dataclass(frozen=True)
class FppaMapping:
    """``mapped_deg = offset_deg + slope * raw_deg + ratio_deg * ratio``, raw = the keypoint
    FPPA (deg, + = valgus), ratio = ``hip_width_ratio`` at the same frame (dimensionless); NaN
    where the ratio lies outside ``ratio_range``.

    ``target`` names the definition the mapped value follows."""

    offset_deg: float
    slope: float
    target: FppaDefinition
    ratio_deg: float = 0.0
    # The hip width ratios the map was fitted on: outside them ``apply`` gives NaN, never an
    # extrapolated value (``ValgusThresholds.thigh_marker_ratio_range``).
    ratio_range: tuple[float, float] = (-math.inf, math.inf)

    def apply(
        self, raw_deg: np.ndarray | float, ratio: np.ndarray | float | None = None
    ) -> np.ndarray:
        return apply_mapping(raw_deg, self, ratio)

    @property
    def maps(self) -> bool:
        """Whether the map changes anything (False for the keypoint definition itself)."""
        return self.target != "keypoint"

    def covers(self, ratio: np.ndarray | float) -> np.ndarray:
        """Whether each hip width ratio lies in ``ratio_range``, where the map was fitted (same
        shape as ``ratio``; NaN is not covered). The one place the range is checked."""
        low, high = self.ratio_range
        r = np.asarray(ratio, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.asarray((r >= low) & (r <= high))


IDENTITY = FppaMapping(0.0, 1.0, "keypoint")

# How a definition's numbers are named in headers and settings checks (the one wording).
DEFINITION_LABEL: dict[str, str] = {
    "keypoint": "from pose keypoints",
    "thigh_marker": "mapped to skin markers",
}


def definition_label(cfg: AnalysisConfig) -> str:
    """Short name of the FPPA definition ``cfg``'s numbers follow ("from pose keypoints")."""
    definition = cfg.valgus.definition(cfg.sex)
    return DEFINITION_LABEL.get(definition, definition)


def mapping_for(cfg: AnalysisConfig) -> FppaMapping:
    """The map from the keypoint FPPA to the definition the analysis's threshold was set on
    (``ValgusThresholds.definition``; the identity where that is "keypoint")."""
    target = cfg.valgus.definition(cfg.sex)
    if target == "keypoint":
        return IDENTITY
    offset, slope, per_ratio = cfg.valgus.mapping(cfg.sex)
    return FppaMapping(offset, slope, target, per_ratio, cfg.valgus.thigh_marker_ratio_range)


def hip_width_ratio(
    hip_width_px: np.ndarray | float,
    thigh_len_px: np.ndarray | float,
    shank_len_px: np.ndarray | float,
) -> np.ndarray:
    """The hips' image distance over the leg's image length (hip-knee plus knee-ankle), per
    frame (same shape as the inputs; NaN where the leg has no length). A body-size measure the
    picture itself gives: how far lateral of the hip keypoint the pelvis's skin markers sit,
    relative to how long the thigh and shank look, which sets how much a marker's thigh line
    leans against the keypoint's (issue 12; README "FPPA definitions")."""
    width = np.asarray(hip_width_px, float)
    leg = np.asarray(thigh_len_px, float) + np.asarray(shank_len_px, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(leg > 0, width / leg, np.nan))


def hip_width_ratio_series(kin: Kinematics, side: Side) -> np.ndarray:
    """(T,) ``hip_width_ratio`` of ``side``'s leg per frame of ``kin``; NaN where unknown."""
    leg = kin.leg(side)
    if kin.hip_width_px is None or leg.knee_xy_px is None or leg.ankle_xy_px is None:
        return np.full(len(kin), np.nan)
    shank = np.linalg.norm(leg.ankle_xy_px - leg.knee_xy_px, axis=-1)
    return hip_width_ratio(kin.hip_width_px, leg.thigh_len_px, shank)


def leg_fppa(kin: Kinematics, side: Side, cfg: AnalysisConfig) -> tuple[np.ndarray, np.ndarray]:
    """(T,) FPPA of ``side``'s leg per frame in the definition ``cfg``'s threshold was set on,
    and (T,) the unmapped keypoint FPPA (deg). Works on kinematics already put on that
    definition (``in_definition``) and on raw ones alike: the one place the map is applied to a
    clip's frames."""
    leg = kin.leg(side)
    if leg.fppa_keypoint_deg is not None:
        return leg.fppa_deg, leg.fppa_keypoint_deg
    m = mapping_for(cfg)
    if not m.maps:
        return leg.fppa_deg, leg.fppa_deg
    return m.apply(leg.fppa_deg, hip_width_ratio_series(kin, side)), leg.fppa_deg


def in_definition(kin: Kinematics, cfg: AnalysisConfig) -> Kinematics:
    """``kin`` with each leg's ``fppa_deg`` in the definition ``cfg``'s threshold was set on
    (the keypoint one kept in ``fppa_keypoint_deg``), so that every picture, curve and export
    shows the numbers the bands apply to; ``kin`` itself where nothing is mapped."""
    if not mapping_for(cfg).maps or kin.left.fppa_keypoint_deg is not None:
        return kin
    legs = {}
    for side in ("left", "right"):
        mapped, raw = leg_fppa(kin, side, cfg)
        legs[side] = dataclasses.replace(kin.leg(side), fppa_deg=mapped, fppa_keypoint_deg=raw)
    return dataclasses.replace(kin, left=legs["left"], right=legs["right"])


def frame_fppa(raw_deg: float, xy_px: np.ndarray, side: Side, cfg: AnalysisConfig) -> float:
    """One frame's FPPA (deg) in the definition ``cfg``'s threshold was set on, from its
    keypoint FPPA ``raw_deg`` and its (33, 2) image landmarks (the live page's per-frame
    value)."""
    m = mapping_for(cfg)
    if not m.maps:
        return float(raw_deg)
    p = np.asarray(xy_px, float)
    ratio = points_hip_width_ratio(p[lm.hip(side)], p[lm.knee(side)], p[lm.ankle(side)],
                                   p[lm.hip(lm.other(side))])
    return float(m.apply(raw_deg, ratio))


def points_hip_width_ratio(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray,
                           other_hip: np.ndarray) -> float:
    """``hip_width_ratio`` of one leg's (2,) image points (px) in one frame."""
    hip, knee, ankle, other_hip = (np.asarray(v, float) for v in (hip, knee, ankle, other_hip))
    return float(hip_width_ratio(float(np.linalg.norm(hip - other_hip)),
                                 float(np.linalg.norm(knee - hip)),
                                 float(np.linalg.norm(ankle - knee))))


def apply_mapping(
    raw_deg: np.ndarray | float, mapping: FppaMapping, ratio: np.ndarray | float | None = None
) -> np.ndarray:
    """The mapped FPPA (deg), same shape as ``raw_deg``; NaN stays NaN, and so is every value
    whose ratio lies outside ``mapping.ratio_range`` (never extrapolated). ``ratio`` (the
    ``hip_width_ratio``, broadcast against ``raw_deg``) is needed when ``mapping.ratio_deg``
    is not 0: ValueError without it."""
    out = mapping.offset_deg + mapping.slope * np.asarray(raw_deg, dtype=float)
    if mapping.ratio_deg != 0.0:
        if ratio is None:
            raise ValueError(f"the mapping to {mapping.target} needs the hip width ratio")
        r = np.asarray(ratio, dtype=float)
        out = np.where(mapping.covers(r), out + mapping.ratio_deg * r, np.nan)
    return np.asarray(out)


def fit_mapping(
    raw_deg: Sequence[float] | np.ndarray,
    target_deg: Sequence[float] | np.ndarray,
    kind: MappingKind,
    target: FppaDefinition,
    ratio: Sequence[float] | np.ndarray | None = None,
) -> FppaMapping:
    """Least-squares map from ``raw_deg`` (n,) to ``target_deg`` (n,), NaN rows dropped.

    ``offset``: slope fixed at 1, offset = mean difference. ``linear``: offset and slope.
    ``linear_ratio``: offset, slope and a term in ``ratio`` (n,), the ``hip_width_ratio`` of
    each value (ValueError without it)."""
    x = np.asarray(raw_deg, float)
    y = np.asarray(target_deg, float)
    if kind == "linear_ratio" and ratio is None:
        raise ValueError("a linear_ratio mapping needs the hip width ratio of every value")
    r = np.zeros_like(x) if ratio is None else np.asarray(ratio, float)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(r)
    x, y, r = x[ok], y[ok], r[ok]
    if x.size == 0:
        raise ValueError("no finite pairs to fit a mapping on")
    if kind == "offset" or x.size < 3 or np.ptp(x) == 0:
        return FppaMapping(float(np.mean(y - x)), 1.0, target)
    if kind == "linear_ratio" and x.size >= 4 and np.ptp(r) > 0:
        design = np.c_[np.ones(x.size), x, r]
        (offset, slope, per_ratio), *_ = np.linalg.lstsq(design, y, rcond=None)
        return FppaMapping(float(offset), float(slope), target, float(per_ratio))
    slope, offset = np.polyfit(x, y, 1)
    return FppaMapping(float(offset), float(slope), target)


def held_out_predictions(
    raw_deg: Sequence[float] | np.ndarray,
    target_deg: Sequence[float] | np.ndarray,
    groups: Sequence[str],
    kind: MappingKind,
    target: FppaDefinition,
    ratio: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Leave-one-group-out: each value mapped by a fit on every other group (n,).

    ``groups`` (n,): the body each value comes from, so no body's own values tune its map.
    ``ratio`` (n,): each value's ``hip_width_ratio``, for ``linear_ratio``."""
    x = np.asarray(raw_deg, float)
    y = np.asarray(target_deg, float)
    r = None if ratio is None else np.asarray(ratio, float)
    g = np.asarray(groups)
    out = np.full(x.shape, np.nan)
    for name in np.unique(g):
        test = g == name
        if np.all(test):
            raise ValueError("leave-bodies-out needs at least two bodies")
        m = fit_mapping(x[~test], y[~test], kind, target, None if r is None else r[~test])
        out[test] = apply_mapping(x[test], m, None if r is None else r[test])
    return out


@dataclass(frozen=True)
class Agreement:
    """Agreement of a measure with its truth (deg, measured - true)."""

    n: int
    bias_deg: float
    sd_deg: float
    mae_deg: float
    loa_low_deg: float
    loa_high_deg: float
    max_abs_deg: float


def agreement(measured: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray
              ) -> Agreement:
    """Bias (mean error), SD of the error (n - 1), mean absolute error, 95 % limits of agreement
    (bias +/- 1.96 SD, Bland & Altman 1986) and the largest error; NaN pairs dropped."""
    e = np.asarray(measured, float) - np.asarray(true, float)
    e = e[np.isfinite(e)]
    if e.size == 0:
        nan = float("nan")
        return Agreement(0, nan, nan, nan, nan, nan, nan)
    bias = float(np.mean(e))
    sd = float(np.std(e, ddof=1)) if e.size > 1 else 0.0
    return Agreement(
        int(e.size), bias, sd, float(np.mean(np.abs(e))), bias - 1.96 * sd, bias + 1.96 * sd,
        float(np.max(np.abs(e))),
    )
