"""Rep detection: a streaming hysteresis detector on knee flexion, and the stance check that turns
candidate flexion cycles into single-leg (or double-leg) squat reps.

The same ``RepCounter`` serves a recorded clip (``detect_reps`` feeds it every sample) and the
live webcam page (which calls ``update`` once per frame).
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import RepConfig, StanceConfig
from valgus.landmarks import SIDES, Side

IncompleteReason = Literal["", "clip_start", "clip_end", "tracking_lost", "too_slow"]
Exercise = Literal["single_leg", "double_leg"]


@dataclass(frozen=True)
class FlexionCycle:
    """One descent-bottom-ascent of a knee's flexion; indices refer to the sample stream."""

    start_i: int
    bottom_i: int
    end_i: int
    depth_deg: float
    incomplete: IncompleteReason

    @property
    def complete(self) -> bool:
        return self.incomplete == ""


class FlexionCycleDetector:
    """Streaming detector of flexion cycles (descent, bottom, ascent) on one knee.

    Works relative to the standing level rather than on absolute angles, because standing on one
    leg with a soft knee reads anywhere from 5 to 35 deg of flexion from monocular 3D landmarks.

    * The standing level is the lowest flexion since the previous cycle (the "valley").
    * A cycle opens when flexion rises ``start_rise_deg`` above the valley, and closes when it falls
      back to ``valley + return_fraction * (peak - valley)``; its start is the last sample before
      the peak at or below that same level, so descent and ascent are timed alike.
    * Cycles with an excursion under ``min_excursion_deg``, a peak under ``min_depth_deg`` or a
      duration under ``min_duration_s`` are dropped.
    * Incomplete cycles ("clip_start"): flexion falling first (the clip starts during an ascent),
      or a first cycle whose lowest point is the very first sample and lies more than
      ``start_level_margin_deg`` above the level the knee settles at afterwards (the clip starts
      during a descent). That first cycle is held back for ``settle_window_s`` after it closes to
      see that level. A cycle still open at the end is "clip_end"; one broken by a gap longer than
      ``max_gap_s`` is "tracking_lost".
    """

    def __init__(self, cfg: RepConfig, max_gap_s: float = 0.5) -> None:
        self._cfg = cfg
        self._max_gap_s = max_gap_s
        self._first_i: int | None = None
        self._state: Literal["unknown", "standing", "in_cycle"] = "unknown"
        self._history: list[tuple[int, float, float]] = []  # (i, t_s, flexion) since the valley
        self._valley = (-1, math.inf)
        self._peak = (-1, -math.inf)
        self._last_valid_t = -math.inf
        self._opened_from_unknown = False
        # First cycle awaiting the settled standing level: (cycle, first-sample level, close time).
        self._pending: tuple[FlexionCycle, float, float] | None = None
        self._settled_deg = math.inf

    def _level(self) -> float:
        v, p = self._valley[1], self._peak[1]
        return v + self._cfg.return_fraction * (p - v)

    def _cycle(self, end_i: int, end_t: float, incomplete: IncompleteReason) -> FlexionCycle | None:
        cfg = self._cfg
        valley = self._valley[1]
        peak_i, peak = self._peak
        level = self._level()
        before = [h for h in self._history if h[0] <= peak_i]
        start_i, start_t = before[0][0], before[0][1]
        for i, t, f in before:
            if f <= level:
                start_i, start_t = i, t
        if incomplete:
            # Only part of the rep is in view: report it (unscored) if it is clearly a squat,
            # i.e. deep enough; its excursion is unknown (the other half is out of the clip).
            if peak - valley < cfg.start_rise_deg or peak < cfg.min_depth_deg:
                return None
            return FlexionCycle(start_i, peak_i, end_i, peak, incomplete)
        if peak - valley < cfg.min_excursion_deg or peak < cfg.min_depth_deg:
            return None
        duration = end_t - start_t
        if duration < cfg.min_duration_s:
            return None
        if duration > cfg.max_duration_s:
            incomplete = "too_slow"
        return FlexionCycle(start_i, peak_i, end_i, peak, incomplete)

    def _close(self, i: int, t_s: float, flexion_deg: float) -> FlexionCycle | None:
        """Close the open cycle at sample i; the first cycle of a stream may be held back."""
        cycle = self._cycle(i, t_s, "")
        first_level = self._valley[1]
        hold = (
            cycle is not None
            and cycle.complete
            and self._opened_from_unknown
            and self._valley[0] == self._first_i
        )
        self._start_standing(i, t_s, flexion_deg)
        if hold and cycle is not None:
            self._pending = (cycle, first_level, t_s)
            self._settled_deg = flexion_deg
            return None
        return cycle

    def _settled_after_return(self, t_s: float, flexion_deg: float) -> bool:
        """Back up most of the way and no longer rising: the rep is over even if the knee stays
        a little bent (standing on one leg reads higher than the two-leg stance before it)."""
        cfg = self._cfg
        valley, peak = self._valley[1], self._peak[1]
        if peak - flexion_deg < cfg.settle_return_fraction * (peak - valley):
            return False
        recent = [f for _, t, f in self._history if t_s - t <= cfg.settle_plateau_s]
        earliest = next(t for _, t, _ in self._history if t_s - t <= cfg.settle_plateau_s)
        if t_s - earliest < 0.5 * cfg.settle_plateau_s:
            return False  # too few samples to call it a plateau
        return max(recent) - min(recent) <= cfg.settle_plateau_max_change_deg

    def _release(self) -> FlexionCycle | None:
        """Decide the held-back first cycle against the level the knee settled at."""
        if self._pending is None:
            return None
        cycle, first_level, _ = self._pending
        self._pending = None
        if first_level - self._settled_deg > self._cfg.start_level_margin_deg:
            return dataclasses.replace(cycle, incomplete="clip_start")
        return cycle

    def _start_standing(self, i: int, t_s: float, flexion_deg: float) -> None:
        self._state = "standing"
        self._valley = (i, flexion_deg)
        self._peak = (i, flexion_deg)
        self._history = [(i, t_s, flexion_deg)]
        self._opened_from_unknown = False

    def update(self, i: int, t_s: float, flexion_deg: float) -> FlexionCycle | None:
        """Feed sample ``i`` (consecutive integers from 0) at ``t_s``; NaN flexion = not seen.

        Returns the cycle that finished (or was released) on this sample, if any.
        """
        cfg = self._cfg
        if not math.isfinite(flexion_deg):
            if t_s - self._last_valid_t > self._max_gap_s and self._state != "unknown":
                released = self._release()
                result = None
                if self._state == "in_cycle":
                    last_i, last_t, _ = self._history[-1]
                    result = self._cycle(last_i, last_t, "tracking_lost")
                self._state = "unknown"
                self._first_i = None
                return released or result
            return None
        self._last_valid_t = t_s
        if self._first_i is None:
            self._first_i = i
            self._state = "unknown"
            self._valley = (i, flexion_deg)
            self._peak = (i, flexion_deg)
            self._history = []
        self._history.append((i, t_s, flexion_deg))
        if flexion_deg > self._peak[1]:
            self._peak = (i, flexion_deg)
        if self._state == "unknown":
            if flexion_deg < self._valley[1]:
                self._valley = (i, flexion_deg)
            if self._peak[1] - flexion_deg >= cfg.start_rise_deg and self._peak[0] < i:
                # Falling first: the clip opened during the ascent of a rep.
                self._valley = (i, flexion_deg)
                cycle = self._cycle(i, t_s, "clip_start")
                self._start_standing(i, t_s, flexion_deg)
                return cycle
            if flexion_deg - self._valley[1] >= cfg.start_rise_deg:
                self._state = "in_cycle"
                self._opened_from_unknown = True
                self._peak = (i, flexion_deg)
            return None
        if self._state == "standing":
            released = None
            if self._pending is not None:
                self._settled_deg = min(self._settled_deg, flexion_deg)
                if t_s - self._pending[2] >= cfg.settle_window_s:
                    released = self._release()
            if flexion_deg <= self._valley[1]:
                self._start_standing(i, t_s, flexion_deg)
            elif flexion_deg - self._valley[1] >= cfg.start_rise_deg:
                self._state = "in_cycle"
                released = released or self._release()
            return released
        # in_cycle
        if flexion_deg <= self._level() or self._settled_after_return(t_s, flexion_deg):
            return self._close(i, t_s, flexion_deg)
        if t_s - self._history[0][1] > cfg.max_duration_s + 30.0:
            # Never closes (e.g. the free leg held bent): forget it to keep memory bounded.
            self._start_standing(i, t_s, flexion_deg)
        return None

    def finish(self) -> list[FlexionCycle]:
        """End of stream: release a held-back cycle; one still under way is cut by the end."""
        done = [c for c in (self._release(),) if c is not None]
        if self._state == "in_cycle":
            last_i, last_t, _ = self._history[-1]
            cycle = self._cycle(last_i, last_t, "clip_end")
            if cycle is not None:
                done.append(cycle)
        self._state = "unknown"
        return done


