"""The scripted single-leg squat: a timeline of per-frame targets (pure numpy, no torch).

One rep, on the stance leg named by the leg pattern:

1. lift: weight shifts over the stance foot while the free foot comes up (free knee bent, foot
   behind), ``lift`` goes 0 -> 1;
2. a short pause, then the squat: stance knee flexion goes from ``top_flexion_deg`` to
   ``depth_deg`` and back (cosine profile), with the knee drawn medially in proportion to the
   squat progress (the valgus angle for that leg is reached at the bottom), and the pelvis
   dropping on the free side in proportion to the squat progress too (contralateral pelvic drop,
   ``pelvic_drop_*_deg`` at the bottom; 0 by default);
3. the free foot goes down again (``lift`` 1 -> 0) and the person stands on both feet briefly.

Times scale with ``rep_s``; the clip has ``lead_in_s`` of standing before the first rep and
``lead_out_s`` after the last one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Side = Literal["left", "right"]

# Fractions of one rep's duration, in order. They sum to 1.
PHASES: tuple[tuple[str, float], ...] = (
    ("lift", 0.16),
    ("hold_top", 0.05),
    ("descent", 0.28),
    ("hold_bottom", 0.03),
    ("ascent", 0.28),
    ("hold_after", 0.04),
    ("lower", 0.13),
    ("stand", 0.03),
)


def parse_legs(pattern: str, reps: int) -> list[Side]:
    """Stance leg of each rep.

    ``alternate`` (left first), ``alternate-right`` (right first), ``left``, ``right``, or an
    explicit string of L/R letters (``LRRL``), repeated or cut to ``reps``.
    """
    p = pattern.strip().lower()
    if p in ("alternate", "alternate-left", "alt"):
        seq = "lr"
    elif p == "alternate-right":
        seq = "rl"
    elif p in ("left", "l"):
        seq = "l"
    elif p in ("right", "r"):
        seq = "r"
    elif p and set(p) <= {"l", "r"}:
        seq = p
    else:
        raise ValueError(f"unknown leg pattern {pattern!r}")
    letters = (seq * (reps // len(seq) + 1))[:reps]
    return ["left" if c == "l" else "right" for c in letters]


@dataclass(frozen=True)
class MotionConfig:
    """What the synthetic person does. Angles in degrees, times in seconds."""

    reps: int = 6
    legs: str = "alternate"
    rep_s: float = 3.2
    lead_in_s: float = 0.6
    lead_out_s: float = 0.6
    depth_deg: float = 65.0  # knee flexion at the bottom of each squat
    top_flexion_deg: float = 4.0  # soft stance knee before and after the squat
    standing_flexion_deg: float = 2.0  # both feet down
    # Target 2D FPPA at the bottom, as seen by a square-on frontal camera; + = valgus.
    valgus_left_deg: float = 2.0
    valgus_right_deg: float = 18.0
    # How the flexion splits between hip (thigh tilting forward) and ankle (shank tilting forward).
    hip_share: float = 0.65
    trunk_lean_share: float = 1.1  # trunk forward lean as a share of the thigh's forward tilt
    stance_lean_deg: float = 6.0  # stance leg tilted in the frontal plane to put the body over it
    free_hip_flex_deg: float = 15.0
    free_knee_flex_deg: float = 90.0
    # Valgus grows with squat progress s in [0, 1] as s ** valgus_exponent.
    valgus_exponent: float = 1.0
    # Contralateral pelvic drop at the bottom, by stance leg: the free-side hip lower than the
    # stance hip by this tilt of the hip-joint line (the sign of valgus.kinematics.pelvic_drop_deg).
    # It grows linearly with squat progress. 0 keeps the pelvis level, as in the clips made before
    # the option existed.
    pelvic_drop_left_deg: float = 0.0
    pelvic_drop_right_deg: float = 0.0

    def valgus_deg(self, side: Side) -> float:
        return self.valgus_left_deg if side == "left" else self.valgus_right_deg

    def pelvic_drop_deg(self, side: Side) -> float:
        return self.pelvic_drop_left_deg if side == "left" else self.pelvic_drop_right_deg


def _smooth(x: np.ndarray) -> np.ndarray:
    """Smooth 0 -> 1 ramp over x in [0, 1] (cosine)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(math.pi * x)


