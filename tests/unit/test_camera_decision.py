"""Issue 16 item 4, the decision on synthetic camera paths (pure numpy, milliseconds): the
frame steps add up to the right path, a camera moving as the robustness matrix's does (sway
1.5%, pan 6%, zoom 12%) costs no rep, and one that shakes, pans, zooms or rolls far more lists
the rep as "camera moved" with a clip-level check and guidance; an unknown motion (a plain
background) is never read as a still camera's nor as a moving one's."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from tests.synthetic import evenly_spaced_reps, person_series, squat_curve, time_base
from valgus.config import AnalysisConfig, CameraMotionConfig, ClearanceConfig
from valgus.core.camera import (
    CameraPath,
    camera_moved,
    camera_movement,
    camera_path,
    foot_movement,
    known_steps,
)
from valgus.core.pose import PoseSeries
from valgus.core.reasons import QualityCode, RepIssue, RepIssueCode, describe
from valgus.core.result import AnalysisResult
from valgus.pipeline import analyze_series

pytestmark = pytest.mark.unit

CFG = CameraMotionConfig()
FPS = 30.0


def steps_of(path: np.ndarray) -> np.ndarray:
    """(T, 4) frame steps of a path of pure shifts / zooms / rolls about the picture centre that
    do not mix (each frame's step is the difference; exact for shifts alone or zoom alone)."""
    steps = np.zeros_like(path)
    steps[1:] = np.diff(path, axis=0)
    steps[0] = np.nan
    return steps


def path_of(t: np.ndarray, dx: np.ndarray | float = 0.0, dy: np.ndarray | float = 0.0,
            log_zoom: np.ndarray | float = 0.0, roll: np.ndarray | float = 0.0) -> np.ndarray:
    cols = [np.broadcast_to(np.asarray(v, float), t.shape) for v in (dx, dy, log_zoom, roll)]
    return np.stack(cols, axis=1)


def movement(path: np.ndarray, t: np.ndarray) -> dict[str, float] | None:
    cam = CameraPath.from_steps(steps_of(path), t)
    return camera_moved(cam.movement(0, len(t) - 1, CFG), CFG)


def test_steps_compose_as_similarities() -> None:
    # Shift right by 1% of the width each frame, then a 90 deg turn: the accumulated shift
    # turns with the picture (z -> a z + t).
    steps = np.array([[np.nan] * 4, [0.01, 0, 0, 0], [0.01, 0, 0, 0], [0, 0, 0, 90.0],
                      [0, 0, math.log(2.0), 0]])
    path = camera_path(steps)
    assert path[0].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(path[2], [0.02, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(path[3], [0, 0.02, 0, 90.0], atol=1e-12)  # y down: clockwise
    np.testing.assert_allclose(path[4], [0, 0.04, math.log(2.0), 90.0], atol=1e-12)
    # Against 3x3 matrices composed one by one.
    rng = np.random.default_rng(1)
    steps = rng.normal(0, [0.01, 0.01, 0.01, 1.0], (50, 4))
    m = np.eye(3)
    for s in steps[1:]:
        a = math.exp(s[2]) * np.exp(1j * math.radians(s[3]))
        d = np.array([[a.real, -a.imag, s[0]], [a.imag, a.real, s[1]], [0, 0, 1]])
        m = d @ m
    end = camera_path(steps)[-1]
    assert end[:2] == pytest.approx(m[:2, 2], abs=1e-12)
    assert end[2] == pytest.approx(math.log(math.hypot(m[0, 0], m[1, 0])), abs=1e-12)
    assert end[3] == pytest.approx(math.degrees(math.atan2(m[1, 0], m[0, 0])), abs=1e-9)


def test_an_unknown_step_is_no_motion_and_marked_unknown() -> None:
    steps = np.array([[np.nan] * 4, [0.01, 0, 0, 0], [np.nan] * 4, [0.01, 0, 0, 0]])
    assert camera_path(steps)[:, 0].tolist() == pytest.approx([0, 0.01, 0.01, 0.02])
    assert known_steps(steps).tolist() == [False, True, False, True]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        # The robustness matrix's camera levels (bench/robustness.py CAMERAS), over a 3 s rep:
        ("sway 1.5%", lambda t: path_of(t, 0.015 * np.sin(2 * np.pi * t / 1.9),
                                        0.015 * 0.75 * np.sin(2 * np.pi * t / 2.7 + 0.9))),
        # a pan of 12% of the width (-6% to +6%) inside the rep itself, the worst case
        ("pan 6%", lambda t: path_of(t, -0.06 * np.cos(np.pi * t / t[-1]))),
        ("zoom 12%", lambda t: path_of(t, log_zoom=np.log(1 + 0.12 * np.sin(np.pi * t / t[-1])))),
        # the real hand-held case (hyva7_sway_horizontal's crop window, 1216 px wide)
        ("hand-held", lambda t: path_of(
            t, (14 * np.sin(2 * np.pi * 0.6 * t) + 3 * np.sin(2 * np.pi * 2.1 * t)) / 1216)),
        ("a slight roll", lambda t: path_of(t, roll=3.0 * np.sin(2 * np.pi * t / 3.0))),
    ],
)
def test_a_camera_moving_a_little_costs_no_rep(name: str, make) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(0, 3.0, 1 / FPS)
    assert movement(make(t), t) is None, name


@pytest.mark.parametrize(
    ("name", "make", "over"),
    [
        ("shake 12%", lambda t: path_of(t, 0.12 * np.sin(2 * np.pi * t / 1.5)), "shift_pct"),
        ("pan 30%", lambda t: path_of(t, 0.3 * t / t[-1]), "shift_pct"),
        # small but fast: 4% back and forth at 3 Hz, 0.75 widths/s
        ("jitter", lambda t: path_of(t, 0.04 * np.sin(2 * np.pi * 3 * t)), "speed_pct_per_s"),
        ("zoom 40%", lambda t: path_of(t, log_zoom=np.log(1 + 0.4 * t / t[-1])), "zoom_pct"),
        ("roll 20 deg", lambda t: path_of(t, roll=20.0 * t / t[-1]), "roll_deg"),
    ],
)
def test_a_camera_moving_far_more_refuses_the_rep(name: str, make, over: str) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(0, 3.0, 1 / FPS)
    values = movement(make(t), t)
    assert values is not None, name
    limit = {"shift_pct": 100 * CFG.max_shift_fraction,
             "speed_pct_per_s": 100 * CFG.max_speed_width_per_s,
             "zoom_pct": 100 * (math.exp(CFG.max_log_zoom) - 1), "roll_deg": CFG.max_roll_deg}
    assert values[over] > limit[over], (name, values)


def test_measured_figures() -> None:
    t = np.arange(0, 3.0, 1 / FPS)
    path = path_of(t, 0.1 * np.sin(2 * np.pi * t / 3.0))  # 20% span, 0.21 widths/s at most
    moved = camera_movement(camera_path(steps_of(path)), known_steps(steps_of(path)), t,
                            0, len(t) - 1, CFG)
    assert moved.shift_fraction == pytest.approx(0.2, abs=0.002)
    assert moved.speed_width_per_s == pytest.approx(0.2 * np.pi / 3.0, rel=0.05)
    assert moved.zoom == pytest.approx(1.0) and moved.roll_deg == pytest.approx(0.0)
    assert moved.known_fraction == 1.0


def test_unknown_motion_is_not_judged() -> None:
    t = np.arange(0, 3.0, 1 / FPS)
    steps = steps_of(path_of(t, 0.12 * np.sin(2 * np.pi * t / 1.5)))
    steps[::3] = np.nan  # two thirds known: judged
    cam = CameraPath.from_steps(steps, t)
    assert camera_moved(cam.movement(0, len(t) - 1, CFG), CFG) is not None
    steps[1::3] = np.nan  # a third known: not judged
    cam = CameraPath.from_steps(steps, t)
    moved = cam.movement(0, len(t) - 1, CFG)
    assert not moved.measured and moved.known_fraction == pytest.approx(1 / 3, abs=0.02)
    assert camera_moved(moved, CFG) is None


# --- through the analysis: listed, never silent ------------------------------------------


def three_reps() -> PoseSeries:
    truth = evenly_spaced_reps(3, 1.0, 3.0, 1.0, 70.0)
    t = time_base(truth[-1].end_s + 1.0, FPS)
    return person_series(t, squat_curve(t, truth, 15.0), "left", 0.0)


def test_reps_with_the_camera_shaking_are_listed_with_the_reason() -> None:
    cfg = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
    series = three_reps()
    t = series.t_s
    # Still, then a shake of 12% of the width from 5 s on (the second and third reps).
    dx = np.where(t >= 5.0, 0.12 * np.sin(2 * np.pi * (t - 5.0) / 1.5), 0.0)
    steady, _ = analyze_series(series, cfg)
    assert [r.band for r in steady.reps] == ["fine"] * 3
    # No steps from the background: the shift is read from the standing foot, which stays put.
    assert all(r.camera_measured_from == "standing_foot" for r in steady.reps)
    assert all(r.camera_shift_pct == pytest.approx(0.0, abs=0.5) for r in steady.reps)
    shaken = dataclasses.replace(series, camera_motion=steps_of(path_of(t, dx)))
    result, _ = analyze_series(shaken, cfg)
    assert len(result.reps) == 3  # every cycle is still in the result
    first, *rest = result.reps
    assert first.band == "fine" and first.camera_shift_pct == pytest.approx(0.0, abs=1e-6)
    assert first.camera_measured_from == "background"
    for r in rest:
        assert r.band == "not_measurable"
        assert [i.code for i in r.issues] == [RepIssueCode.CAMERA_MOVED]
        assert r.camera_shift_pct is not None and r.camera_shift_pct > 15
        assert "put the phone on a stand" in describe(r.issues[0])
    check = next(q for q in result.quality if q.code is QualityCode.CAMERA_MOVED)
    assert not check.blocking and check.values["reps"] == 2
    assert "stand" in check.guidance and "2 knee bends" in check.message
    assert result.legs["left"].valid_reps == 1
    assert "camera moved" in " ".join(result.legs["left"].reasons)
    # The JSON keeps the issue, the check and the figures, and reads back the same.
    d = result.to_dict()
    assert d["reps"][1]["issues"][0]["code"] == "camera_moved"
    assert d["reps"][1]["camera_shift_pct"] > 15
    back = AnalysisResult.from_dict(d)
    assert [describe(i) for i in back.reps[1].issues] == [describe(result.reps[1].issues[0])]
    assert back.quality[-1].code is QualityCode.CAMERA_MOVED
    # A result stored before the camera figures reads back with them unknown.
    for rep in d["reps"]:
        for key in ("camera_shift_pct", "camera_zoom_pct", "camera_roll_deg",
                    "camera_speed_pct_per_s"):
            rep.pop(key)
    assert AnalysisResult.from_dict(d).reps[0].camera_shift_pct is None


def test_the_words_name_the_numbers() -> None:
    words = describe(RepIssue(RepIssueCode.CAMERA_MOVED, {
        "shift_pct": 24.0, "zoom_pct": 30.0, "roll_deg": 1.0, "speed_pct_per_s": 60.0}))
    assert "24% of its width" in words and "60% a second" in words and "zoomed by 30%" in words
    assert "turned" not in words  # a 1 deg roll is not worth saying


def test_the_steps_travel_with_the_series(tmp_path) -> None:  # type: ignore[no-untyped-def]
    series = three_reps()
    n = len(series)
    steps = np.tile(np.array([0.01, -0.02, 0.001, 0.5], np.float32), (n, 1))
    steps[0] = np.nan
    moved = dataclasses.replace(series, camera_motion=steps)
    half = n // 2
    joined = PoseSeries.concat([moved[:half], moved[half:]])
    np.testing.assert_array_equal(joined.camera_motion, steps)
    back = PoseSeries.load(moved.save(tmp_path / "poses.npz"))
    np.testing.assert_array_equal(back.camera_motion, steps)
    # A pose file made before the camera was measured reads back with the motion unknown.
    assert np.isnan(PoseSeries.load(series.save(tmp_path / "old.npz")).camera_motion).all()
    mirrored = moved.mirrored().camera_motion[1]
    assert mirrored.tolist() == pytest.approx([-0.01, -0.02, 0.001, -0.5])


def picture_shaken_from_5s(series: PoseSeries) -> np.ndarray:
    """``series``'s landmarks (T, 33, 2) with the whole picture, the person with it, shaken
    across by 12% of its width (1.5 s period) from 5 s on; the background shows nothing."""
    t, width = series.t_s, series.picture[2]
    dx = np.where(t >= 5.0, 0.12 * width * np.sin(2 * np.pi * (t - 5.0) / 1.5), 0.0)
    xy = series.xy_px.copy()
    xy[..., 0] += dx[:, None].astype(np.float32)
    return xy


def test_a_plain_background_reads_the_shift_from_the_standing_foot() -> None:
    """Nothing to follow behind the person: the whole picture (the person with it) shaken by
    12% of the width from 5 s on is seen in the planted foot's travel."""
    cfg = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
    series = three_reps()
    xy = picture_shaken_from_5s(series)
    result, _ = analyze_series(dataclasses.replace(series, xy_px=xy), cfg)
    assert len(result.reps) == 3
    first, *rest = result.reps
    assert first.band == "fine" and first.camera_shift_pct == pytest.approx(0.0, abs=0.5)
    for r in rest:
        assert [i.code for i in r.issues] == [RepIssueCode.CAMERA_MOVED]
        assert r.camera_measured_from == "standing_foot" and r.camera_shift_pct > 15
        assert r.camera_speed_pct_per_s is None  # a landmark's jitter is no camera speed
        assert "your standing foot" in describe(r.issues[0])
    check = next(q for q in result.quality if q.code is QualityCode.CAMERA_MOVED)
    assert "a second" not in check.message  # no speed was measured


def test_the_foot_reading_ignores_a_glitch() -> None:
    foot = np.tile([300.0, 1000.0], (90, 1))
    foot[40] = (700.0, 1000.0)  # one frame on the other foot
    foot[50:52] = np.nan
    moved = foot_movement(foot, 720.0, 0, 89, CFG)
    assert moved.shift_fraction == pytest.approx(0.0) and moved.source == "standing_foot"
    assert moved.zoom is None and moved.speed_width_per_s is None
    foot[:60] = np.nan  # the foot placed on a third of the frames: unknown
    assert not foot_movement(foot, 720.0, 0, 89, CFG).measured


def test_steps_near_a_second_person_are_unknown_not_the_cameras() -> None:
    """Two people before a plain wall: the other one's squats were most of the corners and read
    as a 32% zoom. Within the margin of a frame where two people were counted the steps are
    unknown (the standing foot then stands in for the camera); elsewhere they are kept."""
    from valgus.core.camera import crowded_frames

    t = np.arange(0.0, 10.0, 0.1)
    n_people = np.full(t.size, -1)
    n_people[::10] = 1
    n_people[30] = 2  # at 3.0 s
    crowded = crowded_frames(n_people, t, margin_s=1.5)
    assert np.array_equal(crowded, np.abs(t - 3.0) <= 1.5 + 1e-9)
    assert not crowded_frames(np.where(n_people == 2, 1, n_people), t, 1.5).any()
    # In the analysis those steps are unknown: a still camera with the other person's motion
    # in them would otherwise read as moving.
    series = three_reps()
    shaken = np.tile([0.02, 0.0, 0.0, 0.0], (len(series), 1))  # 2% of the width a frame
    people = np.where(np.arange(len(series)) % 30 == 0, 2, -1).astype(np.int16)
    cfg = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
    result, _ = analyze_series(
        dataclasses.replace(series, camera_motion=shaken, n_people=people), cfg)
    assert all(r.camera_measured_from != "background" for r in result.reps)


def test_a_shaken_rep_says_camera_moved_not_knee_hidden() -> None:
    """A shaken clip blurs the legs and the person's mask there reads them hidden: the cause is
    the camera, so the rep says "camera moved" (first) and gives no hidden-knee advice."""
    cfg = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
    series = three_reps()
    t = series.t_s
    dx = np.where(t >= 5.0, 0.12 * np.sin(2 * np.pi * (t - 5.0) / 1.5), 0.0)
    seen = np.ones((t.size, 2), np.float32)
    seen[t >= 5.0] = 0.1  # the mask fails where the picture is shaken
    shaken = dataclasses.replace(series, camera_motion=steps_of(path_of(t, dx)), leg_seen=seen)
    result, _ = analyze_series(shaken, cfg)
    for r in result.reps[1:]:
        assert [i.code for i in r.issues] == [RepIssueCode.CAMERA_MOVED]
    hidden_only = dataclasses.replace(series, leg_seen=seen)
    result, _ = analyze_series(hidden_only, cfg)  # a still camera: the mask is believed
    assert RepIssueCode.KNEE_HIDDEN in [i.code for i in result.reps[-1].issues]


def test_the_standing_foot_is_not_read_while_someone_else_is_in_the_picture() -> None:
    """A plain background and another person counted: the foot the tracker reads may be the
    other person's, so the camera's motion stays unknown instead of "camera moved"."""
    cfg = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
    series = three_reps()
    t, xy = series.t_s, picture_shaken_from_5s(series)
    people = np.where(np.arange(t.size) % 30 == 0, 2, -1).astype(np.int16)
    crowded = dataclasses.replace(series, xy_px=xy, n_people=people)
    result, _ = analyze_series(crowded, cfg)
    assert all(RepIssueCode.CAMERA_MOVED not in [i.code for i in r.issues] for r in result.reps)
    assert all(r.camera_shift_pct is None for r in result.reps)


def test_a_named_leg_says_what_was_not_analysed_and_a_contradicted_choice() -> None:
    """--leg right on left-leg squats: the left leg was not analysed (said so, never "no squat
    found"), and every bend of the right knee being the free leg's says the choice looks wrong.
    (Here because ``three_reps`` is the synthetic left-leg clip these tests share.)"""
    cfg = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
    result, _ = analyze_series(three_reps(), cfg, leg="right")
    left, right = result.legs["left"], result.legs["right"]
    assert left.reasons[0].startswith("not analysed: the right leg was chosen")
    assert len(left.reasons) == 1
    assert right.valid_reps == 0
    assert "if you stood on the left leg" in right.reasons[0]
    auto, _ = analyze_series(three_reps(), cfg)
    assert not any("not analysed" in r or "may have stood" in r
                   for leg in auto.legs.values() for r in leg.reasons)
