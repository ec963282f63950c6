"""A person's history across sessions scored on different FPPA definitions: the same poses stored
twice, once scored on the pose keypoints and once mapped to skin markers, are never subtracted;
the records' history, ``valgus history``, the report and the Review page's chart say "not
comparable" instead of a change. Runs on SQLite and on PostgreSQL (``database_url``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.records_data import squats, write_clip
from valgus.cli.records import format_history
from valgus.config import AnalysisConfig
from valgus.config.clinical import ValgusThresholds
from valgus.core.clearance import FppaChange, NotComparable
from valgus.pipeline import analyze_series
from valgus.store.service import Records

CODE = "RUN-DEF"
# Analysed for a woman: the clinic's default maps to skin markers, the old setting did not.
MAPPED = AnalysisConfig(sex="female")
KEYPOINT = AnalysisConfig(sex="female", valgus=ValgusThresholds(female_definition="keypoint"))


@pytest.fixture
def records(tmp_path: Path, database_url: str | None) -> Iterator[Records]:
    with Records.open(tmp_path / "data", url=database_url) as rec:
        yield rec


def _session(records: Records, clip: Path, day: date, cfg: AnalysisConfig) -> int:
    """A session with the same 20 left-leg squats scored under ``cfg``."""
    _, series = squats("left", 10.0)
    result, _ = analyze_series(series, cfg)
    visit = records.create_session(CODE, day)
    records.save_analysis(visit.id, clip, result, series, original_name="left.mp4")
    return visit.id


def test_history_across_definitions_is_not_comparable(records: Records, tmp_path: Path) -> None:
    records.ensure_person(CODE, "female")
    clip = write_clip(tmp_path / "left.mp4")
    first = _session(records, clip, date(2025, 1, 6), KEYPOINT)
    second = _session(records, clip, date(2025, 2, 3), MAPPED)
    third = _session(records, clip, date(2025, 3, 3), MAPPED)
    history = records.history(CODE)
    rows = {r.session.session_id: r for r in history.rows}
    assert rows[first].session.definition["left"] == "keypoint"
    assert rows[second].session.definition["left"] == "thigh_marker"
    keypoint_fppa = rows[first].session.median_fppa_deg["left"]
    mapped_fppa = rows[second].session.median_fppa_deg["left"]
    assert keypoint_fppa is not None and mapped_fppa is not None
    assert mapped_fppa != pytest.approx(keypoint_fppa, abs=0.5)  # the same pixels read apart

    change = rows[second].since_previous["left"]
    assert isinstance(change, NotComparable) and change.since_session_id == first
    assert isinstance(rows[second].since_first["left"], NotComparable)
    # Same definition again: a number, against the mapped session only.
    again = rows[third].since_previous["left"]
    assert isinstance(again, FppaChange) and again.since_session_id == second
    assert again.delta_deg == pytest.approx(0.0, abs=1e-6) and not again.real
    since_first = rows[third].since_first["left"]
    assert isinstance(since_first, FppaChange) and since_first.since_session_id == second

    text = format_history(records, CODE)
    assert "not comparable, see below" in text
    assert (f"session {second} left: not comparable: the 2025-01-06 FPPA is from pose "
            "keypoints, this one is mapped to skin markers; to compare, re-score whichever") in text
    assert "a real change" not in text
    second_line = next(line for line in text.splitlines() if line.startswith(f"{second:>7}"))
    assert f"{mapped_fppa - keypoint_fppa:+.1f} deg" not in second_line


def test_report_and_chart_show_not_comparable(records: Records, tmp_path: Path) -> None:
    from valgus.app.review_clearance import history_figure
    from valgus.report import build_session_report

    records.ensure_person(CODE, "female")
    clip = write_clip(tmp_path / "left.mp4")
    _session(records, clip, date(2025, 1, 6), KEYPOINT)
    second = _session(records, clip, date(2025, 2, 3), MAPPED)
    report = build_session_report(records, second, frames=False)
    assert "not comparable: the 2025-01-06 FPPA is from pose keypoints" in report.html
    assert "a real change)" not in report.html

    fig = history_figure(records.history(CODE))
    left = next(t for t in fig.data if t.name == "left leg")
    assert list(left.y)[1] is None  # no line from the keypoint to the mapped point
    marked = [t for t in fig.data if "not comparable" in (t.name or "")]
    assert len(marked) == 1 and list(marked[0].x) == ["2025-02-03"]
    assert not [t for t in fig.data if "real change" in (t.name or "")]
