"""Flexion cycles of one knee (descent, bottom, ascent), found by a streaming detector that
serves a recorded clip and the live page alike (``reps.RepCounter`` feeds it)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

from valgus.config import RepConfig

IncompleteReason = Literal[
    "", "clip_start", "clip_end", "tracking_lost", "found_mid_rep", "too_slow"
]


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
    * Continuous reps never get back there: a cycle also closes at the lowest flexion after its
      bottom (the "trough") once the knee came up from the bottom by ``min_prominence_deg``, the
      trough lies at least ``min_separation_s / 2`` after the bottom, and flexion rises
      ``start_rise_deg`` above the trough again; the next cycle starts from that trough.
    * Cycles with an excursion under ``min_excursion_deg``, a peak under ``min_depth_deg`` or a
      duration under ``min_duration_s`` are dropped.
    * Incomplete cycles ("clip_start"): flexion falling first (the clip starts during an ascent),
      or a first cycle whose lowest point is the very first sample and lies more than
      ``start_level_margin_deg`` above the level the knee settles at afterwards (the clip starts
      during a descent). That first cycle is held back for ``settle_window_s`` after it closes to
      see that level. A cycle still open at the end is "clip_end"; one broken by a gap longer than
      ``max_gap_s`` is "tracking_lost".
    * A gap longer than ``max_gap_s`` (the knee not seen: no pose, the person out of the picture
      or set aside for someone else) ends what was followed; the next stretch starts afresh.
      Only a stretch that starts within ``max_gap_s`` of the stream's first sample starts with
      the clip: a cycle already under way when a later stretch starts (the person found again,
      or first found seconds into the clip) is "found_mid_rep", never "clip_start".
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
        self._pending: tuple[FlexionCycle, float, float, IncompleteReason] | None = None
        self._settled_deg = math.inf
        # Lowest flexion since the peak of the open cycle: (i, t_s, flexion).
        self._trough: tuple[int, float, float] | None = None
        self._stream_t0: float | None = None  # the stream's first sample, seen or not
        # Why a cycle under way when the present followed stretch began is cut at its start.
        self._cut_at_start: IncompleteReason = "clip_start"

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
            self._pending = (cycle, first_level, t_s, self._cut_at_start)
            self._settled_deg = flexion_deg
            return None
        return cycle

    def _close_at_trough(self) -> FlexionCycle | None:
        """Continuous reps: close the open cycle at its trough and open the next one from it."""
        assert self._trough is not None
        trough_i, trough_t, trough_f = self._trough
        after = [h for h in self._history if h[0] >= trough_i]
        first = self._opened_from_unknown and self._valley[0] == self._first_i
        first_level = self._valley[1]
        cycle = self._cycle(trough_i, trough_t, "")
        released = None
        if first and cycle is not None and cycle.complete:
            # The first cycle is judged against the level the knee comes back to: the trough.
            self._pending = (cycle, first_level, trough_t, self._cut_at_start)
            self._settled_deg = trough_f
            released, cycle = self._release(), None
        self._state = "in_cycle"
        self._valley = (trough_i, trough_f)
        peak = max(after, key=lambda h: h[2])
        self._peak = (peak[0], peak[2])
        self._history = after
        self._opened_from_unknown = False
        self._trough = None
        return cycle or released

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

    def _next_rep_started(self, flexion_deg: float) -> bool:
        """After a bottom, the knee came up by the prominence and is bending again."""
        cfg = self._cfg
        assert self._trough is not None
        _, trough_t, trough_f = self._trough
        peak_t = next(t for i, t, _ in self._history if i == self._peak[0])
        return (
            self._peak[1] - trough_f >= cfg.min_prominence_deg
            and trough_t - peak_t >= cfg.min_separation_s / 2.0
            and flexion_deg - trough_f >= cfg.start_rise_deg
        )

    def _release(self) -> FlexionCycle | None:
        """Decide the held-back first cycle against the level the knee settled at."""
        if self._pending is None:
            return None
        cycle, first_level, _, cut = self._pending
        self._pending = None
        if first_level - self._settled_deg > self._cfg.start_level_margin_deg:
            return dataclasses.replace(cycle, incomplete=cut)
        return cycle

    def _start_standing(self, i: int, t_s: float, flexion_deg: float) -> None:
        self._state = "standing"
        self._trough = None
        self._valley = (i, flexion_deg)
        self._peak = (i, flexion_deg)
        self._history = [(i, t_s, flexion_deg)]
        self._opened_from_unknown = False

    def update(self, i: int, t_s: float, flexion_deg: float) -> FlexionCycle | None:
        """Feed sample ``i`` (consecutive integers from 0) at ``t_s``; NaN flexion = not seen.

        Returns the cycle that finished (or was released) on this sample, if any.
        """
        cfg = self._cfg
        if self._stream_t0 is None:
            self._stream_t0 = t_s
        if not math.isfinite(flexion_deg):
            if t_s - self._last_valid_t > self._max_gap_s and self._first_i is not None:
                # Not followed for too long: what was seen before the gap is done with (a
                # cycle under way is cut by the gap, not by the clip).
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
            # A stretch starting later than the clip's start follows a gap in tracking.
            late = t_s - self._stream_t0 > self._max_gap_s
            self._cut_at_start = "found_mid_rep" if late else "clip_start"
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
                # Falling first: the clip (or this followed stretch) opened during an ascent.
                self._valley = (i, flexion_deg)
                cycle = self._cycle(i, t_s, self._cut_at_start)
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
        if self._peak[0] == i:
            self._trough = None  # a new bottom: any earlier low point was a wobble
        elif self._trough is None or flexion_deg < self._trough[2]:
            self._trough = (i, t_s, flexion_deg)
        elif self._next_rep_started(flexion_deg):
            return self._close_at_trough()
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
