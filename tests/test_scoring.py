"""Bands, verdicts and symmetry (valgus.scoring), and the pure analysis pipeline
(valgus.analysis.analyze_series) end to end on a synthetic person with a known FPPA."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from tests.synthetic import (
    evenly_spaced_reps,
    fppa_from_geometry_deg,
    person_series,
    squat_curve,
    time_base,
    valgus_turn_for_fppa_deg,
)
from valgus.config import AnalysisConfig, ClearanceConfig, Sex, ValgusThresholds
from valgus.core.pose import PoseSeries
from valgus.core.reasons import RepIssue, RepIssueCode
from valgus.core.result import AnalysisResult
from valgus.core.scoring import (
    Band,
    LegVerdict,
    RepScore,
    SquatRep,
    band_for,
    leg_verdict,
    symmetry,
    symmetry_index_pct,
)
from valgus.errors import NoPersonError
from valgus.landmarks import Side
from valgus.pipeline import analyze_series

# --- bands and thresholds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fppa", "band"),
    [
        (-20.0, "fine"),
        (8.999, "fine"),
        (9.0, "borderline"),  # threshold - margin is borderline
        (12.0, "borderline"),
        (15.0, "borderline"),  # threshold + margin is still borderline
        (15.001, "excessive"),
        (40.0, "excessive"),
    ],
)
def test_band_boundaries(fppa: float, band: Band) -> None:
    assert band_for(fppa, threshold_deg=12.0, margin_deg=3.0) == band


def test_band_with_zero_margin_has_no_borderline_width() -> None:
    assert band_for(10.999, 11.0, 0.0) == "fine"
    assert band_for(11.0, 11.0, 0.0) == "borderline"
    assert band_for(11.001, 11.0, 0.0) == "excessive"


def test_sex_specific_default_thresholds() -> None:
    v = ValgusThresholds()
    assert v.threshold_deg("female") == 12.0
    assert v.threshold_deg("male") == 9.0
    assert v.threshold_deg("unspecified") == pytest.approx(11.3)
    assert v.male_deg < v.unspecified_deg < v.female_deg
    custom = dataclasses.replace(v, female_deg=14.0, male_deg=10.0, unspecified_deg=12.0)
    assert [custom.threshold_deg(s) for s in ("female", "male", "unspecified")] == [
        14.0,
        10.0,
        12.0,
    ]


@pytest.mark.parametrize(
    ("sex", "fppa", "band"),
    [
        ("male", 5.9, "fine"),
        ("male", 12.0, "borderline"),
        ("male", 12.5, "excessive"),
        ("female", 12.5, "borderline"),
        ("female", 15.5, "excessive"),
        ("unspecified", 14.0, "borderline"),
        ("unspecified", 14.5, "excessive"),
    ],
)
def test_same_fppa_banded_by_sex(sex: Sex, fppa: float, band: Band) -> None:
    v = ValgusThresholds()
    assert band_for(fppa, v.threshold_deg(sex), v.borderline_margin_deg) == band


# --- leg verdicts -----------------------------------------------------------------------------


def score(
    fppa: float | None,
    band: Band,
    leg: Side = "left",
    complete: bool = True,
    exercise: str = "single_leg",
    depth: float = 70.0,
) -> RepScore:
    """A RepScore with only the fields verdicts look at set meaningfully."""
    return RepScore(
        leg=leg,
        exercise=exercise,
        complete=complete,
        start_s=0.0,
        bottom_s=1.0,
        end_s=2.0,
        bottom_index=30,
        depth_deg=depth,
        fppa_bottom_deg=fppa,
        fppa_peak_deg=fppa,
        fppa_ref_deg=None,
        scored_at=None if band == "not_measurable" else "bottom",
        pelvic_drop_deg=0.0,
        trunk_lean_deg=0.0,
        knee_medial_of_foot=0.0,
        descent_s=1.0,
        ascent_s=1.0,
        band=band,
        issues=() if band != "not_measurable" else (RepIssue(RepIssueCode.NOT_FRONTAL),),
    )


CFG3 = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
THR = (CFG3.valgus.threshold_deg(CFG3.sex), CFG3.valgus.borderline_margin_deg)


def verdict_of(
    leg: Side, reps: list[RepScore], cfg: AnalysisConfig = CFG3, assessable: bool = True,
    why_not: str = "",
) -> LegVerdict:
    """``leg_verdict`` on one fresh clip's reps (no overrides)."""
    pool = [SquatRep.of(dataclasses.replace(r, clip_assessable=assessable), n)
            for n, r in enumerate(reps, start=1)]
    return leg_verdict(leg, pool, cfg.clearance.required_reps, THR,
                       () if assessable else (why_not,))


