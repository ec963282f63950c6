"""The people counter of ``MediaPipePoseEstimator`` runs beside the tracker (its own thread): its
counts land on fixed frames, the same every run, and tracking is unchanged by it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from valgus.runtime.estimator import (
    COUNT_DELAY_FRAMES,
    MediaPipePoseEstimator,
    blank_out,
    native_logs_silenced,
)
from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
EVERY_N = 30


def _track(frames: list[tuple[float, np.ndarray]], every_n: int) -> tuple[np.ndarray, np.ndarray]:
    xy, people = [], []
    with native_logs_silenced(), MediaPipePoseEstimator(count_people_every_n=every_n) as est:
        for t_s, rgb in frames:
            pose = est.estimate(rgb, t_s)
            assert pose is not None  # the sample's person is in every frame
            xy.append(pose.xy_px)
            people.append(pose.n_people)
    return np.stack(xy), np.asarray(people)


def test_counts_land_on_fixed_frames_and_leave_tracking_alone() -> None:
    frames = list(iter_frames(SAMPLE, max_side_px=360))[:100]
    xy, people = _track(frames, EVERY_N)
    xy_again, people_again = _track(frames, EVERY_N)
    xy_uncounted, people_uncounted = _track(frames, 0)
    # Counted on frames 0, 30, 60, 90; each count told COUNT_DELAY_FRAMES frames later.
    told = np.flatnonzero(people >= 0)
    assert told.tolist() == [i + COUNT_DELAY_FRAMES for i in range(0, 100 - COUNT_DELAY_FRAMES,
                                                                    EVERY_N)]
    assert np.all(people[told] == 1)  # one person in the sample
    np.testing.assert_array_equal(people, people_again)
    assert np.all(people_uncounted == -1)
    # The tracker's landmarks do not depend on whether (or when) people are counted.
    np.testing.assert_array_equal(xy, xy_uncounted)
    np.testing.assert_array_equal(xy, xy_again)


def test_blank_out_fills_each_body_box_with_the_mean_colour() -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[:, 100:] = 200
    body = np.full((33, 2), np.nan)
    body[:2] = [[20.0, 20.0], [40.0, 60.0]]  # box 20-40 x 20-60, widened by 5% of 40 px = 2
    out = blank_out(rgb, [body])
    assert np.all(out[18:62, 18:42] == 100) and np.all(out[:17, :] == rgb[:17, :])
    assert np.all(out[:, 43:] == rgb[:, 43:]) and rgb[30, 30, 0] == 0  # the input is kept
    np.testing.assert_array_equal(blank_out(rgb, [np.full((33, 2), np.nan)]), rgb)
