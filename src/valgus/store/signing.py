"""The clinician's part of a session: reviews (notes and per-rep band overrides, each with its
reason), the clearance values (pain, stairs, run, strength) and the signature that makes the
session final, with its sealed snapshot (``snapshot``). Nothing here changes a signed session
(``sessions.open_session``) except ``amend``, an audited correction that keeps the original."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence

from sqlalchemy.orm import Session

from valgus.core.clearance import BANDS, ClearanceInputs, ClearancePolicy, Override, squat_results
from valgus.store import audit, snapshot
from valgus.store.accounts import require
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.info import (
    ClearanceInfo,
    ReviewInfo,
    SessionSummary,
    clean_text,
    clearance_info,
    now,
    review_info,
)
from valgus.store.models import ClearanceRecord, RepOverride, Review
from valgus.store.sessions import current_analyses, find_session, open_session, stored_results
from valgus.store.summary import clearance_record, latest_review, summarize
from valgus.store.verify import session_problems

MAX_REASON_CHARS = 1000

# --------------------------------------------------------------------------- reviews


def _check_overrides(overrides: Sequence[Override]) -> None:
    seen: set[tuple[int, int]] = set()
    for o in overrides:
        if o.band not in BANDS:
            raise RecordError(f"band must be one of {', '.join(BANDS)}, got {o.band!r}")
        if not clean_text(o.reason, f"the reason for rep {o.index}", MAX_REASON_CHARS):
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
    with db.write() as s:
        reviewer = require(s, reviewer, "review")
        open_session(s, session_id)
        review = _add_review(s, session_id, reviewer, notes, overrides)
        audit.note(s, reviewer, "review_saved", f"session {session_id}", review_id=review.id,
                   overrides=len(overrides))
        return review_info(review)


def _add_review(
    s: Session, session_id: int, reviewer: str, notes: str, overrides: Sequence[Override]
) -> Review:
    """Add a review to the session in the unit of work ``s`` (the caller checked that the
    session may change). Raises ``RecordError`` for a refused override."""
    _check_overrides(overrides)
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
    review = Review(session_id=session_id, reviewer=reviewer,
                    notes=clean_text(notes, "the notes"),
                    created_at=now())
    review.overrides = [
        RepOverride(analysis_id=o.analysis_id, rep_index=o.index, band=o.band,
                    reason=clean_text(o.reason, "the reason", MAX_REASON_CHARS))
        for o in overrides
    ]
    s.add(review)
    s.flush()
    return review


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
    with db.write() as s:
        entered_by = require(s, entered_by, "record")
        open_session(s, session_id)
        row = clearance_record(s, session_id)
        old = snapshot.inputs_dict(clearance_info(row).inputs) if row else None
        if row is None:
            row = ClearanceRecord(session_id=session_id)
            s.add(row)
        for f in dataclasses.fields(ClearanceInputs):
            setattr(row, f.name, getattr(inputs, f.name))
        row.updated_by, row.updated_at = entered_by, now()
        audit.note(s, entered_by, "values_saved", f"session {session_id}", old=old,
                   new=snapshot.inputs_dict(inputs))
        s.flush()
        return clearance_info(row)


def _seal(
    s: Session, db: Database, session_id: int, policy: ClearancePolicy, by: str, kind: str,
    reason: str = "",
) -> None:
    """Store the session's decision under ``policy`` as it stands now on its clearance record
    and seal a snapshot of it into the signature chain (``kind``: signature or amendment)."""
    summary = summarize(s, db, session_id, policy, signed=False)
    when = now()
    row = clearance_record(s, session_id)
    if row is None:
        row = ClearanceRecord(session_id=session_id, updated_by=by, updated_at=when)
        s.add(row)
    if kind == "signature":
        row.signed_by, row.signed_at = by, when
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
    snap = snapshot.take(s, db, summary, current_analyses(s, session_id), kind, by, when, reason)
    sig = snapshot.append(s, session_id, snap, kind, by, when, reason)
    audit.note(s, by, "signed" if kind == "signature" else "amended", f"session {session_id}",
               decision=summary.decision.status, seq=sig.seq, chain=sig.chain_sha256,
               reason=reason)


def signing_digest(summary: SessionSummary) -> str:
    """A fingerprint of what a signature would seal for this (unsigned) summary: the decision
    with its reasons and criteria, the squat result per leg, the policy, the analyses in force,
    the review in force with its overrides, and the entered clearance values. The Review page
    shows these and passes the digest back to ``sign_clearance``, so what is signed is exactly
    what the clinician confirmed."""
    shown = {
        "decision": [summary.decision.status, list(summary.decision.reasons),
                     [dataclasses.asdict(c) for c in summary.decision.criteria]],
        "squat": {leg: dataclasses.asdict(r) for leg, r in sorted(summary.squat.items())},
        "policy": dataclasses.asdict(summary.policy),
        "analyses": [a.id for a in summary.analyses],
        "review": summary.review.id if summary.review else None,
        "overrides": [dataclasses.asdict(o) for o in
                      (summary.review.overrides if summary.review else ())],
        "corrections": [[r.analysis_id, r.index, r.correction.id, r.correction.fppa_deg]
                        for r in summary.reps if r.correction is not None],
        "inputs": dataclasses.asdict(summary.clearance.inputs) if summary.clearance else None,
    }
    text = json.dumps(shown, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sign_clearance(
    db: Database, session_id: int, reviewer: str, policy: ClearancePolicy,
    expected: str | None = None,
) -> SessionSummary:
    """Sign the session's clearance record: the decision under ``policy`` (CLEARED or NOT YET,
    with its criteria, the squat result per leg and the policy) is stored as it stands now,
    with a snapshot of everything it rests on sealed into the signature chain
    (``valgus.store.snapshot``), and the session cannot change any more except by an audited
    amendment (``amend``). Signing a NOT YET is allowed (it documents the visit).

    ``expected``: the ``signing_digest`` of the summary the signer confirmed; if the records
    no longer give that digest (someone saved a review, values or a clip, or the policy changed
    in between), nothing is signed.

    Raises:
        RecordError: an empty name, the session is signed already, the record changed since
            it was confirmed, or a clip or pose file no longer matches its record.
        NotFoundError: no such session.
    """
    with db.write() as s:
        reviewer = require(s, reviewer, "sign")
        open_session(s, session_id)
        if expected is not None and signing_digest(
                summarize(s, db, session_id, policy, signed=False)) != expected:
            raise RecordError(f"session {session_id} changed since the confirmation was shown: "
                              "check what is signed again")
        _seal(s, db, session_id, policy, reviewer, "signature")
        return summarize(s, db, session_id, policy)


def amend(
    db: Database,
    session_id: int,
    by: str,
    reason: str,
    inputs: ClearanceInputs | None = None,
    review: tuple[str, Sequence[Override]] | None = None,
) -> SessionSummary:
    """Correct a signed session: new clearance values (``inputs``) and/or a new review
    (``review``: notes and overrides), with the ``reason``. The decision is taken again under
    the policy it was signed under and sealed as an amendment; the original signature and
    everything before stays in the chain and on record.

    Raises:
        RecordError: the session is not signed, no change or no reason is given, a value or
            override is refused, or the record no longer matches its signature (run
            ``valgus records verify``: an amendment never seals a change made behind its back).
        NotFoundError: no such session.
    """
    reason = " ".join(clean_text(reason, "the reason", MAX_REASON_CHARS).split())
    if not reason:
        raise RecordError("give the reason for the amendment")
    if inputs is None and review is None:
        raise RecordError("an amendment changes the clearance values or the review")
    with db.write() as s:
        by = require(s, by, "sign")
        policy = amendable(s, db, session_id)
        if inputs is not None:
            row = clearance_record(s, session_id)
            if row is None:
                raise RecordError(f"session {session_id} has no clearance record")
            for f in dataclasses.fields(ClearanceInputs):
                setattr(row, f.name, getattr(inputs, f.name))
            row.updated_by, row.updated_at = by, now()
        if review is not None:
            _add_review(s, session_id, by, *review)
        s.flush()
        _seal(s, db, session_id, policy, by, "amendment", reason)
        return summarize(s, db, session_id, policy)


def amendable(s: Session, db: Database, session_id: int) -> ClearancePolicy:
    """Lock the signed session for an amendment in the unit of work ``s`` and return the
    policy it was signed under (the caller checked the account, then changes the records and
    calls ``seal_amendment``).

    Raises:
        RecordError: the session is not signed, or no longer matches its signature.
        NotFoundError: no such session.
    """
    find_session(s, session_id, lock=True)
    signatures = snapshot.session_signatures(s, session_id)
    if not signatures:
        raise RecordError(f"session {session_id} is not signed: change it directly")
    problems = session_problems(s, db, signatures)
    if problems:
        raise RecordError(f"session {session_id} no longer matches its signature "
                          f"({problems[0]}): run `valgus records verify`")
    signed = json.loads(signatures[-1].snapshot)
    return ClearancePolicy(**signed["policy"]) if "policy" in signed else ClearancePolicy()


def seal_amendment(s: Session, db: Database, session_id: int, policy: ClearancePolicy,
                   by: str, reason: str) -> None:
    """Take the decision again under ``policy`` and seal it as an amendment (after
    ``amendable`` and a change in the same unit of work)."""
    s.flush()
    _seal(s, db, session_id, policy, by, "amendment", reason)


def amendment_reason(reason: str) -> str:
    """The reason of an amendment, folded to one line. Raises RecordError when empty."""
    reason = " ".join(clean_text(reason, "the reason", MAX_REASON_CHARS).split())
    if not reason:
        raise RecordError("give the reason for the amendment")
    return reason
