"""Hidden joints (issue 13): an object in front of a leg that stays put while the leg moves
(``runtime.occluder``), its per-frame decision (``core.trust.hidden_leg_frames``) and the
series field that carries it (``PoseSeries.leg_still``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from valgus import landmarks as lm
from valgus.config import QualityConfig
from valgus.core.pose import PoseSeries
from valgus.core.trust import hidden_leg_frames
from valgus.runtime.occluder import OccluderMeter

SIZE = 200
SHANK_PX = 80.0
KNEE_Y, ANKLE_Y = 80.0, 160.0
BOX = np.s_[50:110, 50:150]  # wider and taller than the knee's square (49 px) on its path


def leg_frames(box: bool, frames: int = 25, step_px: float = 4.0) -> list[tuple[np.ndarray,
                                                                                 np.ndarray]]:
    """A patterned 'left leg' (a 30 px bar from y 50 to 180) sliding right by ``step_px`` a
    frame (25 fps) over a plain wall, with a patterned box in front of its knee's path when
    ``box``: (rgb, xy) per frame, the right leg unknown."""
    rng = np.random.default_rng(7)
    leg = rng.integers(60, 200, (130, 30, 3), dtype=np.uint8)
    board = rng.integers(0, 255, (60, 100, 3), dtype=np.uint8)
    out = []
    for i in range(frames):
        x = 50.0 + step_px * i
        rgb = np.full((SIZE, SIZE, 3), 210, np.uint8)
        rgb[50:180, round(x) - 15 : round(x) + 15] = leg
        if box:
            rgb[BOX] = board
        xy = np.full((lm.NUM_LANDMARKS, 2), np.nan, np.float32)
        xy[lm.knee("left")] = (x, KNEE_Y)
        xy[lm.ankle("left")] = (x, ANKLE_Y)
        out.append((rgb, xy))
    return out


def measured(frames: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    meter = OccluderMeter()
    return np.array([meter.step(rgb, i / 25, xy) for i, (rgb, xy) in enumerate(frames)])


def test_a_leg_in_view_brings_its_picture_along() -> None:
    still = measured(leg_frames(box=False))
    assert np.all(np.isnan(still[:, 1]))  # the right leg is unknown: not measured
    left = still[:, 0]
    # Nothing before the knee has moved 0.2 shank (16 px: 4 frames); then always measured.
    assert np.all(np.isnan(left[:4])) and np.all(np.isfinite(left[4:]))
    assert np.min(left[4:]) > 0.5


def test_a_box_in_front_stays_put_while_the_knee_moves() -> None:
    still = measured(leg_frames(box=True))[:, 0]
    frames = leg_frames(box=True)
    knee_x = np.array([xy[lm.knee("left"), 0] for _, xy in frames])
    # The knee's square wholly inside the box: 74 <= x <= 126.
    behind = (knee_x >= 74) & (knee_x <= 126) & np.isfinite(still)
    assert behind.sum() >= 8
    assert np.max(still[behind]) < QualityConfig().max_leg_still_ratio
    # ...and in view again past the box (its square clear of it: x >= 175 is off this clip),
    # never called still before the knee reaches it.
    before = np.isfinite(still) & (knee_x + 24 < 50)
    assert np.all(still[before] > 0.5)


def test_a_dim_clip_reads_the_same() -> None:
    """Two changes compared: a quarter of the light tells the same on every frame."""
    for box in (False, True):
        bright = measured(leg_frames(box=box))[:, 0]
        dim = measured([((rgb * 0.25).astype(np.uint8), xy) for rgb, xy in leg_frames(box=box)])
        np.testing.assert_array_equal(np.isfinite(dim[:, 0]), np.isfinite(bright))
        limit = QualityConfig().max_leg_still_ratio
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(dim[:, 0] < limit, bright < limit)


def test_a_still_leg_is_not_measured() -> None:
    """A landmark jittering on a still leg never moves 0.2 shank: nothing is told."""
    still = measured(leg_frames(box=True, step_px=0.5))
    assert np.all(np.isnan(still))


def test_no_person_gives_nothing_and_forgets_nothing() -> None:
    meter = OccluderMeter()
    frames = leg_frames(box=True)
    for i, (rgb, xy) in enumerate(frames[:6]):
        meter.step(rgb, i / 25, xy)
    assert np.all(np.isnan(meter.step(frames[6][0], 6 / 25, None)))
    assert np.isfinite(meter.step(frames[7][0], 7 / 25, frames[7][1])[0])


def _series(still: np.ndarray, seen: np.ndarray | None = None) -> PoseSeries:
    n = len(still)
    return PoseSeries(
        t_s=np.arange(n) / 25.0,
        xy_px=np.zeros((n, lm.NUM_LANDMARKS, 2), np.float32),
        world_m=np.zeros((n, lm.NUM_LANDMARKS, 3), np.float32),
        visibility=np.ones((n, lm.NUM_LANDMARKS), np.float32),
        image_size=(SIZE, SIZE),
        leg_seen=np.ones((n, 2), np.float32) if seen is None else seen,
        leg_still=still,
    )


def test_a_still_picture_at_the_leg_hides_it_on_that_frame() -> None:
    cfg = QualityConfig()
    still = np.array([[np.nan, 0.9], [0.05, np.nan], [cfg.max_leg_still_ratio, 0.0]], np.float32)
    hidden = hidden_leg_frames(_series(still), cfg)
    assert hidden.tolist() == [[False, False], [True, False], [False, True]]
    # The segmentation's own evidence still counts where the leg did not move.
    seen = np.array([[0.2, 1.0], [1.0, 1.0], [1.0, 1.0]], np.float32)
    assert hidden_leg_frames(_series(still, seen), cfg)[0].tolist() == [True, False]


def test_leg_still_is_saved_and_older_files_load_without_it(tmp_path: Path) -> None:
    still = np.array([[0.1, np.nan], [np.nan, 2.0]], np.float32)
    series = _series(still)
    loaded = PoseSeries.load(series.save(tmp_path / "new.npz"))
    np.testing.assert_array_equal(loaded.leg_still, still)
    # A file from before the field: every value unknown, nothing hidden by it.
    with np.load(tmp_path / "new.npz") as data:
        old = {k: data[k] for k in data.files if k != "leg_still"}
    np.savez_compressed(tmp_path / "old.npz", **old)
    before = PoseSeries.load(tmp_path / "old.npz")
    assert before.leg_still.shape == (2, 2) and np.all(np.isnan(before.leg_still))
    assert not hidden_leg_frames(before, QualityConfig()).any()
    # Sliced and joined series keep it frame by frame.
    np.testing.assert_array_equal(series[1:].leg_still, still[1:])
    joined = PoseSeries.concat([series[:1], dataclasses.replace(series[1:])])
    np.testing.assert_array_equal(joined.leg_still, still)
