"""How far the camera moved during a rep, and whether that is too far to score it (issue 16
item 4). Pure numpy.

The steps come per frame from ``PoseSeries.camera_motion`` (``runtime.camera_motion``: the
picture content's shift, zoom and roll since the previous frame, read from the background with
the person masked out; NaN where unknown). ``camera_path`` adds them up to the content's
position relative to the first frame; ``camera_movement`` measures a span of frames on it;
``camera_moved`` holds it against ``config.CameraMotionConfig``.

Where the background gives nothing to follow (a plain wall: the steps are unknown),
``foot_movement`` reads the camera's shift from the standing foot instead, which stays put on
the floor during a rep of the single-leg squat: its travel across the picture is the camera's
(zoom, roll and speed stay unknown there; a landmark's jitter is no speed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import CameraMotionConfig
from valgus.core.pose import check_shape


def camera_path(steps: np.ndarray) -> np.ndarray:
    """(T, 4) float64 path of the picture content relative to frame 0 from (T, 4) frame steps
    (dx, dy as fractions of the picture width, log scale, roll deg; each relative to the previous
    frame, about the picture centre; NaN = unknown).

    Columns as the steps': the shift of the content at the picture centre, the log of its scale,
    its turn, each since frame 0 (row 0 is zeros). The steps are similarity transforms composed
    in order (z -> a z + t on the complex plane, a = scale x e^(i roll)); an unknown step counts
    as no motion (``known_steps`` says which are known).
    """
    steps = np.asarray(steps, np.float64)
    check_shape("steps", steps, (None, 4))
    n = len(steps)
    if n == 0:
        return np.zeros((0, 4))
    s = np.where(np.isfinite(steps).all(axis=1, keepdims=True), steps, 0.0)
    s[0] = 0.0  # frame 0 is the reference
    t = s[:, 0] + 1j * s[:, 1]
    # A_k = a_k ... a_1; T_k = a_k T_(k-1) + t_k = A_k sum_j t_j / A_j.
    scale_roll = np.cumsum(s[:, 2] + 1j * np.radians(s[:, 3]))
    big_a = np.exp(scale_roll)
    shift = big_a * np.cumsum(t / big_a)
    return np.stack(
        [shift.real, shift.imag, scale_roll.real, np.degrees(scale_roll.imag)], axis=1
    )


def known_steps(steps: np.ndarray) -> np.ndarray:
    """(T,) bool: the frame's step from the previous one was measured."""
    return np.isfinite(np.asarray(steps)).all(axis=1)


def crowded_frames(n_people: np.ndarray, t_s: np.ndarray, margin_s: float) -> np.ndarray:
    """(T,) bool: frames within ``margin_s`` seconds of a frame where more than one person was
    counted (``n_people`` (T,), -1 where not counted; ``t_s`` (T,) s). Their background steps
    are not the camera's (the other person, not masked out, moves like a camera would) and their
    standing foot may be the other person's (``CameraPath.crowded``)."""
    t = np.asarray(t_s, np.float64)
    crowded_t = t[np.asarray(n_people) > 1]
    if crowded_t.size == 0:
        return np.zeros(t.shape, bool)
    k = np.clip(np.searchsorted(crowded_t, t), 1, crowded_t.size) - 1
    nearest = np.minimum(np.abs(t - crowded_t[k]),
                         np.abs(t - crowded_t[np.minimum(k + 1, crowded_t.size - 1)]))
    return np.asarray(nearest <= margin_s)


@dataclass(frozen=True)
class CameraPath:
    """A clip's camera path: ``path`` (T, 4) from ``camera_path``, ``known`` (T,) bool from
    ``known_steps``, ``t_s`` (T,) seconds."""

    path: np.ndarray
    known: np.ndarray
    t_s: np.ndarray
    width_px: float = math.nan  # the analysed picture's width, for ``foot_movement``
    # (T,) bool, frames where someone else may be in the picture (``crowded_frames``): the
    # standing foot read there may be another person's (the tracker follows whoever it finds).
    crowded: np.ndarray | None = None

    @classmethod
    def from_steps(
        cls, steps: np.ndarray, t_s: np.ndarray, width_px: float = math.nan,
        crowded: np.ndarray | None = None,
    ) -> CameraPath:
        """The path of (T, 4) frame steps (``PoseSeries.camera_motion``) at times ``t_s``, in
        a picture ``width_px`` wide; ``crowded``: see the field."""
        return cls(camera_path(steps), known_steps(steps), np.asarray(t_s, np.float64),
                   float(width_px), crowded)

    def foot_usable(self, start_i: int, end_i: int) -> bool:
        """Nobody else may be in the picture over frames ``start_i``..``end_i``."""
        return self.crowded is None or not bool(np.any(self.crowded[start_i:end_i + 1]))

    def movement(self, start_i: int, end_i: int, cfg: CameraMotionConfig) -> CameraMovement:
        """``camera_movement`` over frames ``start_i``..``end_i``."""
        return camera_movement(self.path, self.known, self.t_s, start_i, end_i, cfg)

    def foot_movement(
        self, foot_xy_px: np.ndarray, start_i: int, end_i: int, cfg: CameraMotionConfig
    ) -> CameraMovement:
        """``foot_movement`` of the standing foot's (T, 2) px positions in this picture."""
        return foot_movement(foot_xy_px, self.width_px, start_i, end_i, cfg)


