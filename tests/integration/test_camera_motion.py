"""Issue 16 item 4, the camera's motion measured on real pictures: the background estimator on
frames warped by known shifts, zooms and rolls with a moving "person" over them; the committed
rendered clips of a swaying and a zooming camera (their truth records the camera per frame),
which must not be refused; and a clip shaken far more, whose every knee bend must be listed as
"camera moved" with the clip-level check, never scored.

Tolerances: the limits a rep is judged by are 15% of the picture width and a zoom of 1.22
(``config.CameraMotionConfig``); an estimate within a tenth of them (1.5% of the width, 0.02 of
log zoom) over a whole clip cannot move a camera at the robustness matrix's levels (at most 12%)
over the limit. Frame to frame, Lucas-Kanade follows sharp corners to ~0.1 px at 320 px wide,
0.03% of the width (uncompressed warped frames: 0.05% allowed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.camera_clips import over_texture, shaken, similarity, texture, write_clip
from valgus.core.camera import camera_path, known_steps
from valgus.core.reasons import QualityCode, RepIssueCode, describe
from valgus.pipeline import VideoAnalysis, analyze_video
from valgus.runtime.camera_motion import (
    CameraMotionTracker,
    person_box,
    small_gray,
)
from valgus.runtime.video import iter_frames

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ROBUSTNESS = ROOT / "sample_videos" / "robustness"
DEMO = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
PATH_TOLERANCE = 0.015  # fraction of the picture width
LOG_ZOOM_TOLERANCE = 0.02


# --- the estimator on warped frames ---------------------------------------------------------


def test_steps_follow_known_warps_and_ignore_a_moving_person() -> None:
    w, h = 640, 360
    base = texture(w, h, seed=3)
    rng = np.random.default_rng(5)
    person = texture(90, 220, seed=9)  # a textured "person" with corners of their own
    tracker = CameraMotionTracker()
    # Per frame: shift (px), zoom and roll, as a hand-held phone and a zooming one do, larger.
    steps = [(0.0, 0.0, 1.0, 0.0)] + [
        (float(rng.normal(0, 6)), float(rng.normal(0, 3)), float(np.exp(rng.normal(0, 0.01))),
         float(rng.normal(0, 0.5)))
        for _ in range(40)
    ]
    total = np.eye(3)
    errors = []
    for k, (dx, dy, zoom, roll) in enumerate(steps):
        total = np.vstack([similarity(w, h, dx, dy, zoom, roll), [0, 0, 1]]) @ total
        frame = cv2.warpAffine(base, total[:2], (w, h), borderMode=cv2.BORDER_REFLECT)
        # The person walks right 7 px a frame, against the camera, over a quarter of the width.
        x0, y0 = 150 + 7 * k, 90
        frame[y0 : y0 + 220, x0 : x0 + 90] = person
        landmarks = np.array([[x0 + 10, y0 + 10], [x0 + 80, y0 + 210]], np.float32)
        got = tracker.step(small_gray(frame), person_box(landmarks, (w, h)))
        if k == 0:
            assert np.isnan(got).all()  # no previous frame: unknown
            continue
        want = np.array([dx / w, dy / w, math.log(zoom), roll])
        errors.append(np.abs(got - want))
    worst = np.max(errors, axis=0)
    # Measured: 0.0035% of the width, 0.0002 of log zoom, 0.016 deg. Allowed: 0.05% of the
    # width (0.16 px at 320 px, Lucas-Kanade's precision on sharp corners), 0.001, 0.05 deg.
    assert worst[0] < 0.0005 and worst[1] < 0.0005, worst
    assert worst[2] < 0.001 and worst[3] < 0.05, worst


def test_a_plain_picture_is_unknown_not_still() -> None:
    tracker = CameraMotionTracker()
    plain = np.full((180, 320), 200, np.uint8)
    plain[120:] = 150  # a wall and a floor: an edge but no corner
    for _ in range(3):
        assert np.isnan(tracker.step(plain)).all()


def test_the_person_box_is_widened() -> None:
    xy = np.full((33, 2), np.nan, np.float32)
    xy[0], xy[1] = (100, 50), (140, 250)
    box = person_box(xy, (400, 300), margin=0.25)
    assert box == pytest.approx((50 / 400, 0.0, 190 / 400, 300 / 300))
    assert person_box(np.full((33, 2), np.nan), (400, 300)) is None


# --- the committed rendered clips -----------------------------------------------------------


def _truth_path(clip: Path) -> tuple[np.ndarray, np.ndarray, int]:
    truth = json.loads(clip.with_suffix(".truth.json").read_text())
    cm = truth["frames"]["camera_motion"]
    motion = np.stack([cm["dx_px"], cm["dy_px"], cm["zoom"]], axis=1)
    return np.asarray(truth["frames"]["t_s"]), motion, int(truth["video"]["width"])


def _camera_codes(analysis: VideoAnalysis) -> list[str]:
    codes = [str(q.code) for q in analysis.result.quality if q.code is QualityCode.CAMERA_MOVED]
    return codes + [
        str(i.code) for r in analysis.result.reps for i in r.issues
        if i.code is RepIssueCode.CAMERA_MOVED
    ]


@pytest.mark.model
@pytest.mark.parametrize("name", ["rb_sway_forward_high", "rb_zoom_hold"])
def test_a_little_camera_motion_is_measured_and_not_refused(name: str, tmp_path: Path) -> None:
    clip = ROBUSTNESS / f"{name}.mp4"
    t_true, motion, width = _truth_path(clip)
    # As committed: a plain wall and floor give no corners, so the motion is unknown (never
    # zero), and nothing is refused for it.
    plain = analyze_video(clip)
    assert known_steps(plain.series.camera_motion).mean() < 0.2
    assert _camera_codes(plain) == []
    scored = [r.leg for r in plain.result.reps if r.band != "not_measurable"]
    # The same person over a textured background moved as the clip's camera moved.
    textured = analyze_video(write_clip(over_texture(clip, motion), tmp_path / f"{name}.mp4"))
    series = textured.series
    assert np.allclose(series.t_s, t_true, atol=0.002)
    assert known_steps(series.camera_motion).mean() > 0.95
    path = camera_path(series.camera_motion)
    want_x = (motion[:, 0] - motion[0, 0]) / width
    want_y = (motion[:, 1] - motion[0, 1]) / width
    want_zoom = np.log(motion[:, 2] / motion[0, 2])
    assert np.abs(path[:, 0] - want_x).max() < PATH_TOLERANCE
    assert np.abs(path[:, 1] - want_y).max() < PATH_TOLERANCE
    assert np.abs(path[:, 2] - want_zoom).max() < LOG_ZOOM_TOLERANCE
    assert np.abs(path[:, 3]).max() < 1.0  # no roll in the truth
    assert _camera_codes(textured) == []
    assert [r.leg for r in textured.result.reps if r.band != "not_measurable"] == scored
    assert all(r.camera_shift_pct is not None for r in textured.result.reps)


@pytest.mark.model
def test_a_shaking_camera_lists_every_knee_bend_with_the_reason(tmp_path: Path) -> None:
    still = np.tile([0.0, 0.0, 1.0], (600, 1))  # the demo's camera does not move
    frames = shaken(over_texture(DEMO, still), amplitude=0.12, period_s=1.5)
    analysis = analyze_video(write_clip(frames, tmp_path / "shaken.mp4"))
    result = analysis.result
    check = [q for q in result.quality if q.code is QualityCode.CAMERA_MOVED]
    assert len(check) == 1 and not check[0].blocking
    assert "stand" in check[0].guidance
    cycles = result.reps
    assert len(cycles) >= 6  # the demo's six reps (and the free leg's bends) are all listed
    # Each squat counted once in the check's words (not again as the free leg's bend).
    assert check[0].values["reps"] == sum(not r.not_a_rep for r in cycles) >= 6
    for r in cycles:
        assert r.band == "not_measurable"
        moved = [i for i in r.issues if i.code is RepIssueCode.CAMERA_MOVED]
        assert moved, f"rep at {r.start_s:.1f} s: {[str(i.code) for i in r.issues]}"
        assert "camera moved too much" in describe(moved[0])
        assert r.camera_shift_pct is not None and r.camera_shift_pct > 15
    for leg in result.legs.values():
        assert leg.valid_reps == 0
        assert "camera moved" in " ".join(leg.reasons)


@pytest.mark.model
def test_a_shaking_camera_before_a_plain_wall_is_seen_in_the_standing_foot(
    tmp_path: Path,
) -> None:
    # The demo clip as rendered (a plain wall and floor: no corners to follow), shaken.
    analysis = analyze_video(
        write_clip(shaken(iter_frames(DEMO), amplitude=0.12, period_s=1.5), tmp_path / "s.mp4")
    )
    assert known_steps(analysis.series.camera_motion).mean() < 0.2
    result = analysis.result
    assert any(q.code is QualityCode.CAMERA_MOVED for q in result.quality)
    reps = [r for r in result.reps if not r.not_a_rep]
    assert len(reps) >= 6
    for r in reps:
        assert r.band == "not_measurable"
        assert RepIssueCode.CAMERA_MOVED in [i.code for i in r.issues]
        assert r.camera_measured_from == "standing_foot" and r.camera_shift_pct > 15


@pytest.mark.model
def test_the_real_hand_held_case_follows_its_crop_window() -> None:
    """hyva7_sway_horizontal: a real clip whose picture is a 1216 px window sliding across the
    filmed frame (``crop=1216:720:x='32+14*sin(2*PI*t*0.6)+3*sin(2*PI*t*2.1)'``), so its
    content moved by minus the window's travel. Measured: within 0.27% of the width (RMS
    0.13%), every step known."""
    path = ROOT.parent / "shared" / "cases" / "hyva7_sway_horizontal.mp4"
    if not path.is_file():
        pytest.skip(f"field case {path.name} not available (absent in a fresh clone)")
    analysis = analyze_video(path)
    series = analysis.series
    t = series.t_s
    window_x = 32 + 14 * np.sin(2 * np.pi * t * 0.6) + 3 * np.sin(2 * np.pi * t * 2.1)
    want = -(window_x - window_x[0]) / 1216
    assert known_steps(series.camera_motion).mean() > 0.95
    got = camera_path(series.camera_motion)
    assert np.abs(got[:, 0] - want).max() < 0.005  # measured 0.0027
    assert np.abs(got[:, 1]).max() < 0.005 and np.abs(got[:, 2]).max() < 0.02
    assert _camera_codes(analysis) == []
    assert all(r.camera_measured_from == "background" for r in analysis.result.reps)
