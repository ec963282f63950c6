"""The append-only audit log: ``note`` adds a line in the caller's unit of work, so a change
and its line are committed together or not at all; ``entries`` reads them back. The database
refuses to change or delete a line (triggers, migration 0005)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from valgus.store.db import Database
from valgus.store.info import now, utc
from valgus.store.models import MAX_NAME_CHARS, AuditEntry


@dataclass(frozen=True)
class AuditInfo:
    """One line of the audit log (see ``models.AuditEntry``)."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def local_actor() -> str:
    """Who acts from this machine's command line when no account is named:
    ``local:<login name>``."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:?"


def note(s: Session, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Add a line to the log within the unit of work ``s``."""
    s.add(AuditEntry(at=now(), actor=actor[:MAX_NAME_CHARS], action=action[:32],
                     subject=subject[:128], detail=detail))


def record(db: Database, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Add a line in a unit of work of its own (views, exports, logins)."""
    with db.write() as s:
        note(s, actor, action, subject, **detail)


def entries(db: Database, limit: int = 200, subject: str | None = None) -> list[AuditInfo]:
    """The newest ``limit`` lines, newest first (only those about ``subject`` if given)."""
    with db.read() as s:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(AuditEntry.subject == subject)
        return [AuditInfo(e.id, utc(e.at), e.actor, e.action, e.subject, dict(e.detail))
                for e in s.scalars(query)]