def test_pass_needs_required_valid_reps_without_excessive() -> None:
    reps = [score(5.0, "fine"), score(7.0, "fine"), score(10.0, "borderline")]
    v = verdict_of("left", reps, CFG3, True, "")
    assert v.verdict == "PASS"
    assert (v.reps_seen, v.valid_reps, v.excessive_reps, v.borderline_reps) == (3, 3, 0, 1)
    assert v.worst_fppa_deg == 10.0
    assert v.median_fppa_deg == 7.0
    assert v.median_depth_deg == 70.0
    assert "3 reps without excessive" in v.reasons[0]
    assert any("borderline" in r for r in v.reasons)


def test_too_few_valid_reps_is_not_yet() -> None:
    v = verdict_of("left", [score(5.0, "fine"), score(6.0, "fine")], CFG3, True, "")
    assert v.verdict == "NOT YET"
    assert any("only 2 of the 3" in r for r in v.reasons)


def test_any_excessive_rep_is_not_yet() -> None:
    reps = [score(5.0, "fine")] * 5 + [score(20.0, "excessive")]
    v = verdict_of("left", reps, CFG3, True, "")
    assert v.verdict == "NOT YET"
    assert v.excessive_reps == 1
    assert v.worst_fppa_deg == 20.0
    assert any("1 of 6 reps show excessive" in r for r in v.reasons)


def test_default_config_needs_twenty_reps() -> None:
    cfg = AnalysisConfig()
    assert verdict_of("left", [score(3.0, "fine")] * 19, cfg, True, "").verdict == "NOT YET"
    assert verdict_of("left", [score(3.0, "fine")] * 20, cfg, True, "").verdict == "PASS"


def test_no_valid_reps_cannot_assess() -> None:
    none_measured = [score(None, "not_measurable")] * 4
    v = verdict_of("left", none_measured, CFG3, True, "")
    assert v.verdict == "CANNOT ASSESS"
    assert (v.reps_seen, v.valid_reps) == (4, 0)
    assert v.worst_fppa_deg is None and v.median_fppa_deg is None
    assert "none of the 4" in v.reasons[0]
    empty = verdict_of("left", [], CFG3, True, "")
    assert empty.verdict == "CANNOT ASSESS"
    assert "no complete single-leg squat" in empty.reasons[0]


def test_not_assessable_cannot_assess_with_the_reason() -> None:
    reps = [score(3.0, "fine")] * 5
    v = verdict_of("left", reps, CFG3, False, "camera not in front of you")
    assert v.verdict == "CANNOT ASSESS"
    assert v.reasons == ("camera not in front of you",)


def test_verdict_counts_only_own_complete_single_leg_reps() -> None:
    reps = [
        score(3.0, "fine"),
        score(3.0, "fine"),
        score(3.0, "fine"),
        score(30.0, "excessive", leg="right"),
        score(30.0, "excessive", complete=False),
        score(30.0, "excessive", exercise="double_leg"),
    ]
    v = verdict_of("left", reps, CFG3, True, "")
    assert v.verdict == "PASS"
    assert v.reps_seen == 3
    assert v.excessive_reps == 0


def test_the_one_rule_with_overrides_re_bands_reps() -> None:
    """Reviewer overrides go through the same rule: an excessive rep re-banded fine passes,
    a not-measurable rep re-banded counts without adding an FPPA, and the words say so."""
    reps = [score(5.0, "fine"), score(7.0, "fine"), score(20.0, "excessive")]
    pool = [SquatRep.of(r, n) for n, r in enumerate(reps, start=1)]
    assert leg_verdict("left", pool, 3, THR).verdict == "NOT YET"
    pool[2] = dataclasses.replace(pool[2], band="fine", override_reason="marker glitch")
    v = leg_verdict("left", pool, 3, THR, audience="clinician")
    assert v.verdict == "PASS" and v.excessive_reps == 0 and v.overridden_reps == 1
    assert v.worst_fppa_deg == 20.0  # the measured value stays; only its band changed
    assert v.reasons == ("3 reps without excessive knee valgus", "1 rep re-banded by the reviewer")
    unmeasured = SquatRep(1, 4, score(None, "not_measurable"), "fine", "judged by eye")
    v = leg_verdict("left", [*pool, unmeasured], 3, THR)
    assert v.valid_reps == 4 and v.median_fppa_deg == 7.0


