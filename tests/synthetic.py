"""Synthetic inputs with known ground truth for the unit tests (no video, no model).

* ``squat_curve``: knee flexion over time made of cosine-shaped reps on a standing level.
* ``rep_inputs``: the arrays ``detect_reps`` consumes (flexion, feet, mid-hip height) for a person
  squatting on one leg, the stance foot planted and the free foot carried by the body.
* ``person_series``: a full 33-landmark ``PoseSeries`` of a stick figure squatting on one leg in
  front of an orthographic camera, with a known knee flexion curve (3D world landmarks) and a known
  frontal plane projection angle (image landmarks).

Geometry of the stance leg (thigh and shank both ``LEG_SEGMENT_M`` long): at knee flexion theta the
shank leans forward and the thigh backward by theta / 2 each, so the hip stays above the ankle. The
knee then sits ``h = L sin(theta / 2)`` in front of the hip-ankle line; valgus is modelled by
turning the leg's plane about that (vertical) line by ``psi`` towards the midline, which moves the
knee medially by ``h sin(psi)`` without changing the 3D flexion. Seen from the front the FPPA is
``2 atan(tan(theta / 2) sin(psi))`` (see ``fppa_from_geometry_deg``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from valgus import landmarks as lm
from valgus.core.pose import PoseSeries
from valgus.landmarks import Side

LEG_SEGMENT_M = 0.45  # thigh = shank length
HIP_HALF_WIDTH_M = 0.10
SHOULDER_HALF_WIDTH_M = 0.18
TRUNK_M = 0.50
PX_PER_M = 400.0
IMAGE_SIZE = (720, 1280)  # portrait phone clip
FLOOR_Y_PX = 1150.0


@dataclass(frozen=True)
class Rep:
    """Ground truth of one synthetic rep: start time, duration (s) and flexion at the bottom."""

    start_s: float
    duration_s: float
    bottom_deg: float

    @property
    def bottom_s(self) -> float:
        return self.start_s + 0.5 * self.duration_s

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def time_base(duration_s: float, fps: float) -> np.ndarray:
    """(T,) regular timestamps from 0 to ``duration_s`` (inclusive when it falls on a frame)."""
    return np.arange(round(duration_s * fps) + 1) / fps


def squat_curve(t_s: np.ndarray, reps: Sequence[Rep], standing_deg: float) -> np.ndarray:
    """Knee flexion (deg): ``standing_deg`` plus a raised-cosine excursion for each rep.

    Reps may start before 0 or end after the last sample (reps cut by the clip).
    """
    flex = np.full(t_s.shape, standing_deg, dtype=np.float64)
    for rep in reps:
        phase = (t_s - rep.start_s) / rep.duration_s
        inside = (phase >= 0) & (phase <= 1)
        amp = rep.bottom_deg - standing_deg
        flex[inside] += amp * 0.5 * (1 - np.cos(2 * np.pi * phase[inside]))
    return flex


def evenly_spaced_reps(
    n: int, first_start_s: float, duration_s: float, pause_s: float, bottom_deg: float
) -> list[Rep]:
    """``n`` identical reps separated by ``pause_s`` of standing."""
    return [
        Rep(first_start_s + k * (duration_s + pause_s), duration_s, bottom_deg) for k in range(n)
    ]


@dataclass(frozen=True)
class RepInputs:
    """Arrays in the form ``detect_reps`` takes them."""

    t_s: np.ndarray
    flexion_deg: dict[Side, np.ndarray]
    foot_xy_px: dict[Side, np.ndarray]
    hip_y_px: np.ndarray


def rep_inputs(
    t_s: np.ndarray,
    stance_flexion_deg: np.ndarray,
    stance: Side,
    free_flexion_deg: np.ndarray | float = 90.0,
    free_foot_offset_px: tuple[float, float] = (0.0, -120.0),
    hip_px_per_deg: float = 1.5,
    foot_noise_px: float = 0.0,
    seed: int = 0,
) -> RepInputs:
    """One-leg squat seen from the front: stance foot planted, free foot carried by the hips.

    The mid-hip drops ``hip_px_per_deg`` pixels per degree of stance-knee flexion above its
    minimum; the free foot sits at ``free_foot_offset_px`` from the stance foot (default: lifted
    behind, higher in the image) and moves down and up with the hips.
    """
    rng = np.random.default_rng(seed)
    n = t_s.shape[0]
    free: Side = lm.other(stance)
    standing = float(np.nanmin(stance_flexion_deg))
    hip_drop = hip_px_per_deg * (stance_flexion_deg - standing)
    hip_y = 700.0 + hip_drop
    stance_x = 400.0 if stance == "left" else 320.0  # person's left on image right
    stance_foot = np.tile([stance_x, 1150.0], (n, 1))
    free_foot = np.tile([720.0 - stance_x + free_foot_offset_px[0], 1150.0], (n, 1))
    free_foot[:, 1] += free_foot_offset_px[1] + hip_drop
    if foot_noise_px:
        stance_foot = stance_foot + rng.normal(0.0, foot_noise_px, stance_foot.shape)
        free_foot = free_foot + rng.normal(0.0, foot_noise_px, free_foot.shape)
    free_flex = np.broadcast_to(np.asarray(free_flexion_deg, dtype=np.float64), (n,)).copy()
    return RepInputs(
        t_s=t_s,
        flexion_deg={stance: np.asarray(stance_flexion_deg, np.float64), free: free_flex},
        foot_xy_px={stance: stance_foot, free: free_foot},
        hip_y_px=hip_y,
    )


def fppa_from_geometry_deg(flexion_deg: float, valgus_turn_deg: float) -> float:
    """Front-view FPPA of the model leg: 2 atan(tan(theta / 2) sin(psi)), + = valgus."""
    half = math.radians(flexion_deg) / 2
    return math.degrees(2 * math.atan(math.tan(half) * math.sin(math.radians(valgus_turn_deg))))


def valgus_turn_for_fppa_deg(fppa_deg: float, flexion_deg: float) -> float:
    """The leg-plane turn psi (deg) that gives ``fppa_deg`` at ``flexion_deg``."""
    s = math.tan(math.radians(fppa_deg) / 2) / math.tan(math.radians(flexion_deg) / 2)
    return math.degrees(math.asin(s))


def _person_points(
    flexion_deg: float, stance: Side, valgus_turn_deg: float, free_flexion_deg: float
) -> np.ndarray:
    """(33, 3) scene points in metres: x towards image right for a front view, y down, z away
    from the camera, the stance ankle on the floor (y = 0). The person faces the camera, so their
    left side is at +x."""
    L = LEG_SEGMENT_M
    sgn = 1.0 if stance == "left" else -1.0  # x direction of the stance side
    half = math.radians(flexion_deg) / 2
    psi = math.radians(valgus_turn_deg)
    h = L * math.sin(half)
    hip_y = -2 * L * math.cos(half)
    p = np.zeros((lm.NUM_LANDMARKS, 3))
    st_hip = np.array([sgn * HIP_HALF_WIDTH_M, hip_y, 0.0])
    st_ankle = np.array([sgn * HIP_HALF_WIDTH_M, 0.0, 0.0])
    # Knee in front of the hip-ankle line, turned by psi towards the midline (-sgn in x).
    st_knee = np.array(
        [sgn * HIP_HALF_WIDTH_M - sgn * h * math.sin(psi), -L * math.cos(half), -h * math.cos(psi)]
    )
    fr_hip = np.array([-sgn * HIP_HALF_WIDTH_M, hip_y, 0.0])
    fr_knee = fr_hip + np.array([0.0, L, 0.0])  # free thigh hangs vertically...
    phi = math.radians(free_flexion_deg)
    fr_ankle = fr_knee + L * np.array([0.0, math.cos(phi), math.sin(phi)])  # ...shank held behind
    heel = np.array([0.0, 0.05, 0.05])
    toe = np.array([0.0, 0.07, -0.15])
    free: Side = lm.other(stance)
    p[lm.hip(stance)], p[lm.knee(stance)], p[lm.ankle(stance)] = st_hip, st_knee, st_ankle
    p[lm.heel(stance)], p[lm.foot_index(stance)] = st_ankle + heel, st_ankle + toe
    p[lm.hip(free)], p[lm.knee(free)], p[lm.ankle(free)] = fr_hip, fr_knee, fr_ankle
    p[lm.heel(free)], p[lm.foot_index(free)] = fr_ankle + heel, fr_ankle + toe
    shoulder_y = hip_y - TRUNK_M
    p[lm.LEFT_SHOULDER] = [SHOULDER_HALF_WIDTH_M, shoulder_y, 0.0]
    p[lm.RIGHT_SHOULDER] = [-SHOULDER_HALF_WIDTH_M, shoulder_y, 0.0]
    p[lm.NOSE] = [0.0, shoulder_y - 0.2, -0.08]
    p[1:11] = p[lm.NOSE]  # eyes, ears, mouth: not used
    p[13:23:2] = p[lm.LEFT_HIP] + [0.05, 0.0, 0.0]  # left elbow, wrist, fingers: hands on hips
    p[14:23:2] = p[lm.RIGHT_HIP] - [0.05, 0.0, 0.0]
    return p


def _turn_about_vertical(points: np.ndarray, yaw_deg: float, pivot: np.ndarray) -> np.ndarray:
    """Turn points about the vertical axis through ``pivot``; + moves the person's left (+x)
    away from the camera (+z)."""
    g = math.radians(yaw_deg)
    rel = points - pivot
    x = rel[..., 0] * math.cos(g) - rel[..., 2] * math.sin(g)
    z = rel[..., 0] * math.sin(g) + rel[..., 2] * math.cos(g)
    return np.stack([x, rel[..., 1], z], axis=-1) + pivot


def person_series(
    t_s: np.ndarray,
    stance_flexion_deg: np.ndarray,
    stance: Side = "left",
    valgus_turn_deg: float = 0.0,
    free_flexion_deg: float = 90.0,
    yaw_deg: float = 0.0,
) -> PoseSeries:
    """A ``PoseSeries`` of the stick figure squatting on ``stance`` with the given flexion curve.

    Image: orthographic front camera, ``PX_PER_M`` pixels per metre, person centred, floor at
    ``FLOOR_Y_PX``. World landmarks: the same points relative to the mid-hip (MediaPipe axes).
    ``yaw_deg`` turns the whole person about the vertical axis through the stance ankle
    (90 = side view).
    """
    n = t_s.shape[0]
    xy = np.zeros((n, lm.NUM_LANDMARKS, 2))
    world = np.zeros((n, lm.NUM_LANDMARKS, 3))
    for k in range(n):
        p = _person_points(float(stance_flexion_deg[k]), stance, valgus_turn_deg, free_flexion_deg)
        p = _turn_about_vertical(p, yaw_deg, p[lm.ankle(stance)].copy())
        mid_hip = 0.5 * (p[lm.LEFT_HIP] + p[lm.RIGHT_HIP])
        world[k] = p - mid_hip
        xy[k, :, 0] = IMAGE_SIZE[0] / 2 + PX_PER_M * p[:, 0]
        xy[k, :, 1] = FLOOR_Y_PX + PX_PER_M * p[:, 1]
    return PoseSeries(
        t_s=t_s,
        xy_px=xy.astype(np.float32),
        world_m=world.astype(np.float32),
        visibility=np.full((n, lm.NUM_LANDMARKS), 0.99, np.float32),
        image_size=IMAGE_SIZE,
        source="synthetic",
    )
