"""FPPA definitions and the mapping from the keypoint FPPA to a clinical one (pure numpy).

valgus measures the frontal plane projection angle on the pose model's hip, knee and ankle
keypoints (``kinematics.fppa_deg``). The clinical thresholds were set on other definitions (skin
markers digitised on the frame, or another model's keypoints; ``config.ValgusThresholds``), so
a number is only comparable with a threshold after it is put on that threshold's definition.
This module holds

* the definition names (``FppaDefinition``);
* ``FppaMapping``: a linear map ``mapped = offset + slope * raw`` from the keypoint FPPA to a
  target definition, and ``apply_mapping``;
* the fitting and the leave-bodies-out validation the benchmark uses to decide whether a map is
  worth adopting (``fit_mapping``, ``held_out_predictions``), and the agreement statistics it
  reports (``agreement``: bias, SD, mean absolute error, 95 % limits of agreement after Bland &
  Altman 1986: bias +/- 1.96 SD).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

# keypoint: the pose model's hip/knee/ankle points, unmapped (what valgus measured up to issue 12;
#   also the kind of definition Park 2024's 11.3 deg cut-off was set on, with another model).
# thigh_marker: skin markers digitised on the frame, thigh line from a proximal-thigh marker
#   (Herrington 2014; Munro 2012 reliability of the same method).
# asis_marker: the same with the thigh line from the ASIS marker.
# joint_centres: hip, knee and ankle joint centres (the rendered rig's), for the benchmark only.
FppaDefinition = Literal["keypoint", "thigh_marker", "asis_marker", "joint_centres"]
MappingKind = Literal["offset", "linear"]


@dataclass(frozen=True)
class FppaMapping:
    """``mapped_deg = offset_deg + slope * raw_deg``, raw = the keypoint FPPA (deg, + = valgus).

    ``target`` names the definition the mapped value follows."""

    offset_deg: float
    slope: float
    target: FppaDefinition

    def apply(self, raw_deg: np.ndarray | float) -> np.ndarray:
        return apply_mapping(raw_deg, self)


IDENTITY = FppaMapping(0.0, 1.0, "keypoint")


def apply_mapping(raw_deg: np.ndarray | float, mapping: FppaMapping) -> np.ndarray:
    """The mapped FPPA (deg), same shape as ``raw_deg``; NaN stays NaN."""
    return mapping.offset_deg + mapping.slope * np.asarray(raw_deg, dtype=float)


def fit_mapping(
    raw_deg: Sequence[float] | np.ndarray,
    target_deg: Sequence[float] | np.ndarray,
    kind: MappingKind,
    target: FppaDefinition,
) -> FppaMapping:
    """Least-squares map from ``raw_deg`` (n,) to ``target_deg`` (n,), NaN pairs dropped.

    ``offset``: slope fixed at 1, offset = mean difference. ``linear``: offset and slope."""
    x = np.asarray(raw_deg, float)
    y = np.asarray(target_deg, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        raise ValueError("no finite pairs to fit a mapping on")
    if kind == "offset" or x.size < 3 or np.ptp(x) == 0:
        return FppaMapping(float(np.mean(y - x)), 1.0, target)
    slope, offset = np.polyfit(x, y, 1)
    return FppaMapping(float(offset), float(slope), target)


def held_out_predictions(
    raw_deg: Sequence[float] | np.ndarray,
    target_deg: Sequence[float] | np.ndarray,
    groups: Sequence[str],
    kind: MappingKind,
    target: FppaDefinition,
) -> np.ndarray:
    """Leave-one-group-out: each value mapped by a fit on every other group (n,).

    ``groups`` (n,): the body each value comes from, so no body's own values tune its map."""
    x = np.asarray(raw_deg, float)
    y = np.asarray(target_deg, float)
    g = np.asarray(groups)
    out = np.full(x.shape, np.nan)
    for name in np.unique(g):
        test = g == name
        if np.all(test):
            raise ValueError("leave-bodies-out needs at least two bodies")
        m = fit_mapping(x[~test], y[~test], kind, target)
        out[test] = apply_mapping(x[test], m)
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
