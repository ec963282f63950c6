"""The knee-flexion reference: each leg's standing hip-ankle image length, which a free leg
cannot set, and flexion read from the shortening against it.

The reference can be tracked as a ratio to a body scale (``body_scale_px``; KinematicsConfig
.body_scale, "none" by default) so that a zoom does not bias it. "trunk": the trunk's image
length at the frames where the trunk is upright, interpolated in time; it does not grow when a
person stands on one leg (shoulder + hip width grows 4-6%), and only upright frames are used
because leaning forward at the bottom shortens it by up to 27%. Fixes the rendered 12% zoom but
still varies 10-20% on static real clips, hence not the default (see config).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from valgus import landmarks as lm
from valgus.config import KinematicsConfig
from valgus.landmarks import Side


def flexion_from_shortening_deg(
    leg_len_px: np.ndarray, standing_leg_len_px: np.ndarray | float
) -> np.ndarray:
    """Knee flexion from how much shorter the hip-ankle line is than when standing.

    With thigh and shank of equal length L, the hip-ankle distance at knee flexion theta is
    2 L cos(theta / 2) whatever the hip and trunk do, so theta = 2 acos(d / d_standing). In a
    frontal view this needs no depth estimate; the hip moving back a little makes it read a few
    degrees high (measured on the synthetic accuracy set: 80 deg true reads 84-91 deg, 65 reads
    71-74, where MediaPipe's 3D landmarks give 41-57 and 35-40).

    Args:
        leg_len_px: (T,) hip-ankle image length. standing_leg_len_px: (T,) or scalar, the same
            leg's standing length (see ``standing_leg_length_px``).
    Returns: (T,) degrees in [0, 180]; NaN where either input is missing.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.clip(leg_len_px / standing_leg_len_px, -1.0, 1.0)
    return np.degrees(2.0 * np.arccos(ratio))


def _running(t_s: np.ndarray, values: np.ndarray, window_s: float, q: float,
             step_s: float) -> np.ndarray:
    """(T,) the ``q`` percentile of the finite ``values`` within ``window_s`` centred on each
    frame, evaluated every ``step_s`` seconds and interpolated in between (linear in time).
    NaN where the window holds no finite value."""
    n = t_s.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    grid = np.arange(float(t_s[0]), float(t_s[-1]) + step_s, step_s)
    lo = np.searchsorted(t_s, grid - window_s / 2.0, side="left")
    hi = np.searchsorted(t_s, grid + window_s / 2.0, side="right")
    at_grid = np.full(grid.shape, np.nan)
    for k in range(grid.shape[0]):
        v = values[lo[k]:hi[k]]
        v = v[np.isfinite(v)]
        if v.size:
            at_grid[k] = np.percentile(v, q)
    ok = np.isfinite(at_grid)
    if ok.any():
        out = np.interp(t_s, grid[ok], at_grid[ok])
        # No extrapolation over long stretches without any value.
        known = grid[ok]
        j = np.searchsorted(known, t_s)
        before = known[np.clip(j - 1, 0, known.size - 1)]
        after = known[np.clip(j, 0, known.size - 1)]
        near = np.minimum(np.abs(t_s - before), np.abs(t_s - after))
        out[near > window_s / 2.0 + step_s] = np.nan
    return out


def body_width_px(xy: np.ndarray) -> np.ndarray:
    """(...) shoulder width + hip width in the image, px, from (..., 33, 2) landmarks.

    The body's scale in the picture: it follows a zoom or the person walking closer, and unlike
    the leg or the trunk it does not shorten when the knees bend or the trunk leans forward.
    """
    shoulder_line = xy[..., lm.LEFT_SHOULDER, :] - xy[..., lm.RIGHT_SHOULDER, :]
    shoulders = np.linalg.norm(shoulder_line, axis=-1)
    hips = np.linalg.norm(xy[..., lm.LEFT_HIP, :] - xy[..., lm.RIGHT_HIP, :], axis=-1)
    return shoulders + hips


def leg_tilt_deg(world: np.ndarray, side: Side) -> np.ndarray:
    """(...) angle of the leg's hip -> ankle line from vertical in the 3D world landmarks, deg.

    ``world``: (..., 33, 3) metres, y down. 0 = ankle straight below the hip (standing, or a
    stance leg squatting); a free leg held forward or bent back tilts by 30-90 deg.
    """
    v = world[..., lm.ankle(side), :] - world[..., lm.hip(side), :]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = v[..., 1] / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def standing_leg_length_px(
    t_s: np.ndarray,
    leg_len_px: np.ndarray,
    window_s: float,
    body_width: np.ndarray | None = None,
    upright: np.ndarray | None = None,
    cfg: KinematicsConfig | None = None,
    frontal: np.ndarray | None = None,
) -> np.ndarray:
    """(T,) the leg's standing hip-ankle image length near each frame, px.

    Tracked as a ratio to the body's scale (``body_width``: (T,) px, ``body_scale_px``; ones
    when None): the ``cfg.standing_percentile`` of leg length / scale over the frames within
    ``window_s`` centred on the frame where the leg is ``upright`` ((T,) bool, see
    ``leg_tilt_deg``; all when None), times the scale (running median over
    ``cfg.body_width_window_s``) at the frame. So a free-leg phase (not upright, or a few frames
    of a foot held towards the camera) cannot set it, and a zoom or a person walking closer
    moves it with the body. The scale means nothing side-on: where ``frontal`` ((T,) bool; all when
    None) is False, and where the window holds no frontal upright frame, the length is the longest
    hip-ankle length within the window instead. NaN frames are ignored; NaN where the window holds
    no usable frame.
    """
    cfg = cfg or KinematicsConfig()
    n = leg_len_px.shape[0]
    if n == 0:
        return leg_len_px.copy()
    step = 0.25
    if body_width is None:
        scale = np.ones(n)
    else:
        scale = _running(t_s, np.where(body_width > 0, body_width, np.nan),
                         cfg.body_width_window_s, 50.0, min(step, cfg.body_width_window_s / 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = leg_len_px / scale
    usable = np.ones(n, bool) if upright is None else upright.astype(bool)
    if frontal is not None:
        usable &= frontal.astype(bool)
    ratio = np.where(usable, ratio, np.nan)
    standing = _running(t_s, ratio, window_s, cfg.standing_percentile, step) * scale
    longest = _running(t_s, leg_len_px, window_s, 100.0, step)
    side_on = ~np.isfinite(standing) if frontal is None else ~frontal.astype(bool)
    return np.where(side_on | ~np.isfinite(standing), longest, standing)


class StandingLengthTracker:
    """Streaming standing hip-ankle length over the trailing ``window_s``.

    The live counterpart of ``standing_leg_length_px`` (which looks both ways): the
    ``cfg.standing_percentile`` of leg length / body width over the upright frames of the window,
    times the current body width (running median over ``cfg.body_width_window_s``).
    """

    def __init__(self, window_s: float, cfg: KinematicsConfig | None = None) -> None:
        self._window_s = window_s
        self._cfg = cfg or KinematicsConfig()
        self._ratios: deque[tuple[float, float]] = deque()  # (t_s, leg / body width)
        self._widths: deque[tuple[float, float]] = deque()  # (t_s, body width px)
        self._lengths: deque[tuple[float, float]] = deque()  # (t_s, leg length px): fallback
        self._scale = math.nan

    def update(
        self,
        t_s: float,
        leg_len_px: float,
        body_width: float = 1.0,
        upright: bool = True,
        frontal: bool = True,
    ) -> float:
        """Add a sample (NaN = not seen; ``body_width``: the body scale, px, NaN = none on this
        frame (the last one is kept), 1.0 = lengths in px; ``upright`` and ``frontal`` as in
        ``standing_leg_length_px``) and return the standing length, px (NaN if none yet)."""
        window = self._window_s
        if math.isfinite(leg_len_px):
            self._lengths.append((t_s, leg_len_px))
        while self._lengths and t_s - self._lengths[0][0] > window:
            self._lengths.popleft()
        if math.isfinite(body_width) and body_width > 0:
            self._widths.append((t_s, body_width))
        while self._widths and t_s - self._widths[0][0] > self._cfg.body_width_window_s:
            self._widths.popleft()
        if self._widths:
            self._scale = float(np.median([w for _, w in self._widths]))
        scale = self._scale  # kept through frames without a scale (a trunk leaning forward)
        if math.isfinite(leg_len_px) and upright and frontal and math.isfinite(scale):
            self._ratios.append((t_s, leg_len_px / scale))
        while self._ratios and t_s - self._ratios[0][0] > window:
            self._ratios.popleft()
        if frontal and self._ratios and math.isfinite(scale):
            ratios = [r for _, r in self._ratios]
            return float(np.percentile(ratios, self._cfg.standing_percentile)) * scale
        return max((x for _, x in self._lengths), default=math.nan)




def hip_ankle_length_px(xy: np.ndarray, side: Side) -> np.ndarray:
    """(...) the hip-ankle line's image length of one leg, from (..., 33, 2) landmarks."""
    return np.linalg.norm(xy[..., lm.ankle(side), :] - xy[..., lm.hip(side), :], axis=-1)


def _mid(xy: np.ndarray, a: int, b: int) -> np.ndarray:
    return 0.5 * (xy[..., a, :] + xy[..., b, :])


def trunk_length_px(xy: np.ndarray) -> np.ndarray:
    """(...) image distance from the mid-hip to the mid-shoulder, px, from (..., 33, 2)."""
    return np.linalg.norm(
        _mid(xy, lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER) - _mid(xy, lm.LEFT_HIP, lm.RIGHT_HIP),
        axis=-1,
    )


def trunk_lean_world_deg(world: np.ndarray) -> np.ndarray:
    """(...) angle of the hip -> shoulder line from vertical in the 3D world landmarks, deg.

    ``world``: (..., 33, 3) metres, y down. MediaPipe reads 12-16 deg standing on the rendered
    clips (its world frame is not level) and 25-40 at the bottom of a squat: compare it with its
    own low values, not with 0.
    """
    v = _mid(world, lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER) - _mid(world, lm.LEFT_HIP, lm.RIGHT_HIP)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = -v[..., 1] / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def body_scale_px(
    t_s: np.ndarray, xy: np.ndarray, world: np.ndarray, cfg: KinematicsConfig
) -> np.ndarray | None:
    """(T,) the body's scale in the picture, px, or None (``cfg.body_scale`` "none").

    "trunk": the trunk's image length (``trunk_length_px``) at the frames where the trunk leans
    no more than ``cfg.upright_trunk_margin_deg`` beyond the clip's 20th percentile of its 3D
    lean (``trunk_lean_world_deg``), running median over ``cfg.body_width_window_s``,
    interpolated (linear in time) over the frames between; None when that length changes by less
    than ``cfg.min_zoom_fraction`` over the clip (5th to 95th percentile). "width": shoulder + hip
    width (``body_width_px``), which grows 4-6% when standing on one leg.
    """
    if cfg.body_scale == "none":
        return None
    if cfg.body_scale == "width":
        return body_width_px(xy)
    length = trunk_length_px(xy)
    lean = trunk_lean_world_deg(world)
    finite = np.isfinite(length) & np.isfinite(lean)
    if not finite.any():
        return None
    upright = finite & (lean <= np.percentile(lean[finite], 20.0) + cfg.upright_trunk_margin_deg)
    smooth = _running(t_s, np.where(upright, length, np.nan), cfg.body_width_window_s, 50.0,
                      min(0.25, cfg.body_width_window_s / 4))
    good = upright & np.isfinite(smooth)
    if not good.any():
        return None
    low, high = np.percentile(smooth[good], [5.0, 95.0])
    if not high > low * (1.0 + cfg.min_zoom_fraction):
        return None  # no zoom: the scale's own jitter would cost more than it corrects
    return np.interp(t_s, t_s[good], smooth[good])


class UprightTrunkScale:
    """Streaming ``body_scale_px`` ("trunk") for the live page: the trunk's image length on a
    frame whose 3D lean is within ``cfg.upright_trunk_margin_deg`` of the 20th percentile of the
    lean over the trailing ``window_s``, else NaN (``StandingLengthTracker`` keeps the last)."""

    def __init__(self, window_s: float, cfg: KinematicsConfig | None = None) -> None:
        self._window_s = window_s
        self._cfg = cfg or KinematicsConfig()
        self._leans: deque[tuple[float, float]] = deque()

    def update(self, t_s: float, xy: np.ndarray, world: np.ndarray) -> float:
        """``xy`` (33, 2) px and ``world`` (33, 3) m of one frame; returns the scale px or NaN."""
        lean = float(trunk_lean_world_deg(world))
        length = float(trunk_length_px(xy))
        if math.isfinite(lean):
            self._leans.append((t_s, lean))
        while self._leans and t_s - self._leans[0][0] > self._window_s:
            self._leans.popleft()
        if not (self._leans and math.isfinite(lean) and math.isfinite(length)):
            return math.nan
        low = float(np.percentile([x for _, x in self._leans], 20.0))
        return length if lean <= low + self._cfg.upright_trunk_margin_deg else math.nan
