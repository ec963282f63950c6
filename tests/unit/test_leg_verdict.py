"""Bands, the measurement error they come from, the per-leg verdict on the set of reps
(valgus.core.scoring.leg_verdict, valgus.core.uncertainty) and left-right symmetry. Pure data,
milliseconds.

Numbers used below, with the defaults (sex not given): threshold T = 11.3 deg; measurement error
e = sqrt(3.0^2 + 1.5^2) = 3.354 deg (Munro 2012's SEM, valgus's own error); a rep is fine below
7.946, excessive above 14.654; a leg's set has uncertainty u = sqrt(e^2 + spread^2 / n).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from valgus.config import AnalysisConfig, ClearanceConfig, Sex, ValgusThresholds
from valgus.core.reasons import RepIssue, RepIssueCode
from valgus.core.scoring import (
    Band,
    LegRule,
    LegVerdict,
    RepScore,
    SquatRep,
    band_for,
    leg_verdict,
    symmetry,
    symmetry_index_pct,
)
from valgus.core.uncertainty import set_estimate
from valgus.landmarks import Side

E = math.hypot(3.0, 1.5)  # 3.354 deg

# --- the error and the bands -------------------------------------------------------------------


def test_borderline_margin_is_derived_from_the_two_named_errors() -> None:
    v = ValgusThresholds()
    assert (v.method_sem_deg, v.tool_error_sd_deg) == (3.0, 1.5)
    assert v.margin_deg("unspecified") == pytest.approx(3.354, abs=1e-3)
    # One place: changing the tool's measured error moves the band, nothing else to edit.
    assert dataclasses.replace(v, tool_error_sd_deg=0.0).margin_deg("unspecified") == 3.0
    assert dataclasses.replace(v, tool_error_sd_deg=4.0).margin_deg("unspecified") == 5.0
    # Each threshold is applied in the definition it was set on: the women's and men's (skin
    # markers, Herrington & Munro 2010) to the mapped FPPA, whose band allows for the map's own
    # held-out error; Park 2024's (pose keypoints) to the keypoint FPPA.
    assert [v.definition(s) for s in ("female", "male", "unspecified")] == [
        "thigh_marker", "thigh_marker", "keypoint"]
    assert v.margin_deg("female") == pytest.approx(math.hypot(3.0, v.thigh_marker_error_sd_deg))
    assert v.margin_deg("female") > v.margin_deg("unspecified")
    assert dataclasses.replace(v, thigh_marker_error_sd_deg=4.0).margin_deg("male") == 5.0
    keypoint = dataclasses.replace(v, female_definition="keypoint")
    assert keypoint.margin_deg("female") == v.margin_deg("unspecified")


@pytest.mark.parametrize(
    ("fppa", "band"),
    [(-20.0, "fine"), (8.999, "fine"), (9.0, "borderline"), (12.0, "borderline"),
     (15.0, "borderline"), (15.001, "excessive"), (40.0, "excessive")],
)
def test_band_boundaries(fppa: float, band: Band) -> None:
    assert band_for(fppa, threshold_deg=12.0, margin_deg=3.0) == band


def test_band_with_zero_margin_has_no_borderline_width() -> None:
    assert band_for(10.999, 11.0, 0.0) == "fine"
    assert band_for(11.0, 11.0, 0.0) == "borderline"
    assert band_for(11.001, 11.0, 0.0) == "excessive"


def test_sex_specific_default_thresholds() -> None:
    v = ValgusThresholds()
    assert [v.threshold_deg(s) for s in ("female", "male", "unspecified")] == [12.0, 9.0, 11.3]
    custom = dataclasses.replace(v, female_deg=14.0, male_deg=10.0, unspecified_deg=12.0)
    assert [custom.threshold_deg(s) for s in ("female", "male", "unspecified")] == [
        14.0, 10.0, 12.0]


@pytest.mark.parametrize(
    ("sex", "fppa", "band"),
    # Women and men: on the mapped thigh-marker FPPA, +/- 4.04 deg; no sex: keypoint, 3.35 deg.
    [("male", 4.9, "fine"), ("male", 5.0, "borderline"), ("male", 13.0, "borderline"),
     ("male", 13.1, "excessive"), ("female", 7.9, "fine"), ("female", 8.0, "borderline"),
     ("female", 16.0, "borderline"), ("female", 16.1, "excessive"), ("unspecified", 7.9, "fine"),
     ("unspecified", 8.0, "borderline"), ("unspecified", 14.6, "borderline"),
     ("unspecified", 14.7, "excessive")],
)
def test_same_fppa_banded_by_sex(sex: Sex, fppa: float, band: Band) -> None:
    v = ValgusThresholds()
    assert band_for(fppa, v.threshold_deg(sex), v.margin_deg(sex)) == band


def test_set_estimate_combines_the_error_with_the_reps_spread() -> None:
    est = set_estimate([10.0, 12.0, 14.0], E)
    assert est is not None
    assert (est.mean_deg, est.spread_deg, est.reps) == (12.0, 2.0, 3)
    assert est.uncertainty_deg == pytest.approx(math.sqrt(E**2 + 4.0 / 3.0))
    # More reps shrink only the spread's share: the per-person error stays.
    many = set_estimate([10.0, 14.0] * 50, E)
    assert many is not None and E < many.uncertainty_deg < E + 0.03
    assert set_estimate([], E) is None
    one = set_estimate([5.0], E)
    assert one is not None and one.uncertainty_deg == E
    assert [est.position(t) for t in (8.0, 8.6, 12.0, 15.4, 16.0)] == [
        "above", "within", "within", "within", "below"]


# --- leg verdicts -----------------------------------------------------------------------------


def score(
    fppa: float | None, band: Band | None = None, leg: Side = "left", complete: bool = True,
    exercise: str = "single_leg", depth: float = 70.0,
) -> RepScore:
    """A RepScore with only the fields verdicts look at set meaningfully; the band follows the
    FPPA under the default rule unless given."""
    if band is None:
        v = ValgusThresholds()
        band = "not_measurable" if fppa is None else band_for(
            fppa, v.unspecified_deg, v.margin_deg("unspecified"))
    return RepScore(
        leg=leg, exercise=exercise, complete=complete, start_s=0.0, bottom_s=1.0, end_s=2.0,
        bottom_index=30, depth_deg=depth, fppa_bottom_deg=fppa, fppa_peak_deg=fppa,
        fppa_ref_deg=None, scored_at=None if band == "not_measurable" else "bottom",
        pelvic_drop_deg=0.0, trunk_lean_deg=0.0, knee_medial_of_foot=0.0, descent_s=1.0,
        ascent_s=1.0, band=band,
        issues=() if band != "not_measurable" else (RepIssue(RepIssueCode.NOT_FRONTAL),),
    )


CFG3 = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
RULE3 = LegRule.of(CFG3)


def verdict_of(
    leg: Side, reps: list[RepScore], cfg: AnalysisConfig = CFG3, assessable: bool = True,
    why_not: str = "",
) -> LegVerdict:
    """``leg_verdict`` on one fresh clip's reps (no overrides)."""
    pool = [SquatRep.of(dataclasses.replace(r, clip_assessable=assessable), n)
            for n, r in enumerate(reps, start=1)]
    return leg_verdict(leg, pool, LegRule.of(cfg), () if assessable else (why_not,))


