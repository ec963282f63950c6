"""PoseSeries collection operations (slicing, time windows, masks, concat) and the shape errors
of the pose and kinematics types. Pure numpy, no model."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from valgus.core.kinematics import Kinematics, LegSeries
from valgus.core.pose import FRAME_FIELDS, PoseSeries
from valgus.landmarks import NUM_LANDMARKS

N = 10
SIZE = (640, 480)


def series(n: int = N, t0: float = 0.0, source: str = "clip.mp4") -> PoseSeries:
    """``n`` frames at 25 fps from ``t0``, every per-frame field telling its frame apart."""
    frame = np.arange(n, dtype=np.float32)
    return PoseSeries(
        t_s=t0 + 0.04 * np.arange(n),
        xy_px=np.broadcast_to(frame[:, None, None], (n, NUM_LANDMARKS, 2)).copy(),
        world_m=np.broadcast_to(-frame[:, None, None], (n, NUM_LANDMARKS, 3)).copy(),
        visibility=np.full((n, NUM_LANDMARKS), 0.9, np.float32),
        image_size=SIZE,
        n_people=np.where(np.arange(n) % 3 == 0, 1, -1).astype(np.int16),
        source=source,
        brightness=100 + frame,
        sharpness=frame / 10,
    )


def assert_frames(part: PoseSeries, whole: PoseSeries, index: slice | np.ndarray) -> None:
    """Every per-frame field of ``part`` is ``whole``'s at ``index``; the rest is kept."""
    for name in FRAME_FIELDS:
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[index], name)
    assert part.image_size == whole.image_size and part.source == whole.source


# --------------------------------------------------------------------------- slicing


@pytest.mark.parametrize("index", [slice(2, 7), slice(None, 3), slice(8, None), slice(0, N, 3),
                                   slice(-4, None), slice(5, 5)])
def test_slice_takes_the_same_frames_of_every_field(index: slice) -> None:
    whole = series()
    assert_frames(whole[index], whole, index)


def test_slice_with_a_negative_step_is_refused() -> None:
    with pytest.raises(ValueError, match="positive step"):
        series()[::-1]


def test_bool_mask_index_keeps_only_those_frames() -> None:
    whole = series()
    keep = np.arange(N) % 2 == 1
    part = whole[keep]
    assert len(part) == N // 2
    assert_frames(part, whole, keep)


@pytest.mark.parametrize("index", [3, [1, 2], np.arange(3)])
def test_other_indices_are_refused(index: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        series()[index]  # type: ignore[index]


def test_mask_of_another_length_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"mask must have shape \(10,\), got \(9,\)"):
        series()[np.ones(9, bool)]


# --------------------------------------------------------------------------- time windows


def test_between_is_inclusive_exclusive_in_seconds() -> None:
    whole = series(t0=1.0)  # 1.00, 1.04, ... 1.36
    part = whole.between(1.08, 1.20)
    np.testing.assert_allclose(part.t_s, [1.08, 1.12, 1.16])
    assert_frames(part, whole, slice(2, 5))


def test_between_open_ended_and_outside_the_clip() -> None:
    whole = series()
    assert_frames(whole.between(0.3), whole, slice(8, None))
    assert len(whole.between(5.0)) == 0
    assert len(whole.between(0.2, 0.1)) == 0
    assert_frames(whole.between(-1.0, 99.0), whole, slice(None))


# --------------------------------------------------------------------------- masks


def test_without_sets_the_landmarks_missing_and_keeps_the_rest() -> None:
    whole = series()
    drop = np.zeros(N, bool)
    drop[[2, 5]] = True
    out = whole.without(drop)
    assert len(out) == N
    np.testing.assert_array_equal(out.detected, ~drop)
    assert np.isnan(out.world_m[drop]).all() and (out.visibility[drop] == 0).all()
    np.testing.assert_array_equal(out.xy_px[~drop], whole.xy_px[~drop])
    np.testing.assert_array_equal(out.visibility[~drop], whole.visibility[~drop])
    for name in ("t_s", "n_people", "brightness", "sharpness"):
        np.testing.assert_array_equal(getattr(out, name), getattr(whole, name))
    # The original is not touched.
    assert whole.detected.all()


def test_without_nothing_is_the_same_series() -> None:
    whole = series()
    assert whole.without(np.zeros(N, bool)) is whole


def test_where_is_without_the_complement() -> None:
    whole = series()
    keep = np.arange(N) < 4
    out = whole.where(keep)
    np.testing.assert_array_equal(out.detected, keep)
    np.testing.assert_array_equal(out.xy_px, whole.without(~keep).xy_px)


@pytest.mark.parametrize("method", ["where", "without"])
def test_masks_must_be_bool_and_one_per_frame(method: str) -> None:
    whole = series()
    with pytest.raises(ValueError, match=r"mask must have shape \(10,\), got \(10, 1\)"):
        getattr(whole, method)(np.ones((N, 1), bool))
    with pytest.raises(ValueError, match="must be bool"):
        getattr(whole, method)(np.ones(N, np.int8))


# --------------------------------------------------------------------------- concat


def test_concat_of_slices_gives_the_whole_back() -> None:
    whole = series()
    parts = [whole[:3], whole[3:3], whole[3:8], whole[8:]]
    assert_frames(PoseSeries.concat(parts), whole, slice(None))


