"""Point corrections in the records (issue 15 item 2): a reviewer moves a rep's knee point at
its scored frame; the FPPA is measured again from the stored poses' points and stored beside
the tool's value with who, when and why; the session's verdict uses it; undo is audited and
keeps the row; the signature seals it (``valgus records verify`` finds a tampered one);
erasing the person removes it; only a reviewer may, and only on an open session. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.integration.test_store_signing import GOOD, _sql, _verify
from tests.records_data import squats, write_clip
from valgus.core.correction import remeasure
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.service import Records
from valgus.store.verify import clear_file_cache


@pytest.fixture
def setup(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Records, str, Path]]:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{data / 'valgus.db'}"
    with Records.open(data, url=url) as rec:
        rec.add_user("dr.vega", "clinician", "correct horse battery")
        rec.add_user("sam", "assistant", "correct horse battery")
        yield rec, url, data
    clear_file_cache()


def _visit(rec: Records, tmp: Path, code: str = "RUN-1", n_reps: int = 3) -> int:
    rec.ensure_person(code, "female")
    sid = rec.create_session(code, date(2025, 3, 4)).id
    for k, leg in enumerate(("left", "right")):
        result, series = squats(leg, 5.0, n_reps)  # type: ignore[arg-type]
        clip = write_clip(tmp / f"{code}-{leg}.mp4", seed=k)
        rec.save_analysis(sid, clip, result, series, original_name=f"{leg}.mp4", by="sam")
    return sid


def _inward(rec: Records, sid: int, px: float = 25.0) -> tuple[int, tuple[float, float]]:
    """The left clip's analysis id and its rep 2's knee point moved ``px`` towards the
    other hip (more valgus)."""
    a = rec.list_analyses(sid)[0]
    scored = rec.scored_points(a, 2)
    knee, hip, other = scored.points.knee, scored.points.hip, scored.points.other_hip
    step = px if other[0] > hip[0] else -px
    return a.id, (knee[0] + step, knee[1])


def test_a_correction_is_remeasured_stored_audited_and_used_by_the_verdict(
    setup: tuple[Records, str, Path], tmp_path: Path,
) -> None:
    rec, _, _ = setup
    sid = _visit(rec, tmp_path)
    aid, xy = _inward(rec, sid)
    a = rec.get_analysis(aid)
    before = rec.session_summary(sid)
    tool = before.reps[1].fppa_deg
    assert tool is not None and before.reps[1].band == "fine"
    scored = rec.scored_points(a, 2)
    # The tool's own points give the tool's value at the scored frame.
    assert remeasure(scored.points, {}) == pytest.approx(tool, abs=5e-4)  # stored to 0.001
    fix = rec.save_correction(aid, 2, "knee", xy, "  knee point on the patella  ", "dr.vega")
    assert fix.fppa_deg == pytest.approx(remeasure(scored.points, {"knee": xy}))
    assert fix.fppa_deg > tool + 10 and fix.tool_fppa_deg == pytest.approx(tool)
    assert (fix.by, fix.reason, fix.point, fix.frame_index) == (
        "dr.vega", "knee point on the patella", "knee", scored.frame)
    assert fix.original_xy == pytest.approx(scored.points.knee)
    assert abs((fix.at - datetime.now(UTC)).total_seconds()) < 60
    after = rec.session_summary(sid)
    rep = after.reps[1]
    assert rep.correction == fix and rep.fppa_deg == fix.fppa_deg and rep.band == "excessive"
    assert rep.tool_fppa_deg == pytest.approx(tool)
    left = after.squat["left"]
    assert left.worst_fppa_deg == pytest.approx(fix.fppa_deg)
    assert any("re-measured from points a reviewer corrected" in r for r in left.reasons)
    line = rec.audit_log(subject=f"session {sid}")[0]
    assert (line.action, line.actor, line.detail["reason"]) == (
        "point_corrected", "dr.vega", "knee point on the patella")
    # Undo: audited, the row stays (shown as undone), the tool's value is back.
    undone = rec.undo_correction(fix.id, "wrong rep", "dr.vega")
    assert undone.id == fix.id
    assert rec.session_summary(sid).reps[1].correction is None
    assert rec.session_summary(sid).reps[1].fppa_deg == pytest.approx(tool)
    (kept, how), = rec.correction_history(aid)
    assert kept == fix and how is not None and how.startswith("undone by dr.vega on ")
    assert how.endswith(": wrong rep")
    assert rec.audit_log(subject=f"session {sid}")[0].action == "correction_undone"
    with pytest.raises(RecordError, match="undone already"):
        rec.undo_correction(fix.id, "again", "dr.vega")


def test_two_points_combine_and_only_the_newest_can_be_undone(
    setup: tuple[Records, str, Path], tmp_path: Path,
) -> None:
    rec, _, _ = setup
    sid = _visit(rec, tmp_path)
    aid, xy = _inward(rec, sid)
    scored = rec.scored_points(rec.get_analysis(aid), 2)
    knee = rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega")
    ankle_xy = (scored.points.ankle[0] + 5.0, scored.points.ankle[1] - 3.0)
    ankle = rec.save_correction(aid, 2, "ankle", ankle_xy, "ankle at the malleoli", "dr.vega")
    assert ankle.fppa_deg == pytest.approx(
        remeasure(scored.points, {"knee": xy, "ankle": ankle_xy}))
    assert rec.session_summary(sid).reps[1].correction == ankle
    with pytest.raises(RecordError, match=f"correction {ankle.id} of the same rep is newer"):
        rec.undo_correction(knee.id, "x", "dr.vega")
    rec.undo_correction(ankle.id, "ankle was right", "dr.vega")
    assert rec.session_summary(sid).reps[1].correction == knee


@pytest.mark.parametrize(("args", "error", "fragment"), [
    ((2, "elbow", (1.0, 1.0), "r", "dr.vega"), RecordError, "must be one of hip, knee, ankle"),
    ((2, "knee", (1.0, 1.0), "   ", "dr.vega"), RecordError, "give the reason"),
    ((2, "knee", (-5.0, 1.0), "r", "dr.vega"), RecordError, "outside the picture"),
    ((2, "knee", (float("nan"), 1.0), "r", "dr.vega"), RecordError, "outside the picture"),
    ((9, "knee", (1.0, 1.0), "r", "dr.vega"), RecordError, "has no rep 9"),
    ((2, "knee", (1.0, 1.0), "r", "sam"), RecordError, "only a clinician may"),
    ((2, "knee", (1.0, 1.0), "r", "mallory"), RecordError, "not an active valgus account"),
])
def test_bad_corrections_are_refused_with_a_clear_error(
    setup: tuple[Records, str, Path], tmp_path: Path, args: tuple, error: type,
    fragment: str,
) -> None:
    rec, _, _ = setup
    sid = _visit(rec, tmp_path)
    aid = rec.list_analyses(sid)[0].id
    with pytest.raises(error, match=fragment):
        rec.save_correction(aid, *args)
    with pytest.raises(NotFoundError):
        rec.save_correction(9999, 2, "knee", (1.0, 1.0), "r", "dr.vega")


def test_signature_seals_corrections_verify_catches_tampering_and_signed_is_final(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    aid, xy = _inward(rec, sid)
    fix = rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega")
    rec.save_clearance(sid, GOOD, "sam")
    signed = rec.sign_clearance(sid, "dr.vega")
    assert signed.reps[1].correction == fix and signed.signature is not None
    snap = json.loads(_snapshot(url, sid))
    assert [c["id"] for c in snap["corrections"]] == [fix.id]
    assert rec.session_summary(sid).reps[1].correction == fix  # read back from the snapshot
    code, out = _verify(data, url, capsys)
    assert code == 0, out
    # After sign-off, as for a review: refused.
    with pytest.raises(RecordError, match="signed"):
        rec.save_correction(aid, 2, "hip", xy, "another", "dr.vega")
    with pytest.raises(RecordError, match="signed"):
        rec.undo_correction(fix.id, "undo", "dr.vega")
    # Tampering with the stored corrected FPPA is found.
    _sql(url, "UPDATE point_corrections SET fppa_deg = 1.0 WHERE id = :i", i=fix.id)
    clear_file_cache()
    code, out = _verify(data, url, capsys)
    assert code == 1 and f"point correction {fix.id} was changed after signing" in out, out
    _sql(url, "DELETE FROM point_corrections")
    code, out = _verify(data, url, capsys)
    assert code == 1 and f"point correction {fix.id} was removed after signing" in out, out


def _snapshot(url: str, sid: int) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT snapshot FROM signatures WHERE session_id = :s "
                                         "ORDER BY seq DESC"), {"s": sid}).scalar())
    finally:
        engine.dispose()


def test_erasing_the_person_removes_their_corrections(
    setup: tuple[Records, str, Path], tmp_path: Path,
) -> None:
    rec, url, _ = setup
    sid = _visit(rec, tmp_path)
    other = _visit(rec, tmp_path, "RUN-2")
    aid, xy = _inward(rec, sid)
    rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega")
    aid2, xy2 = _inward(rec, other)
    kept = rec.save_correction(aid2, 2, "knee", xy2, "knee on the patella", "dr.vega")
    rec.sign_clearance(sid, "dr.vega")  # the snapshot keeps what it sealed
    rec.erase_person("RUN-1", "dr.vega", "asked to be forgotten")
    assert rec.verify().ok, rec.verify().problems  # an erased session is not "tampered"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM point_corrections"))]
    finally:
        engine.dispose()
    assert ids == [kept.id]
    line = rec.audit_log()[0]
    assert line.action == "person_erased" and line.detail["point_corrections"] == 1


def test_the_database_refuses_a_correction_without_a_reason(
    setup: tuple[Records, str, Path], tmp_path: Path,
) -> None:
    from sqlalchemy.exc import IntegrityError

    rec, url, _ = setup
    sid = _visit(rec, tmp_path)
    aid, xy = _inward(rec, sid)
    fix = rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega")
    for statement in ("UPDATE point_corrections SET reason = ''",
                      "UPDATE point_corrections SET point = 'elbow'",
                      "UPDATE point_corrections SET undone_by = 'x'"):  # undone without a time
        with pytest.raises(IntegrityError):
            _sql(url, statement + " WHERE id = :i", i=fix.id)


def test_after_sign_off_a_correction_is_an_amendment_by_a_clinician(
    setup: tuple[Records, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """As for a review after sign-off (``amend``): refused directly, allowed as an amendment
    with its reason, sealed as such (the original signature kept), verify still clean; the
    signed session then shows the corrected rep."""
    rec, url, data = setup
    sid = _visit(rec, tmp_path)
    aid, xy = _inward(rec, sid)
    first = rec.sign_clearance(sid, "dr.vega")
    assert first.reps[1].correction is None
    with pytest.raises(RecordError, match="give the reason for the amendment"):
        rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega", "  ")
    with pytest.raises(RecordError, match="only a clinician may"):
        rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "sam", "seen later")
    fix = rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega",
                              "knee point checked after sign-off")
    after = rec.session_summary(sid)
    assert after.signature is not None and after.signature.kind == "amendment"
    assert after.signature.amendments == 1 and after.signature.intact
    assert after.signature.reason == "knee point checked after sign-off"
    assert after.reps[1].correction == fix and after.reps[1].band == "excessive"
    assert [e.action for e in rec.audit_log(subject=f"session {sid}")[:2]] == [
        "amended", "point_corrected"]
    code, out = _verify(data, url, capsys)
    assert code == 0, out
    undone = rec.undo_correction(fix.id, "it was right", "dr.vega", "undo after a second look")
    assert undone.id == fix.id
    again = rec.session_summary(sid)
    assert again.reps[1].correction is None and again.signature is not None
    assert again.signature.amendments == 2
    # An amendment of an open session is refused: change it directly.
    other = _visit(rec, tmp_path, "RUN-2")
    aid2, xy2 = _inward(rec, other)
    with pytest.raises(RecordError, match="is not signed: change it directly"):
        rec.save_correction(aid2, 2, "knee", xy2, "r", "dr.vega", "an amendment")


def test_a_correction_changes_what_a_confirmed_sign_off_would_seal(
    setup: tuple[Records, str, Path], tmp_path: Path,
) -> None:
    """The sign-off confirmation's digest covers the corrections: one saved after the
    confirmation was shown stops the signature."""
    from valgus.store.signing import signing_digest

    rec, _, _ = setup
    sid = _visit(rec, tmp_path)
    shown = signing_digest(rec.session_summary(sid))
    aid, xy = _inward(rec, sid)
    rec.save_correction(aid, 2, "knee", xy, "knee on the patella", "dr.vega")
    assert signing_digest(rec.session_summary(sid)) != shown
    with pytest.raises(RecordError, match="changed since the confirmation was shown"):
        rec.sign_clearance(sid, "dr.vega", expected=shown)
