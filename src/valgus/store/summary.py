"""Read models: a session as the review page and the report show it (its analyses, the review in
force, the squat verdict per leg after review and the clearance decision), and a person's history
of sessions with the FPPA changes that exceed the smallest detectable change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from valgus.core.clearance import (
    SIDES,
    ClearanceInputs,
    ClearancePolicy,
    SessionFppa,
    decide,
    leg_definitions,
    progress,
    squat_results,
)
from valgus.store import correction_rows as point_corrections
from valgus.store.db import Database
from valgus.store.info import (
    History,
    SessionSummary,
    analysis_info,
    clearance_info,
    override,
    person_info,
    review_info,
)
from valgus.store.models import ClearanceRecord, Review
from valgus.store.people import find_person
from valgus.store.sessions import (
    current_analyses,
    find_session,
    person_sessions,
    session_info,
    stored_results,
)
from valgus.store.snapshot import (
    from_legacy,
    from_snapshot,
    is_legacy,
    session_signatures,
    signature_info,
)
from valgus.store.verify import session_problems


def latest_review(s: Session, session_id: int) -> Review | None:
    """The review in force (the newest), if any."""
    return s.scalar(select(Review).where(Review.session_id == session_id)
                    .order_by(Review.id.desc()).limit(1))


def clearance_record(s: Session, session_id: int) -> ClearanceRecord | None:
    """The session's clearance record (entered values, signature), if any."""
    return s.scalar(select(ClearanceRecord).where(ClearanceRecord.session_id == session_id))


def summarize(
    s: Session, db: Database, session_id: int, policy: ClearancePolicy, signed: bool = True
) -> SessionSummary:
    """The session's ``SessionSummary`` within the unit of work ``s``. ``policy`` decides unless
    the session was signed: then everything comes from its newest signed snapshot, with what
    no longer matches it in ``signature.problems`` (``signed`` False: the live records only,
    which signing itself needs).

    Raises:
        NotFoundError: no such session.
    """
    row = find_session(s, session_id)
    signatures = session_signatures(s, session_id) if signed else []
    info = (signature_info(signatures[-1], len(signatures), session_problems(s, db, signatures))
            if signatures else None)
    if signatures and info and not is_legacy(signatures[-1]):
        # Shown as signed (the newest snapshot), never recomputed.
        return from_snapshot(db, session_info(s, row), person_info(row.person), signatures[-1],
                             info, erased=row.person.erased_at is not None)
    analyses = current_analyses(s, session_id)
    review = latest_review(s, session_id)
    current = stored_results(analyses)
    overrides = [override(o) for o in (review.overrides if review else [])
                 if o.analysis_id in current]
    record = clearance_record(s, session_id)
    clearance = clearance_info(record) if record else None
    if clearance and clearance.signed_detail and "policy" in clearance.signed_detail:
        policy = ClearancePolicy(**clearance.signed_detail["policy"])
    fixed = point_corrections.active(point_corrections.rows_of(s, current))
    squat, reps = squat_results(current, overrides, policy.required_reps, fixed)
    decision = decide(squat, clearance.inputs if clearance else ClearanceInputs(), policy)
    live = SessionSummary(
        session=session_info(s, row),
        person=person_info(row.person),
        analyses=tuple(analysis_info(db, a) for a in analyses),
        review=review_info(review) if review else None,
        reps=tuple(reps),
        squat=squat,
        clearance=clearance,
        decision=decision,
        policy=policy,
    )
    return from_legacy(live, signatures[-1], info) if signatures and info else live


def session_summary(db: Database, session_id: int, policy: ClearancePolicy) -> SessionSummary:
    """The session with its analyses, review, squat result per leg and clearance decision
    (see ``SessionSummary``). Raises ``NotFoundError`` for an unknown session."""
    with db.read() as s:
        return summarize(s, db, session_id, policy)


def history(db: Database, person_code: str, policy: ClearancePolicy) -> History:
    """The person's sessions in date order: squat FPPA per leg (median of valid reps after
    review, degrees) and its change from the previous and the first session on the same FPPA
    definition, marked real when at least the smallest detectable change
    (``policy.fppa_sdc_deg``, 7.5 deg); not comparable where only sessions on another
    definition precede it (``core.progress``).

    Raises:
        NotFoundError: no such person.
    """
    with db.read() as s:
        person = find_person(s, person_code)
        points: list[SessionFppa] = []
        signed: dict[int, str | None] = {}
        for row in person_sessions(s, person.id):
            summary = summarize(s, db, row.id, policy)
            points.append(SessionFppa(
                session_id=row.id,
                session_date=row.session_date,
                median_fppa_deg={leg: summary.squat[leg].median_fppa_deg for leg in SIDES},
                valid_reps={leg: summary.squat[leg].valid_reps for leg in SIDES},
                definition=leg_definitions(
                    summary.reps, {a.id: a.result.config for a in summary.analyses}),
            ))
            signed[row.id] = summary.clearance.signed_decision if summary.clearance else None
        rows = progress(points, policy.fppa_sdc_deg)
        return History(person_info(person), tuple(rows), policy.fppa_sdc_deg, signed)