def test_rule_of_a_config_states_its_edges() -> None:
    assert (RULE3.threshold_deg, RULE3.required_reps) == (11.3, 3)
    assert RULE3.error_sd_deg == pytest.approx(E)
    assert (RULE3.fine_below_deg, RULE3.excessive_above_deg) == pytest.approx((7.946, 14.654),
                                                                               abs=1e-3)
    assert LegRule.of(dataclasses.replace(CFG3, sex="male")).threshold_deg == 9.0
    assert LegRule.of(CFG3, required_reps=20).required_reps == 20


def test_clearly_fine_set_passes_with_its_numbers() -> None:
    v = verdict_of("left", [score(5.0), score(7.0), score(6.0)])
    assert v.verdict == "PASS" and v.position == "below"
    assert (v.reps_seen, v.valid_reps, v.measured_reps, v.excessive_reps) == (3, 3, 3, 0)
    assert (v.mean_fppa_deg, v.fppa_spread_deg) == (6.0, 1.0)
    assert v.uncertainty_deg == pytest.approx(math.sqrt(E**2 + 1 / 3))
    assert (v.worst_fppa_deg, v.median_fppa_deg, v.median_depth_deg) == (7.0, 6.0, 70.0)
    assert v.threshold_deg == 11.3
    assert v.reasons[0].startswith("mean FPPA 6.0 +/- 3.4 deg over 3 reps")
    assert "clearly below the 11.3 deg threshold (9.4 deg at most)" in v.reasons[0]


