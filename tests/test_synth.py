"""The synthetic clip generator's numpy parts (motion script, camera, truth geometry) and the
committed synthetic clips' truth files. Rendering itself needs the ``synth`` extra and is not run
here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from valgus.synth.camera import CameraConfig, flexion_deg, fppa_deg, make_camera
from valgus.synth.generate import Rig, build_parser, config_from_args, rot_axis, rot_between
from valgus.synth.motion import MotionConfig, build_timeline, parse_legs, plan_reps

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"


def test_parse_legs_patterns() -> None:
    assert parse_legs("alternate", 5) == ["left", "right", "left", "right", "left"]
    assert parse_legs("alternate-right", 3) == ["right", "left", "right"]
    assert parse_legs("right", 2) == ["right", "right"]
    assert parse_legs("LRR", 4) == ["left", "right", "right", "left"]
    with pytest.raises(ValueError):
        parse_legs("sideways", 2)


def test_timeline_reps_and_flexion() -> None:
    cfg = MotionConfig(reps=4, rep_s=3.0, depth_deg=70.0)
    plans, duration = plan_reps(cfg)
    assert [p.stance for p in plans] == ["left", "right", "left", "right"]
    assert duration == pytest.approx(cfg.lead_in_s + 4 * 3.0 + cfg.lead_out_s)
    tl = build_timeline(cfg, fps=25)
    assert len(tl) == round(duration * 25)
    # Deepest design flexion at each bottom, standing before the first rep.
    for p in plans:
        k = round(p.bottom_s * 25)
        assert tl.flexion_deg[k] == pytest.approx(70.0, abs=0.5)
        assert tl.stance[k] == p.stance and tl.lift[k] == 1.0
    assert tl.stance[0] is None and tl.flexion_deg[0] == cfg.standing_flexion_deg
    # Squats happen only with the free foot fully up.
    assert np.all(tl.lift[tl.squat > 0] == 1.0)


def test_camera_projects_axis_to_centre_and_left_to_image_right() -> None:
    cam = make_camera(CameraConfig(distance_m=3.0, height_m=0.8, width=540, height=720))
    centre = cam.project(np.array([0.0, 0.0, 0.8]))
    assert centre == pytest.approx([270.0, 360.0])
    # The person's left (+x) is on the viewer's right in a frontal view; higher is smaller y.
    left, up = cam.project(np.array([0.2, 0.0, 0.8])), cam.project(np.array([0.0, 0.0, 1.2]))
    assert left[0] > 270.0 and up[1] < 360.0
    # Focal length from the vertical field of view.
    assert cam.focal_px == pytest.approx(360.0 / math.tan(cam.yfov / 2))


def test_camera_yaw_keeps_target_centred() -> None:
    for yaw in (-20.0, 0.0, 20.0):
        cam = make_camera(CameraConfig(yaw_deg=yaw, height_m=0.75))
        assert cam.project(np.array([0.0, 0.0, 0.75])) == pytest.approx([270.0, 360.0])
        assert np.linalg.norm(cam.position[:2]) == pytest.approx(3.0)


def test_fppa_sign_is_anatomical() -> None:
    # Left leg on the image right (frontal view), knee displaced towards the other hip = valgus.
    hip, ankle, other = np.array([300.0, 300.0]), np.array([300.0, 500.0]), np.array([240.0, 300.0])
    knee_medial = np.array([290.0, 400.0])
    knee_lateral = np.array([310.0, 400.0])
    assert fppa_deg(hip, knee_medial, ankle, other) > 0
    assert fppa_deg(hip, knee_lateral, ankle, other) < 0
    expected = 2 * math.degrees(math.atan2(10, 100))
    assert fppa_deg(hip, knee_medial, ankle, other) == pytest.approx(expected)
    # Mirroring the image leaves the value unchanged.
    m = np.array([-1.0, 1.0])
    assert fppa_deg(hip * m, knee_medial * m, ankle * m, other * m) == pytest.approx(expected)


def test_flexion_3d() -> None:
    hip, knee = np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.5])
    assert flexion_deg(hip, knee, np.array([0.0, 0.0, 0.0])) == pytest.approx(0.0, abs=1e-6)
    assert flexion_deg(hip, knee, np.array([0.0, 0.5, 0.5])) == pytest.approx(90.0)


def test_rotations() -> None:
    a, b = np.array([0.0, 0.0, -1.0]), np.array([0.3, -0.5, -0.8])
    r = rot_between(a, b)
    assert r @ a == pytest.approx(b / np.linalg.norm(b))
    assert r.T @ r == pytest.approx(np.eye(3))
    assert rot_axis(np.array([0.0, 0.0, 1.0]), 90) @ np.array([1.0, 0, 0]) == pytest.approx(
        [0, 1.0, 0]
    )


def test_rig_forward_kinematics_chain() -> None:
    # root -> thigh -> shank: rotating the thigh moves the knee and everything below it.
    rig = Rig(
        ["root", "thigh", "shank", "foot"],
        [-1, 0, 1, 2],
        np.array([[0, 0, 1.0], [0, 0, 1.0], [0, 0, 0.5], [0, 0, 0.0]]),
    )
    g = rot_axis(np.array([1.0, 0, 0]), -90)  # thigh forward to horizontal (-y)
    G = rig.propagate({1: g})
    heads = rig.heads(G)
    assert heads[2] == pytest.approx([0, -0.5, 1.0])
    assert heads[3] == pytest.approx([0, -1.0, 1.0])


def test_cli_config() -> None:
    args = build_parser().parse_args(
        [
            "--out",
            "x.mp4",
            "--reps",
            "3",
            "--legs",
            "right",
            "--yaw-deg",
            "-15",
            "--size",
            "480x640",
            "--body",
            "male",
            "--shirt",
            "#112233",
            "--valgus-right-deg",
            "20",
        ]
    )
    cfg = config_from_args(args)
    assert cfg.motion.reps == 3 and cfg.motion.legs == "right"
    assert cfg.motion.valgus_right_deg == 20.0
    assert cfg.camera.yaw_deg == -15.0 and (cfg.camera.width, cfg.camera.height) == (480, 640)
    assert cfg.look.gender < 0.5 and cfg.look.shirt == "#112233"


def _truth_files() -> list[Path]:
    return sorted(SAMPLES.rglob("*.truth.json"))


@pytest.mark.parametrize("truth_file", _truth_files(), ids=lambda p: p.stem)
def test_committed_truth_matches_its_clip(truth_file: Path) -> None:
    import av

    truth = json.loads(truth_file.read_text())
    clip = truth_file.parent / (truth_file.name.removesuffix(".truth.json") + ".mp4")
    assert clip.is_file()
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        assert (s.width, s.height) == (truth["video"]["width"], truth["video"]["height"])
    frames = truth["frames"]
    assert n == truth["video"]["n_frames"] == len(frames["t_s"])
    for side in ("left", "right"):
        assert len(frames["fppa_deg"][side]) == n
        for j in ("hip", "knee", "ankle"):
            assert len(frames["joints_px"][f"{side}_{j}"]) == n
    # The truth FPPA follows from the stored projected joints.
    px = {k: np.asarray(v) for k, v in frames["joints_px"].items()}
    again = fppa_deg(px["right_hip"], px["right_knee"], px["right_ankle"], px["left_hip"])
    assert np.nanmax(np.abs(again - np.asarray(frames["fppa_deg"]["right"]))) < 0.1
    # Each rep's frontal FPPA at the bottom is the designed valgus.
    for rep in truth["reps"]:
        assert rep["fppa_at_bottom_frontal_deg"] == pytest.approx(rep["design_valgus_deg"], abs=0.3)
        assert frames["stance"][rep["bottom_frame"]] == rep["stance"]


def test_demo_clip_plan() -> None:
    truth = json.loads((SAMPLES / "demo_single_leg_squats.truth.json").read_text())
    assert [r["stance"] for r in truth["reps"]] == ["left", "right"] * 3
    assert (SAMPLES / "demo_single_leg_squats.mp4").stat().st_size < 2_000_000
