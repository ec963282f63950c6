"""Sign conventions and magnitudes of the per-frame kinematics in valgus.kinematics.

Image points use y down. In a non-mirrored front view the person's left hip is on the image right,
so "medial" for the left leg is towards smaller x; a mirrored (selfie) view swaps that, and every
signed value must stay the same because signs come from anatomy, not from image x.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from valgus import landmarks as lm
from valgus.core.kinematics import (
    body_yaw_deg,
    fppa_deg,
    knee_flexion_deg,
    knee_medial_of_foot,
    pelvic_drop_deg,
    trunk_lean_deg,
)
from valgus.landmarks import Side

W = 720.0  # image width (px)
HIP_Y = 500.0
HIP_HALF_PX = 50.0
THIGH_PX = 200.0  # vertical thigh (and shank) length in the image


def hips(stance: Side) -> tuple[np.ndarray, np.ndarray]:
    """(hip of ``stance``, other hip) for a non-mirrored front view."""
    left = np.array([W / 2 + HIP_HALF_PX, HIP_Y])
    right = np.array([W / 2 - HIP_HALF_PX, HIP_Y])
    return (left, right) if stance == "left" else (right, left)


def leg_points(side: Side, medial_px: float) -> dict[str, np.ndarray]:
    """Hip, knee, ankle and other hip of one leg, the knee ``medial_px`` towards the other hip."""
    hip, other_hip = hips(side)
    medial_x = np.sign(other_hip[0] - hip[0])
    knee = hip + np.array([medial_x * medial_px, THIGH_PX])
    ankle = hip + np.array([0.0, 2 * THIGH_PX])
    return {"hip": hip, "knee": knee, "ankle": ankle, "other_hip": other_hip}


def mirror(points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """x -> W - x, labels kept (a selfie view of the same person)."""
    return {k: np.array([W - v[0], v[1]]) for k, v in points.items()}


def fppa_of(points: dict[str, np.ndarray]) -> float:
    return float(fppa_deg(points["hip"], points["knee"], points["ankle"], points["other_hip"]))


# --- FPPA -------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("medial_px", [10.0, 35.0, 80.0])
def test_fppa_medial_knee_is_positive_with_exact_magnitude(side: Side, medial_px: float) -> None:
    """Knee towards the other hip: FPPA = +2 atan(d / L) for hip (0,0), knee (d,L), ankle (0,2L)."""
    expected = math.degrees(2 * math.atan(medial_px / THIGH_PX))
    assert fppa_of(leg_points(side, medial_px)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("side", ["left", "right"])
def test_fppa_lateral_knee_is_negative(side: Side) -> None:
    expected = -math.degrees(2 * math.atan(30.0 / THIGH_PX))
    assert fppa_of(leg_points(side, -30.0)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("side", ["left", "right"])
def test_fppa_straight_leg_is_zero(side: Side) -> None:
    assert fppa_of(leg_points(side, 0.0)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("medial_px", [25.0, -25.0])
def test_fppa_mirrored_view_gives_the_same_signed_value(side: Side, medial_px: float) -> None:
    points = leg_points(side, medial_px)
    assert fppa_of(mirror(points)) == pytest.approx(fppa_of(points), abs=1e-9)
    assert math.copysign(1.0, fppa_of(mirror(points))) == math.copysign(1.0, medial_px)


def test_fppa_left_and_right_legs_agree_for_symmetric_valgus() -> None:
    assert fppa_of(leg_points("left", 40.0)) == pytest.approx(
        fppa_of(leg_points("right", 40.0)), abs=1e-9
    )


@pytest.mark.parametrize("tilt_deg", [-20.0, 15.0])
def test_fppa_does_not_depend_on_whole_body_tilt(tilt_deg: float) -> None:
    """Rotating every point in the image plane (camera roll) leaves FPPA unchanged."""
    points = leg_points("left", 30.0)
    c, s = math.cos(math.radians(tilt_deg)), math.sin(math.radians(tilt_deg))
    rot = np.array([[c, -s], [s, c]])
    turned = {k: rot @ (v - points["hip"]) + points["hip"] for k, v in points.items()}
    assert fppa_of(turned) == pytest.approx(fppa_of(points), abs=1e-9)


def test_fppa_is_vectorised_and_nan_where_a_point_is_missing() -> None:
    a = leg_points("left", 20.0)
    b = leg_points("left", -20.0)
    knee = np.stack([a["knee"], b["knee"], [np.nan, np.nan]])
    out = fppa_deg(
        np.stack([a["hip"]] * 3), knee, np.stack([a["ankle"]] * 3), np.stack([a["other_hip"]] * 3)
    )
    assert out.shape == (3,)
    assert out[0] > 0 > out[1]
    assert out[0] == pytest.approx(-out[1], abs=1e-9)
    assert np.isnan(out[2])


# --- knee flexion -----------------------------------------------------------------------------


def test_knee_flexion_straight_leg_is_zero() -> None:
    hip, knee, ankle = np.zeros(3), np.array([0.0, 0.45, 0.0]), np.array([0.0, 0.9, 0.0])
    assert float(knee_flexion_deg(hip, knee, ankle)) == pytest.approx(0.0, abs=1e-6)


def test_knee_flexion_right_angle_is_90() -> None:
    hip, knee, ankle = np.zeros(3), np.array([0.0, 0.45, 0.0]), np.array([0.0, 0.45, 0.45])
    assert float(knee_flexion_deg(hip, knee, ankle)) == pytest.approx(90.0, abs=1e-9)


@pytest.mark.parametrize("theta_deg", [10.0, 45.0, 60.0, 100.0])
def test_knee_flexion_known_angle_in_3d(theta_deg: float) -> None:
    """Shank leaning forward and thigh backward by theta/2 each, turned out of the sagittal
    plane: flexion is theta whatever the turn."""
    half = math.radians(theta_deg) / 2
    turn = math.radians(25.0)
    ankle = np.zeros(3)
    knee = ankle + 0.45 * np.array(
        [math.sin(half) * math.sin(turn), -math.cos(half), -math.sin(half) * math.cos(turn)]
    )
    hip = ankle + np.array([0.0, -0.9 * math.cos(half), 0.0])
    assert float(knee_flexion_deg(hip, knee, ankle)) == pytest.approx(theta_deg, abs=1e-9)


# --- pelvic drop and trunk lean ---------------------------------------------------------------


@pytest.mark.parametrize("stance", ["left", "right"])
@pytest.mark.parametrize("mirrored", [False, True])
def test_pelvic_drop_free_hip_lower_is_positive(stance: Side, mirrored: bool) -> None:
    stance_hip, free_hip = hips(stance)
    drop = np.array([0.0, 12.0])  # y down: the free hip 12 px lower
    points = {"stance": stance_hip, "free": free_hip + drop}
    if mirrored:
        points = mirror(points)
    expected = math.degrees(math.atan2(12.0, 2 * HIP_HALF_PX))
    assert float(pelvic_drop_deg(points["stance"], points["free"])) == pytest.approx(expected)
    hike = {"stance": stance_hip, "free": free_hip - drop}
    if mirrored:
        hike = mirror(hike)
    assert float(pelvic_drop_deg(hike["stance"], hike["free"])) == pytest.approx(-expected)


def trunk_points(stance: Side, shift_to_stance_px: float) -> dict[str, np.ndarray]:
    """Hips level; shoulders 300 px above, shifted sideways towards the stance hip."""
    stance_hip, free_hip = hips(stance)
    towards = np.sign(stance_hip[0] - free_hip[0])
    up = np.array([towards * shift_to_stance_px, -300.0])
    return {
        "stance_hip": stance_hip,
        "free_hip": free_hip,
        "stance_shoulder": stance_hip + up + np.array([towards * 30.0, 0.0]),
        "free_shoulder": free_hip + up - np.array([towards * 30.0, 0.0]),
    }


def lean_of(p: dict[str, np.ndarray]) -> float:
    return float(
        trunk_lean_deg(p["stance_hip"], p["free_hip"], p["stance_shoulder"], p["free_shoulder"])
    )


@pytest.mark.parametrize("stance", ["left", "right"])
@pytest.mark.parametrize("mirrored", [False, True])
def test_trunk_lean_towards_stance_side_is_positive(stance: Side, mirrored: bool) -> None:
    expected = math.degrees(math.atan2(40.0, 300.0))
    towards = trunk_points(stance, 40.0)
    away = trunk_points(stance, -40.0)
    if mirrored:
        towards, away = mirror(towards), mirror(away)
    assert lean_of(towards) == pytest.approx(expected, abs=1e-9)
    assert lean_of(away) == pytest.approx(-expected, abs=1e-9)
    assert lean_of(trunk_points(stance, 0.0)) == pytest.approx(0.0, abs=1e-9)


# --- knee over foot ---------------------------------------------------------------------------


def knee_foot_points(side: Side, medial_px: float, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Leg with the knee ``medial_px`` medial of the foot centre, all lengths times ``scale``."""
    p = leg_points(side, medial_px)
    p["foot"] = p["ankle"] + np.array([0.0, 10.0])
    return {k: scale * v for k, v in p.items()}


