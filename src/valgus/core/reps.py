"""Rep detection: a streaming hysteresis detector on knee flexion, and the stance check that turns
candidate flexion cycles into single-leg (or double-leg) squat reps.

The same ``RepCounter`` serves a recorded clip (``detect_reps`` feeds it every sample) and the
live webcam page (which calls ``update`` once per frame).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import RepConfig, StanceConfig
from valgus.core.cycles import FlexionCycle, FlexionCycleDetector, IncompleteReason
from valgus.core.stance import (
    RepReason,
    StanceWindow,
    other_foot_lifted,
    spread_px,
    stance_evidence,
)
from valgus.landmarks import SIDES, Side

__all__ = [
    "Exercise", "FlexionCycle", "FlexionCycleDetector", "IncompleteReason", "RepCandidate",
    "RepCounter", "StreamSample", "classify_cycle", "detect_reps", "spread_px",
]

# "unknown": a cycle listed without a stance leg (reason ``stance_unclear``).
Exercise = Literal["single_leg", "double_leg", "unknown"]


@dataclass(frozen=True)
class RepCandidate:
    """A flexion cycle attributed to a stance leg after the stance check (``core.stance``).

    ``exercise`` is "double_leg" when both feet stayed planted with the hips between them.
    ``reason``: "" for a rep valid for the test, or a code saying why the cycle is not
    (``stance.RepReason``): "free_foot_down" (done on this leg, the free foot rested on the floor:
    tell the person to keep it off the floor), "free_foot_low" (the free foot too low to tell
    from resting on the floor), "free_leg_phase" (this knee bent as the free leg
    of the other leg's stance; ``exercise`` "single_leg"), "stance_unclear" (the cues do not say
    which foot stands; ``exercise`` "unknown"). Only ``attributed`` candidates are reps of
    ``leg``; the others are listed so that no cycle that was found goes unmentioned.
    Foot motions are the feet's image movement during the cycle over the hips' vertical travel
    (NaN when not measured); ``weight_shift`` where the hips sat between the feet (1 = over this
    leg's foot, 0.5 = centred; NaN when unknown).
    """

    leg: Side
    cycle: FlexionCycle
    exercise: Exercise
    stance_foot_motion: float
    free_foot_motion: float
    reason: RepReason = ""
    weight_shift: float = math.nan

    @property
    def attributed(self) -> bool:
        """A rep of ``leg`` (valid for the test or not): not a free-leg phase nor unclear."""
        return self.reason not in ("free_leg_phase", "stance_unclear")


def _window(samples: list[StreamSample], leg: Side) -> StanceWindow:
    other_leg: Side = "right" if leg == "left" else "left"
    return StanceWindow(
        own_foot=np.array([s.foot_xy_px[leg] for s in samples], dtype=np.float64).reshape(-1, 2),
        other_foot=np.array([s.foot_xy_px[other_leg] for s in samples],
                            dtype=np.float64).reshape(-1, 2),
        hip_y=np.array([s.hip_y_px for s in samples], dtype=np.float64),
        hip_x=np.array([s.hip_x_px for s in samples], dtype=np.float64),
        hip_width=np.array([s.hip_width_px for s in samples], dtype=np.float64),
        yaw_deg=np.array([s.yaw_deg for s in samples], dtype=np.float64),
    )


def classify_cycle(
    leg: Side,
    cycle: FlexionCycle,
    own_foot_xy: np.ndarray,
    other_foot_xy: np.ndarray,
    hip_y: np.ndarray,
    cfg: StanceConfig,
    hip_x: np.ndarray | None = None,
    hip_width: np.ndarray | None = None,
    lifted_before: bool = False,
    continues: bool = False,
    yaw_deg: np.ndarray | None = None,
) -> RepCandidate | None:
    """Decide whether ``leg`` was the stance leg during ``cycle`` (``stance.stance_evidence``).

    Args:
        own_foot_xy, other_foot_xy: (N, 2) pixels over the cycle's samples.
        hip_y: (N,) pixels, mid-hip height over the same samples. hip_x / hip_width: (N,) pixels,
            mid-hip x and the hips' distance (None = unknown: no weight-shift cue).
        lifted_before, continues: see ``stance.stance_evidence``.
        yaw_deg: (N,) deg, the body's turn from the camera (None = taken as facing it).
    Returns:
        The attributed candidate (single- or double-leg), or None when this leg's foot was the
        free one or the cues do not decide.
    """
    n = len(hip_y)
    nan = np.full(n, np.nan)
    w = StanceWindow(
        np.asarray(own_foot_xy, np.float64), np.asarray(other_foot_xy, np.float64),
        np.asarray(hip_y, np.float64),
        nan if hip_x is None else np.asarray(hip_x, np.float64),
        nan if hip_width is None else np.asarray(hip_width, np.float64),
        None if yaw_deg is None else np.asarray(yaw_deg, np.float64),
    )
    ev = stance_evidence(w, cfg, lifted_before, continues)
    if ev.verdict not in ("single_leg", "double_leg"):
        return None
    exercise: Exercise = "single_leg" if ev.verdict == "single_leg" else "double_leg"
    return RepCandidate(leg, cycle, exercise, ev.own_motion, ev.other_motion, ev.reason,
                        ev.weight_shift)


@dataclass(frozen=True)
class StreamSample:
    """What the rep counter needs from one frame. Flexion in degrees; positions in image pixels.

    hip_x_px / hip_width_px: mid-hip x and the distance between the hips (NaN = not given: the
    stance check then goes without the weight-shift cue). yaw_deg: the body's turn from the
    camera (``kinematics.body_yaw_deg``; NaN = not given, taken as facing the camera).
    """

    t_s: float
    flexion_deg: dict[Side, float]
    foot_xy_px: dict[Side, tuple[float, float]]
    hip_y_px: float
    hip_x_px: float = math.nan
    hip_width_px: float = math.nan
    yaw_deg: float = math.nan


class RepCounter:
    """Streaming rep counting for both legs; feed one ``StreamSample`` per frame.

    Each leg has its own flexion-cycle detector; when a cycle ends, the stance check
    (``core.stance``) over that cycle, the seconds before it and this leg's previous rep decides
    whether it was a squat on that leg, a double-leg squat, the free leg moving or unclear.
    ``reps`` holds the attributed ones; ``unattributed`` the free-leg phases and unclear cycles
    (never dropped: every cycle that reached the minimum depth is in one of the two lists).
    Overlapping double-leg cycles of the two knees are merged into one rep. With ``force_leg``
    only that knee is followed, and only its cycles where its foot is not the free one count.
    """

    def __init__(
        self,
        rep_cfg: RepConfig,
        stance_cfg: StanceConfig,
        max_gap_s: float = 0.5,
        buffer_s: float = 60.0,
        force_leg: Side | None = None,
    ) -> None:
        self._stance_cfg = stance_cfg
        self._force_leg = force_leg
        legs = SIDES if force_leg is None else (force_leg,)
        self._detectors = {s: FlexionCycleDetector(rep_cfg, max_gap_s) for s in legs}
        # Samples kept for the longest cycle we accept plus the look-back before it (plus
        # margin), so memory is bounded.
        self._buffer_s = max(buffer_s, rep_cfg.max_duration_s + stance_cfg.lift_lookback_s + 5.0)
        self._buffer: deque[tuple[int, StreamSample]] = deque()
        self._i = 0
        self._emitted: list[RepCandidate] = []
        self._unattributed: list[RepCandidate] = []

    @property
    def reps(self) -> list[RepCandidate]:
        """The attributed reps so far (``RepCandidate.attributed``), in the order they closed."""
        return list(self._emitted)

    @property
    def unattributed(self) -> list[RepCandidate]:
        """Cycles found but not attributed to a stance leg (free-leg phases, unclear stance)."""
        return list(self._unattributed)

    def _samples(self, start_i: int, end_i: int) -> list[StreamSample]:
        return [s for i, s in self._buffer if start_i <= i <= end_i]

    def _continues(self, leg: Side, cycle: FlexionCycle) -> bool:
        """This leg's previous rep was single-leg and the feet have not moved relative to each
        other between its end and this cycle's start."""
        prev = [r for r in self._emitted if r.leg == leg and r.cycle.end_i <= cycle.start_i]
        if not prev or prev[-1].exercise != "single_leg":
            return False
        between = _window(self._samples(prev[-1].cycle.end_i, cycle.start_i), leg)
        widths = between.hip_width[np.isfinite(between.hip_width)]
        width = float(np.median(widths)) if widths.size else math.nan
        if not width > 0:
            return False
        moved = spread_px(between.own_foot - between.other_foot) / width
        return bool(moved < self._stance_cfg.lift_min_hip_widths)

    def _attribute(self, leg: Side, cycle: FlexionCycle) -> RepCandidate:
        samples = self._samples(cycle.start_i, cycle.end_i)
        if not samples:
            return RepCandidate(leg, cycle, "unknown", math.nan, math.nan, "stance_unclear")
        # A lift of the other foot is looked for in the seconds before the cycle and on the way
        # down (the cycle's start is placed where flexion begins to rise, which may be while
        # the free foot is still being lifted).
        t0 = samples[0].t_s
        before = [s for i, s in self._buffer
                  if i <= cycle.bottom_i and t0 - s.t_s <= self._stance_cfg.lift_lookback_s]
        t_before = np.array([s.t_s for s in before], dtype=np.float64)
        other_leg: Side = "right" if leg == "left" else "left"

        def lifted(stance_leg: Side) -> bool:
            window = _window(before, stance_leg) if before else None
            return other_foot_lifted(window, self._stance_cfg, t_before)

        ev = stance_evidence(
            _window(samples, leg),
            self._stance_cfg,
            lifted_before=lifted(leg),
            continues=self._continues(leg, cycle),
            own_lifted_before=lifted(other_leg),
        )
        if self._force_leg is not None:
            # The user said which leg they stand on; only a cycle where this foot is clearly the
            # free one (the other planted, or the hips over the other foot) is not theirs.
            forced_reason = ev.reason if ev.verdict in ("free_leg", "single_leg") else ""
            return RepCandidate(leg, cycle, "single_leg", ev.own_motion, ev.other_motion,
                                forced_reason, ev.weight_shift)
        exercise: Exercise = "unknown"
        if ev.verdict in ("single_leg", "free_leg"):
            exercise = "single_leg"
        elif ev.verdict == "double_leg":
            exercise = "double_leg"
        return RepCandidate(leg, cycle, exercise, ev.own_motion, ev.other_motion, ev.reason,
                            ev.weight_shift)

    def _accept(self, cand: RepCandidate) -> RepCandidate | None:
        """Keep an attributed rep (returned) or list an unattributed cycle (None returned)."""
        if not cand.attributed:
            self._unattributed.append(cand)
            return None
        if cand.exercise == "double_leg":
            for prev in self._emitted:
                overlap = min(prev.cycle.end_i, cand.cycle.end_i) - max(
                    prev.cycle.start_i, cand.cycle.start_i
                )
                if prev.exercise == "double_leg" and prev.leg != cand.leg and overlap > 0:
                    return None  # the other knee's cycle already stands for this rep
        self._emitted.append(cand)
        return cand

    def update(self, sample: StreamSample) -> list[RepCandidate]:
        """Feed one frame; returns the reps that finished on it (usually none)."""
        i = self._i
        self._i += 1
        self._buffer.append((i, sample))
        while self._buffer and sample.t_s - self._buffer[0][1].t_s > self._buffer_s:
            self._buffer.popleft()
        done: list[RepCandidate] = []
        for leg, detector in self._detectors.items():
            cycle = detector.update(i, sample.t_s, sample.flexion_deg[leg])
            if cycle is not None and (rep := self._accept(self._attribute(leg, cycle))):
                done.append(rep)
        return done

    def finish(self) -> list[RepCandidate]:
        """End of stream: close cycles still under way (as cut by the end of the clip)."""
        done: list[RepCandidate] = []
        for leg, detector in self._detectors.items():
            for cycle in detector.finish():
                if rep := self._accept(self._attribute(leg, cycle)):
                    done.append(rep)
        return done


def detect_reps(
    t_s: np.ndarray,
    flexion_deg: dict[Side, np.ndarray],
    foot_xy_px: dict[Side, np.ndarray],
    hip_y_px: np.ndarray,
    rep_cfg: RepConfig,
    stance_cfg: StanceConfig,
    max_gap_s: float = 0.5,
    force_leg: Side | None = None,
    hip_x_px: np.ndarray | None = None,
    hip_width_px: np.ndarray | None = None,
    yaw_deg: np.ndarray | None = None,
    include_unattributed: bool = False,
) -> list[RepCandidate]:
    """Run the streaming ``RepCounter`` over a recorded series.

    Args:
        t_s: (T,) seconds. flexion_deg: per side (T,) degrees. foot_xy_px: per side (T, 2).
        hip_y_px: (T,) mid-hip image height. hip_x_px / hip_width_px: (T,) mid-hip image x and
        the hips' image distance (``Kinematics.mid_hip_x_px`` / ``hip_width_px``; None = the
        stance check goes without the weight-shift cue). yaw_deg: (T,) deg, the body's turn from
        the camera (``Kinematics.yaw_deg``; None = taken as facing it).
        include_unattributed: also return the cycles not attributed to a stance leg
        (``RepCandidate.attributed`` False: free-leg phases, unclear stance).
    Returns:
        Reps (and, if asked, the unattributed cycles) sorted by start time.
    """
    if t_s.shape[0] == 0:
        return []
    span_s = float(t_s[-1] - t_s[0]) + 1.0
    counter = RepCounter(rep_cfg, stance_cfg, max_gap_s, buffer_s=span_s, force_leg=force_leg)
    for i in range(t_s.shape[0]):
        counter.update(
            StreamSample(
                t_s=float(t_s[i]),
                flexion_deg={s: float(flexion_deg[s][i]) for s in SIDES},
                foot_xy_px={s: (float(foot_xy_px[s][i, 0]), float(foot_xy_px[s][i, 1]))
                            for s in SIDES},
                hip_y_px=float(hip_y_px[i]),
                hip_x_px=math.nan if hip_x_px is None else float(hip_x_px[i]),
                hip_width_px=math.nan if hip_width_px is None else float(hip_width_px[i]),
                yaw_deg=math.nan if yaw_deg is None else float(yaw_deg[i]),
            )
        )
    counter.finish()
    found = counter.reps + (counter.unattributed if include_unattributed else [])
    return sorted(found, key=lambda r: r.cycle.start_i)