def test_reps_deeper_than_the_protocol_are_named_with_the_depth() -> None:
    """Reps past ``ClearanceConfig.protocol_depth_deg`` (100 deg) are named in the leg's reasons
    with the deepest one and still count. On the unmapped keypoint FPPA (no sex), which reads
    low on such reps, a set that would pass is UNCERTAIN instead; mapped to skin markers it
    passes, with the reason. Reps at the protocol's depth add nothing."""
    assert RULE3.protocol_depth_deg == 100.0 and RULE3.definition == "keypoint"
    reps = [score(5.0, depth=85.0), score(6.0, depth=104.6), score(7.0, depth=107.2)]
    deep = verdict_of("left", reps)
    assert deep.verdict == "UNCERTAIN" and deep.valid_reps == 3
    assert deep.reasons[-1].startswith(
        "2 of the 3 counted reps went deeper than 100 deg of knee flexion (to 107 deg), where "
        "this pose-keypoint FPPA reads lower")
    assert deep.reasons[-1].endswith("or give the sex to use the skin-marker thresholds")
    mapped = dataclasses.replace(RULE3, definition="thigh_marker")
    pool = [SquatRep.of(r, n) for n, r in enumerate(reps, start=1)]
    on_markers = leg_verdict("left", pool, mapped)
    assert on_markers.verdict == "PASS"
    assert on_markers.reasons[-1].endswith("reads less well: squat toward 60 deg")
    # Deep reps of a clearly excessive set keep NOT YET (a low reading makes it no better).
    high = verdict_of("left", [score(20.0, depth=110.0)] * 3)
    assert high.verdict == "NOT YET"
    every = verdict_of("left", [score(6.0, depth=d) for d in (101.0, 102.0, 103.0)])
    assert every.reasons[-1].startswith("all 3 counted reps went deeper")
    at_depth = verdict_of("left", [score(6.0, depth=d) for d in (60.0, 85.0, 100.0)])
    assert at_depth.verdict == "PASS"
    assert not any("deeper" in r for r in at_depth.reasons)
    # A deep rep a reviewer banded counts, so it is named; it does not block a pass (the band is
    # the reviewer's), and a withheld deep rep that does not count is not among them.
    reviewed = [SquatRep.of(score(5.0, depth=80.0), 1), SquatRep.of(score(6.0, depth=85.0), 2),
                SquatRep(0, 3, score(None, depth=111.0), "fine", "looked fine")]
    by_reviewer = leg_verdict("left", reviewed, RULE3)
    assert by_reviewer.verdict == "PASS" and by_reviewer.valid_reps == 3
    assert by_reviewer.reasons[-1] == (
        "1 of the 3 counted reps went deeper than 100 deg of knee flexion (to 111 deg), deeper "
        "than the squats the thresholds were set on (toward 45-60 deg); a reviewer banded them: "
        "squat toward 60 deg")
    withheld = verdict_of("left", [score(6.0, depth=80.0), score(None, depth=120.0)])
    assert not any("deeper" in r for r in withheld.reasons)
    # A rule without the limit (as stored before it) never says it.
    old = dataclasses.replace(RULE3, protocol_depth_deg=math.inf)
    pool = [SquatRep.of(score(6.0, depth=110.0), 1)]
    assert not any("deeper" in r for r in leg_verdict("left", pool, old).reasons)


def test_demo_right_knee_reads_uncertain_not_pass() -> None:
    """Issue 12: the demo's 18 deg knee reads 13.2-13.5 deg, borderline reps, and was PASS."""
    v = verdict_of("right", [score(13.55, leg="right"), score(13.22, leg="right"),
                             score(13.40, leg="right")])
    assert {score(f).band for f in (13.55, 13.22, 13.40)} == {"borderline"}
    assert v.verdict == "UNCERTAIN" and v.position == "within"
    assert v.reasons[0] == "uncertain: re-test, or have a clinician review the reps"
    assert "mean FPPA 13.4 +/- 3.4 deg over 3 reps" in v.reasons[1]
    assert "10.0 to 16.7 deg takes in the 11.3 deg threshold" in v.reasons[1]


def test_one_rep_crossing_an_edge_does_not_flip_the_leg() -> None:
    """The same rep read 13.2 / 13.9 / 14.8 on different runs: its band flips at 14.65, the
    leg's verdict does not."""
    for reading in (13.2, 13.9, 14.8):
        reps = [score(reading, leg="right"), score(13.4, leg="right"), score(13.5, leg="right")]
        assert verdict_of("right", reps).verdict == "UNCERTAIN"
    assert score(13.9).band == "borderline" and score(14.8).band == "excessive"


