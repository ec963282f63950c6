"""A person's FPPA across sessions (valgus.core.progress): a change is computed only between
sessions whose median is on the same FPPA definition; across definitions it is reported as not
comparable, with no number."""

from __future__ import annotations

from datetime import date

import pytest

from valgus.core.clearance import (
    MIXED,
    FppaChange,
    NotComparable,
    SessionFppa,
    leg_definitions,
    progress,
)
from valgus.core.scoring import SquatRep

KP, MARKER = "keypoint", "thigh_marker"


def _point(sid: int, month: int, left: float | None, definition: str | None,
           right: float | None = None) -> SessionFppa:
    return SessionFppa(sid, date(2025, month, 1), {"left": left, "right": right},
                       {"left": 20 if left is not None else 0, "right": 0},
                       {"left": definition, "right": definition})


def test_sessions_on_one_definition_compare_as_before() -> None:
    rows = progress([_point(1, 1, 16.0, KP), _point(2, 2, 10.0, KP), _point(3, 3, 6.0, KP)], 7.5)
    prev, first = rows[2].since_previous["left"], rows[2].since_first["left"]
    assert isinstance(prev, FppaChange) and isinstance(first, FppaChange)
    assert prev.since_session_id == 2 and prev.delta_deg == pytest.approx(-4.0) and not prev.real
    assert first.since_session_id == 1 and first.delta_deg == pytest.approx(-10.0) and first.real
    assert not prev.skipped
    assert prev.describe(7.5) == "-4.0 deg (within the 7.5 deg noise)"
    assert first.describe(7.5) == "-10.0 deg (less valgus, a real change)"
    # The same without definitions (older callers): unrecorded compares with unrecorded.
    plain = [SessionFppa(p.session_id, p.session_date, p.median_fppa_deg, p.valid_reps)
             for p in (_point(1, 1, 16.0, None), _point(2, 2, 6.0, None))]
    change = progress(plain, 7.5)[1].since_previous["left"]
    assert isinstance(change, FppaChange) and change.delta_deg == pytest.approx(-10.0)


def test_a_definition_switch_is_not_comparable_and_has_no_number() -> None:
    # Identical pixels scored twice: keypoint 8 deg, mapped to skin markers 18 deg.
    rows = progress([_point(1, 1, 8.0, KP), _point(2, 2, 18.0, MARKER)], 7.5)
    for change in (rows[1].since_previous["left"], rows[1].since_first["left"]):
        assert isinstance(change, NotComparable) and not change.real
        assert change.since_session_id == 1
        assert (change.since_definition, change.definition) == (KP, MARKER)
        text = change.describe(7.5)
        assert text == ("not comparable: the 2025-01-01 FPPA is from pose keypoints, this one is "
                        "mapped to skin markers; to compare, re-score whichever of the two "
                        "sessions is not on the clinic's settings (a signed session stays as it "
                        "was signed)")
        assert "deg" not in text and "10.0" not in text and "real change" not in text
    # The right leg was never measured: nothing to say.
    assert rows[1].since_previous["right"] is None and rows[1].since_first["right"] is None


def test_a_session_back_on_the_first_definition_compares_with_the_last_one_on_it() -> None:
    rows = progress([_point(1, 1, 16.0, KP), _point(2, 2, 30.0, MARKER),
                     _point(3, 3, 12.0, KP), _point(4, 4, 5.0, KP)], 7.5)
    third = rows[2].since_previous["left"]
    assert isinstance(third, FppaChange) and third.since_session_id == 1
    assert third.delta_deg == pytest.approx(-4.0) and third.skipped
    assert "against 2025-01-01, the last session from pose keypoints" in third.describe(7.5)
    fourth_prev, fourth_first = rows[3].since_previous["left"], rows[3].since_first["left"]
    assert isinstance(fourth_prev, FppaChange) and fourth_prev.since_session_id == 3
    assert not fourth_prev.skipped and fourth_prev.delta_deg == pytest.approx(-7.0)
    assert isinstance(fourth_first, FppaChange) and fourth_first.since_session_id == 1
    assert fourth_first.delta_deg == pytest.approx(-11.0) and fourth_first.real
    # The marker session found no earlier one on its definition.
    assert isinstance(rows[1].since_previous["left"], NotComparable)


def test_a_mixed_session_is_comparable_with_nothing() -> None:
    rows = progress([_point(1, 1, 10.0, KP), _point(2, 2, 10.0, MIXED),
                     _point(3, 3, 10.0, MIXED)], 7.5)
    second, third = rows[1].since_previous["left"], rows[2].since_previous["left"]
    assert isinstance(second, NotComparable) and isinstance(third, NotComparable)
    assert third.since_session_id == 2
    assert "from mixed FPPA definitions" in third.describe(7.5)
    assert "re-score this session" in third.describe(7.5)


def test_leg_definitions_follow_the_counted_reps_analyses() -> None:
    from tests.records_data import squats
    from valgus.config import AnalysisConfig

    result, _ = squats("left", 8.0, 3)
    reps = [SquatRep.of(score, k + 1, analysis_id=aid)
            for aid in (1, 2) for k, score in enumerate(result.reps)]
    marker = AnalysisConfig(sex="female")
    keypoint = AnalysisConfig()
    assert leg_definitions(reps, {1: keypoint, 2: keypoint}) == {"left": KP, "right": None}
    assert leg_definitions(reps, {1: marker, 2: marker})["left"] == MARKER
    assert leg_definitions(reps, {1: keypoint, 2: marker})["left"] == MIXED


def test_definition_runs_split_a_legs_points_where_the_definition_changes() -> None:
    from valgus.core.progress import definition_runs

    pts = [_point(1, 1, 5.0, KP), _point(2, 2, None, KP), _point(3, 3, 6.0, KP),
           _point(4, 4, 14.0, MARKER), _point(5, 5, 7.0, KP)]
    rows = progress(pts, 7.5)
    runs = definition_runs(rows, "left")
    assert [[r.session.session_id for r in run] for run in runs] == [[1, 3], [4], [5]]
    assert definition_runs(rows, "right") == []
