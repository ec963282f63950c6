"""FPPA definitions and the keypoint -> marker mapping (issue 12): pure numpy, milliseconds.

Skin-marker choice on a made-up mesh, each definition's FPPA on a pose whose angles are known,
the mapping's fit / apply / leave-bodies-out on numbers where the answer is known, and the
agreement statistics with bias and spread bounded separately.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from valgus.core.fppa import (
    IDENTITY,
    FppaMapping,
    agreement,
    apply_mapping,
    fit_mapping,
    held_out_predictions,
    hip_width_ratio,
)
from valgus.synth.markers import (
    choose_marker_vertices,
    definition_points_px,
    fppa_by_definition,
)

# ------------------------------------------------------------------------------------------
# Marker choice on a made-up body: cylinders for the legs, an elliptic cylinder for the pelvis.

HEADS = {
    "upperleg01.L": (0.10, 0.0, 0.90),
    "lowerleg01.L": (0.11, 0.0, 0.48),
    "foot.L": (0.12, 0.0, 0.08),
}
HEADS.update({k.replace(".L", ".R"): (-x, y, z) for k, (x, y, z) in list(HEADS.items())})


class FakeRig:
    def __init__(self) -> None:
        self.names = list(HEADS)
        self.rest_heads = np.array([HEADS[n] for n in self.names], float)

    def j(self, name: str) -> int:
        return self.names.index(name)


def _cylinder(cx: float, cy: float, rx: float, ry: float, z0: float, z1: float) -> np.ndarray:
    a = np.radians(np.arange(0, 360, 10))
    zs = np.arange(z0, z1 + 1e-9, 0.005)
    return np.array(
        [(cx + rx * math.cos(t), cy + ry * math.sin(t), z) for z in zs for t in a]
    )


def fake_body() -> np.ndarray:
    parts = [_cylinder(0.0, 0.0, 0.18, 0.12, 0.85, 1.10)]  # pelvis; front is -y
    for s in (1.0, -1.0):
        parts.append(_cylinder(s * 0.105, 0.0, 0.07, 0.07, 0.46, 0.85))  # thigh
        parts.append(_cylinder(s * 0.115, 0.0, 0.05, 0.05, 0.06, 0.46))  # shank
    return np.concatenate(parts)


def test_markers_lie_on_the_surface_where_the_rules_put_them() -> None:
    v = fake_body()
    chosen = choose_marker_vertices(v, FakeRig())
    asis = v[chosen["left_asis"]]
    # 7.5 cm above and just lateral of the hip centre, on the front of the pelvis.
    assert asis[2] == pytest.approx(0.975, abs=0.02)
    assert 0.10 <= asis[0] <= 0.14
    front_y = -0.12 * math.sqrt(1 - (asis[0] / 0.18) ** 2)  # the pelvis's front at that x
    assert asis[1] == pytest.approx(front_y, abs=0.01)
    knee_m, knee_l = v[chosen["left_knee_medial"]], v[chosen["left_knee_lateral"]]
    # The skin at knee height (thigh and shank surfaces meet there): medial and lateral sides,
    # their midpoint over the knee centre.
    assert knee_m[0] < 0.06 and knee_l[0] > 0.16
    assert 0.5 * (knee_m[0] + knee_l[0]) == pytest.approx(0.11, abs=0.01)
    ank_m, ank_l = v[chosen["left_ankle_medial"]], v[chosen["left_ankle_lateral"]]
    assert 0.5 * (ank_m[0] + ank_l[0]) == pytest.approx(0.115, abs=0.005)
    thigh = v[chosen["left_thigh"]]
    assert thigh[1] < -0.05  # front of the thigh
    assert thigh[2] == pytest.approx(0.5 * (asis[2] + v[chosen["left_knee_front"]][2]), abs=0.02)
    # Mirror image on the right.
    assert v[chosen["right_asis"]][0] == pytest.approx(-asis[0], abs=1e-9)


# ------------------------------------------------------------------------------------------
# Each definition's FPPA on a pose with known angles (image px, y down).


def _pose(thigh_top_dx: float) -> dict[str, np.ndarray]:
    """Left leg on the image's right (a person facing the camera): joint centres straight; the
    thigh marker ``thigh_top_dx`` px off the hip to the right (lateral for the left leg)."""
    p = {
        "left_hip": (400.0, 300.0), "left_knee": (400.0, 500.0), "left_ankle": (400.0, 700.0),
        "right_hip": (200.0, 300.0), "right_knee": (200.0, 500.0), "right_ankle": (200.0, 700.0),
        "left_thigh": (400.0 + thigh_top_dx, 400.0), "left_asis": (400.0 + 2 * thigh_top_dx, 300.0),
        "left_knee_medial": (380.0, 500.0), "left_knee_lateral": (420.0, 500.0),
        "left_ankle_medial": (390.0, 700.0), "left_ankle_lateral": (410.0, 700.0),
    }  # fmt: skip
    for k in list(p):
        if k.startswith("left_") and k.removeprefix("left_") not in ("hip", "knee", "ankle"):
            x, y = p[k]
            p["right_" + k.removeprefix("left_")] = (600.0 - x, y)
    return {k: np.array(v) for k, v in p.items()}


@pytest.mark.parametrize("side", ["left", "right"])
def test_marker_definitions_read_the_angle_of_their_own_points(side: str) -> None:
    px = _pose(thigh_top_dx=20.0)  # the thigh marker 20 px lateral, 100 px above the knee
    assert fppa_by_definition(px, side, "joint_centres") == pytest.approx(0.0, abs=1e-9)
    # Knee medial of the line from a lateral thigh point: valgus, atan(20/100).
    expected = math.degrees(math.atan2(20.0, 100.0))
    assert fppa_by_definition(px, side, "thigh_marker") == pytest.approx(expected, abs=1e-9)
    assert fppa_by_definition(px, side, "asis_marker") == pytest.approx(
        math.degrees(math.atan2(40.0, 200.0)), abs=1e-9
    )
    pts = definition_points_px(px, "thigh_marker")
    assert pts[f"{side}_knee"][1] == 500.0  # mid-condyles
    assert pts[f"{side}_ankle"][0] == (400.0 if side == "left" else 200.0)  # mid-malleoli


def test_a_medial_thigh_marker_reads_varus() -> None:
    px = _pose(thigh_top_dx=-15.0)
    assert fppa_by_definition(px, "left", "thigh_marker") < -5.0


# ------------------------------------------------------------------------------------------
# The mapping.


def test_offset_fit_recovers_a_known_offset() -> None:
    raw = np.array([0.0, 5.0, 10.0, 20.0])
    m = fit_mapping(raw, raw + 4.5, "offset", "thigh_marker")
    assert (m.offset_deg, m.slope) == (pytest.approx(4.5), 1.0)
    assert np.allclose(m.apply(raw), raw + 4.5)


def test_linear_fit_recovers_offset_and_slope_and_ignores_nan() -> None:
    raw = np.array([0.0, 5.0, 10.0, np.nan, 20.0])
    m = fit_mapping(raw, 3.0 + 0.6 * raw, "linear", "thigh_marker")
    assert m.offset_deg == pytest.approx(3.0) and m.slope == pytest.approx(0.6)
    assert np.isnan(apply_mapping(np.nan, m))
    assert float(IDENTITY.apply(7.0)) == 7.0


def test_leave_bodies_out_never_uses_the_held_out_body() -> None:
    # Bodies a and b follow y = x + 5; body c is far off (y = x + 35). Its held-out values come
    # from a and b only (offset 5), the others' from a fit that includes c (offset 20).
    raw = np.array([0.0, 10.0, 0.0, 10.0, 0.0, 10.0])
    true = raw + np.array([5, 5, 5, 5, 35, 35])
    groups = ["a", "a", "b", "b", "c", "c"]
    pred = held_out_predictions(raw, true, groups, "offset", "thigh_marker")
    assert np.allclose(pred[4:], raw[4:] + 5.0)
    assert np.allclose(pred[:4], raw[:4] + 20.0)


def test_leave_bodies_out_is_exact_when_every_body_follows_the_same_line() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(-5, 25, 40)
    groups = [f"body{i % 8}" for i in range(40)]
    pred = held_out_predictions(raw, -2.0 + 0.7 * raw, groups, "linear", "asis_marker")
    assert np.allclose(pred, -2.0 + 0.7 * raw)
    with pytest.raises(ValueError):
        held_out_predictions(raw, raw, ["one"] * 40, "offset", "asis_marker")


def test_agreement_bounds_bias_and_spread_separately() -> None:
    true = np.zeros(200)
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 1.0, 200)
    noise = (noise - noise.mean()) / noise.std(ddof=1)  # exactly mean 0, SD 1
    shifted = agreement(true + 10.0 + 0.1 * noise, true)  # a +10 deg regression, tiny spread
    assert shifted.bias_deg == pytest.approx(10.0) and shifted.sd_deg == pytest.approx(0.1)
    spread = agreement(true + 3.0 * noise, true)  # no bias, wide spread
    assert spread.bias_deg == pytest.approx(0.0, abs=1e-9) and spread.sd_deg == pytest.approx(3.0)
    assert spread.loa_low_deg == pytest.approx(-1.96 * 3.0)
    assert spread.loa_high_deg == pytest.approx(1.96 * 3.0)
    assert spread.mae_deg == pytest.approx(float(np.mean(np.abs(3.0 * noise))))
    assert agreement([np.nan], [1.0]).n == 0


def test_mapping_is_a_frozen_value() -> None:
    m = FppaMapping(1.0, 0.5, "thigh_marker")
    with pytest.raises(AttributeError):
        m.slope = 2.0  # type: ignore[misc,unused-ignore]


# ------------------------------------------------------------------------------------------
# The adopted map (issue 12): keypoint FPPA and hip width ratio -> proximal-thigh marker.


def test_ratio_mapping_recovers_its_three_terms_and_needs_the_ratio() -> None:
    rng = np.random.default_rng(3)
    raw = rng.uniform(-5, 25, 40)
    ratio = rng.uniform(0.24, 0.37, 40)
    true = -20.0 + 0.7 * raw + 100.0 * ratio
    m = fit_mapping(raw, true, "linear_ratio", "thigh_marker", ratio)
    assert (m.offset_deg, m.slope, m.ratio_deg) == pytest.approx((-20.0, 0.7, 100.0))
    assert m.apply(10.0, 0.3) == pytest.approx(-20.0 + 7.0 + 30.0)
    with pytest.raises(ValueError, match="hip width ratio"):
        m.apply(10.0)
    with pytest.raises(ValueError, match="hip width ratio"):
        fit_mapping(raw, true, "linear_ratio", "thigh_marker")
    # Held out: each body mapped by a fit on the others, still exact on an exact relation.
    groups = [f"b{i % 5}" for i in range(40)]
    pred = held_out_predictions(raw, true, groups, "linear_ratio", "thigh_marker", ratio)
    assert pred == pytest.approx(true)


def test_hip_width_ratio_is_hip_distance_over_leg_length() -> None:
    assert hip_width_ratio(60.0, 100.0, 100.0) == pytest.approx(0.3)
    assert np.isnan(hip_width_ratio(60.0, 0.0, 0.0))
    out = hip_width_ratio(np.array([50.0, 80.0]), np.array([100.0, 120.0]), np.array([100.0, 80.0]))
    assert out == pytest.approx([0.25, 0.4])


def test_the_threshold_chooses_the_definition_and_its_map() -> None:
    import dataclasses

    from valgus.config import AnalysisConfig
    from valgus.core.fppa import mapping_for

    assert mapping_for(AnalysisConfig()) == IDENTITY  # Park 2024: set on keypoints
    # The sex-specific thresholds were set on skin markers: the thigh-marker map.
    v = AnalysisConfig().valgus
    female = mapping_for(AnalysisConfig(sex="female"))
    assert female == FppaMapping(v.thigh_marker_offset_deg, v.thigh_marker_slope,
                                 "thigh_marker", v.thigh_marker_ratio_deg,
                                 v.thigh_marker_ratio_range)
    # Outside the fitted range the map gives no number (never extrapolated): NaN.
    low, high = v.thigh_marker_ratio_range
    out = female.apply(np.array([5.0, 5.0, 5.0, 5.0]),
                       np.array([low - 0.01, low, high, high + 0.01]))
    assert np.isnan(out[0]) and np.isnan(out[3]) and np.all(np.isfinite(out[1:3]))
    assert mapping_for(AnalysisConfig(sex="male")) == female
    # The keypoint definition can still be asked for: then nothing is mapped.
    unmapped = dataclasses.replace(v, female_definition="keypoint")
    assert mapping_for(AnalysisConfig(sex="female", valgus=unmapped)) == IDENTITY
    ratios = [r["hip_width_ratio"] for r in MEASURED]
    low, high = v.thigh_marker_ratio_range
    assert low <= min(ratios) and max(ratios) <= high  # the range is the fitted one


def test_a_corrected_rep_is_mapped_like_the_analysis() -> None:
    from valgus.core.correction import LegPoints, remeasure

    pts = LegPoints(hip=(300.0, 200.0), knee=(310.0, 300.0), ankle=(300.0, 400.0),
                    other_hip=(360.0, 200.0))
    raw = remeasure(pts, {})
    m = FppaMapping(-20.0, 0.7, "thigh_marker", 100.0)
    leg = math.hypot(10.0, 100.0) * 2
    assert remeasure(pts, {}, m) == pytest.approx(-20.0 + 0.7 * raw + 100.0 * 60.0 / leg)
    # Points that put the leg outside the map's range get no number, and say why.
    ranged = FppaMapping(-20.0, 0.7, "thigh_marker", 100.0, (0.1, 0.2))
    with pytest.raises(ValueError, match=r"outside the range \(0.10-0.20\) on which the map"):
        remeasure(pts, {}, ranged)


# ------------------------------------------------------------------------------------------
# The adoption decision, re-run on the measured reps (tests/data/fppa_definition_reps.json).

MEASURED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "fppa_definition_reps.json").read_text()
)["reps"]


def _columns(target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    raw = np.array([r["keypoint_deg"] for r in MEASURED])
    ratio = np.array([r["hip_width_ratio"] for r in MEASURED])
    true = np.array([r[f"{target}_deg"] for r in MEASURED])
    return raw, ratio, true, [r["body"] for r in MEASURED]


def test_the_adopted_map_meets_the_target_on_bodies_it_never_saw() -> None:
    """Issue 12's bar for the marker definition, held out one body at a time, at the depth
    the bar was set for (45-90 deg of knee flexion): |bias| <= 1 deg and MAE <= 2 deg. The
    deeper squats real clips show (95-115 deg, the second set) are held to what was measured
    there (MAE 2.6), spread bounded on its own; the unmapped reading misses by far."""
    raw, ratio, true, bodies = _columns("thigh_marker")
    assert len(set(bodies)) == 18 and len(raw) == 68
    flexion = np.array([r["true_flexion_deg"] for r in MEASURED])
    protocol = flexion <= 92.0
    assert protocol.sum() == 40 and flexion[~protocol].min() >= 94.0
    pred = held_out_predictions(raw, true, bodies, "linear_ratio", "thigh_marker", ratio)
    at_protocol = agreement(pred[protocol], true[protocol])
    assert abs(at_protocol.bias_deg) <= 1.0 and at_protocol.mae_deg <= 2.0
    deeper = agreement(pred[~protocol], true[~protocol])
    assert abs(deeper.bias_deg) <= 1.0 and deeper.mae_deg <= 3.0
    held = agreement(pred, true)
    assert abs(held.bias_deg) <= 1.0 and held.sd_deg <= 3.0
    unmapped = agreement(raw, true)
    assert unmapped.bias_deg < -4.0 and unmapped.mae_deg > 5.0
    # Deeper, the unmapped reading is further off still: the reason the map is the default.
    assert agreement(raw[~protocol], true[~protocol]).bias_deg < -10.0
    # The two-term maps the study tried first do not meet it.
    for kind in ("offset", "linear"):
        a = agreement(held_out_predictions(raw, true, bodies, kind, "thigh_marker"), true)
        assert a.mae_deg > 3.0


def test_config_holds_the_map_fitted_on_every_body_and_its_error() -> None:
    from valgus.config import ValgusThresholds

    raw, ratio, true, bodies = _columns("thigh_marker")
    fit = fit_mapping(raw, true, "linear_ratio", "thigh_marker", ratio)
    v = ValgusThresholds()
    assert v.thigh_marker_offset_deg == pytest.approx(fit.offset_deg, abs=0.05)
    assert v.thigh_marker_slope == pytest.approx(fit.slope, abs=0.001)
    assert v.thigh_marker_ratio_deg == pytest.approx(fit.ratio_deg, abs=0.1)
    held = agreement(held_out_predictions(raw, true, bodies, "linear_ratio", "thigh_marker",
                                          ratio), true)
    assert v.thigh_marker_error_sd_deg == pytest.approx(held.sd_deg, abs=0.05)
