"""Checking signed records (``valgus records verify``, the Review page, the report).

For every signature: its snapshot still hashes to ``snapshot_sha256``, its chain hash is
recomputed from the previous one's, and the sequence has no gap. For every signed session, the
live records still match the snapshot in force: the analysis results, the reviews, the clearance
values, the signature on the clearance record and the clip and pose files (sha256 of the files
on disk). Anything else is a problem, described in one line.

What this detects: a change through valgus's own tables or files, by anyone who did not also
recompute every later hash. Someone with write access to the database can rebuild the chain;
comparing ``chain head`` (printed by ``valgus records verify``) with a copy kept elsewhere (a
printed report, a backup log) detects that too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valgus.core.clearance import ClearanceInputs
from valgus.files import sha256_file
from valgus.store.correction_rows import correction_dict, session_rows
from valgus.store.db import Database
from valgus.store.info import clearance_info
from valgus.store.models import AuditEntry, ClearanceRecord, Review, Signature, TestSession
from valgus.store.sessions import current_analyses
from valgus.store.snapshot import (
    GENESIS,
    canonical,
    chain_hash,
    inputs_dict,
    review_dict,
    sha256_text,
)

# (path, size, mtime_ns, inode) -> sha256: a page that re-reads a session does not hash its
# clips again unless a file changed. A fresh process (`valgus records verify`) hashes all.
_FILE_SHA: dict[tuple[str, int, int, int], str] = {}


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found: ``problems`` (session id, or None for the chain itself, and the
    problem), ``signatures`` checked, and the chain head (the newest chain hash)."""

    problems: tuple[tuple[int | None, str], ...]
    signatures: int
    sessions: int
    head: str

    @property
    def ok(self) -> bool:
        return not self.problems


