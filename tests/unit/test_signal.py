"""Gap filling and zero-phase low-pass filtering in valgus.signal, on regular and irregular time
bases."""

from __future__ import annotations

import numpy as np
import pytest

from valgus.core.signal import fill_gaps, lowpass, valid_runs

FPS = 30.0
CUTOFF_HZ = 4.0
EDGE_S = 1.0  # filtfilt keeps run end samples close to their raw values; judge the interior


def regular_t(duration_s: float = 10.0, fps: float = FPS) -> np.ndarray:
    return np.arange(int(duration_s * fps)) / fps


def jittered_t(duration_s: float = 10.0, jitter: float = 0.1, seed: int = 1) -> np.ndarray:
    """Phone-like variable frame rate: 30 fps nominal, each interval +/- ``jitter`` of itself."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * FPS)
    dt = (1 + rng.uniform(-jitter, jitter, n - 1)) / FPS
    return np.concatenate(([0.0], np.cumsum(dt)))


def switching_t() -> np.ndarray:
    """5 s at 30 fps, then 5 s at 60 fps (a phone changing frame rate mid-clip)."""
    dt = np.concatenate([np.full(150, 1 / 30), np.full(300, 1 / 60)])
    return np.concatenate(([0.0], np.cumsum(dt)))


# --- valid_runs / fill_gaps -------------------------------------------------------------------


def test_valid_runs_half_open_ranges() -> None:
    valid = np.array([False, True, True, False, True, False, False, True])
    assert valid_runs(valid) == [(1, 3), (4, 5), (7, 8)]
    assert valid_runs(np.zeros(3, bool)) == []


def test_fill_gaps_bridges_short_gap_exactly_on_a_linear_signal() -> None:
    t = regular_t(2.0)
    x = np.stack([3.0 + 2.0 * t, -1.0 - 0.5 * t], axis=1)
    holed = x.copy()
    holed[10:15] = np.nan  # 5 missing frames: valid neighbours 6/30 = 0.2 s apart
    out = fill_gaps(t, holed, max_gap_s=0.25)
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-12)
    assert np.isnan(holed[10:15]).all(), "input must not be modified"


def test_fill_gaps_on_irregular_times_interpolates_in_time_not_index() -> None:
    t = np.array([0.0, 0.01, 0.05, 0.06, 0.2])
    x = (4.0 * t)[:, None].copy()
    x[1:4] = np.nan
    out = fill_gaps(t, x, max_gap_s=0.25)
    np.testing.assert_allclose(out[:, 0], 4.0 * t, atol=1e-12)


def test_fill_gaps_any_nan_in_a_row_marks_it_missing() -> None:
    t = regular_t(1.0)
    x = np.stack([t, 2 * t], axis=1)
    holed = x.copy()
    holed[5, 1] = np.nan  # one column missing: the whole row is re-interpolated
    holed[5, 0] = 99.0
    out = fill_gaps(t, holed, max_gap_s=0.25)
    np.testing.assert_allclose(out[5], x[5], atol=1e-12)


def test_fill_gaps_leaves_long_leading_and_trailing_gaps() -> None:
    t = regular_t(3.0)
    x = (1.0 + t)[:, None].copy()
    x[:4] = np.nan  # leading
    x[30:46] = np.nan  # 16 frames: neighbours 17/30 = 0.57 s apart > 0.25
    x[-3:] = np.nan  # trailing
    out = fill_gaps(t, x, max_gap_s=0.25)
    assert np.isnan(out[:4]).all()
    assert np.isnan(out[30:46]).all()
    assert np.isnan(out[-3:]).all()
    finite = np.isfinite(x[:, 0])
    np.testing.assert_array_equal(out[finite], x[finite])


def test_fill_gaps_gap_at_the_limit_is_bridged_and_just_over_is_not() -> None:
    t = np.arange(20) * 0.05
    x = t[:, None].copy()
    x[3:7] = np.nan  # neighbours 2 and 7: 0.25 s apart -> bridged
    x[10:16] = np.nan  # neighbours 9 and 16: 0.35 s apart -> kept missing
    out = fill_gaps(t, x, max_gap_s=0.25 + 1e-9)
    assert np.isfinite(out[3:7]).all()
    assert np.isnan(out[10:16]).all()


def test_fill_gaps_keeps_float32() -> None:
    t = regular_t(1.0)
    x = np.ones((t.size, 33, 2), np.float32)
    x[3] = np.nan
    out = fill_gaps(t, x, 0.25)
    assert out.dtype == np.float32
    assert out.shape == x.shape
    assert np.isfinite(out).all()


# --- lowpass ----------------------------------------------------------------------------------


def two_tone(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(slow 0.3 Hz sine, slow + 0.5 x 10 Hz sine) as (T, 1) arrays."""
    slow = np.sin(2 * np.pi * 0.3 * t)
    return slow[:, None], (slow + 0.5 * np.sin(2 * np.pi * 10.0 * t))[:, None]


