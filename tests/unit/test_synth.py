"""The synthetic clip generator's numpy parts (motion script, camera, truth geometry) and the
committed synthetic clips' truth files. Rendering itself needs the ``synth`` extra and is not run
here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from valgus.core import kinematics
from valgus.synth.camera import (
    CameraConfig,
    flexion_deg,
    fppa_deg,
    make_camera,
    pelvic_drop_deg,
)
from valgus.synth.evaluate import true_pelvic_drop
from valgus.synth.generate import (
    Lighting,
    PoseParams,
    Poser,
    Rig,
    build_parser,
    config_from_args,
    leg_points,
    projected_fppa,
    projected_pelvic_drop,
    rot_axis,
    rot_between,
)
from valgus.synth.motion import MotionConfig, Side, build_timeline, parse_legs, plan_reps

ROOT = Path(__file__).resolve().parents[2]
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


def test_timeline_pelvic_drop_ramps_with_the_squat() -> None:
    cfg = MotionConfig(reps=2, rep_s=3.0, pelvic_drop_left_deg=8.0, pelvic_drop_right_deg=5.0)
    tl = build_timeline(cfg, fps=25)
    plans, _ = plan_reps(cfg)
    for p, want in zip(plans, (8.0, 5.0), strict=True):
        assert p.stance == ("left" if want == 8.0 else "right")
        assert tl.pelvic_drop_deg[round(p.bottom_s * 25)] == pytest.approx(want)
    # Level while standing on both feet and while the free foot lifts (before the squat).
    standing = np.array([s is None for s in tl.stance])
    assert np.all(tl.pelvic_drop_deg[standing] == 0.0)
    assert np.all(tl.pelvic_drop_deg[tl.squat == 0] == 0.0)
    # Proportional to the squat progress in between.
    left = np.array([s == "left" for s in tl.stance])
    assert tl.pelvic_drop_deg[left] == pytest.approx(8.0 * tl.squat[left])
    # The default keeps the pelvis level, as in the clips made before the option.
    assert np.all(build_timeline(MotionConfig(reps=2), fps=25).pelvic_drop_deg == 0.0)


def _toy_rig() -> Rig:
    """A small skeleton with anny's bone names and parents for the bones the poser uses.

    Straight legs, hips 0.2 m apart, arms hanging; the hip joint (upperleg01 head) hangs off
    pelvis.L/R off the root, the trunk off spine05 off the root, as in anny.
    """
    bones: list[tuple[str, str | None, tuple[float, float, float]]] = [
        ("root", None, (0.0, 0.0, 1.0)),
        ("spine05", "root", (0.0, 0.0, 1.0)),
        ("spine04", "spine05", (0.0, 0.0, 1.08)),
        ("spine01", "spine04", (0.0, 0.0, 1.3)),
        ("neck01", "spine01", (0.0, 0.0, 1.5)),
    ]
    for suf, sx in (("L", 1.0), ("R", -1.0)):
        bones += [
            (f"pelvis.{suf}", "root", (0.05 * sx, 0.0, 0.98)),
            (f"upperleg01.{suf}", f"pelvis.{suf}", (0.1 * sx, 0.0, 0.95)),
            (f"upperleg02.{suf}", f"upperleg01.{suf}", (0.1 * sx, 0.0, 0.72)),
            (f"lowerleg01.{suf}", f"upperleg02.{suf}", (0.1 * sx, 0.0, 0.5)),
            (f"lowerleg02.{suf}", f"lowerleg01.{suf}", (0.1 * sx, 0.0, 0.3)),
            (f"foot.{suf}", f"lowerleg02.{suf}", (0.1 * sx, 0.0, 0.06)),
            (f"upperarm01.{suf}", "spine01", (0.18 * sx, 0.0, 1.4)),
            (f"lowerarm01.{suf}", f"upperarm01.{suf}", (0.2 * sx, 0.0, 1.12)),
            (f"wrist.{suf}", f"lowerarm01.{suf}", (0.22 * sx, 0.0, 0.88)),
        ]
    names = [b[0] for b in bones]
    parents = [-1 if b[1] is None else names.index(b[1]) for b in bones]
    return Rig(names, parents, np.array([b[2] for b in bones]))


@pytest.mark.parametrize("stance", ["left", "right"])
def test_posed_hips_give_the_requested_pelvic_drop(stance: Side) -> None:
    rig = _toy_rig()
    poser = Poser(rig, MotionConfig(depth_deg=80.0))
    cam = make_camera(CameraConfig())
    free = "right" if stance == "left" else "left"

    def posed(drop: float) -> dict[str, np.ndarray]:
        return leg_points(rig, poser.joints(PoseParams(stance, 1.0, 80.0, 10.0, drop)))

    level, dropped = posed(0.0), posed(8.0)
    # Square-on camera: the projected hip line tilts by the design drop, the free hip lower.
    assert float(projected_pelvic_drop(cam, level, stance)) == pytest.approx(0.0, abs=1e-6)
    assert float(projected_pelvic_drop(cam, dropped, stance)) == pytest.approx(8.0, abs=0.01)
    assert dropped[f"{free}_hip"][2] < level[f"{free}_hip"][2] - 0.02
    # The same sign as what valgus measures: kinematics.pelvic_drop_deg on the projected hips.
    measured = kinematics.pelvic_drop_deg(
        cam.project(dropped[f"{stance}_hip"]), cam.project(dropped[f"{free}_hip"])
    )
    assert float(measured) == pytest.approx(8.0, abs=0.01)
    # The pelvis pivots about the stance hip: the stance leg and its FPPA do not move.
    for j in ("hip", "knee", "ankle"):
        assert dropped[f"{stance}_{j}"] == pytest.approx(level[f"{stance}_{j}"], abs=1e-9)
    assert float(projected_fppa(cam, dropped, stance)) == pytest.approx(
        float(projected_fppa(cam, level, stance)),
        abs=1e-9,
    )


def test_pelvic_drop_tilts_the_pelvis_bones_and_leaves_the_trunk_upright() -> None:
    rig = _toy_rig()
    poser = Poser(rig, MotionConfig(depth_deg=80.0))
    trunk, pelvis = [], []
    for drop in (0.0, 8.0):
        heads = poser.joints(PoseParams("left", 1.0, 80.0, 0.0, drop))
        trunk.append(heads[rig.j("neck01")] - heads[rig.j("spine04")])
        pelvis.append(heads[rig.j("spine04")] - heads[rig.j("spine05")])
    assert trunk[1] == pytest.approx(trunk[0], abs=1e-9)
    # spine05 carries anny's pelvis skin: it turns with the hip line, its top leaning towards
    # the dropped free side (the right, -x, for a left stance), else the drop would not be seen.
    tilt = math.degrees(math.atan2(pelvis[1][0], pelvis[1][2]))
    assert tilt == pytest.approx(-8.0, abs=0.01)


def test_standing_frames_are_level_whatever_the_drop() -> None:
    rig = _toy_rig()
    poser = Poser(rig, MotionConfig())
    cam = make_camera(CameraConfig())
    pts = leg_points(rig, poser.joints(PoseParams(None, 0.0, 2.0, 0.0, 8.0)))
    assert float(projected_pelvic_drop(cam, pts, "left")) == pytest.approx(0.0, abs=1e-6)


def test_pelvic_drop_truth_sign() -> None:
    # Image y grows downwards: the free hip 10 px lower over 100 px is a +5.7 deg drop, on
    # either side of the image.
    stance, free = np.array([300.0, 400.0]), np.array([200.0, 410.0])
    assert float(pelvic_drop_deg(stance, free)) == pytest.approx(math.degrees(math.atan(0.1)))
    assert float(pelvic_drop_deg(stance * [-1, 1], free * [-1, 1])) == pytest.approx(5.71, abs=0.01)
    assert float(pelvic_drop_deg(free, stance)) == pytest.approx(-5.71, abs=0.01)


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
    # Pelvis level and the committed clips' lights unless asked.
    assert cfg.motion.pelvic_drop_left_deg == cfg.motion.pelvic_drop_right_deg == 0.0
    assert cfg.light == Lighting()


def test_cli_pelvic_drop() -> None:
    def motion(*extra: str) -> MotionConfig:
        return config_from_args(build_parser().parse_args(["--out", "x.mp4", *extra])).motion

    m = motion("--pelvic-drop-deg", "8")
    assert (m.pelvic_drop_deg("left"), m.pelvic_drop_deg("right")) == (8.0, 8.0)
    m = motion("--pelvic-drop-deg", "8", "--pelvic-drop-right-deg", "3")
    assert (m.pelvic_drop_deg("left"), m.pelvic_drop_deg("right")) == (8.0, 3.0)
    m = motion("--pelvic-drop-left-deg", "-2")
    assert (m.pelvic_drop_deg("left"), m.pelvic_drop_deg("right")) == (-2.0, 0.0)


def test_cli_lighting() -> None:
    args = build_parser().parse_args(
        [
            "--out",
            "x.mp4",
            "--light-intensity",
            "0.35",
            "--light-azimuth-deg",
            "90",
            "--light-elevation-deg",
            "20",
            "--ambient",
            "0.1",
        ]
    )
    light = config_from_args(args).light
    assert light == Lighting(
        intensity=0.35, key_azimuth_deg=90.0, key_elevation_deg=20.0, ambient=0.1
    )
    # Azimuth like the camera yaw: 90 = the light stands at the person's left (+x) and shines
    # towards -x, down at the elevation.
    c, s = math.cos(math.radians(20)), math.sin(math.radians(20))
    assert light.key_direction() == pytest.approx([-c, 0.0, -s], abs=1e-12)
    for bad in (
        ["--light-intensity", "-1"],
        ["--ambient", "-0.1"],
        ["--light-elevation-deg", "90"],
    ):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["--out", "x.mp4", *bad])


def test_default_light_is_the_committed_clips_light() -> None:
    # The key light the committed clips were rendered with shone along (0.6, 1.0, -0.9).
    old = np.array([0.6, 1.0, -0.9])
    assert Lighting().key_direction() == pytest.approx(old / np.linalg.norm(old), abs=1e-12)
    assert Lighting().intensity == 1.0 and Lighting().ambient == 0.42


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
    # Pelvic drop: recorded since the generator could set it; older files have the hips only.
    if "pelvic_drop_deg" in frames:
        for side in ("left", "right"):
            other = "right" if side == "left" else "left"
            drop = np.asarray(frames["pelvic_drop_deg"][side])
            assert len(drop) == n
            again = pelvic_drop_deg(px[f"{side}_hip"], px[f"{other}_hip"])
            assert np.max(np.abs(again - drop)) < 0.1
        for rep in truth["reps"]:
            assert rep["pelvic_drop_at_bottom_frontal_deg"] == pytest.approx(
                rep["design_pelvic_drop_deg"], abs=0.3
            )
    else:
        assert all("design_pelvic_drop_deg" not in rep for rep in truth["reps"])


def test_true_pelvic_drop_of_old_truth_files_comes_from_the_hips() -> None:
    # acc_female_yaw0 was made before the pelvic drop existed: level pelvis, square-on camera.
    truth = json.loads((SAMPLES / "accuracy" / "acc_female_yaw0.truth.json").read_text())
    assert "pelvic_drop_deg" not in truth["frames"]
    left = true_pelvic_drop(truth, "left")
    assert len(left) == truth["video"]["n_frames"]
    assert np.max(np.abs(left)) < 0.2
    assert true_pelvic_drop(truth, "right") == pytest.approx(-left)
    # A file that records it is read as recorded.
    truth["frames"]["pelvic_drop_deg"] = {"left": [3.0] * len(left), "right": [-3.0] * len(left)}
    assert np.all(true_pelvic_drop(truth, "left") == 3.0)


def test_demo_clip_plan() -> None:
    truth = json.loads((SAMPLES / "demo_single_leg_squats.truth.json").read_text())
    assert [r["stance"] for r in truth["reps"]] == ["left", "right"] * 3
    assert (SAMPLES / "demo_single_leg_squats.mp4").stat().st_size < 2_000_000
