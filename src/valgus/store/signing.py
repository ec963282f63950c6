"""The clinician's part of a session: reviews (notes and per-rep band overrides, each with its
reason), the clearance values (pain, stairs, run, strength) and the signature that makes the
session final. Nothing here changes a signed session (``sessions.open_session``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from valgus.core.clearance import BANDS, ClearanceInputs, ClearancePolicy, Override, squat_results
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.info import (
    ClearanceInfo,
    ReviewInfo,
    SessionSummary,
    clean_name,
    clearance_info,
    now,
    review_info,
)
from valgus.store.models import ClearanceRecord, RepOverride, Review
from valgus.store.sessions import current_analyses, find_session, open_session, stored_results
from valgus.store.summary import clearance_record, latest_review, summarize

# --------------------------------------------------------------------------- reviews


def _check_overrides(overrides: Sequence[Override]) -> None:
    seen: set[tuple[int, int]] = set()
    for o in overrides:
        if o.band not in BANDS:
            raise RecordError(f"band must be one of {', '.join(BANDS)}, got {o.band!r}")
        if not o.reason.strip():
            raise RecordError(f"give a reason for the band of rep {o.index}")
        if (o.analysis_id, o.index) in seen:
            raise RecordError(f"rep {o.index} of analysis {o.analysis_id} is given twice")
        seen.add((o.analysis_id, o.index))


def save_review(
    db: Database,
    session_id: int,
    reviewer: str,
    notes: str = "",
    overrides: Sequence[Override] = (),
) -> ReviewInfo:
    """Record a review: notes and per-rep band overrides, each with its reason. The newest
    review is the one in force (it replaces, not adds to, the previous overrides); earlier ones
    stay on record.

    Raises:
        RecordError: a rep that does not exist or cannot count, an unknown band, an empty
            reason, a rep given twice, or a signed session.
        NotFoundError: no such session.
    """
    reviewer = clean_name(reviewer, "reviewer name")
    _check_overrides(overrides)
    with db.write() as s:
        open_session(s, session_id)
        current = stored_results(current_analyses(s, session_id))
        for o in overrides:
            if o.analysis_id not in current:
                raise RecordError(
                    f"analysis {o.analysis_id} is not a current analysis of session {session_id}"
                )
        try:
            squat_results(current, overrides)
        except ValueError as err:
            raise RecordError(str(err)) from err
        review = Review(session_id=session_id, reviewer=reviewer, notes=notes.strip(),
                        created_at=now())
        review.overrides = [
            RepOverride(analysis_id=o.analysis_id, rep_index=o.index, band=o.band,
                        reason=o.reason.strip())
            for o in overrides
        ]
        s.add(review)
        s.flush()
        return review_info(review)


def get_latest_review(db: Database, session_id: int) -> ReviewInfo | None:
    """The review in force, if any. Raises ``NotFoundError`` for an unknown session."""
    with db.read() as s:
        find_session(s, session_id)
        row = latest_review(s, session_id)
        return review_info(row) if row else None


def review_history(db: Database, session_id: int) -> list[ReviewInfo]:
    """Every review of the session, oldest first."""
    with db.read() as s:
        return [review_info(r) for r in find_session(s, session_id).reviews]


# --------------------------------------------------------------------------- clearance


def save_clearance(
    db: Database, session_id: int, inputs: ClearanceInputs, entered_by: str
) -> ClearanceInfo:
    """Enter or replace the session's clearance values (pain, stairs, run, strength).

    Raises:
        RecordError: an empty name, or the record is signed.
        NotFoundError: no such session.
    """
    entered_by = clean_name(entered_by, "name of who enters the values")
    with db.write() as s:
        open_session(s, session_id)
        row = clearance_record(s, session_id)
        if row is None:
            row = ClearanceRecord(session_id=session_id)
            s.add(row)
        for f in dataclasses.fields(ClearanceInputs):
            setattr(row, f.name, getattr(inputs, f.name))
        row.updated_by, row.updated_at = entered_by, now()
        s.flush()
        return clearance_info(row)


def sign_clearance(
    db: Database, session_id: int, reviewer: str, policy: ClearancePolicy
) -> SessionSummary:
    """Sign the session's clearance record: the decision under ``policy`` (CLEARED or NOT YET,
    with its criteria, the squat result per leg and the policy) is stored as it stands now, and
    the session cannot change any more. Signing a NOT YET is allowed (it documents the visit).

    Raises:
        RecordError: an empty name, or the session is signed already.
        NotFoundError: no such session.
    """
    reviewer = clean_name(reviewer, "reviewer name")
    with db.write() as s:
        open_session(s, session_id)
        summary = summarize(s, db, session_id, policy)
        row = clearance_record(s, session_id)
        if row is None:
            row = ClearanceRecord(session_id=session_id, updated_by=reviewer, updated_at=now())
            s.add(row)
        row.signed_by, row.signed_at = reviewer, now()
        row.decision = summary.decision.status
        row.decision_detail = {
            "status": summary.decision.status,
            "reasons": list(summary.decision.reasons),
            "criteria": [dataclasses.asdict(c) for c in summary.decision.criteria],
            "lsi_pct": summary.decision.lsi_pct,
            "squat": {leg: dataclasses.asdict(r) for leg, r in summary.squat.items()},
            "policy": dataclasses.asdict(summary.policy),
            "analysis_ids": [a.id for a in summary.analyses],
            "review_id": summary.review.id if summary.review else None,
        }
        s.flush()
        return summarize(s, db, session_id, policy)
