"""The synthetic generator's variation matrix (issue 16), pure numpy, no rendering: free-leg
postures, tempo (paused and continuous reps, bottom holds), legs switching, and the moving camera,
with the truth each records."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from tests.unit.test_synth import _toy_rig
from valgus.synth.camera import (
    CameraConfig,
    CameraMotion,
    camera_path,
    fppa_deg,
    make_camera,
    project_frames,
)
from valgus.synth.generate import (
    ClipConfig,
    PoseParams,
    Poser,
    build_parser,
    build_truth,
    config_from_args,
    leg_points,
)
from valgus.synth.motion import MotionConfig, build_timeline, plan_reps


def _frames_of(tl_t: np.ndarray, a: float, b: float) -> np.ndarray:
    return (tl_t >= a) & (tl_t < b)


def test_continuous_reps_have_no_standing_phase_between_reps() -> None:
    fps = 25
    cfg = MotionConfig(reps=5, legs="left", rep_s=1.7, between_reps="continuous")
    tl = build_timeline(cfg, fps)
    plans = tl.reps
    # One run: the foot lifts before the first rep and comes down after the last only.
    assert [p.lifts_foot for p in plans] == [True, False, False, False, False]
    assert [p.lowers_foot for p in plans] == [False, False, False, False, True]
    for p, q in itertools.pairwise(plans):
        # Top to top in rep_s, and the next squat starts where this one ends.
        assert p.squat_end_s - p.squat_start_s == pytest.approx(1.7)
        assert q.squat_start_s == pytest.approx(p.squat_end_s)
        between = _frames_of(tl.t_s, p.bottom_s, q.bottom_s)
        assert np.all(tl.lift[between] == 1.0)
        assert all(s == "left" for s, b in zip(tl.stance, between, strict=True) if b)
        # The knee turns at the top without resting: no plateau, and near the top only for
        # the turn (a cosine's ~0.15 s at this tempo), not for a pause.
        assert np.all(np.diff(tl.squat[between]) != 0.0)
        assert np.sum(tl.squat[between] < 0.02) <= 0.2 * fps
        assert np.all(tl.rep[between] >= 0)
    # The paused tempo keeps the foot up too but rests at the top for top_pause_s.
    paused = build_timeline(replace(cfg, between_reps="pause", top_pause_s=0.8), fps)
    p, q = paused.reps[0], paused.reps[1]
    between = _frames_of(paused.t_s, p.bottom_s, q.bottom_s)
    assert np.all(paused.lift[between] == 1.0)
    assert np.sum(paused.squat[between] < 1e-9) == pytest.approx(0.8 * fps, abs=1.5)
    # Today's default puts the foot down between reps.
    stand = build_timeline(replace(cfg, between_reps="stand"), fps)
    p, q = stand.reps[0], stand.reps[1]
    assert np.any(stand.lift[_frames_of(stand.t_s, p.bottom_s, q.bottom_s)] == 0.0)


@pytest.mark.parametrize("between", ["stand", "pause", "continuous"])
@pytest.mark.parametrize("hold", [0.0, 1.0, 3.0])
def test_bottom_hold_length(between: str, hold: float) -> None:
    fps = 50
    cfg = MotionConfig(reps=2, rep_s=2.0, bottom_hold_s=hold, between_reps=between, legs="right")
    tl = build_timeline(cfg, fps)
    base = 0.03 * 2.0 if between == "stand" else 0.0
    for p in tl.reps:
        assert p.hold_end_s - p.hold_start_s == pytest.approx(hold + base)
        at_bottom = _frames_of(tl.t_s, p.squat_start_s, p.squat_end_s) & (tl.squat > 1 - 1e-9)
        assert np.sum(at_bottom) == pytest.approx((hold + base) * fps, abs=1.5)
        assert tl.flexion_deg[round(p.bottom_s * fps)] == pytest.approx(cfg.depth_deg)
    # The hold adds to the clip.
    plain = build_timeline(replace(cfg, bottom_hold_s=0.0), fps)
    assert tl.duration_s - plain.duration_s == pytest.approx(2 * hold)


def test_legs_switching_within_continuous_reps() -> None:
    cfg = MotionConfig(reps=6, legs="LLLRRR", rep_s=1.7, between_reps="continuous")
    tl = build_timeline(cfg, 25)
    assert [p.stance for p in tl.reps] == ["left"] * 3 + ["right"] * 3
    assert [p.lifts_foot for p in tl.reps] == [True, False, False, True, False, False]
    # Between the runs both feet come down (a switch is a new lift), never a stance jump.
    switch = _frames_of(tl.t_s, tl.reps[2].squat_end_s, tl.reps[3].squat_start_s)
    assert any(tl.stance[k] is None for k in np.flatnonzero(switch))
    for k in range(1, len(tl)):
        if tl.stance[k] is not None and tl.stance[k - 1] is not None:
            assert tl.stance[k] == tl.stance[k - 1]


def test_free_leg_patterns_cycle_and_split_runs() -> None:
    cfg = MotionConfig(
        reps=4, legs="left", free_leg="hover_beside,touch_floor", between_reps="continuous"
    )
    plans, _ = plan_reps(cfg)
    assert [p.free_leg for p in plans] == ["hover_beside", "touch_floor"] * 2
    assert [p.valid_for_test for p in plans] == [True, False, True, False]
    # A change of posture puts the foot down in between.
    assert all(p.lifts_foot and p.lowers_foot for p in plans)
    with pytest.raises(ValueError):
        plan_reps(replace(cfg, free_leg="cartwheel"))
    with pytest.raises(ValueError):
        plan_reps(replace(cfg, between_reps="sometimes"))


def _free_ankle_clearance(posture: str, lift: float, squat: float, hover: float = 0.05) -> float:
    rig = _toy_rig()
    poser = Poser(rig, MotionConfig(depth_deg=80.0, free_leg=posture, hover_height_m=hover))
    flex = 4.0 + squat * 76.0
    pts = leg_points(rig, poser.joints(PoseParams("left", lift, flex, 8.0, 0.0, posture, squat)))
    return float(pts["right_ankle"][2] - poser.anchor["right"][2])


@pytest.mark.parametrize("posture", ["hover_forward_low", "hover_beside"])
@pytest.mark.parametrize("hover", [0.03, 0.06])
def test_hover_keeps_the_free_foot_off_the_floor_by_the_set_height(
    posture: str, hover: float
) -> None:
    for squat in (0.0, 0.3, 0.7, 1.0):
        assert _free_ankle_clearance(posture, 1.0, squat, hover) == pytest.approx(hover, abs=1e-6)
    # The foot hardly moves while the stance leg squats: fixed to the stance foot.
    rig = _toy_rig()
    poser = Poser(rig, MotionConfig(free_leg=posture, hover_height_m=hover))
    ankles = [
        leg_points(rig, poser.joints(PoseParams("left", 1.0, f, 0.0, 0.0, posture, f / 80)))[
            "right_ankle"
        ]
        for f in (4.0, 40.0, 80.0)
    ]
    assert np.max(np.abs(np.diff(ankles, axis=0))) < 1e-6


def test_touch_floor_rests_the_free_foot_on_the_floor_during_the_squat() -> None:
    for squat in (0.3, 0.6, 1.0):
        assert _free_ankle_clearance("touch_floor", 1.0, squat) == pytest.approx(0.0, abs=1e-6)
    # On its way there the foot clears the floor (a step, not a slide).
    assert _free_ankle_clearance("touch_floor", 0.5, 0.0) > 0.03


def test_forward_high_holds_the_free_foot_well_off_the_floor() -> None:
    for squat in (0.0, 0.5, 1.0):
        assert _free_ankle_clearance("forward_high", 1.0, squat) > 0.12
    rig = _toy_rig()
    poser = Poser(rig, MotionConfig(free_leg="forward_high"))
    pts = leg_points(rig, poser.joints(PoseParams("left", 1.0, 40.0, 0.0, 0.0, "forward_high")))
    # Held forward (-y), in front of the stance ankle.
    assert pts["right_ankle"][1] < pts["left_ankle"][1] - 0.3


@pytest.mark.parametrize(("kind", "amp"), [("sway", 0.015), ("sway", 0.02), ("pan", 0.06)])
def test_camera_motion_shift_matches_the_amplitude(kind: str, amp: float) -> None:
    cam = make_camera(CameraConfig(width=480, height=360))
    t = np.arange(0, 12, 0.04)
    cams, motion = camera_path(cam, CameraMotion(kind, amp), t, 12.0)
    # The content at the picture centre moves by exactly the recorded shift.
    centre = cam.position - 3.0 * cam.rotation[:, 2]
    moved = project_frames(cams, np.tile(centre, (len(t), 1)))
    assert moved - cam.project(centre) == pytest.approx(motion[:, :2], abs=1e-6)
    assert np.max(np.abs(motion[:, 0])) == pytest.approx(amp * 480, rel=0.02)
    if kind == "sway":
        assert np.max(np.abs(motion[:, 1])) == pytest.approx(amp * 360, rel=0.02)
    else:
        assert np.all(motion[:, 1] == 0.0)
        assert np.all(np.diff(motion[:, 0]) >= 0)  # one slow sweep
    assert np.all(motion[:, 2] == 1.0)


def test_camera_zoom_scales_about_the_centre() -> None:
    cam = make_camera(CameraConfig(width=480, height=360))
    t = np.arange(0, 10, 0.04)
    cams, motion = camera_path(cam, CameraMotion("zoom", 0.12), t, 10.0)
    assert np.max(motion[:, 2]) == pytest.approx(1.12, abs=1e-3)
    assert motion[0, 2] == pytest.approx(1.0)
    k = int(np.argmax(motion[:, 2]))
    knee = np.array([0.1, 0.0, 0.5])
    off0 = cam.project(knee) - [240, 180]
    assert cams[k].project(knee) - [240, 180] == pytest.approx(off0 * motion[k, 2], rel=1e-9)
    with pytest.raises(ValueError):
        CameraMotion("shake").amp()


def test_truth_of_a_toy_clip_records_the_variations() -> None:
    fps = 25
    motion = MotionConfig(
        reps=4,
        legs="LLRR",
        rep_s=1.7,
        depth_deg=70.0,
        free_leg="hover_forward_low,hover_forward_low,touch_floor,touch_floor",
        between_reps="continuous",
        bottom_hold_s=0.4,
    )
    cfg = ClipConfig(
        motion=motion,
        camera=CameraConfig(width=480, height=360),
        camera_motion=CameraMotion("sway", 0.02),
        fps=fps,
    )
    rig = _toy_rig()
    poser = Poser(rig, motion)
    tl = build_timeline(motion, fps)
    heads = np.stack(
        [
            poser.joints(
                PoseParams(
                    tl.stance[k],
                    float(tl.lift[k]),
                    float(tl.flexion_deg[k]),
                    0.0,
                    0.0,
                    tl.free_leg[k] or "bent_back",
                    float(tl.squat[k]),
                )
            )
            for k in range(len(tl))
        ]
    )
    cam = make_camera(cfg.camera)
    cams, cam_motion = camera_path(cam, cfg.camera_motion, tl.t_s, len(tl) / fps)
    pts = leg_points(rig, heads)
    rest_z = {s: float(poser.anchor[s][2]) for s in ("left", "right")}
    truth = build_truth(cfg, tl, pts, cams, cam_motion, cam, {}, rest_z, "test")
    reps = truth["reps"]
    assert [r["stance"] for r in reps] == ["left", "left", "right", "right"]
    assert [r["valid_for_test"] for r in reps] == [True, True, False, False]
    assert all(r["exercise"] == "single_leg" for r in reps)
    assert [r["free_leg"] for r in reps[:3]] == ["hover_forward_low"] * 2 + ["touch_floor"]
    for r in reps:
        assert r["tempo"]["squat_s"] == pytest.approx(1.7 + 0.4, abs=1e-6)
        assert r["tempo"]["between_reps"] == "continuous"
        assert r["design_depth_deg"] == 70.0
        assert r["peak_flexion_deg"] == pytest.approx(70.0, abs=0.5)
        hold = r["bottom_hold_end_frame"] - r["bottom_hold_start_frame"]
        assert hold == pytest.approx(0.4 * fps, abs=1)
        assert r["bottom_hold_start_frame"] <= r["bottom_frame"] <= r["bottom_hold_end_frame"]
        if r["valid_for_test"]:
            assert r["free_foot_min_clearance_m"] == pytest.approx(0.05, abs=1e-3)
            assert r["free_foot_on_floor_frames"] == 0
        else:
            assert r["free_foot_min_clearance_m"] < 1e-3
            assert r["free_foot_on_floor_frames"] > 0.5 * (
                r["squat_end_frame"] - r["squat_start_frame"]
            )
    frames = truth["frames"]
    # Joints in each moved frame's pixels: the static projection plus (about) the sway.
    static = cam.project(pts["left_knee"])
    moved = np.asarray(frames["joints_px"]["left_knee"])
    shift = np.stack([frames["camera_motion"]["dx_px"], frames["camera_motion"]["dy_px"]], 1)
    assert np.max(np.abs(shift[:, 0])) == pytest.approx(0.02 * 480, rel=0.02)
    assert np.max(np.abs(moved - static - shift)) < 1.0
    assert np.max(np.abs(moved - static)) > 5.0
    # The stored FPPA follows from the stored (moved) pixels.
    px = {k: np.asarray(v) for k, v in frames["joints_px"].items()}
    again = fppa_deg(px["left_hip"], px["left_knee"], px["left_ankle"], px["right_hip"])
    assert np.nanmax(np.abs(again - np.asarray(frames["fppa_deg"]["left"]))) < 0.05


def test_cli_variation_options() -> None:
    args = build_parser().parse_args(
        [
            "--out",
            "x.mp4",
            "--free-leg",
            "hover_beside",
            "--hover-height-m",
            "0.04",
            "--between-reps",
            "continuous",
            "--bottom-hold-s",
            "2",
            "--camera-motion",
            "zoom",
            "--camera-motion-amplitude",
            "0.1",
        ]
    )
    cfg = config_from_args(args)
    assert cfg.motion.free_leg == "hover_beside" and cfg.motion.hover_height_m == 0.04
    assert cfg.motion.between_reps == "continuous" and cfg.motion.bottom_hold_s == 2.0
    assert cfg.camera_motion == CameraMotion("zoom", 0.1, None)
    default = config_from_args(build_parser().parse_args(["--out", "x.mp4"]))
    assert default.camera_motion.kind == "static" and default.motion.free_leg == "bent_back"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--out", "x.mp4", "--camera-motion", "shake"])