@dataclass(frozen=True)
class CameraMovement:
    """How far the camera moved over a span of frames (a rep). All None when too few of the
    span's steps are known (``CameraMotionConfig.min_known_fraction``).

    ``shift_fraction``: the largest distance between two positions of the picture centre's
    content, as a fraction of the picture width. ``zoom``: the largest scale over the smallest
    (1 = none). ``roll_deg``: the largest turn between two frames. ``speed_width_per_s``: the
    fastest shift over ``CameraMotionConfig.speed_window_s``, picture widths per second.
    ``known_fraction``: the share of the span's steps that were measured. ``source``: read from
    the background, or from the standing foot (``foot_movement``: shift only).
    """

    shift_fraction: float | None
    zoom: float | None
    roll_deg: float | None
    speed_width_per_s: float | None
    known_fraction: float
    source: Literal["background", "standing_foot"] = "background"

    @property
    def measured(self) -> bool:
        return self.shift_fraction is not None


def camera_movement(
    path: np.ndarray,
    known: np.ndarray,
    t_s: np.ndarray,
    start_i: int,
    end_i: int,
    cfg: CameraMotionConfig,
) -> CameraMovement:
    """The camera's movement over frames ``start_i``..``end_i`` (inclusive) of a clip.

    ``path``: (T, 4) from ``camera_path``; ``known``: (T,) bool from ``known_steps``; ``t_s``:
    (T,) seconds. The steps into the span's frames after its first are the ones counted."""
    path = np.asarray(path, np.float64)
    span = slice(start_i, end_i + 1)
    steps_known = np.asarray(known, bool)[start_i + 1 : end_i + 1]
    share = float(np.mean(steps_known)) if steps_known.size else 0.0
    if steps_known.size == 0 or share < cfg.min_known_fraction:
        return CameraMovement(None, None, None, None, share)
    p = path[span]
    shift = p[:, 0] + 1j * p[:, 1]
    # The largest distance between two positions: exact over the span's convex hull would be
    # O(n log n); the distance from each point to the farthest other, O(n^2) for a rep of at
    # most a few hundred frames, is cheap enough and exact.
    spread = float(np.max(np.abs(shift[:, None] - shift[None, :]))) if len(p) > 1 else 0.0
    zoom = math.exp(float(np.ptp(p[:, 2])))
    roll = float(np.ptp(p[:, 3]))
    t = np.asarray(t_s, np.float64)[span]
    later = np.searchsorted(t, t + cfg.speed_window_s, side="left")
    ok = later < len(t)
    if ok.any():
        i = np.nonzero(ok)[0]
        j = later[ok]
        speed = float(np.max(np.abs(shift[j] - shift[i]) / (t[j] - t[i])))
    else:  # a span shorter than the window
        dt = float(t[-1] - t[0])
        speed = float(abs(shift[-1] - shift[0]) / dt) if dt > 0 else 0.0
    return CameraMovement(spread, zoom, roll, speed, share)


def foot_movement(
    foot_xy_px: np.ndarray, width_px: float, start_i: int, end_i: int, cfg: CameraMotionConfig
) -> CameraMovement:
    """The camera's shift over frames ``start_i``..``end_i`` read from the standing foot's
    (T, 2) px positions in a picture ``width_px`` wide: the foot stays put on the floor during
    the rep, so its travel across the picture is the camera's. The travel is the distance
    between the 5th and 95th percentiles of its x and of its y (a glitching frame or two does
    not count). Zoom, roll and speed are None (a landmark's jitter is no camera speed); all None
    when fewer than ``cfg.min_known_fraction`` of the frames place the foot."""
    foot = np.asarray(foot_xy_px, np.float64)[start_i : end_i + 1]
    seen = np.isfinite(foot).all(axis=1)
    share = float(np.mean(seen)) if len(foot) else 0.0
    if share < cfg.min_known_fraction or not math.isfinite(width_px) or width_px <= 0:
        return CameraMovement(None, None, None, None, share, "standing_foot")
    lo, hi = np.percentile(foot[seen], [5, 95], axis=0)
    travel = float(np.hypot(*(hi - lo))) / width_px
    return CameraMovement(travel, None, None, None, share, "standing_foot")


def camera_moved(
    movement: CameraMovement, cfg: CameraMotionConfig
) -> dict[str, float | str] | None:
    """The numbers of a movement beyond ``cfg``'s limits (shift and speed in percent of the
    picture width, zoom in percent, roll in deg; the ones over their limit and the others for
    context; those not measured left out) and its ``source``, or None when the camera stayed
    within them or its motion is unknown."""
    if not movement.measured:
        return None
    m = movement
    assert m.shift_fraction is not None
    over = (
        m.shift_fraction > cfg.max_shift_fraction
        or (m.zoom is not None and math.log(m.zoom) > cfg.max_log_zoom)
        or (m.roll_deg is not None and m.roll_deg > cfg.max_roll_deg)
        or (m.speed_width_per_s is not None and m.speed_width_per_s > cfg.max_speed_width_per_s)
    )
    if not over:
        return None
    values: dict[str, float | str] = {"shift_pct": 100 * m.shift_fraction, "source": m.source}
    if m.zoom is not None:
        values["zoom_pct"] = 100 * (m.zoom - 1.0)
    if m.roll_deg is not None:
        values["roll_deg"] = m.roll_deg
    if m.speed_width_per_s is not None:
        values["speed_pct_per_s"] = 100 * m.speed_width_per_s
    return values
