"""NaN-aware gap filling and zero-phase low-pass filtering on irregularly timed samples.

Phone clips have variable frame rates, so filters work on the container's timestamps: each run of
valid samples is resampled to a uniform grid at its median sampling interval, filtered and
interpolated back to the original times.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.signal import butter, sosfiltfilt


def valid_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges [start, stop) of consecutive True values in a (T,) bool array."""
    padded = np.concatenate(([False], np.asarray(valid, dtype=bool), [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _row_valid(x: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(x.reshape(x.shape[0], -1)), axis=1)


def fill_gaps(t_s: np.ndarray, x: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Linearly bridge missing rows that lie between valid rows less than ``max_gap_s`` apart.

    Args:
        t_s: (T,) seconds, increasing.
        x: (T, ...) values; a row counts as missing when any of its values is NaN.
        max_gap_s: longest time between the valid samples either side of a gap that is bridged.
    Returns:
        A copy of ``x`` with short gaps filled; leading, trailing and long gaps stay NaN.
    """
    out = np.array(x, dtype=np.float64 if x.dtype != np.float32 else np.float32, copy=True)
    valid = _row_valid(out)
    idx = np.flatnonzero(valid)
    if idx.size < 2:
        return out
    flat = out.reshape(out.shape[0], -1)
    for a, b in itertools.pairwise(idx):
        if b - a > 1 and t_s[b] - t_s[a] <= max_gap_s:
            w = ((t_s[a + 1 : b] - t_s[a]) / (t_s[b] - t_s[a]))[:, None]
            flat[a + 1 : b] = (1 - w) * flat[a] + w * flat[b]
    return out


def lowpass(t_s: np.ndarray, x: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass of each valid run of rows of ``x``.

    Args:
        t_s: (T,) seconds, increasing, possibly irregular.
        x: (T, ...) values; rows with any NaN split the signal into runs filtered separately.
        cutoff_hz: -3 dB cut-off frequency in Hz.
        order: Butterworth order (applied forwards and backwards, so the effective order doubles).
    Returns:
        Filtered copy, same shape and dtype; NaN rows stay NaN. Runs too short to filter are kept
        as they are.
    """
    if cutoff_hz <= 0:
        raise ValueError(f"cutoff_hz must be positive, got {cutoff_hz}")
    out = np.array(x, copy=True)
    flat = out.reshape(out.shape[0], -1)
    for start, stop in valid_runs(_row_valid(out)):
        t = t_s[start:stop]
        if t.size < 4:
            continue
        dt = float(np.median(np.diff(t)))
        fs = 1.0 / dt
        if cutoff_hz >= 0.45 * fs:
            continue  # nothing to remove below the Nyquist limit of this run
        sos = butter(order, cutoff_hz, fs=fs, output="sos")
        grid = np.arange(t[0], t[-1] + 0.5 * dt, dt)
        padlen = 3 * (2 * len(sos) + 1)
        if grid.size <= padlen:
            continue
        seg = flat[start:stop].astype(np.float64)
        uniform = np.stack([np.interp(grid, t, col) for col in seg.T], axis=1)
        filtered = sosfiltfilt(sos, uniform, axis=0)
        flat[start:stop] = np.stack(
            [np.interp(t, grid, col) for col in filtered.T], axis=1
        ).astype(out.dtype)
    return out
