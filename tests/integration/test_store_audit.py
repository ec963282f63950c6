"""The append-only audit log (issue 14, point 8): logins, saves, reviews, value changes with
old and new, signatures, amendments, the policy, account changes and exports each leave a line
in the same unit of work; the database refuses to change or delete one. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.records_data import clip_variant, squats, write_clip
from valgus.cli.main import main
from valgus.core.clearance import ClearanceInputs, ClearancePolicy
from valgus.store.accounts import LoginError
from valgus.store.service import Records

PASSWORD = "correct horse battery"


def test_every_change_leaves_a_line_that_cannot_be_changed(
    tmp_path: Path, database_url: str | None
) -> None:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{data / 'valgus.db'}"
    with Records.open(data, url=url) as rec:
        rec.add_user("dr.vega", "clinician", PASSWORD)
        rec.authenticate("dr.vega", PASSWORD)
        with pytest.raises(LoginError):
            rec.authenticate("dr.vega", "wrong password here")
        rec.ensure_person("RUN-1")
        sid = rec.create_session("RUN-1", date(2025, 3, 4)).id
        clip = write_clip(tmp_path / "c.mp4")
        for k, leg in enumerate(("left", "right")):
            rec.save_analysis(sid, clip_variant(clip, k), squats(leg, 5.0, 3)[0],  # type: ignore[arg-type]
                              by="dr.vega")
        rec.save_review(sid, "dr.vega", "fine")
        rec.save_clearance(sid, ClearanceInputs(squat_pain_left=2), "dr.vega")
        rec.save_clearance(sid, ClearanceInputs(squat_pain_left=0), "dr.vega")
        rec.save_policy(ClearancePolicy(min_lsi_pct=85.0), "dr.vega")
        rec.sign_clearance(sid, "dr.vega")
        rec.amend(sid, "dr.vega", "stairs were asked", ClearanceInputs(
            squat_pain_left=0, stair_descent_pain=False))
        rec.note_view("dr.vega", "RUN-1")
        log = rec.audit_log()
    actions = [e.action for e in reversed(log)]
    assert actions == ["user_added", "login", "login_failed", "clip_saved", "clip_saved",
                       "review_saved", "values_saved", "values_saved", "policy_saved",
                       "signed", "amended", "view"], actions
    second_values = next(e for e in log if e.action == "values_saved")
    assert second_values.detail["old"]["squat_pain_left"] == 2
    assert second_values.detail["new"]["squat_pain_left"] == 0
    assert all(e.actor == "dr.vega" for e in log if e.action not in ("user_added",))
    signed = next(e for e in log if e.action == "signed")
    assert signed.subject == f"session {sid}" and signed.detail["decision"] == "NOT YET"
    engine = create_engine(url)
    try:
        for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_the_audit_command_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with Records.open(data) as rec:
        rec.ensure_person("RUN-2")
        sid = rec.create_session("RUN-2", date(2025, 3, 4)).id
        rec.save_analysis(sid, write_clip(tmp_path / "c.mp4"), squats("left", 5.0, 3)[0])
    out_file = tmp_path / "r.html"
    assert main(["report", str(sid), "--html", str(out_file), "--data-dir", str(data)]) == 0
    capsys.readouterr()
    assert main(["records", "audit", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "report_exported" in out and "format=html" in out and "clip_saved" in out
    assert main(["records", "audit", "--subject", "session 999", "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out == ""