@pytest.mark.parametrize(("fppa", "verdict"), [
    (2.0, "PASS"), (7.5, "PASS"), (8.5, "UNCERTAIN"), (11.3, "UNCERTAIN"), (14.0, "UNCERTAIN"),
    (15.0, "NOT YET"), (22.0, "NOT YET"),
])
def test_verdict_against_the_leg_mean_both_sides_bounded(fppa: float, verdict: str) -> None:
    """Reps spread +/-1 deg around ``fppa``: PASS only below T - u (7.9), NOT YET only above
    T + u (14.7). A reading shifted by 10 deg either way changes every verdict here."""
    def read(shift_deg: float) -> str:
        return verdict_of("left", [score(f + shift_deg) for f in (fppa - 1, fppa, fppa + 1)]
                          ).verdict

    assert read(0.0) == verdict
    if verdict != "NOT YET":
        assert read(10.0) != verdict
    if verdict != "PASS":
        assert read(-10.0) != verdict


def test_clearly_excessive_set_is_not_yet_with_the_numbers() -> None:
    v = verdict_of("left", [score(20.0), score(19.0), score(21.0), score(12.0)])
    assert v.verdict == "NOT YET" and v.position == "above" and v.excessive_reps == 3
    assert v.reasons[0].startswith("excessive knee valgus: mean FPPA 18.0 +/- 3.9 deg")
    assert "clearly above the 11.3 deg threshold" in v.reasons[0]
    assert v.reasons[1] == "3 of 4 reps excessive (FPPA above 14.7 deg)"


def test_a_wide_spread_widens_the_uncertainty() -> None:
    """20, 19, 21 and 5 deg: mean 16.2 but spread 7.5 deg, so u = 5.05 and the set cannot be
    called clearly excessive (11.2 to 21.3 deg takes in 11.3)."""
    v = verdict_of("left", [score(20.0), score(19.0), score(21.0), score(5.0)])
    assert v.verdict == "UNCERTAIN" and v.position == "within"
    assert v.uncertainty_deg == pytest.approx(5.05, abs=0.01)


def test_an_excessive_rep_in_a_fine_set_is_uncertain_not_pass() -> None:
    v = verdict_of("left", [score(2.0)] * 5 + [score(20.0)])
    assert v.position == "below" and v.excessive_reps == 1
    assert v.verdict == "UNCERTAIN"
    assert "1 of 6 reps read excessive (FPPA above 14.7 deg) while the set's mean does not" in (
        v.reasons)


def test_too_few_valid_reps_is_not_yet_even_when_fine_or_uncertain() -> None:
    fine = verdict_of("left", [score(5.0), score(6.0)])
    assert fine.verdict == "NOT YET" and fine.position == "below"
    # First, before the set's numbers: too few reps must not read as a valgus finding.
    assert fine.reasons[0] == "only 2 of the 3 reps the test asks for were measured"
    near = verdict_of("left", [score(11.0), score(12.0)])
    assert near.verdict == "NOT YET" and near.position == "within"
    cfg = AnalysisConfig()
    assert verdict_of("left", [score(3.0)] * 19, cfg).verdict == "NOT YET"
    assert verdict_of("left", [score(3.0)] * 20, cfg).verdict == "PASS"


def test_no_valid_reps_cannot_assess() -> None:
    v = verdict_of("left", [score(None)] * 4)
    assert v.verdict == "CANNOT ASSESS" and (v.reps_seen, v.valid_reps) == (4, 0)
    assert v.worst_fppa_deg is None and v.mean_fppa_deg is None and v.position is None
    assert v.reasons == (
        "none of the 4 complete reps on this leg could be measured",
        "4 knee-bend cycles found on this leg, 0 counted; not counted: 4 camera not in front",
    )
    empty = verdict_of("left", [])
    assert empty.verdict == "CANNOT ASSESS"
    assert "no complete single-leg squat" in empty.reasons[0]
    side = verdict_of("left", [score(3.0)] * 5, CFG3, False, "camera not in front of you")
    # The clip's problem says why; no tally of cycles kept out by it alone.
    assert side.verdict == "CANNOT ASSESS" and side.reasons == ("camera not in front of you",)
    assert side.cycles_found == 5 and side.not_counted == (("clip_not_assessable", 5),)


def test_verdict_counts_only_own_complete_single_leg_reps() -> None:
    reps = [score(3.0), score(3.0), score(3.0), score(30.0, leg="right"),
            score(30.0, complete=False), score(30.0, exercise="double_leg")]
    v = verdict_of("left", reps)
    assert v.verdict == "PASS" and v.reps_seen == 3 and v.excessive_reps == 0


