"""Signed snapshots: what a signature seals, how it is chained, and how a signed session is read
back from it (never recomputed).

At sign-off (and at each amendment) everything the decision rests on is written once, as
canonical JSON, into an append-only ``signatures`` row: the stored analysis results, every
review, the clearance values, the policy, the decision, the squat result per leg and the reps
as banded, the schema and software version, and the sha256 of each clip and pose file (read
from the files at that moment). Its sha256 is chained over all signatures
(``chain_hash``), so changing, removing or re-ordering one breaks every hash after it.
``valgus.store.verify`` checks them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valgus import __version__
from valgus.core.clearance import (
    ClearanceDecision,
    ClearanceInputs,
    ClearancePolicy,
    CriterionResult,
    Override,
    SquatLegResult,
    SquatRep,
)
from valgus.core.correction import in_force as corrections_in_force
from valgus.core.result import AnalysisResult
from valgus.files import sha256_file
from valgus.store import correction_rows as point_corrections
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.info import (
    AnalysisInfo,
    ClearanceInfo,
    ClipInfo,
    PersonInfo,
    ReviewInfo,
    SessionInfo,
    SessionSummary,
    SignatureInfo,
    utc,
)
from valgus.store.migrate import head_revision
from valgus.store.models import Analysis, Review, Signature

FORMAT = "valgus.signed/1"
GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys, no spaces, UTF-8): the text that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev: str, seq: int, snapshot_sha256: str) -> str:
    """The chain hash of signature ``seq``: over the previous one's and this snapshot's hash.
    (Migration 0003 keeps a frozen copy of this rule for the legacy signatures it seals.)"""
    return hashlib.sha256(f"{prev}\n{seq}\n{snapshot_sha256}".encode()).hexdigest()


def _when(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value is not None else None


def _file_sha(db: Database, relative: str, expected: str | None, what: str) -> str:
    """sha256 of a stored file, which must match ``expected`` (the row's) when given.

    Raises:
        RecordError: the file is missing or does not match its record.
    """
    path = db.path(relative)
    try:
        sha = sha256_file(path)
    except OSError:
        raise RecordError(f"the {what} file is missing: run `valgus records check`") from None
    if expected is not None and sha != expected:
        raise RecordError(f"the {what} file no longer matches its record; it cannot be signed: "
                          "run `valgus records verify`")
    return sha


def _analysis(db: Database, a: Analysis) -> dict[str, Any]:
    clip = a.clip
    return {
        "id": a.id, "schema": a.schema, "valgus_version": a.valgus_version,
        "created_at": _when(a.created_at), "result": a.result,
        "clip": {
            "id": clip.id, "original_name": clip.original_name,
            "stored_path": clip.stored_path, "size_bytes": clip.size_bytes,
            "created_at": _when(clip.created_at),
            "sha256": _file_sha(db, clip.stored_path, clip.sha256,
                                f"clip of analysis {a.id}"),
        },
        "poses": None if not a.poses_path else {
            "path": a.poses_path,
            "sha256": _file_sha(db, a.poses_path, None, f"pose file of analysis {a.id}"),
        },
    }


def review_dict(r: Review) -> dict[str, Any]:
    return {
        "id": r.id, "reviewer": r.reviewer, "notes": r.notes, "created_at": _when(r.created_at),
        "overrides": [{"analysis_id": o.analysis_id, "rep_index": o.rep_index, "band": o.band,
                       "reason": o.reason} for o in r.overrides],
    }


def inputs_dict(inputs: ClearanceInputs) -> dict[str, Any]:
    return dataclasses.asdict(inputs)


def take(
    s: Session, db: Database, summary: SessionSummary, analyses: list[Analysis],
    kind: str, signed_by: str, signed_at: datetime, reason: str = "",
) -> dict[str, Any]:
    """The snapshot of a session whose live ``summary`` (decision, reps) was just computed in
    the same unit of work ``s``; ``analyses``: its current analysis rows.

    Raises:
        RecordError: a clip or pose file is missing or does not match its record.
    """
    reviews = s.scalars(select(Review).where(Review.session_id == summary.session.id)
                        .order_by(Review.id)).all()
    c = summary.clearance
    d = summary.decision
    return {
        "format": FORMAT, "kind": kind, "reason": reason,
        "session": {"id": summary.session.id, "person_code": summary.person.code,
                    "date": summary.session.session_date.isoformat()},
        "signed_by": signed_by, "signed_at": _when(signed_at),
        "software": {"valgus_version": __version__, "schema": head_revision()},
        "analyses": [_analysis(db, a) for a in analyses],
        "reviews": [review_dict(r) for r in reviews],
        "review_in_force": summary.review.id if summary.review else None,
        "clearance": None if c is None else {
            "inputs": inputs_dict(c.inputs), "updated_by": c.updated_by,
            "updated_at": _when(c.updated_at),
        },
        "policy": dataclasses.asdict(summary.policy),
        "decision": {"status": d.status, "reasons": list(d.reasons), "lsi_pct": d.lsi_pct,
                     "criteria": [dataclasses.asdict(x) for x in d.criteria]},
        "squat": {leg: dataclasses.asdict(r) for leg, r in summary.squat.items()},
        "reps": [{"analysis_id": r.analysis_id, "index": r.index, "band": r.band,
                  "override_reason": r.override_reason,
                  "correction_id": r.correction.id if r.correction else None}
                 for r in summary.reps],
        "corrections": [point_corrections.correction_dict(c)
                        for c in point_corrections.session_rows(s, summary.session.id)],
    }


def append(
    s: Session, session_id: int, snapshot: dict[str, Any], kind: str, signed_by: str,
    signed_at: datetime, reason: str = "",
) -> Signature:
    """Add ``snapshot`` to the chain as the next signature. The caller's unit of work holds
    the write lock (SQLite) or, on PostgreSQL, the table is locked here so that two sign-offs
    take consecutive places."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection().exec_driver_sql("LOCK TABLE signatures IN EXCLUSIVE MODE")
    last = s.scalar(select(Signature).order_by(Signature.seq.desc()).limit(1))
    seq = (last.seq + 1) if last else 1
    prev = last.chain_sha256 if last else GENESIS
    text = canonical(snapshot)
    digest = sha256_text(text)
    row = Signature(seq=seq, session_id=session_id, kind=kind, signed_by=signed_by,
                    signed_at=signed_at, reason=reason, snapshot=text, snapshot_sha256=digest,
                    prev_sha256=prev, chain_sha256=chain_hash(prev, seq, digest))
    s.add(row)
    s.flush()
    return row


def session_signatures(s: Session, session_id: int) -> list[Signature]:
    """The session's signatures in chain order (first the sign-off, then amendments)."""
    return list(s.scalars(select(Signature).where(Signature.session_id == session_id)
                          .order_by(Signature.seq)))


def has_signature(s: Session, session_id: int) -> bool:
    n = s.scalar(select(func.count(Signature.id)).where(Signature.session_id == session_id))
    return bool(n)


# --------------------------------------------------------------------------- reading back


def _fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``data`` that are fields of the dataclass ``cls`` (a snapshot written by
    an older or newer valgus may have fewer or more)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _leg(data: Mapping[str, Any]) -> SquatLegResult:
    values = _fields(SquatLegResult, data)
    values["reasons"] = tuple(values.get("reasons", ()))
    return SquatLegResult(**values)


def _decision(data: Mapping[str, Any], policy: ClearancePolicy) -> ClearanceDecision:
    criteria = tuple(
        CriterionResult(**{**_fields(CriterionResult, c), "reasons": tuple(c["reasons"])})
        for c in data["criteria"]
    )
    return ClearanceDecision(data["status"], criteria, tuple(data["reasons"]),
                             data.get("lsi_pct"), policy)


def _analysis_info(db: Database, session_id: int, a: Mapping[str, Any]) -> AnalysisInfo:
    clip = a["clip"]
    poses = a.get("poses")
    return AnalysisInfo(
        id=a["id"],
        clip=ClipInfo(clip["id"], session_id, clip["original_name"],
                      db.path(clip["stored_path"]), clip["sha256"], clip["size_bytes"],
                      datetime.fromisoformat(clip["created_at"])),
        schema=a["schema"], valgus_version=a["valgus_version"],
        config=dict(a["result"].get("config", {})),
        result=AnalysisResult.from_dict(a["result"]),
        poses_path=db.path(poses["path"]) if poses else None,
        created_at=datetime.fromisoformat(a["created_at"]),
    )


def _review_info(session_id: int, r: Mapping[str, Any]) -> ReviewInfo:
    overrides = tuple(Override(o["analysis_id"], o["rep_index"], o["band"], o["reason"])
                      for o in r["overrides"])
    return ReviewInfo(r["id"], session_id, r["reviewer"], r["notes"],
                      datetime.fromisoformat(r["created_at"]), overrides)


def signature_info(last: Signature, n: int, problems: tuple[str, ...]) -> SignatureInfo:
    """``last``: the signature in force (the newest of the session's ``n``)."""
    return SignatureInfo(last.seq, last.kind, last.signed_by, utc(last.signed_at), last.reason,
                         last.snapshot_sha256, last.chain_sha256, n - 1, problems)


def is_legacy(sig: Signature) -> bool:
    return sig.kind == "legacy"


def from_legacy(live: SessionSummary, sig: Signature, info: SignatureInfo) -> SessionSummary:
    """A session signed before snapshots were kept: the live records, with the decision and
    policy its clearance record kept at signing (sealed into the chain at the upgrade)."""
    snap = json.loads(sig.snapshot)
    detail = snap.get("decision_detail") or {}
    policy = ClearancePolicy(**_fields(ClearancePolicy, detail.get("policy", {})))
    decision = (_decision(detail, policy) if "criteria" in detail
                else dataclasses.replace(live.decision, status=snap["decision"]))
    return dataclasses.replace(live, decision=decision, policy=policy, signature=info)


def from_snapshot(
    db: Database, session: SessionInfo, person: PersonInfo, sig: Signature, info: SignatureInfo,
    erased: bool = False,
) -> SessionSummary:
    """The session as signed in ``sig`` (a signature or amendment snapshot): analyses, review,
    reps, squat result, clearance values, decision and policy all from the snapshot; nothing
    is read from the live rows and no verdict is recomputed. ``erased``: the person was
    erased: clip names and files are not shown."""
    snap = json.loads(sig.snapshot)
    if erased:
        for a in snap["analyses"]:
            a["clip"].update(original_name="erased", stored_path="")
            a["poses"] = None
            a["result"] = {**a["result"], "source": "erased"}
    signed_at = utc(sig.signed_at)
    sid = session.id
    policy = ClearancePolicy(**_fields(ClearancePolicy, snap["policy"]))
    analyses = tuple(_analysis_info(db, sid, a) for a in snap["analyses"])
    results = {a.id: a.result for a in analyses}
    sealed = [point_corrections.from_dict(c) for c in snap.get("corrections", ())
              if not c["undone_at"]]
    fixes = {c.id: c for c in corrections_in_force(sealed).values()}
    reps = tuple(
        SquatRep(r["analysis_id"], r["index"], results[r["analysis_id"]].reps[r["index"] - 1],
                 r["band"], r["override_reason"], fixes.get(r.get("correction_id")))
        for r in snap["reps"]
    )
    in_force = next((r for r in snap["reviews"] if r["id"] == snap["review_in_force"]), None)
    c = snap["clearance"]
    clearance = ClearanceInfo(
        inputs=ClearanceInputs(**_fields(ClearanceInputs, c["inputs"])) if c
        else ClearanceInputs(),
        updated_by=c["updated_by"] if c else sig.signed_by,
        updated_at=datetime.fromisoformat(c["updated_at"]) if c else signed_at,
        signed_by=sig.signed_by, signed_at=signed_at,
        signed_decision=snap["decision"]["status"],
        signed_detail={**snap["decision"], "squat": snap["squat"], "policy": snap["policy"],
                       "analysis_ids": [a["id"] for a in snap["analyses"]],
                       "review_id": snap["review_in_force"]},
    )
    return SessionSummary(
        session=dataclasses.replace(session, signed=True), person=person, analyses=analyses,
        review=_review_info(sid, in_force) if in_force else None, reps=reps,
        squat={cast(Any, leg): _leg(v) for leg, v in snap["squat"].items()},
        clearance=clearance, decision=_decision(snap["decision"], policy), policy=policy,
        signature=info,
    )
