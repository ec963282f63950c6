"""``valgus sessions PERSON`` (issue 15 item 6): a person's sessions, their analyses and every
rep's number, leg, band in force and FPPA; the numbers it prints are the ones ``valgus review
--band ANALYSIS:REP=...`` takes. Read-only; an unknown person is a one-line error."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest

from tests.records_data import clip_variant, squats, write_clip
from valgus.cli.main import main
from valgus.config import AnalysisConfig
from valgus.core.clearance import Override
from valgus.core.reasons import RepIssueCode, cycle_label
from valgus.paths import DATA_DIR_ENV
from valgus.pipeline import analyze_series
from valgus.store.service import Records


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_sessions_lists_analyses_and_rep_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    clip = write_clip(tmp_path / "c.mp4", n_frames=40)
    with Records.open(data) as rec:
        rec.ensure_person("RUN-7", "male")
        first = rec.create_session("RUN-7", date(2025, 1, 2)).id
        left = rec.save_analysis(first, clip_variant(clip, 0), squats("left", 4.0, 3)[0],
                                 original_name="left.mp4")
        rec.save_review(first, "Dr Lee", "", [Override(left.id, 2, "excessive", "caves in")])
        rec.sign_clearance(first, "Dr Lee")
        second = rec.create_session("RUN-7", date(2025, 2, 2)).id
        right = rec.save_analysis(second, clip_variant(clip, 1), squats("right", 6.0, 3)[0],
                                  original_name="right.mp4")
        rec.create_session("RUN-7", date(2025, 3, 2))  # nothing in it yet
    code, out, err = _run(["sessions", "RUN-7"], capsys)
    assert code == 0, err
    assert out.startswith("RUN-7: 3 sessions.")
    assert "--band ANALYSIS:REP=BAND:REASON" in out
    assert f"session {first} on 2025-01-02 (signed, final), 1 clip" in out
    assert f"session {second} on 2025-02-02 (open), 1 clip" in out
    assert "no clip analysed yet" in out
    assert f"  analysis {left.id}: left.mp4 (stored " in out and "), 3 reps" in out
    rows = re.findall(r"^\s+(\d+)\s+(left|right)\s+(\S+)\s+(\S+)\s+(yes|no)(.*)$", out, re.M)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("1", "left", "fine"), ("2", "left", "excessive"), ("3", "left", "fine"),
        ("1", "right", "fine"), ("2", "right", "fine"), ("3", "right", "fine")]
    assert all(abs(float(r[3]) - 4.0) < 1.0 for r in rows[:3])
    assert "reviewer, was fine: caves in" in rows[1][5]
    # The sex the analysis was made with is not the person's: said so.
    assert "Analysed with the runner's own settings: FPPA threshold 11.3 deg (clinic: 9.0 deg)" \
        in out
    # The numbers shown are what `valgus review --band` takes.
    code, out, err = _run(["review", str(second), "--reviewer", "Dr Lee",
                           "--band", f"{right.id}:2=excessive:knee caves in"], capsys)
    assert code == 0, err
    code, out, _ = _run(["sessions", "RUN-7"], capsys)
    assert re.search(r"^\s+2\s+right\s+excessive\s+\S+\s+yes\s+reviewer, was fine: knee caves "
                     r"in$", out, re.M)


def test_sessions_of_an_unknown_person_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    with Records.open(data) as rec:
        rec.ensure_person("RUN-8", None)
    code, out, err = _run(["sessions", "RUN-8"], capsys)
    assert code == 0 and "RUN-8: 0 sessions." in out and "no sessions yet" in out
    code, _, err = _run(["sessions", "NOBODY"], capsys)
    assert code == 6
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "no person with code 'NOBODY'" in lines[0]


def test_sessions_shows_a_corrected_point_beside_the_rep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rep whose knee point a reviewer corrected: the FPPA in force and, in words, the
    tool's value, who corrected which point, when and why (issue 15 item 2)."""
    data = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    clip = write_clip(tmp_path / "c.mp4", n_frames=40)
    with Records.open(data) as rec:
        rec.ensure_person("RUN-8", "male")
        sid = rec.create_session("RUN-8", date(2025, 1, 2)).id
        a = rec.save_analysis(sid, clip, squats("left", 4.0, 3)[0], squats("left", 4.0, 3)[1],
                              original_name="left.mp4")
        knee = rec.scored_points(a, 2).points.knee
        fix = rec.save_correction(a.id, 2, "knee", (knee[0] + 10.0, knee[1]), "on the patella",
                                  "Dr Lee")
    code, out, err = _run(["sessions", "RUN-8"], capsys)
    assert code == 0, err
    row = next(line for line in out.splitlines() if re.match(r"^\s+2\s+left\s", line))
    assert f"{fix.fppa_deg:.1f}" in row and row.endswith(fix.text())


def test_a_withheld_rep_is_not_listed_as_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rep withheld as ``definition_unmapped`` (its build and depth outside the FPPA map's
    range) is a complete single-leg rep but does not count towards the test: the table says
    "no" and why, in the short label the leg's reasons use ("outside the FPPA map's range")."""
    data = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    _, series = squats("left", 4.0, 3)
    base = AnalysisConfig(sex="male")
    cfg = dataclasses.replace(base, valgus=dataclasses.replace(
        base.valgus, thigh_marker_ratio_range=(0.0, 0.01)))
    result, _ = analyze_series(series, cfg)
    assert all(r.test_rep and not r.counts_towards_test for r in result.reps)
    clip = write_clip(tmp_path / "c.mp4", n_frames=40)
    with Records.open(data) as rec:
        rec.ensure_person("RUN-9", "male")
        sid = rec.create_session("RUN-9", date(2025, 1, 2)).id
        rec.save_analysis(sid, clip, result, series, original_name="left.mp4")
        reasons = rec.session_summary(sid).squat["left"].reasons
    label = cycle_label(RepIssueCode.DEFINITION_UNMAPPED)
    assert label == "outside the FPPA map's range"
    assert any(f"not counted: 3 {label}" in why for why in reasons), reasons
    code, out, err = _run(["sessions", "RUN-9"], capsys)
    assert code == 0, err
    assert re.search(r"^\s+rep\s+leg\s+band\s+FPPA\s+counts\s+note$", out, re.M), out
    rows = re.findall(r"^\s+(\d)\s+left\s+not measurable\s+-\s+(yes|no)\s+(.*)$", out, re.M)
    assert rows == [(str(n), "no", label) for n in (1, 2, 3)], out