def interior(t: np.ndarray) -> np.ndarray:
    return (t > t[0] + EDGE_S) & (t < t[-1] - EDGE_S)


@pytest.mark.parametrize(
    ("name", "t", "max_residual"),
    [
        ("regular 30 fps", regular_t(10.0, 30.0), 0.01),
        ("regular 25 fps", regular_t(10.0, 25.0), 0.01),
        # Linear resampling of a 10 Hz tone sampled at ~30 fps leaves some of it; still < 10 %
        # of its 0.5 amplitude.
        ("jittered 30 fps", jittered_t(), 0.05),
        ("30 then 60 fps", switching_t(), 0.05),
    ],
)
def test_lowpass_removes_10hz_and_keeps_0p3hz(
    name: str, t: np.ndarray, max_residual: float
) -> None:
    slow, noisy = two_tone(t)
    out = lowpass(t, noisy, CUTOFF_HZ)
    inner = interior(t)
    residual = np.abs(out[inner, 0] - slow[inner, 0])
    assert residual.max() < max_residual, name
    # The filter did something: the raw residual reaches 0.43 (0.5 sin 60 deg at 30 fps).
    assert np.abs(noisy[inner, 0] - slow[inner, 0]).max() > 0.4


def test_lowpass_nan_rows_stay_nan_and_split_runs() -> None:
    t = regular_t(10.0)
    _, noisy = two_tone(t)
    x = np.repeat(noisy, 2, axis=1)
    x[150:153] = np.nan
    out = lowpass(t, x, CUTOFF_HZ)
    assert np.isnan(out[150:153]).all()
    assert np.isfinite(out[:150]).all() and np.isfinite(out[153:]).all()
    # Each run is filtered on its own: same as filtering the runs separately...
    np.testing.assert_allclose(out[:150], lowpass(t[:150], x[:150], CUTOFF_HZ))
    np.testing.assert_allclose(out[153:], lowpass(t[153:], x[153:], CUTOFF_HZ))
    # ...so changing the second run leaves the first untouched.
    changed = x.copy()
    changed[153:] += 100.0
    np.testing.assert_array_equal(lowpass(t, changed, CUTOFF_HZ)[:150], out[:150])


def test_lowpass_keeps_shape_and_dtype_and_short_runs() -> None:
    t = regular_t(4.0)
    x = np.random.default_rng(0).normal(size=(t.size, 33, 3)).astype(np.float32)
    x[50] = np.nan
    x[53] = np.nan  # a 2-sample run between: too short to filter, kept as it is
    out = lowpass(t, x, CUTOFF_HZ)
    assert out.shape == x.shape
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[51:53], x[51:53])
    assert not np.allclose(out[:50], x[:50])


def test_lowpass_rejects_non_positive_cutoff() -> None:
    t = regular_t(1.0)
    with pytest.raises(ValueError):
        lowpass(t, t[:, None], 0.0)


@pytest.mark.parametrize("t", [regular_t(6.0), jittered_t(6.0)], ids=["regular", "jittered"])
@pytest.mark.parametrize("width_s", [0.25, 0.5])
def test_lowpass_is_zero_phase(t: np.ndarray, width_s: float) -> None:
    """The deepest frame of a smooth bump stays where it was (within one sample)."""
    peak_t = 3.1
    bump = 60.0 * np.exp(-0.5 * ((t - peak_t) / width_s) ** 2)
    out = lowpass(t, bump[:, None], CUTOFF_HZ)[:, 0]
    assert abs(int(np.argmax(out)) - int(np.argmax(bump))) <= 1
    assert out.max() == pytest.approx(bump.max(), rel=0.05)  # not flattened either
