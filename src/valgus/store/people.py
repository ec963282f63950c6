"""People in the records: known by a pseudonymous code chosen by the clinic (never a name)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valgus.config import Sex
from valgus.store import audit
from valgus.store.accounts import require
from valgus.store.db import Database
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.info import (
    MAX_CODE_CHARS,
    SEXES,
    PersonInfo,
    clean_name,
    clean_text,
    now,
    person_info,
)
from valgus.store.models import Person


def find_person(s: Session, code: str, lock: bool = False) -> Person:
    """The person with this code (NFC, whitespace collapsed); ``lock``: the row stays locked until
    the transaction ends (see ``sessions.open_session``).

    Raises:
        NotFoundError: no such person.
    """
    wanted = " ".join(unicodedata.normalize("NFC", code).split())
    query = select(Person).where(Person.code == wanted)
    person = s.scalar(query.with_for_update() if lock else query)
    if person is None:
        raise NotFoundError(f"no person with code {code!r} in the records")
    return person


def add_person(db: Database, code: str, sex: str | None = None, notes: str = "") -> PersonInfo:
    """Add a person by pseudonymous code. ``sex``: female, male, unspecified or None.

    Raises:
        RecordError: the code exists, is empty, too long or holds a control or format
            character (two codes that look alike must be alike), ``sex`` is none of those, or
            the notes are refused (``clean_text``).
    """
    code = clean_name(code, "person code", MAX_CODE_CHARS)
    notes = clean_text(notes, "the notes")
    if sex is not None and sex not in SEXES:
        raise RecordError(f"sex must be one of {', '.join(SEXES)}")
    with db.write() as s:
        if s.scalar(select(Person).where(Person.code == code)) is not None:
            raise RecordError(f"person {code} already exists")
        person = Person(code=code, sex=sex, notes=notes, created_at=now())
        s.add(person)
        try:
            s.flush()
        except IntegrityError as err:
            # Added by another writer since the check above (PostgreSQL; SQLite serialises
            # writers): the unique code refuses the second.
            raise RecordError(f"person {code} already exists") from err
        return person_info(person)


def get_person(db: Database, code: str) -> PersonInfo:
    """The person with this code. Raises ``NotFoundError`` if there is none."""
    with db.read() as s:
        return person_info(find_person(s, code))


def ensure_person(db: Database, code: str, sex: str | None = None) -> PersonInfo:
    """The person with this code, added if new (``sex`` is only used when adding).
    Raises ``RecordError`` for a code that could not be added (see ``add_person``)."""
    code = clean_name(code, "person code", MAX_CODE_CHARS)
    try:
        return get_person(db, code)
    except NotFoundError:
        pass
    try:
        return add_person(db, code, sex)
    except RecordError:
        # Added by someone else in between: fine, it is the same code.
        return get_person(db, code)


@dataclass(frozen=True)
class SexChange:
    """What ``set_sex`` did: the person as now recorded and the sex recorded before (None:
    none was). ``changed``: False when the record held that sex already (nothing written)."""

    person: PersonInfo
    old: Sex | None

    @property
    def changed(self) -> bool:
        return self.person.sex != self.old


def set_sex(db: Database, code: str, sex: str, by: str) -> SexChange:
    """Record (or change) a person's sex: from now on the clinic's settings for them
    (``provenance.clinic_config``) use it, so analyses made under another sex or FPPA
    definition are flagged by ``settings_check`` and can be re-scored. A clinician's task
    (``require(..., "sign")``, as erasing a person), audited as "person_changed" with the old
    and new value; nothing is written when the record holds that sex already.

    Raises:
        NotFoundError: no such person.
        RecordError: ``sex`` is not female, male or unspecified, the person was erased, or
            ``by`` may not (not a clinician).
    """
    if sex not in SEXES:
        raise RecordError(f"sex must be one of {', '.join(SEXES)}")
    with db.write() as s:
        by = require(s, by, "sign")
        person = find_person(s, code, lock=True)
        if person.erased_at is not None:
            raise RecordError(f"{person.code} was erased: their record holds no sex any more")
        old = person_info(person).sex
        if old != sex:
            audit.note(s, by, "person_changed", f"person {person.code}",
                       sex={"old": old, "new": sex})
            person.sex = sex
        return SexChange(person_info(person), old)


def list_people(db: Database) -> list[PersonInfo]:
    """Everyone in the records, by code."""
    with db.read() as s:
        return [person_info(p) for p in s.scalars(select(Person).order_by(Person.code))]