def test_the_one_rule_words_for_the_person_and_the_clinician() -> None:
    pool = [SquatRep.of(score(20.0, "excessive"), 1), SquatRep.of(score(12.0, "borderline"), 2)]
    person = leg_verdict("left", pool, 3, THR).reasons
    clinician = leg_verdict("left", pool, 3, THR, audience="clinician").reasons
    assert person[0] == (
        "1 of 2 reps show excessive knee valgus (FPPA above 11.3 deg by more than 3)"
    )
    assert clinician[0] == "1 of 2 reps with excessive knee valgus"
    assert person[1] == clinician[1] == "only 2 of the 3 reps the test asks for were measured"
    assert "1 rep borderline" in clinician[2] and "1 reps are borderline" in person[2]


def test_counts_towards_test_is_complete_single_leg_assessable_and_measurable() -> None:
    assert score(5.0, "fine").counts_towards_test
    assert not score(None, "not_measurable").counts_towards_test
    assert not score(5.0, "fine", complete=False).counts_towards_test
    assert not score(5.0, "fine", exercise="double_leg").counts_towards_test
    assert not dataclasses.replace(score(5.0, "fine"), clip_assessable=False).counts_towards_test


# --- symmetry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (80.0, 100.0, 80.0),
        (100.0, 80.0, 80.0),
        (50.0, 50.0, 100.0),
        (-5.0, 10.0, 50.0),
        (0.0, 10.0, 0.0),
        (0.0, 0.0, None),
        (float("nan"), 10.0, None),
        (10.0, float("inf"), None),
    ],
)
def test_symmetry_index_pct(left: float, right: float, expected: float | None) -> None:
    got = symmetry_index_pct(left, right)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_symmetry_between_legs() -> None:
    left = verdict_of("left", [score(4.0, "fine", depth=80.0)] * 10, CFG3, True, "")
    right = verdict_of(
        "right", [score(14.0, "borderline", leg="right", depth=60.0)] * 8, CFG3, True, ""
    )
    sym = symmetry(left, right, CFG3)
    assert sym is not None
    assert sym.reps_lsi_pct == pytest.approx(80.0)
    assert sym.depth_lsi_pct == pytest.approx(75.0)
    assert sym.fppa_difference_deg == pytest.approx(10.0)
    assert any("rep counts differ" in n for n in sym.notes)
    assert any("more than measurement noise" in n for n in sym.notes)
    lonely = verdict_of("right", [], CFG3, True, "")
    assert symmetry(left, lonely, CFG3) is None


# --- analyze_series end to end ----------------------------------------------------------------

FPS = 30.0
STANDING_DEG = 15.0
BOTTOM_DEG = 70.0


def shortening_flexion_deg(true_deg: float) -> float:
    """What valgus reads from the hip-ankle shortening against the standing length, which is
    already STANDING_DEG flexed: 2 acos(cos(theta / 2) / cos(standing / 2))."""
    half = math.radians(true_deg) / 2.0
    return math.degrees(2.0 * math.acos(math.cos(half) / math.cos(math.radians(STANDING_DEG) / 2)))


def true_flexion_for_reading_deg(read_deg: float) -> float:
    """The true flexion at which valgus reads ``read_deg`` (inverse of the above)."""
    c = math.cos(math.radians(read_deg) / 2.0) * math.cos(math.radians(STANDING_DEG) / 2.0)
    return math.degrees(2.0 * math.acos(c))
N_REPS = 3


def squat_person(
    fppa_bottom_deg: float, stance: Side = "left", yaw_deg: float = 0.0
) -> tuple[PoseSeries, list[float]]:
    """Three reps on ``stance`` whose FPPA at the bottom is ``fppa_bottom_deg``; also returns
    the true bottom times."""
    truth = evenly_spaced_reps(N_REPS, 1.0, 3.0, 1.0, BOTTOM_DEG)
    t = time_base(truth[-1].end_s + 1.0, FPS)
    turn = valgus_turn_for_fppa_deg(fppa_bottom_deg, BOTTOM_DEG)
    series = person_series(
        t, squat_curve(t, truth, STANDING_DEG), stance, valgus_turn_deg=turn, yaw_deg=yaw_deg
    )
    return series, [r.bottom_s for r in truth]


