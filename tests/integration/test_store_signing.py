"""Tamper-evident signatures (issue 14, point 3): the signed snapshot, the hash chain, the
report and summary of a signed session read from the snapshot (never recomputed), ``valgus
records verify``, amendments that keep the original, and the upgrade of records signed before
snapshots existed. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.records_data import squats, write_clip
from valgus.cli.main import main
from valgus.core.clearance import ClearanceInputs, Override
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.migrate import alembic_config
from valgus.store.service import Records
from valgus.store.verify import clear_file_cache

GOOD = ClearanceInputs(
    squat_pain_left=0, squat_pain_right=0, stair_descent_pain=False, run_minutes=25,
    run_pain_during=0, run_pain_next_morning=0, strength_left=95.0, strength_right=100.0,
    strength_unit="Nm", involved_side="left",
)


@pytest.fixture
def setup(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Records, str, Path]]:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{data / 'valgus.db'}"
    with Records.open(data, url=url) as rec:
        yield rec, url, data
    clear_file_cache()


def _visit(rec: Records, tmp: Path, code: str = "RUN-1") -> int:
    rec.ensure_person(code, "female")
    sid = rec.create_session(code, date(2025, 3, 4)).id
    for k, leg in enumerate(("left", "right")):
        result, series = squats(leg, 5.0)  # type: ignore[arg-type]
        clip = write_clip(tmp / f"{code}-{leg}.mp4", seed=k)
        rec.save_analysis(sid, clip, result, series, original_name=f"{leg}.mp4")
    return sid


def _sql(url: str, statement: str, **params: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        engine.dispose()


def _verify(data: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    import os

    os.environ["VALGUS_DATABASE_URL"] = url
    try:
        code = main(["records", "verify", "--data-dir", str(data)])
    finally:
        del os.environ["VALGUS_DATABASE_URL"]
    out, err = capsys.readouterr()
    return code, out + err


def test_a_signed_session_verifies_and_reads_from_its_snapshot(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    rec.save_clearance(sid, GOOD, "Dr Vega")
    signed = rec.sign_clearance(sid, "Dr Vega")
    assert signed.decision.status == "CLEARED" and signed.signature is not None
    assert signed.signature.kind == "signature" and signed.signature.intact
    code, out = _verify(data, url, capsys)
    assert code == 0 and "1 signature of" in out and signed.signature.chain_sha256 in out, out
    # A change of the scoring code cannot change a signed record: nothing is recomputed.
    import valgus.store.summary as summary_module

    def broken(*_: object, **__: object) -> None:
        raise AssertionError("a signed session was recomputed")

    monkeypatch.setattr(summary_module, "squat_results", broken)
    monkeypatch.setattr(summary_module, "decide", broken)
    again = rec.session_summary(sid)
    assert again.decision == signed.decision and again.reps == signed.reps
    assert again.squat == signed.squat


def test_tampering_is_detected_and_the_signed_decision_stands(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    signed = rec.sign_clearance(sid, "Dr Vega")  # NOT YET: no clearance values entered
    assert signed.decision.status == "NOT YET"
    analyses = rec.list_analyses(sid)
    first = analyses[0]
    # 1. The stored analysis JSON is edited.
    stored = first.result.to_dict()
    stored["reps"][0]["fppa_deg"] = 40.0
    _sql(url, "UPDATE analyses SET result = :r WHERE id = :i", r=json.dumps(stored), i=first.id)
    # 2. A newer review is inserted.
    _sql(url, "INSERT INTO reviews (session_id, reviewer, notes, created_at) "
         "VALUES (:s, 'Mallory', 'all fine', '2030-01-01 00:00:00')", s=sid)
    # 3. One UPDATE un-signs the record and makes it CLEARED with good values.
    _sql(url, "UPDATE clearance_records SET signed_by = NULL, signed_at = NULL, decision = NULL "
         "WHERE session_id = :s", s=sid)
    # 4. The clip file is replaced.
    first.clip.path.write_bytes(b"another video")
    summary = rec.session_summary(sid)
    assert summary.final and summary.decision.status == "NOT YET"
    assert summary.reps == signed.reps and summary.signature is not None
    problems = " | ".join(summary.signature.problems)
    for expected in (f"analysis {first.id} was changed", "was added after signing",
                     "no longer shows the signature", "replaced or changed"):
        assert expected in problems, problems
    with pytest.raises(RecordError, match="final"):
        rec.save_review(sid, "Mallory", "sneaky")
    code, out = _verify(data, url, capsys)
    assert code == 1 and f"analysis {first.id} was changed after signing" in out, out


def test_the_signature_table_is_append_only_and_a_forged_snapshot_breaks_the_chain(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    rec.sign_clearance(sid, "Dr Vega")
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(url, "UPDATE signatures SET signed_by = 'Mallory'")
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(url, "DELETE FROM signatures")
    # Someone who can drop the trigger still cannot change a snapshot unseen.
    drop = ("DROP TRIGGER signatures_no_update" if "sqlite" in url
            else "DROP TRIGGER signatures_no_change ON signatures")
    _sql(url, drop)
    _sql(url, "UPDATE signatures SET snapshot = replace(snapshot, 'NOT YET', 'CLEARED')")
    code, out = _verify(data, url, capsys)
    assert code == 1 and "snapshot was changed after signing" in out, out


def test_an_amendment_keeps_the_original_and_is_sealed(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    original = rec.sign_clearance(sid, "Dr Vega")
    assert original.decision.status == "NOT YET"
    with pytest.raises(RecordError, match="reason"):
        rec.amend(sid, "Dr Vega", " ", inputs=GOOD)
    first = rec.list_analyses(sid)[0]
    amended = rec.amend(sid, "Dr Vega", "values from the paper form were not entered",
                        inputs=GOOD,
                        review=("checked", [Override(first.id, 2, "fine", "glitch")]))
    assert amended.decision.status == "CLEARED" and amended.signature is not None
    assert amended.signature.kind == "amendment" and amended.signature.amendments == 1
    assert amended.signature.reason == "values from the paper form were not entered"
    assert amended.signature.intact, amended.signature.problems
    assert amended.clearance is not None and amended.clearance.inputs == GOOD
    code, out = _verify(data, url, capsys)
    assert code == 0 and "2 signatures" in out, out
    engine = create_engine(url)
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind, snapshot FROM signatures ORDER BY seq")).all()
    engine.dispose()
    assert [k for k, _ in kinds] == ["signature", "amendment"]
    assert json.loads(kinds[0][1])["decision"]["status"] == "NOT YET"  # the original stays


def test_records_signed_before_snapshots_are_sealed_at_the_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str | None
) -> None:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{data / 'valgus.db'}"
    with Records.open(data, url=url) as rec:
        sid = _visit(rec, tmp_path)
        rec.sign_clearance(sid, "Dr Vega")
    engine = create_engine(url)
    with engine.begin() as conn:  # back to the schema before signatures; the record stays
        command.downgrade(alembic_config(conn), "0002")
    engine.dispose()
    Database.upgrade(data, url)
    with Records.open(data, url=url) as rec:
        summary = rec.session_summary(sid)
        assert summary.signature is not None and summary.signature.kind == "legacy"
        assert summary.decision.status == "NOT YET" and summary.signature.intact
        assert rec.verify().ok


def test_the_report_of_a_tampered_signed_session_shows_the_signed_decision_and_the_mismatch(
    setup: tuple[Records, str, Path], tmp_path: Path,
) -> None:
    from valgus.report import build_session_report

    rec, url, _ = setup
    sid = _visit(rec, tmp_path)
    rec.sign_clearance(sid, "Dr Vega")  # NOT YET: no values entered
    clean = build_session_report(rec, sid, frames=False).html
    assert "DOES NOT MATCH" not in clean and "Dr Vega" in clean
    # Make the live records say CLEARED: good values, the clearance record's decision.
    _sql(url, "UPDATE clearance_records SET squat_pain_left = 0, squat_pain_right = 0, "
         "stair_descent_pain = :f, run_minutes = 25, run_pain_during = 0, "
         "run_pain_next_morning = 0, strength_left = 95, strength_right = 100, "
         "involved_side = 'left', decision = 'CLEARED' WHERE session_id = :s", f=False, s=sid)
    html = build_session_report(rec, sid, frames=False).html
    status = html.split('<div class="status">', 1)[1].split("</div>", 1)[0]
    assert status == "NOT YET"
    assert "SIGNED RECORD DOES NOT MATCH ITS SIGNATURE" in html and "#c62828" in html
    assert "the clearance values were changed after signing" in html
    assert "the clearance record says CLEARED, the signed decision is NOT YET" in html


def test_amend_and_verify_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with Records.open(data) as rec:
        sid = _visit(rec, tmp_path)
    base = ["clearance", str(sid), "--by", "Dr Vega", "--data-dir", str(data)]
    assert main([*base, "--sign"]) == 0
    assert "NOT YET" in capsys.readouterr().out
    assert main([*base, "--squat-pain-left", "1"]) == 7  # signed: final
    assert "final" in capsys.readouterr().err
    values = ["--squat-pain-left", "0", "--squat-pain-right", "0", "--stair-pain", "no",
              "--run-minutes", "25", "--run-pain-during", "0", "--run-pain-next-morning", "0",
              "--strength-left", "95", "--strength-right", "100", "--involved", "left"]
    assert main([*base, *values, "--amend", "paper form entered late"]) == 0
    out = capsys.readouterr().out
    assert "clearance: CLEARED" in out and "amended 1 time(s)" in out
    assert "paper form entered late" in out and "MISMATCH" not in out
    assert main(["records", "verify", "--data-dir", str(data)]) == 0
    assert "2 signatures of 1 session checked: all intact" in capsys.readouterr().out


def test_a_deleted_signature_is_found_through_the_audit_log(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone with write access drops the delete trigger, deletes a session's signature row and
    un-signs its clearance record: the append-only audit log still holds the signing line
    (``seq`` and ``chain``), so ``valgus records verify`` fails."""
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    rec.sign_clearance(sid, "Dr Vega")
    other = _visit(rec, tmp_path, "RUN-2")
    rec.sign_clearance(other, "Dr Vega")
    code, out = _verify(data, url, capsys)
    assert code == 0 and "2 signatures of 2 sessions checked: all intact" in out, out
    drop = ("DROP TRIGGER signatures_no_delete" if "sqlite" in url
            else "DROP TRIGGER signatures_no_change ON signatures")
    _sql(url, drop)
    # The newest signature: the chain itself has no gap left to show.
    _sql(url, "DELETE FROM signatures WHERE session_id = :s", s=other)
    _sql(url, "UPDATE clearance_records SET signed_by = NULL, signed_at = NULL, decision = NULL "
         "WHERE session_id = :s", s=other)
    code, out = _verify(data, url, capsys)
    assert code == 1, out
    assert (f"MISMATCH session {other}: signature 2 recorded in the audit log" in out
            and "is missing after the chain head: a signature was deleted" in out), out
    # Then the only one left: the signatures table is empty.
    _sql(url, "DELETE FROM signatures")
    _sql(url, "UPDATE clearance_records SET signed_by = NULL, signed_at = NULL, decision = NULL")
    code, out = _verify(data, url, capsys)
    assert code == 1, out
    assert f"MISMATCH session {sid}: signature 1 recorded in the audit log" in out, out
    assert f"MISMATCH session {other}: signature 2 recorded in the audit log" in out, out
    assert "0 signatures of 0 sessions checked: 2 mismatches" in out, out
