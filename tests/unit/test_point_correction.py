"""A reviewer's point correction (valgus.core.correction, issue 15 item 2): the FPPA measured
again from corrected points with the one FPPA function, and the verdict taking it in place of
the tool's value (core.clearance.squat_reps / squat_results, core.scoring.leg_verdict). Pure
data, milliseconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from tests.unit.test_clearance import analysis, rep
from valgus.core.clearance import Override, squat_results
from valgus.core.correction import LegPoints, PointCorrection, in_force, remeasure
from valgus.core.kinematics import fppa_deg
from valgus.landmarks import NUM_LANDMARKS, ankle, hip, knee

# A left leg seen from the front (image x right, y down): the person's left hip is on the
# image right, the right (other) hip to its left, so medial is towards smaller x.
STRAIGHT = LegPoints(hip=(300.0, 200.0), knee=(300.0, 300.0), ankle=(300.0, 400.0),
                     other_hip=(200.0, 200.0))
WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def correction(index: int, fppa: float, tool: float, point: str = "knee", id_: int = 1,
               analysis_id: int = 1) -> PointCorrection:
    return PointCorrection(analysis_id, index, "left", 60 * index, point,  # type: ignore[arg-type]
                           (300.0, 300.0), (290.0, 300.0), fppa, tool, "dr.vega", WHEN,
                           "knee point sat on the patella", id=id_)


def test_remeasure_uses_the_one_fppa_function_and_its_sign() -> None:
    assert remeasure(STRAIGHT, {}) == pytest.approx(0.0)
    inward = remeasure(STRAIGHT, {"knee": (280.0, 300.0)})  # knee towards the other hip
    outward = remeasure(STRAIGHT, {"knee": (320.0, 300.0)})
    expected = 2 * math.degrees(math.atan2(20.0, 100.0))
    assert inward == pytest.approx(expected) and outward == pytest.approx(-expected)
    moved = STRAIGHT.moved({"knee": (280.0, 300.0)})
    same = fppa_deg(*(np.asarray(p) for p in (moved.hip, moved.knee, moved.ankle,
                                              moved.other_hip)))
    assert inward == pytest.approx(float(same))
    # Moving the hip or the ankle changes the angle too; two moves apply together.
    assert remeasure(STRAIGHT, {"hip": (320.0, 200.0)}) > 0
    both = remeasure(STRAIGHT, {"hip": (320.0, 200.0), "ankle": (320.0, 400.0)})
    assert both == pytest.approx(expected)


@pytest.mark.parametrize(("moves", "fragment"), [
    ({"elbow": (1.0, 2.0)}, "must be one of hip, knee, ankle"),
    ({"knee": (float("nan"), 2.0)}, "must be finite"),
    ({"knee": "here"}, "two numbers"),
    ({"knee": (300.0, 200.0)}, "must be apart"),  # knee on the hip: no thigh
])
def test_bad_corrections_are_refused_with_the_reason(moves: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        remeasure(STRAIGHT, moves)


def test_points_at_a_frame_of_the_landmarks() -> None:
    xy = np.full((3, NUM_LANDMARKS, 2), np.nan)
    for i, p in ((hip("left"), STRAIGHT.hip), (knee("left"), STRAIGHT.knee),
                 (ankle("left"), STRAIGHT.ankle), (hip("right"), STRAIGHT.other_hip)):
        xy[1, i] = p
    assert LegPoints.at(xy, 1, "left") == STRAIGHT
    with pytest.raises(ValueError, match="missing at frame 0"):
        LegPoints.at(xy, 0, "left")
    with pytest.raises(ValueError, match="frame 5 is not in the poses"):
        LegPoints.at(xy, 5, "left")


def test_text_names_both_values_who_when_and_why() -> None:
    assert correction(1, 11.24, 8.38).text() == (
        "FPPA 11.2 deg (tool 8.4 deg, knee point corrected by dr.vega on 2026-11-30: knee "
        "point sat on the patella)")


def test_the_newest_correction_of_a_rep_is_in_force_with_the_points_before_it() -> None:
    a, b = correction(1, 10.0, 5.0, id_=1), correction(1, 12.0, 5.0, "hip", id_=2)
    newest = in_force([b, a])[(1, 1)]
    assert newest.id == 2 and newest.earlier == (("knee", (300.0, 300.0), (290.0, 300.0)),)
    assert set(newest.moves()) == {"knee", "hip"}
    # A later correction of the same point replaces it.
    c = correction(1, 9.0, 5.0, "knee", id_=3)
    assert in_force([a, b, c])[(1, 1)].earlier == (("hip", (300.0, 300.0), (290.0, 300.0)),)


def test_corrected_fppa_bands_the_rep_and_replaces_the_tools_value_in_the_verdict() -> None:
    """Three fine left reps PASS; correcting one knee point to 20 deg makes that rep
    excessive (threshold 11.3 + 3.35) and the leg UNCERTAIN, with the reason saying so; the
    tool's value stays on the rep."""
    results = {1: analysis([rep(i, "left", fppa=5.0) for i in (1, 2, 3)])}
    before, _ = squat_results(results, required_reps=3)
    assert before["left"].verdict == "PASS"
    legs, reps = squat_results(results, required_reps=3, corrections=[correction(2, 20.0, 5.0)])
    fixed = reps[1]
    assert (fixed.band, fixed.fppa_deg, fixed.tool_fppa_deg, fixed.corrected) == (
        "excessive", 20.0, 5.0, True)
    left = legs["left"]
    assert left.verdict == "UNCERTAIN" and left.measured_reps == 3
    assert left.worst_fppa_deg == 20.0 and left.mean_fppa_deg == pytest.approx(10.0)
    assert ("1 rep's FPPA re-measured from points a reviewer corrected at the scored frame "
            "(in place of the tool's value)") in left.reasons
    # Thresholds unchanged: a correction to 9 deg is borderline, as a measured 9 deg would be.
    _, reps = squat_results(results, required_reps=3, corrections=[correction(2, 9.0, 5.0)])
    assert reps[1].band == "borderline"


def test_a_reviewers_band_wins_over_a_correction_which_is_still_shown() -> None:
    results = {1: analysis([rep(i, "left", fppa=5.0) for i in (1, 2, 3)])}
    legs, reps = squat_results(results, [Override(1, 2, "fine", "seen on video")], 3,
                               [correction(2, 20.0, 5.0)])
    assert reps[1].band == "fine" and reps[1].correction is not None
    assert legs["left"].verdict == "PASS" and legs["left"].measured_reps == 2


@pytest.mark.parametrize(("bad", "fragment"), [
    (correction(9, 10.0, 5.0), "has no rep 9"),
    (correction(2, 10.0, 5.0), "no measured FPPA"),
])
def test_corrections_of_missing_or_unmeasured_reps_are_refused(bad: PointCorrection,
                                                               fragment: str) -> None:
    results = {1: analysis([rep(1, "left"), rep(2, "left", "not_measurable", fppa=None)])}
    with pytest.raises(ValueError, match=fragment):
        squat_results(results, corrections=[bad])