def test_overrides_go_through_the_same_rule() -> None:
    """A rep re-banded by a reviewer leaves the measured set (its number was overruled) and
    counts by the reviewer's band: excessive -> NOT YET; borderline and fine leave the call to
    the set; a rep judged by eye counts without adding an FPPA."""
    pool = [SquatRep.of(r, n) for n, r in enumerate([score(5.0), score(7.0), score(20.0)], 1)]
    assert leg_verdict("left", pool, RULE3).verdict == "UNCERTAIN"  # 20 reads excessive
    glitch = [*pool[:2], dataclasses.replace(pool[2], band="fine", override_reason="glitch")]
    v = leg_verdict("left", glitch, RULE3, audience="clinician")
    assert v.verdict == "PASS" and v.overridden_reps == 1 and v.measured_reps == 2
    assert (v.mean_fppa_deg, v.worst_fppa_deg) == (6.0, 7.0)
    assert v.reasons[-1] == "1 rep re-banded by the reviewer"
    seen = [*pool[:2], dataclasses.replace(pool[0], index=3, band="excessive",
                                           override_reason="caves in on video")]
    v = leg_verdict("left", seen, RULE3, audience="clinician")
    assert v.verdict == "NOT YET"
    assert "1 of 3 reps banded excessive knee valgus by the reviewer" in v.reasons
    # A reviewer's borderline rep leaves the call to the measured set; with none left, unsure.
    unsure = [*pool[:2], dataclasses.replace(pool[2], band="borderline", override_reason="?")]
    assert leg_verdict("left", unsure, RULE3).verdict == "PASS"
    only_unsure = [dataclasses.replace(r, band="borderline", override_reason="?") for r in pool]
    v = leg_verdict("left", only_unsure, RULE3)
    assert v.verdict == "UNCERTAIN" and v.measured_reps == 0
    assert ("3 reps banded borderline by the reviewer, and no measured FPPA left to decide on"
            in v.reasons)
    by_eye = SquatRep(1, 4, score(None), "fine", "judged by eye")
    v = leg_verdict("left", [*glitch, by_eye], RULE3)
    assert v.valid_reps == 4 and v.measured_reps == 2 and v.verdict == "PASS"
    all_by_eye = [dataclasses.replace(by_eye, index=i) for i in range(1, 4)]
    assert leg_verdict("left", all_by_eye, RULE3).verdict == "PASS"
    assert leg_verdict("left", all_by_eye, RULE3).reasons[0] == (
        "3 reps, all judged by the reviewer, none excessive")


def test_words_for_the_person_and_the_clinician() -> None:
    pool = [SquatRep.of(score(12.0), n) for n in (1, 2, 3)]
    person = leg_verdict("left", pool, RULE3).reasons
    clinician = leg_verdict("left", pool, RULE3, audience="clinician").reasons
    assert person[0] == "uncertain: re-test, or have a clinician review the reps"
    assert clinician[0] == "uncertain: re-test or review the reps"
    assert person[1:] == clinician[1:]


def test_counts_towards_test_is_complete_single_leg_assessable_and_measurable() -> None:
    assert score(5.0).counts_towards_test
    assert not score(None).counts_towards_test
    assert not score(5.0, complete=False).counts_towards_test
    assert not score(5.0, exercise="double_leg").counts_towards_test
    assert not dataclasses.replace(score(5.0), clip_assessable=False).counts_towards_test


# --- symmetry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [(80.0, 100.0, 80.0), (100.0, 80.0, 80.0), (50.0, 50.0, 100.0), (-5.0, 10.0, 50.0),
     (0.0, 10.0, 0.0), (0.0, 0.0, None), (float("nan"), 10.0, None), (10.0, float("inf"), None)],
)
def test_symmetry_index_pct(left: float, right: float, expected: float | None) -> None:
    got = symmetry_index_pct(left, right)
    assert got is None if expected is None else got == pytest.approx(expected)


def test_symmetry_between_legs() -> None:
    left = verdict_of("left", [score(4.0, depth=80.0)] * 10)
    right = verdict_of("right", [score(14.0, leg="right", depth=60.0)] * 8)
    sym = symmetry(left, right, CFG3)
    assert sym is not None
    assert sym.reps_lsi_pct == pytest.approx(80.0)
    assert sym.depth_lsi_pct == pytest.approx(75.0)
    assert sym.fppa_difference_deg == pytest.approx(10.0)
    assert any("rep counts differ" in n for n in sym.notes)
    assert any("more than measurement noise" in n for n in sym.notes)
    assert symmetry(left, verdict_of("right", []), CFG3) is None