def check_reps(result: AnalysisResult, stance: Side, fppa: float, bottoms: list[float]) -> None:
    assert len(result.reps) == N_REPS
    for rep, bottom_s in zip(result.reps, bottoms, strict=True):
        assert rep.leg == stance
        assert rep.exercise == "single_leg"
        assert rep.complete
        assert rep.bottom_s == pytest.approx(bottom_s, abs=0.1)
        assert rep.depth_deg == pytest.approx(shortening_flexion_deg(BOTTOM_DEG), abs=1.0)
        assert rep.fppa_bottom_deg is not None
        assert rep.fppa_bottom_deg == pytest.approx(fppa, abs=1.5)
        assert rep.scored_at == "bottom"
        assert rep.scored_fppa_deg == rep.fppa_bottom_deg
        assert rep.issues == ()


def test_synthetic_geometry_has_the_intended_fppa() -> None:
    turn = valgus_turn_for_fppa_deg(15.0, 60.0)
    assert fppa_from_geometry_deg(60.0, turn) == pytest.approx(15.0)
    assert fppa_from_geometry_deg(0.0, turn) == pytest.approx(0.0)


@pytest.mark.parametrize("stance", ["left", "right"])
def test_analyze_series_excessive_valgus(stance: Side) -> None:
    series, bottoms = squat_person(18.0, stance)
    result, kin = analyze_series(series)
    assert result.view.frontal
    assert result.view.median_yaw_deg == pytest.approx(0.0, abs=1.0)
    assert result.exercise == "single_leg"
    check_reps(result, stance, 18.0, bottoms)
    assert {r.band for r in result.reps} == {"excessive"}
    for rep in result.reps:
        assert rep.knee_medial_of_foot is not None and rep.knee_medial_of_foot > 0
        assert rep.pelvic_drop_deg == pytest.approx(0.0, abs=0.5)
        assert rep.trunk_lean_deg == pytest.approx(0.0, abs=0.5)
    own = result.legs[stance]
    assert own.verdict == "NOT YET"
    assert own.excessive_reps == N_REPS
    free: Side = "right" if stance == "left" else "left"
    assert result.legs[free].verdict == "CANNOT ASSESS"
    # The kinematics behind it: the stance knee's 3D flexion follows the constructed curve, and
    # the flexion read from the hip-ankle shortening follows it relative to standing.
    flex_3d = kin.leg(stance).flexion_3d_deg
    assert np.nanmax(flex_3d) == pytest.approx(BOTTOM_DEG, abs=1.0)
    assert np.nanmin(flex_3d) == pytest.approx(STANDING_DEG, abs=1.0)
    flex = kin.leg(stance).flexion_deg
    assert np.nanmax(flex) == pytest.approx(shortening_flexion_deg(BOTTOM_DEG), abs=1.0)
    assert np.nanmin(flex) == pytest.approx(0.0, abs=1.0)


def test_analyze_series_fppa_at_60_deg_flexion() -> None:
    """The FPPA sampled where the descent reaches 60 deg matches the geometry at 60 deg."""
    series, _ = squat_person(18.0)
    result, _ = analyze_series(series)
    at_60 = true_flexion_for_reading_deg(60.0)  # the true flexion where valgus reads 60
    expected = fppa_from_geometry_deg(at_60, valgus_turn_for_fppa_deg(18.0, BOTTOM_DEG))
    assert expected < 18.0 - 2.0  # a real difference from the bottom value
    for rep in result.reps:
        assert rep.fppa_ref_deg == pytest.approx(expected, abs=1.5)


