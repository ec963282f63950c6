"""Something in front of a leg that stays put while the leg moves (issue 13, hidden joints).

The landmarker keeps placing a knee behind a box, and its segmentation counts a box in front of
one knee as body (``estimator.leg_seen`` stays high there), so neither tells. What does: a box
does not move with the leg. Per frame and leg, at the knee and at mid-shin: the picture in a
square around the point is compared with an earlier frame (within ``WINDOW_S``) in which the
point was farthest from where it is now, at least ``MIN_MOVE_SHANKS`` shank lengths away, twice:
at the same spot in the picture (``static``) and at where the point was then (``moving``). A
visible leg brings its own picture with it: the spot changed (the leg moved in or out of it),
static about as large as moving or larger. An object in front shows the same pixels at the spot
as before, although the leg behind it moved: static near nothing while moving is not.
``OccluderMeter.step`` gives static / moving (the lesser of the two points; ``moving`` floored
at ``MIN_CHANGE``), NaN where the leg did not move far enough to tell; ``core.trust`` judges it
(``QualityConfig.max_leg_still_ratio``). A ratio of changes, so the same in a dim clip as in a
bright one.

Cost: two small square differences per point and frame, and the legs' part of each frame of
the last ``WINDOW_S`` kept: on base_hyva7 (1280x720) a median 0.4 ms a frame and 11 MB kept,
against the pose model's 25-35 ms.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from valgus import landmarks as lm

# How far back a frame is looked for in which the point was elsewhere (s): a squat's descent
# takes 1-3 s, so within 1 s the knee has usually moved by a fifth of the shank or more.
WINDOW_S = 1.0
# The point must have moved this many shank lengths (knee to ankle) since that frame: the
# compared squares (``PATCH_SHANKS`` either side) then overlap by at most two thirds, and a
# landmark's jitter on a still leg (a few percent of the shank) never gets there.
MIN_MOVE_SHANKS = 0.2
# The compared square reaches this many shank lengths either side of the point: wider than the
# leg (~0.3 shank), so that it holds the leg's edges and some background, which move with a
# visible leg.
PATCH_SHANKS = 0.3
# ``moving`` is floored at this (mean absolute difference, 0-255 levels per channel): where both
# comparisons are at the level of the video's noise, nothing is told either way.
MIN_CHANGE = 1.0
# The legs' part of a frame kept for later comparisons: the box of both knees and mid-shins,
# widened by this many shank lengths (plus the square) on every side.
KEEP_MARGIN_SHANKS = 1.0


@dataclass(frozen=True)
class _Kept:
    t_s: float
    points: np.ndarray  # (2 legs, 2 points: knee, mid-shin, 2) px; NaN where unknown
    origin: tuple[int, int]  # (x, y) px of ``crop`` in the frame
    crop: np.ndarray  # (h, w, 3) uint8


def leg_points(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2, 2, 2) px knee and mid-shin of the left and right leg, and (2,) shank lengths px,
    from ``xy`` ((33, 2) px)."""
    points = np.full((2, 2, 2), np.nan)
    shank = np.full(2, np.nan)
    for j, side in enumerate(lm.SIDES):
        knee = np.asarray(xy[lm.knee(side)], np.float64)
        ankle = np.asarray(xy[lm.ankle(side)], np.float64)
        points[j] = (knee, 0.5 * (knee + ankle))
        shank[j] = float(np.linalg.norm(knee - ankle))
    return points, shank


def _square(image: np.ndarray, x: float, y: float, r: int) -> np.ndarray | None:
    """The (2r+1)-px square of ``image`` centred on (x, y), as int16; None unless wholly in."""
    cx, cy = round(x), round(y)
    h, w = image.shape[:2]
    if cx - r < 0 or cy - r < 0 or cx + r + 1 > w or cy + r + 1 > h:
        return None
    return image[cy - r : cy + r + 1, cx - r : cx + r + 1].astype(np.int16)


class OccluderMeter:
    """Feed every frame in order (``step``); one meter per tracked segment."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window_s = window_s
        self._kept: deque[_Kept] = deque()

    def step(self, rgb: np.ndarray, t_s: float, xy: np.ndarray | None) -> np.ndarray:
        """(2,) float32, left then right leg: static over moving change (module docstring), the
        lesser of knee and mid-shin; NaN where not measured. ``rgb``: (H, W, 3) uint8; ``xy``:
        the person's (33, 2) px landmarks in it, None where the person is not found."""
        while self._kept and t_s - self._kept[0].t_s > self._window_s:
            self._kept.popleft()
        out = np.full(2, np.nan, np.float32)
        if xy is None:
            return out
        points, shank = leg_points(xy)
        for j in range(2):
            if not (np.isfinite(shank[j]) and shank[j] > 0 and np.all(np.isfinite(points[j]))):
                continue
            ratios = [self._ratio(rgb, points[j, k], j, k, float(shank[j])) for k in range(2)]
            finite = [v for v in ratios if np.isfinite(v)]
            if finite:
                out[j] = min(finite)
        self._keep(rgb, t_s, points, shank)
        return out

    def _ratio(self, rgb: np.ndarray, p: np.ndarray, j: int, k: int, shank: float) -> float:
        r = max(1, round(PATCH_SHANKS * shank))
        here = _square(rgb, p[0], p[1], r)
        if here is None:
            return float("nan")
        # The farthest earlier frame whose kept part holds both squares.
        best: tuple[np.ndarray, np.ndarray] | None = None
        far_px = MIN_MOVE_SHANKS * shank
        for kept in self._kept:
            then = kept.points[j, k]
            d = float(np.linalg.norm(then - p))
            if not d >= far_px:  # NaN (unknown then) is never far
                continue
            x0, y0 = kept.origin
            same_spot = _square(kept.crop, p[0] - x0, p[1] - y0, r)
            with_leg = _square(kept.crop, then[0] - x0, then[1] - y0, r)
            if same_spot is not None and with_leg is not None:
                best, far_px = (same_spot, with_leg), d
        if best is None:
            return float("nan")
        static = float(np.mean(np.abs(here - best[0])))
        moving = float(np.mean(np.abs(here - best[1])))
        return static / max(moving, MIN_CHANGE)

    def _keep(self, rgb: np.ndarray, t_s: float, points: np.ndarray, shank: np.ndarray) -> None:
        known = points[np.all(np.isfinite(points), axis=(1, 2))]
        if not known.size or not np.any(np.isfinite(shank)):
            return
        pad = (KEEP_MARGIN_SHANKS + PATCH_SHANKS) * float(np.nanmax(shank)) + 1
        pts = known.reshape(-1, 2)
        h, w = rgb.shape[:2]
        x0 = int(max(0, np.floor(pts[:, 0].min() - pad)))
        y0 = int(max(0, np.floor(pts[:, 1].min() - pad)))
        x1 = int(min(w, np.ceil(pts[:, 0].max() + pad)))
        y1 = int(min(h, np.ceil(pts[:, 1].max() + pad)))
        if x1 <= x0 or y1 <= y0:
            return
        crop = np.array(rgb[y0:y1, x0:x1], copy=True)
        self._kept.append(_Kept(t_s, points, (x0, y0), crop))
