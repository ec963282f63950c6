"""The bottom of a rep: its plateau of deepest frames, the FPPA read over it, and the
recording's gap around it (issue 16 items 5 and 6). Pure numpy; ``core.rep_score`` uses them."""

from __future__ import annotations

import math

import numpy as np


def bottom_plateau(
    flexion_deg: np.ndarray, start_i: int, end_i: int, bottom_i: int, within_deg: float
) -> np.ndarray:
    """Indices of the bottom plateau: the run of frames around ``bottom_i`` (inside the cycle
    ``start_i``..``end_i``) whose knee flexion stays within ``within_deg`` deg of the bottom's
    (NaN frames end the run). Always holds ``bottom_i``."""
    peak = flexion_deg[bottom_i]
    if not math.isfinite(float(peak)):
        return np.array([bottom_i])
    lo = bottom_i
    while lo - 1 >= start_i and flexion_deg[lo - 1] >= peak - within_deg:
        lo -= 1
    hi = bottom_i
    while hi + 1 <= end_i and flexion_deg[hi + 1] >= peak - within_deg:
        hi += 1
    return np.arange(lo, hi + 1)


def plateau_fppa(fppa_deg: np.ndarray, plateau: np.ndarray) -> tuple[float | None, int]:
    """The median FPPA (deg) over the plateau's frames where it is measured, and the frame whose
    FPPA is nearest that median (the frame a picture of the scored point shows); (None, the
    middle plateau frame, or -1 for an empty plateau) when none is measured."""
    if plateau.size == 0:
        return None, -1
    values = fppa_deg[plateau]
    ok = np.isfinite(values)
    if not ok.any():
        return None, int(plateau[len(plateau) // 2])
    median = float(np.median(values[ok]))
    frames = plateau[ok]
    return median, int(frames[np.argmin(np.abs(values[ok] - median))])


def bottom_gap(
    t_s: np.ndarray, detected: np.ndarray, bottom_i: int, plateau: np.ndarray
) -> tuple[float, float, int] | None:
    """The recording's longest step (s) around the bottom, where it starts (s), and how many
    recorded frames lie inside it without the person (0: the recording itself skipped; more:
    the person was not seen, or someone else was followed, there): between consecutive frames
    with a person, from the one before the plateau (or the deepest frame) to the one after it.
    None when fewer than two such frames."""
    lo, hi = int(min(plateau[0], bottom_i)), int(max(plateau[-1], bottom_i))
    seen = np.flatnonzero(np.asarray(detected, bool))
    before = seen[seen < lo]
    after = seen[seen > hi]
    inside = seen[(seen >= lo) & (seen <= hi)]
    frames = np.concatenate([before[-1:], inside, after[:1]])
    if frames.size < 2:
        return None
    steps = np.diff(t_s[frames])
    k = int(np.argmax(steps))
    return float(steps[k]), float(t_s[frames[k]]), int(frames[k + 1] - frames[k] - 1)