@dataclass(frozen=True)
class RepCandidate:
    """A flexion cycle attributed to a stance leg after the foot check.

    ``exercise`` is "double_leg" when both feet stayed planted. Foot motions are the feet's
    movement during the cycle as a fraction of the hips' vertical travel.
    """

    leg: Side
    cycle: FlexionCycle
    exercise: Exercise
    stance_foot_motion: float
    free_foot_motion: float


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


def classify_cycle(
    leg: Side,
    cycle: FlexionCycle,
    own_foot_xy: np.ndarray,
    other_foot_xy: np.ndarray,
    hip_y: np.ndarray,
    cfg: StanceConfig,
) -> RepCandidate | None:
    """Decide whether ``leg`` was the stance leg during ``cycle``.

    The stance foot is the one that stays put on the floor while the hips go down and up; the
    free foot moves with the body or is swept. Which ankle is lower in the image says nothing: a
    free foot held forward near the floor looks lower than the stance foot. Foot movement is
    measured against the hips' vertical travel in the same cycle, so it does not depend on the
    size of the person in the image or on the depth of the squat.

    Args:
        own_foot_xy, other_foot_xy: (N, 2) pixels over the cycle's samples.
        hip_y: (N,) pixels, mid-hip height over the same samples.
    Returns:
        The attributed candidate, or None when this leg's foot moved (it was the free leg) or the
        hips did not travel.
    """
    travel = spread_px(hip_y)
    if not travel > 0:
        return None
    own = spread_px(own_foot_xy) / travel
    other = spread_px(other_foot_xy) / travel
    if not math.isfinite(own):
        return None
    exercise: Exercise
    if own <= cfg.planted_max_motion_ratio and (
        not math.isfinite(other)
        or (
            other - own > cfg.feet_motion_difference
            and other >= cfg.free_to_stance_motion_min_ratio * own
        )
    ):
        exercise = "single_leg"
    elif (
        math.isfinite(other)
        and max(own, other) <= cfg.double_max_motion_ratio
        and abs(own - other) <= cfg.feet_motion_difference
    ):
        exercise = "double_leg"
    else:
        return None
    return RepCandidate(leg, cycle, exercise, own, other)