def kmf_of(p: dict[str, np.ndarray]) -> float:
    return float(knee_medial_of_foot(p["hip"], p["knee"], p["ankle"], p["foot"], p["other_hip"]))


@pytest.mark.parametrize("side", ["left", "right"])
def test_knee_medial_of_foot_sign_and_normalisation(side: Side) -> None:
    leg_len = 2 * THIGH_PX
    assert kmf_of(knee_foot_points(side, 20.0)) == pytest.approx(20.0 / leg_len)
    assert kmf_of(knee_foot_points(side, -20.0)) == pytest.approx(-20.0 / leg_len)
    assert kmf_of(mirror(knee_foot_points(side, 20.0))) == pytest.approx(20.0 / leg_len)
    # Same person twice as large in the image: same value.
    assert kmf_of(knee_foot_points(side, 20.0, scale=2.0)) == pytest.approx(20.0 / leg_len)


# --- body yaw ---------------------------------------------------------------------------------


def torso_world(turn_deg: float) -> np.ndarray:
    """(1, 33, 3) world points of square hips and shoulders turned about the vertical axis;
    + turns the person's left side (+x, facing the camera) away from the camera (+z)."""
    g = math.radians(turn_deg)
    pts = np.full((1, lm.NUM_LANDMARKS, 3), np.nan)
    for idx, x, y in [
        (lm.LEFT_HIP, 0.10, 0.0),
        (lm.RIGHT_HIP, -0.10, 0.0),
        (lm.LEFT_SHOULDER, 0.18, -0.5),
        (lm.RIGHT_SHOULDER, -0.18, -0.5),
    ]:
        pts[0, idx] = [x * math.cos(g), y, x * math.sin(g)]
    return pts


@pytest.mark.parametrize(
    ("turn_deg", "expected"),
    [(0.0, 0.0), (30.0, 30.0), (-30.0, -30.0), (90.0, 90.0), (-90.0, -90.0)],
)
def test_body_yaw_front_turned_and_side_views(turn_deg: float, expected: float) -> None:
    assert float(body_yaw_deg(torso_world(turn_deg))[0]) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("turn_deg", "magnitude"), [(180.0, 0.0), (150.0, 30.0), (-150.0, 30.0)])
def test_body_yaw_back_view_folds_onto_front(turn_deg: float, magnitude: float) -> None:
    yaw = float(body_yaw_deg(torso_world(turn_deg))[0])
    assert abs(yaw) == pytest.approx(magnitude, abs=1e-6)


def test_body_yaw_of_mirrored_world_keeps_magnitude() -> None:
    world = torso_world(30.0)
    world[..., 0] *= -1  # what PoseSeries.mirrored does to world x
    assert abs(float(body_yaw_deg(world)[0])) == pytest.approx(30.0, abs=1e-6)
