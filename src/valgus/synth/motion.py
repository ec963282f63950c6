"""The scripted single-leg squat: a timeline of per-frame targets (pure numpy, no torch).

One rep, on the stance leg named by the leg pattern:

1. lift: weight shifts over the stance foot while the free foot comes up into its posture
   (``free_leg``: bent back, held forward high, hovering forward low, hovering beside the stance
   ankle, or resting on the floor), ``lift`` goes 0 -> 1;
2. a short pause, then the squat: stance knee flexion goes from ``top_flexion_deg`` to
   ``depth_deg`` and back (cosine profile), with an optional hold at the bottom
   (``bottom_hold_s``), the knee drawn medially in proportion to the squat progress (the valgus
   angle for that leg is reached at the bottom), and the pelvis dropping on the free side in
   proportion to the squat progress too (contralateral pelvic drop, ``pelvic_drop_*_deg`` at the
   bottom; 0 by default);
3. the free foot goes down again (``lift`` 1 -> 0) and the person stands on both feet briefly.

``between_reps`` says what happens between two reps on the same leg with the same posture:

* ``stand`` (default, the committed clips): steps 1-3 every rep. ``rep_s`` is the whole cycle,
  lift and lower included, plus ``bottom_hold_s``.
* ``pause``: the free foot stays up and the knee rests straight for ``top_pause_s`` at the top.
* ``continuous``: the free foot stays up and the knee goes straight from one rep into the next,
  no pause at the top.

In ``pause`` and ``continuous`` modes ``rep_s`` is the knee's cycle from top to top (descent and
ascent, half each) plus ``bottom_hold_s``; the free foot lifts before the first rep of a run on
one leg and comes down after its last one. Times in seconds, angles in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Side = Literal["left", "right"]
FreeLeg = Literal["bent_back", "forward_high", "hover_forward_low", "hover_beside", "touch_floor"]
FREE_LEGS: tuple[str, ...] = (
    "bent_back",
    "forward_high",
    "hover_forward_low",
    "hover_beside",
    "touch_floor",
)
BETWEEN_REPS: tuple[str, ...] = ("stand", "pause", "continuous")
# Postures whose rep is invalid for the clinical test (the free foot takes weight).
INVALID_FREE_LEGS: frozenset[str] = frozenset({"touch_floor"})

# Fractions of one rep's duration, in order (``between_reps="stand"``). They sum to 1.
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
# Free foot lift and lower around a run of reps on one leg (``pause``/``continuous``), seconds:
# the ``stand`` phases for a 3.2 s rep, so a fast tempo does not also make the foot snap up.
RUN_LIFT_S, RUN_SETTLE_S, RUN_LOWER_S, RUN_STAND_S = 0.5, 0.16, 0.42, 0.3


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


def parse_free_legs(pattern: str, reps: int) -> list[str]:
    """Free-leg posture of each rep: one of ``FREE_LEGS`` or a comma list cycled over the reps
    (``hover_beside,touch_floor``)."""
    names = [s.strip() for s in pattern.split(",") if s.strip()]
    bad = [s for s in names if s not in FREE_LEGS]
    if not names or bad:
        raise ValueError(f"unknown free-leg posture {pattern!r}; choose from {FREE_LEGS}")
    return [names[i % len(names)] for i in range(reps)]


@dataclass(frozen=True)
class MotionConfig:
    """What the synthetic person does. Angles in degrees, times in seconds, lengths in metres."""

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
    # Free-leg posture (one of FREE_LEGS, or a comma list cycled over the reps).
    free_leg: str = "bent_back"
    # Sole of the free foot above the floor for hover_forward_low / hover_beside (m).
    hover_height_m: float = 0.05
    # What happens between reps on the same leg (BETWEEN_REPS), the pause at the top for
    # ``pause`` (s), and the hold at the bottom of every rep (s, added to rep_s).
    between_reps: str = "stand"
    top_pause_s: float = 0.8
    bottom_hold_s: float = 0.0

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
    """Times (s) of one rep's events.

    ``start_s``: the rep begins: the free foot starts to lift, or, inside a run of reps with the
    foot kept up, the previous rep's squat ends. ``end_s``: the free foot is back on the floor,
    or the squat ends when the next rep follows with the foot kept up. ``hold_start_s`` and
    ``hold_end_s`` bound the time at full depth (equal to ``bottom_s`` when there is no hold).
    """

    index: int
    stance: Side
    start_s: float  # rep begins (free foot starts to lift, or the previous squat ended)
    squat_start_s: float  # stance knee starts to bend
    bottom_s: float  # deepest point (middle of the bottom hold)
    squat_end_s: float  # stance knee back to its top flexion
    end_s: float  # free foot back on the floor (or the next rep begins)
    free_leg: str = "bent_back"
    hold_start_s: float = 0.0
    hold_end_s: float = 0.0
    lifts_foot: bool = True  # the free foot lifts at the start of this rep
    lowers_foot: bool = True  # the free foot goes down at the end of this rep

    @property
    def valid_for_test(self) -> bool:
        """False when the free foot rests on the floor (the rep does not count in the test)."""
        return self.free_leg not in INVALID_FREE_LEGS


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
    # Free-leg posture per frame (None while both feet are down).
    free_leg: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t_s)


class _Track:
    """Piecewise cosine interpolation between keyframes (t in s, value)."""

    def __init__(self, t0: float, v0: float) -> None:
        self.t = [t0]
        self.v = [v0]

    def to(self, t: float, v: float) -> None:
        """Ramp (cosine) from the last keyframe to ``v`` at time ``t``."""
        self.t.append(t)
        self.v.append(v)

    def hold(self, t: float) -> None:
        self.to(t, self.v[-1])

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        t, v = np.asarray(self.t), np.asarray(self.v)
        k = np.clip(np.searchsorted(t, t_s, side="right") - 1, 0, len(t) - 2)
        span = np.maximum(t[k + 1] - t[k], 1e-9)
        s = _smooth((t_s - t[k]) / span)
        return np.where(t_s >= t[-1], v[-1], v[k] + (v[k + 1] - v[k]) * s)


def _runs(cfg: MotionConfig) -> list[list[int]]:
    """Rep indices grouped into runs done without putting the free foot down."""
    legs = parse_legs(cfg.legs, cfg.reps)
    postures = parse_free_legs(cfg.free_leg, cfg.reps)
    if cfg.between_reps not in BETWEEN_REPS:
        raise ValueError(f"between_reps must be one of {BETWEEN_REPS}, got {cfg.between_reps!r}")
    runs: list[list[int]] = []
    for i in range(cfg.reps):
        same = i > 0 and legs[i] == legs[i - 1] and postures[i] == postures[i - 1]
        if runs and same and cfg.between_reps != "stand":
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _plan(cfg: MotionConfig) -> tuple[list[RepPlan], float, _Track, _Track]:
    """Rep events, the clip duration and the lift and squat tracks."""
    if not cfg.bottom_hold_s >= 0.0:
        raise ValueError("bottom_hold_s must be >= 0")
    legs = parse_legs(cfg.legs, cfg.reps)
    postures = parse_free_legs(cfg.free_leg, cfg.reps)
    lift, squat = _Track(0.0, 0.0), _Track(0.0, 0.0)
    plans: list[RepPlan] = []
    t = cfg.lead_in_s
    lift.hold(t)
    squat.hold(t)
    r = cfg.rep_s
    frac = dict(PHASES)
    for run in _runs(cfg):
        stand = cfg.between_reps == "stand"
        start = t
        # Free foot up, then a short settle before the knee bends.
        t_lift = frac["lift"] * r if stand else RUN_LIFT_S
        t_settle = frac["hold_top"] * r if stand else RUN_SETTLE_S
        lift.to(t + t_lift, 1.0)
        squat.hold(t + t_lift)
        t += t_lift + t_settle
        lift.hold(t)
        squat.hold(t)
        for j, i in enumerate(run):
            if j > 0 and cfg.between_reps == "pause":
                t += cfg.top_pause_s
                lift.hold(t)
                squat.hold(t)
            half = frac["descent"] * r if stand else 0.5 * r
            hold = (frac["hold_bottom"] * r if stand else 0.0) + cfg.bottom_hold_s
            sq0 = t
            squat.to(t + half, 1.0)
            squat.hold(t + half + hold)
            squat.to(t + 2 * half + hold, 0.0)
            hold0, hold1 = sq0 + half, sq0 + half + hold
            t = sq0 + 2 * half + hold
            lift.hold(t)
            last = j == len(run) - 1
            end = t
            if last:
                t_after = frac["hold_after"] * r if stand else RUN_SETTLE_S
                t_lower = frac["lower"] * r if stand else RUN_LOWER_S
                t_stand = frac["stand"] * r if stand else RUN_STAND_S
                lift.hold(t + t_after)
                lift.to(t + t_after + t_lower, 0.0)
                end = t + t_after + t_lower
                t = end + t_stand
                lift.hold(t)
                squat.hold(t)
            plans.append(
                RepPlan(
                    index=i,
                    stance=legs[i],
                    start_s=start,
                    squat_start_s=sq0,
                    bottom_s=0.5 * (hold0 + hold1),
                    squat_end_s=sq0 + 2 * half + hold,
                    end_s=end,
                    free_leg=postures[i],
                    hold_start_s=hold0,
                    hold_end_s=hold1,
                    lifts_foot=j == 0,
                    lowers_foot=last,
                )
            )
            start = plans[-1].squat_end_s
    return plans, t + cfg.lead_out_s, lift, squat


def plan_reps(cfg: MotionConfig) -> tuple[list[RepPlan], float]:
    """Rep events and the clip duration."""
    plans, duration, _, _ = _plan(cfg)
    return plans, duration


def build_timeline(cfg: MotionConfig, fps: float) -> Timeline:
    plans, duration, lift_track, squat_track = _plan(cfg)
    n = round(duration * fps)
    t_s = np.arange(n) / fps
    rep = np.full(n, -1, np.int32)
    stance: list[Side | None] = [None] * n
    posture: list[str | None] = [None] * n
    lift = np.zeros(n)
    squat = np.zeros(n)
    for plan in plans:
        inside = (t_s >= plan.start_s) & (t_s < plan.end_s)
        rep[inside] = plan.index
        lift[inside] = lift_track(t_s[inside])
        squat[inside] = squat_track(t_s[inside])
        for k in np.flatnonzero(inside):
            stance[k] = plan.stance
            posture[k] = plan.free_leg
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
    return Timeline(t_s, rep, stance, lift, squat, flexion, plans, duration, drop, posture)