def file_sha(path: Path) -> str | None:
    """sha256 of a file (cached while it is unchanged), None if it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _FILE_SHA:
        try:
            _FILE_SHA[key] = sha256_file(path)
        except OSError:
            return None
    return _FILE_SHA[key]


def chain_problems(s: Session, sigs: list[Signature]) -> list[str]:
    """Hash and chain problems of the signatures ``sigs`` (each checked against the
    signature before it in the whole chain)."""
    problems = []
    for sig in sigs:
        where = f"signature {sig.seq} (session {sig.session_id})"
        if sha256_text(sig.snapshot) != sig.snapshot_sha256:
            problems.append(f"{where}: its snapshot was changed after signing")
        prev = (GENESIS if sig.seq == 1 else
                s.scalar(select(Signature.chain_sha256).where(Signature.seq == sig.seq - 1)))
        if prev is None:
            problems.append(f"{where}: the signature before it is missing")
        elif sig.prev_sha256 != prev:
            problems.append(f"{where}: it no longer follows the signature before it")
        if chain_hash(sig.prev_sha256, sig.seq, sig.snapshot_sha256) != sig.chain_sha256:
            problems.append(f"{where}: its chain hash does not match")
    return problems


def _files(db: Database, snap: dict[str, Any]) -> list[str]:
    problems = []
    for a in snap["analyses"]:
        clip = a["clip"]
        checks = [(clip["stored_path"], clip["sha256"], f"clip {clip['original_name']!r}")]
        if a.get("poses"):
            checks.append((a["poses"]["path"], a["poses"]["sha256"], "pose file"))
        for relative, expected, what in checks:
            got = file_sha(db.path(relative))
            if got is None:
                problems.append(f"the {what} of analysis {a['id']} is missing")
            elif got != expected:
                problems.append(f"the {what} of analysis {a['id']} was replaced or changed "
                                "after signing")
    return problems


def live_problems(s: Session, db: Database, session_id: int, sig: Signature) -> list[str]:
    """What in the live records of the session no longer matches the snapshot in force."""
    try:
        snap = json.loads(sig.snapshot)
    except ValueError:
        return ["the signed snapshot cannot be read"]
    problems = []
    record = s.scalar(select(ClearanceRecord).where(ClearanceRecord.session_id == session_id))
    status = (snap.get("decision") if snap.get("kind") == "legacy"
              else snap["decision"]["status"])
    if record is None or record.signed_at is None:
        problems.append("the clearance record no longer shows the signature")
    elif record.decision != status:
        problems.append(f"the clearance record says {record.decision}, the signed decision "
                        f"is {status}")
    if snap.get("kind") == "legacy":
        return problems
    # No values at signing: the record must still hold none.
    signed_values = (snap["clearance"]["inputs"] if snap["clearance"]
                     else inputs_dict(ClearanceInputs()))
    if record is not None and inputs_dict(clearance_info(record).inputs) != signed_values:
        problems.append("the clearance values were changed after signing")
    live = {a.id: a for a in current_analyses(s, session_id)}
    signed = {a["id"]: a for a in snap["analyses"]}
    for aid in sorted(live.keys() - signed.keys()):
        problems.append(f"analysis {aid} was added after signing")
    for aid in sorted(signed.keys() - live.keys()):
        problems.append(f"analysis {aid} was removed or replaced after signing")
    for aid in sorted(live.keys() & signed.keys()):
        if canonical(live[aid].result) != canonical(signed[aid]["result"]):
            problems.append(f"analysis {aid} was changed after signing")
    reviews = {r.id: r for r in s.scalars(select(Review).where(Review.session_id == session_id))}
    signed_reviews = {r["id"]: r for r in snap["reviews"]}
    for rid in sorted(reviews.keys() - signed_reviews.keys()):
        problems.append(f"review {rid} was added after signing")
    for rid in sorted(signed_reviews.keys() - reviews.keys()):
        problems.append(f"review {rid} was removed after signing")
    for rid in sorted(reviews.keys() & signed_reviews.keys()):
        if canonical(review_dict(reviews[rid])) != canonical(signed_reviews[rid]):
            problems.append(f"review {rid} was changed after signing")
    return problems + _correction_problems(s, session_id, snap) + _files(db, snap)


def _correction_problems(s: Session, session_id: int, snap: dict[str, Any]) -> list[str]:
    """The session's point corrections against the snapshot's (none in snapshots made before
    corrections existed: then there must still be none)."""
    live = {r.id: correction_dict(r) for r in session_rows(s, session_id)}
    signed = {c["id"]: c for c in snap.get("corrections", ())}
    problems = [f"point correction {cid} was added after signing"
                for cid in sorted(live.keys() - signed.keys())]
    problems += [f"point correction {cid} was removed after signing"
                 for cid in sorted(signed.keys() - live.keys())]
    problems += [f"point correction {cid} was changed after signing"
                 for cid in sorted(live.keys() & signed.keys())
                 if canonical(live[cid]) != canonical(signed[cid])]
    return problems


def session_problems(s: Session, db: Database, sigs: list[Signature]) -> tuple[str, ...]:
    """Every problem of one signed session (its signatures ``sigs``, in chain order). The live
    records of an erased person are not compared: their files and names are gone on purpose
    (``valgus.store.erase``); the signatures themselves still are."""
    session = s.get(TestSession, sigs[-1].session_id)
    if session is not None and session.person.erased_at is not None:
        return tuple(chain_problems(s, sigs))
    return tuple(chain_problems(s, sigs) + live_problems(s, db, sigs[-1].session_id, sigs[-1]))


def audit_problems(s: Session, sigs: list[Signature]) -> list[tuple[int | None, str]]:
    """Every signature the append-only audit log recorded (its ``signed`` and ``amended``
    lines: session, ``seq`` and ``chain``) must still be in the signatures table with that
    session and chain hash, and the chain head must be at least as new as the newest: a
    signature row deleted (with the ``signatures_no_delete`` trigger dropped) is found here."""
    by_seq = {sig.seq: sig for sig in sigs}
    head = max(by_seq, default=0)
    problems: list[tuple[int | None, str]] = []
    lines = s.scalars(select(AuditEntry).where(AuditEntry.action.in_(("signed", "amended")))
                      .order_by(AuditEntry.id))
    for line in lines:
        detail = line.detail if isinstance(line.detail, dict) else {}
        seq, chain = detail.get("seq"), detail.get("chain")
        _, _, number = line.subject.partition("session ")
        sid = int(number) if number.isdigit() else None
        what = "signature" if line.action == "signed" else "amendment"
        if not isinstance(seq, int):
            problems.append((sid, f"the audit log's {what} line {line.id} names no signature"))
            continue
        sig = by_seq.get(seq)
        if sig is None:
            where = ("after the chain head" if seq > head else "from the chain")
            problems.append((sid, f"{what} {seq} recorded in the audit log "
                                  f"({line.at:%Y-%m-%d %H:%M} UTC by {line.actor}) is missing "
                                  f"{where}: a signature was deleted"))
        elif sig.session_id != sid or sig.chain_sha256 != chain:
            problems.append((sid, f"signature {seq} no longer matches the audit log's "
                                  f"{what} line (session "
                                  f"{sig.session_id}, chain hash {sig.chain_sha256[:12]}...)"))
    return problems


def verify(db: Database) -> VerifyReport:
    """Check every signature, the chain and every signed session (see the module docstring);
    reads only."""
    problems: list[tuple[int | None, str]] = []
    with db.read() as s:
        sigs = list(s.scalars(select(Signature).order_by(Signature.seq)))
        for expected, sig in enumerate(sigs, 1):
            if sig.seq != expected:
                problems.append((None, f"signature {expected} is missing from the chain"))
                break
        by_session: dict[int, list[Signature]] = {}
        for sig in sigs:
            by_session.setdefault(sig.session_id, []).append(sig)
        for sid, own in sorted(by_session.items()):
            problems += [(sid, p) for p in session_problems(s, db, own)]
        marked = s.scalars(select(ClearanceRecord.session_id)
                           .where(ClearanceRecord.signed_at.is_not(None)))
        for sid in sorted(set(marked) - by_session.keys()):
            problems.append((sid, "marked signed but has no signed snapshot"))
        problems += audit_problems(s, sigs)
        head = sigs[-1].chain_sha256 if sigs else GENESIS
    return VerifyReport(tuple(problems), len(sigs), len(by_session), head)


def clear_file_cache() -> None:
    """Forget the cached file hashes (tests; a process that wants to re-read every file)."""
    _FILE_SHA.clear()
