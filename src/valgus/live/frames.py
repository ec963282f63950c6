"""What a live session keeps of each frame and shows after it (``live.session.LiveSession``):
the status the page draws, the buffered frame, and the causal smoother of the per-frame values."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from valgus import landmarks as lm
from valgus.core.scoring import RepScore
from valgus.landmarks import Side
from valgus.live.setup import SetupStatus

Phase = Literal["setup", "counting", "finished"]


@dataclass(frozen=True)
class LiveStatus:
    """What the live page shows after each frame. Angles in degrees, times in seconds.

    ``t_s``: since the first frame seen; ``recorded_s``: since counting started (the time base
    of the kept clip and of the reps' times). ``fppa_deg``/``flexion_deg``: this frame's values
    from causally smoothed landmarks (NaN when not seen). ``stance``: the leg the person stands on
    as far as can be told (None before the first squat). ``counts``: complete single-leg reps per
    leg. ``reps``: every scored rep so far, in order; ``new_reps``: those that ended on this frame.
    ``not_a_rep``: the reason codes (``core.reps.RepCandidate.reason``: "free_leg_phase",
    "stance_unclear") of the knee-bend cycles found so far that were not a rep of either leg, in
    order: listed, never dropped (issue 16).
    """

    phase: Phase
    t_s: float
    frames: int
    recorded_frames: int
    recorded_s: float
    setup: SetupStatus
    fppa_deg: dict[Side, float]
    flexion_deg: dict[Side, float]
    stance: Side | None
    counts: dict[Side, int]
    reps: tuple[RepScore, ...]
    new_reps: tuple[RepScore, ...] = ()
    setup_held_s: float = 0.0
    not_a_rep: tuple[str, ...] = ()


NOT_MEASURED: np.ndarray = np.full(2, np.nan, np.float32)  # leg_seen/leg_still not measured


@dataclass
class BufferedFrame:
    """One frame as the live session keeps it (``LiveSession``'s bounded buffer)."""

    t_s: float  # since counting started
    xy_px: np.ndarray  # (33, 2) float32, NaN when no person
    world_m: np.ndarray  # (33, 3) float32
    visibility: np.ndarray  # (33,) float32
    n_people: int
    brightness: float = math.nan
    sharpness: float = math.nan
    leg_seen: np.ndarray = field(default_factory=lambda: NOT_MEASURED)  # (2,) float32
    leg_still: np.ndarray = field(default_factory=lambda: NOT_MEASURED)  # (2,) float32


NO_XY = np.full((lm.NUM_LANDMARKS, 2), np.nan, np.float32)
NO_WORLD = np.full((lm.NUM_LANDMARKS, 3), np.nan, np.float32)
NO_VIS = np.zeros(lm.NUM_LANDMARKS, np.float32)


class CausalSmoother:
    """First-order low-pass of landmark arrays on irregular time, restarted after a gap.

    The time constant is that of the offline filter's cut-off (tau = 1 / (2 pi f_c)), so the live
    numbers lag the offline ones by about tau (40 ms at 4 Hz), a frame at most.
    """

    def __init__(self, cutoff_hz: float, max_gap_s: float) -> None:
        self._tau_s = 1.0 / (2.0 * math.pi * cutoff_hz)
        self._max_gap_s = max_gap_s
        self._state: np.ndarray | None = None
        self._t_s = -math.inf

    def __call__(self, t_s: float, x: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(x)):
            if t_s - self._t_s > self._max_gap_s:
                self._state = None
            return np.full_like(x, np.nan, dtype=np.float64)
        if self._state is None or t_s - self._t_s > self._max_gap_s:
            self._state = x.astype(np.float64)
        else:
            alpha = 1.0 - math.exp(-(t_s - self._t_s) / self._tau_s)
            self._state = self._state + alpha * (x - self._state)
        self._t_s = t_s
        return self._state.copy()