def test_analyze_series_deep_squat_scored_at_60_deg() -> None:
    """A 135 deg pistol squat foreshortens the thigh at the bottom: no FPPA there, the band
    comes from the FPPA at 60 deg of flexion."""
    truth = evenly_spaced_reps(N_REPS, 1.0, 4.0, 1.0, 135.0)
    t = time_base(truth[-1].end_s + 1.0, FPS)
    turn = valgus_turn_for_fppa_deg(4.0, 60.0)
    series = person_series(t, squat_curve(t, truth, STANDING_DEG), "left", turn)
    result, _ = analyze_series(series, CFG3)
    assert len(result.reps) == N_REPS
    for rep in result.reps:
        assert rep.fppa_bottom_deg is None
        assert rep.scored_at == "reference_flexion"
        assert rep.fppa_ref_deg == pytest.approx(4.0, abs=1.5)
        assert rep.band == "fine"
    assert result.legs["left"].verdict == "PASS"
    assert result.legs["left"].worst_fppa_deg == pytest.approx(4.0, abs=1.5)


def test_analyze_series_good_control_passes_when_enough_reps() -> None:
    series, bottoms = squat_person(4.0)
    result, _ = analyze_series(series, CFG3)
    check_reps(result, "left", 4.0, bottoms)
    assert {r.band for r in result.reps} == {"fine"}
    assert result.legs["left"].verdict == "PASS"
    default, _ = analyze_series(series)  # 3 of the default 20 reps
    assert default.legs["left"].verdict == "NOT YET"


def test_analyze_series_sex_changes_the_band() -> None:
    series, _ = squat_person(13.5)
    male, _ = analyze_series(series, dataclasses.replace(CFG3, sex="male"))
    female, _ = analyze_series(series, dataclasses.replace(CFG3, sex="female"))
    assert {r.band for r in male.reps} == {"excessive"}
    assert {r.band for r in female.reps} == {"borderline"}
    assert male.legs["left"].verdict == "NOT YET"
    assert female.legs["left"].verdict == "PASS"


def test_analyze_series_mirrored_clip_reads_the_same() -> None:
    series, _ = squat_person(18.0)
    plain, _ = analyze_series(series)
    mirrored, _ = analyze_series(series.mirrored())
    assert [r.leg for r in mirrored.reps] == [r.leg for r in plain.reps]
    for a, b in zip(plain.reps, mirrored.reps, strict=True):
        assert a.fppa_bottom_deg is not None and b.fppa_bottom_deg is not None
        assert b.fppa_bottom_deg == pytest.approx(a.fppa_bottom_deg, abs=1e-3)
        assert b.band == a.band


def test_analyze_series_side_view_withholds_fppa() -> None:
    series, _ = squat_person(18.0, yaw_deg=90.0)
    result, _ = analyze_series(series)
    assert not result.view.frontal
    assert result.view.median_yaw_deg == pytest.approx(90.0, abs=2.0)
    assert result.view.guidance and "Camera not in front" in result.view.guidance[0]
    assert len(result.reps) == N_REPS  # reps still counted...
    for rep in result.reps:  # ...but not scored
        assert rep.fppa_bottom_deg is None
        assert rep.fppa_peak_deg is None
        assert rep.fppa_ref_deg is None
        assert rep.scored_at is None
        assert rep.band == "not_measurable"
        assert rep.pelvic_drop_deg is None and rep.trunk_lean_deg is None
    for verdict in result.legs.values():
        assert verdict.verdict == "CANNOT ASSESS"
        assert verdict.reasons == ("camera not in front of you",)
    assert result.to_dict()["reps"][0]["fppa_bottom_deg"] is None


@pytest.mark.parametrize("yaw_deg", [10.0, -10.0])
def test_analyze_series_turned_camera_does_not_flip_the_band(yaw_deg: float) -> None:
    """A turn still called frontal must not change the band of a rep: the true 18 deg valgus is
    either scored as excessive or withheld as not measurable."""
    series, _ = squat_person(18.0, yaw_deg=yaw_deg)
    result, _ = analyze_series(series)
    for rep in result.reps:
        assert rep.band in ("excessive", "not_measurable")
        if rep.fppa_bottom_deg is not None:
            assert rep.fppa_bottom_deg == pytest.approx(18.0, abs=8.0)


def test_analyze_series_nobody_raises() -> None:
    series, _ = squat_person(5.0)
    xy = series.xy_px.copy()
    xy[: int(0.8 * len(series))] = np.nan
    sparse = dataclasses.replace(series, xy_px=xy, n_people=np.zeros(0, np.int16))
    with pytest.raises(NoPersonError):
        analyze_series(sparse)