@dataclass(frozen=True)
class StreamSample:
    """What the rep counter needs from one frame. Flexion in degrees; positions in image pixels."""

    t_s: float
    flexion_deg: dict[Side, float]
    foot_xy_px: dict[Side, tuple[float, float]]
    hip_y_px: float


class RepCounter:
    """Streaming rep counting for both legs; feed one ``StreamSample`` per frame.

    Each leg has its own flexion-cycle detector; when a cycle ends, the feet over that cycle
    decide whether it was a squat on that leg (stance foot planted, other foot moving), a
    double-leg squat (both planted) or the free leg moving (discarded). Overlapping double-leg
    cycles of the two knees are merged into one rep.
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
        # Foot positions kept for the longest cycle we accept (plus margin), so memory is bounded.
        self._buffer_s = max(buffer_s, rep_cfg.max_duration_s + 5.0)
        self._buffer: deque[tuple[int, StreamSample]] = deque()
        self._i = 0
        self._emitted: list[RepCandidate] = []

    @property
    def reps(self) -> list[RepCandidate]:
        return list(self._emitted)

    def _window(self, start_i: int, end_i: int) -> list[StreamSample]:
        return [s for i, s in self._buffer if start_i <= i <= end_i]

    def _attribute(self, leg: Side, cycle: FlexionCycle) -> RepCandidate | None:
        if self._force_leg is not None:
            # The user said which leg they stand on; no foot check can overrule that.
            return RepCandidate(leg, cycle, "single_leg", math.nan, math.nan)
        window = self._window(cycle.start_i, cycle.end_i)
        if not window:
            return None
        own = np.array([s.foot_xy_px[leg] for s in window], dtype=np.float64)
        other_leg: Side = "right" if leg == "left" else "left"
        other = np.array([s.foot_xy_px[other_leg] for s in window], dtype=np.float64)
        hip_y = np.array([s.hip_y_px for s in window], dtype=np.float64)
        return classify_cycle(leg, cycle, own, other, hip_y, self._stance_cfg)

    def _accept(self, cand: RepCandidate | None) -> RepCandidate | None:
        if cand is None:
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
) -> list[RepCandidate]:
    """Run the streaming ``RepCounter`` over a recorded series.

    Args:
        t_s: (T,) seconds. flexion_deg: per side (T,) degrees. foot_xy_px: per side (T, 2).
        hip_y_px: (T,) mid-hip image height.
    Returns:
        Reps sorted by start time.
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
            )
        )
    counter.finish()
    return sorted(counter.reps, key=lambda r: r.cycle.start_i)