def test_concat_takes_the_first_source_unless_given() -> None:
    a, b = series(4, source="a"), series(4, t0=1.0, source="b")
    assert PoseSeries.concat([a, b]).source == "a"
    assert PoseSeries.concat([a, b], source="c").source == "c"
    assert len(PoseSeries.concat([a, b])) == 8


def test_concat_refuses_overlapping_or_unordered_parts() -> None:
    whole = series()
    with pytest.raises(ValueError, match="start after"):
        PoseSeries.concat([whole[:5], whole[4:]])
    with pytest.raises(ValueError, match="start after"):
        PoseSeries.concat([whole[5:], whole[:5]])


def test_concat_refuses_other_image_sizes_and_nothing() -> None:
    a = series(4)
    b = dataclasses.replace(series(4, t0=1.0), image_size=(320, 240))
    with pytest.raises(ValueError, match="image sizes"):
        PoseSeries.concat([a, b])
    with pytest.raises(ValueError, match="at least one"):
        PoseSeries.concat([])


def test_concat_of_empty_parts_is_empty() -> None:
    empty = PoseSeries.empty(SIZE, source="x")
    out = PoseSeries.concat([empty, empty])
    assert len(out) == 0 and out.image_size == SIZE and out.source == "x"


# --------------------------------------------------------------------------- pose shape errors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("xy_px", np.zeros((N, NUM_LANDMARKS, 3)), r"xy_px must have shape \(10, 33, 2\), got"),
        ("world_m", np.zeros((N, 32, 3)), r"world_m must have shape \(10, 33, 3\), got"),
        ("visibility", np.zeros((N - 1, NUM_LANDMARKS)), r"visibility must have shape \(10, 33\)"),
        ("n_people", np.zeros(N + 1, np.int16), r"n_people must have shape \(10,\), got \(11,\)"),
        ("brightness", np.zeros((N, 2)), r"brightness must have shape \(10,\), got \(10, 2\)"),
        ("t_s", np.zeros((N, 1)), r"t_s must have shape \('T',\), got \(10, 1\)"),
    ],
)
def test_pose_shape_errors_name_expected_and_actual(
    field: str, value: np.ndarray, message: str
) -> None:
    changed: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(series(), **changed)


# --------------------------------------------------------------------------- kinematics shapes


def leg(n: int = N) -> LegSeries:
    flat = np.zeros(n)
    return LegSeries(flat, flat, flat, flat, flat, flat, flat, flat, np.zeros((n, 2)))


def kinematics(n: int = N) -> Kinematics:
    return Kinematics(np.arange(n) * 0.04, leg(n), leg(n), np.zeros(n), np.zeros(n),
                      np.ones(n, bool))


def test_consistent_kinematics_are_accepted() -> None:
    kin = kinematics()
    assert len(kin) == N and len(kin.left) == N


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("flexion_deg", np.zeros(N - 1), r"flexion_deg must have shape \(10,\), got \(9,\)"),
        ("leg_len_px", np.zeros((N, 1)), r"leg_len_px must have shape \(10,\), got \(10, 1\)"),
        ("foot_xy_px", np.zeros((N, 3)), r"foot_xy_px must have shape \(10, 2\), got \(10, 3\)"),
        ("foot_xy_px", np.zeros(N), r"foot_xy_px must have shape \(10, 2\), got \(10,\)"),
    ],
)
def test_leg_series_shape_errors_name_expected_and_actual(
    field: str, value: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(leg(), **{field: value})


def test_leg_series_with_a_2d_first_field_names_it() -> None:
    with pytest.raises(ValueError, match=r"fppa_deg must have shape \('T',\), got \(10, 2\)"):
        dataclasses.replace(leg(), fppa_deg=np.zeros((N, 2)))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("yaw_deg", np.zeros(N + 2), r"yaw_deg must have shape \(10,\), got \(12,\)"),
        ("mid_hip_y_px", np.zeros((N, 2)), r"mid_hip_y_px must have shape \(10,\), got"),
        ("detected", np.ones(3, bool), r"detected must have shape \(10,\), got \(3,\)"),
        ("t_s", np.zeros((N, 2)), r"t_s must have shape \('T',\), got \(10, 2\)"),
        ("right", leg(N - 1), r"right leg must have 10 frames \(as t_s\), got 9"),
    ],
)
def test_kinematics_shape_errors_name_expected_and_actual(
    field: str, value: object, message: str
) -> None:
    changed: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(kinematics(), **changed)


def test_load_says_what_is_wrong_with_a_file_that_is_not_a_pose_file(tmp_path: Path) -> None:
    """A text file named .npz, another program's .npz and a bare .npy: one clear ValueError,
    never numpy's advice to load pickled data unsafely or a bare missing-key error."""
    text = tmp_path / "g.npz"
    text.write_text("hello\n")
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    bare = tmp_path / "bare.npy"
    np.save(bare, np.zeros(3))
    for path in (text, other, bare):
        with pytest.raises(ValueError, match="not a valgus pose file") as err:
            PoseSeries.load(path)
        assert "pickle" not in str(err.value)
    with pytest.raises(ValueError, match="lacks image_size"):
        PoseSeries.load(other)
