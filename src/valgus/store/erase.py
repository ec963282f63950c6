"""Erasing a person: their clips and pose files are deleted, and their identifying fields (the
code, notes, sex, clip names, the clip name inside each stored result) are replaced; the
measurements stay, under the code ``ERASED-<id>``, and an audit line records who erased whom
(by the new code) and why.

Signed snapshots are append-only and keep what they sealed (the pseudonymous code and clip
names as signed); ``verify`` reports an erased person's sessions as erased, not as tampered.
The clinic's own list that maps codes to people is outside valgus: deleting that entry is what
makes the sealed code anonymous.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import select

from valgus.store import audit
from valgus.store.accounts import require
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.info import clean_text, now
from valgus.store.models import PointCorrectionRow
from valgus.store.people import find_person

ERASED = "erased"


@dataclass(frozen=True)
class Erasure:
    """What ``erase_person`` did: the person's new code, the sessions and files it touched."""

    code: str
    sessions: int
    files_removed: int


def erase_person(db: Database, code: str, by: str, reason: str) -> Erasure:
    """Erase a person (see the module docstring). Rows change in one transaction; the files
    are deleted after it commits (a crash in between leaves them for ``valgus records
    check``, unreferenced).

    Raises:
        NotFoundError: no such person.
        RecordError: no reason, already erased, or ``by`` may not (a clinician's task).
    """
    reason = clean_text(reason, "the reason")
    if not reason:
        raise RecordError("give the reason for the erasure")
    files: list[str] = []
    corrections = 0
    with db.write() as s:
        by = require(s, by, "sign")
        person = find_person(s, code, lock=True)
        if person.erased_at is not None:
            raise RecordError(f"{person.code} was erased already")
        for visit in person.sessions:
            for clip in visit.clips:
                files.append(clip.stored_path)
                clip.original_name, clip.stored_path = ERASED, ""
                for analysis in clip.analyses:
                    # A reviewer's corrected points (and their reasons) go with the person.
                    for fix in s.scalars(select(PointCorrectionRow).where(
                            PointCorrectionRow.analysis_id == analysis.id)):
                        s.delete(fix)
                        corrections += 1
                    if analysis.poses_path:
                        files.append(analysis.poses_path)
                    analysis.poses_path = None
                    analysis.result = {**analysis.result, "source": ERASED}
        new_code = f"ERASED-{person.id}"
        person.code, person.notes, person.sex, person.erased_at = new_code, "", None, now()
        audit.note(s, by, "person_erased", f"person {new_code}", reason=reason,
                   sessions=len(person.sessions), files=len(files),
                   point_corrections=corrections)
        n_sessions = len(person.sessions)
    removed = 0
    for relative in files:
        with contextlib.suppress(FileNotFoundError):
            db.path(relative).unlink()
            removed += 1
    return Erasure(new_code, n_sessions, removed)