@dataclass(frozen=True)
class RepPlan:
    """Times (s) of one rep's events."""

    index: int
    stance: Side
    start_s: float  # free foot starts to lift
    squat_start_s: float  # stance knee starts to bend
    bottom_s: float  # deepest point (middle of the bottom hold)
    squat_end_s: float  # stance knee back to its top flexion
    end_s: float  # free foot back on the floor


@dataclass
class Timeline:
    """Per-frame targets. Arrays have one entry per frame."""

    t_s: np.ndarray
    rep: np.ndarray  # rep index (0-based) or -1 when standing on both feet
    stance: list[Side | None]
    lift: np.ndarray  # 0 = both feet down, 1 = free foot fully up
    squat: np.ndarray  # 0 = top, 1 = bottom
    flexion_deg: np.ndarray  # design knee flexion of the stance leg
    reps: list[RepPlan] = field(default_factory=list)
    duration_s: float = 0.0
    # Design pelvic drop (deg, + = free-side hip lower), 0 while both feet are down. Last and
    # defaulted so positional construction keeps working.
    pelvic_drop_deg: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.t_s)


def plan_reps(cfg: MotionConfig) -> tuple[list[RepPlan], float]:
    """Rep events and the clip duration."""
    legs = parse_legs(cfg.legs, cfg.reps)
    plans: list[RepPlan] = []
    t = cfg.lead_in_s
    for i, side in enumerate(legs):
        marks = {}
        acc = t
        for name, frac in PHASES:
            marks[name] = (acc, acc + frac * cfg.rep_s)
            acc += frac * cfg.rep_s
        plans.append(
            RepPlan(
                index=i,
                stance=side,
                start_s=marks["lift"][0],
                squat_start_s=marks["descent"][0],
                bottom_s=0.5 * (marks["hold_bottom"][0] + marks["hold_bottom"][1]),
                squat_end_s=marks["ascent"][1],
                end_s=marks["lower"][1],
            )
        )
        t = acc
    return plans, t + cfg.lead_out_s


def _rep_targets(t: float, plan: RepPlan, cfg: MotionConfig) -> tuple[float, float]:
    """(lift, squat) at time t inside one rep."""
    r = cfg.rep_s
    bounds = {}
    acc = plan.start_s
    for name, frac in PHASES:
        bounds[name] = (acc, acc + frac * r)
        acc += frac * r

    def prog(name: str) -> float:
        a, b = bounds[name]
        return float(_smooth(np.asarray((t - a) / max(b - a, 1e-9))))

    if t < bounds["lift"][1]:
        return prog("lift"), 0.0
    if t < bounds["descent"][0]:
        return 1.0, 0.0
    if t < bounds["descent"][1]:
        return 1.0, prog("descent")
    if t < bounds["ascent"][0]:
        return 1.0, 1.0
    if t < bounds["ascent"][1]:
        return 1.0, 1.0 - prog("ascent")
    if t < bounds["lower"][0]:
        return 1.0, 0.0
    if t < bounds["lower"][1]:
        return 1.0 - prog("lower"), 0.0
    return 0.0, 0.0


def build_timeline(cfg: MotionConfig, fps: float) -> Timeline:
    plans, duration = plan_reps(cfg)
    n = round(duration * fps)
    t_s = np.arange(n) / fps
    rep = np.full(n, -1, np.int32)
    stance: list[Side | None] = [None] * n
    lift = np.zeros(n)
    squat = np.zeros(n)
    for k, t in enumerate(t_s):
        for plan in plans:
            if plan.start_s <= t < plan.end_s:
                rep[k] = plan.index
                stance[k] = plan.stance
                lift[k], squat[k] = _rep_targets(float(t), plan, cfg)
                break
    flexion = np.where(
        rep >= 0,
        cfg.standing_flexion_deg
        + lift * (cfg.top_flexion_deg - cfg.standing_flexion_deg)
        + squat * (cfg.depth_deg - cfg.top_flexion_deg),
        cfg.standing_flexion_deg,
    )
    drop = np.array(
        [
            0.0 if s is None else cfg.pelvic_drop_deg(s) * float(q)
            for s, q in zip(stance, squat, strict=True)
        ]
    )
    return Timeline(t_s, rep, stance, lift, squat, flexion, plans, duration, drop)
