"""Where the free leg goes in each posture (pure numpy, no torch).

World frame as in ``valgus.synth.camera``: metres, z up, floor z = 0, x towards the person's
left, the person faces -y (forward = -y).

Two kinds of posture:

* angle postures move the free leg with the pelvis: ``bent_back`` (thigh a little forward, knee
  bent ~90 deg, foot behind; the poser's original free leg) and ``forward_high`` (thigh held
  forward, knee nearly straight, foot well off the floor; the thigh rises further as the stance
  leg squats, as in a pistol squat);
* foot postures hold the free ankle at a point fixed relative to the stance foot, and the leg
  follows by two-bone inverse kinematics (knee pointing forward): ``hover_forward_low`` (foot
  ahead of its standing place, ``hover_height_m`` above the floor), ``hover_beside`` (foot lifted
  in its standing place beside the stance ankle, ``hover_height_m`` up, a little behind) and
  ``touch_floor`` (foot set down ahead of its standing place, resting on the floor).
  The foot stays flat (its rest orientation), so the ankle's rise above its standing height is
  the sole's clearance. While the foot lifts (``lift`` 0 -> 1) it travels from its standing place
  to the target along an arc that clears the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FOOT_POSTURES = ("hover_forward_low", "hover_beside", "touch_floor")


@dataclass(frozen=True)
class FreeLegGeometry:
    """Targets of the free-leg postures. Lengths in metres, angles in degrees."""

    forward_high_hip_deg: float = 40.0  # thigh forward of vertical at the top
    forward_high_hip_gain_deg: float = 35.0  # further hip flexion at the bottom of the squat
    forward_high_knee_deg: float = 15.0
    hover_forward_m: float = 0.22  # hover_forward_low: ahead of the standing place
    hover_lateral_share: float = 0.8  # share of the standing foot spacing kept sideways
    beside_back_m: float = 0.03  # hover_beside: behind the standing place
    touch_forward_m: float = 0.15  # touch_floor: ahead of the standing place
    step_arc_m: float = 0.06  # how high the foot rises on its way to the target


def foot_target(
    posture: str,
    lift: float,
    stance_anchor: np.ndarray,
    free_anchor: np.ndarray,
    hover_height_m: float,
    geo: FreeLegGeometry | None = None,
) -> np.ndarray:
    """World (3,) target of the free ankle for a foot posture at this lift (0..1).

    ``stance_anchor``/``free_anchor``: the ankles' standing positions (3,), world."""
    geo = geo or FreeLegGeometry()
    spacing = free_anchor - stance_anchor
    spacing[2] = 0.0
    if posture == "hover_forward_low":
        goal = stance_anchor + geo.hover_lateral_share * spacing
        goal = goal + np.array([0.0, -geo.hover_forward_m, hover_height_m])
    elif posture == "hover_beside":
        goal = free_anchor + np.array([0.0, geo.beside_back_m, hover_height_m])
    elif posture == "touch_floor":
        goal = free_anchor + np.array([0.0, -geo.touch_forward_m, 0.0])
    else:
        raise ValueError(f"not a foot posture: {posture!r}")
    lift = float(np.clip(lift, 0.0, 1.0))
    arc = geo.step_arc_m * math.sin(math.pi * lift)
    return free_anchor + lift * (goal - free_anchor) + np.array([0.0, 0.0, arc])


def two_bone_ik(
    hip: np.ndarray,
    target: np.ndarray,
    thigh_len: float,
    shank_len: float,
    pole: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Knee and ankle positions (3,) of a leg from ``hip`` reaching for ``target``.

    The knee bends towards ``pole`` (a direction). An out-of-reach target leaves the leg almost
    straight, pointing at it (the returned ankle is then short of the target)."""
    v = target - hip
    dist = float(np.linalg.norm(v))
    u = v / max(dist, 1e-9)
    d = float(np.clip(dist, abs(thigh_len - shank_len) + 1e-6, 0.9999 * (thigh_len + shank_len)))
    x = (thigh_len**2 - shank_len**2 + d * d) / (2 * d)
    r = math.sqrt(max(thigh_len**2 - x * x, 0.0))
    p = pole - np.dot(pole, u) * u
    p = p / np.linalg.norm(p)
    knee = hip + u * x + p * r
    return knee, hip + u * d
