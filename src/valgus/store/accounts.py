"""Accounts and roles: who may do what in the records.

* Passwords are kept only as argon2id hashes (``argon2-cffi``); ``authenticate`` checks one and
  backs off after wrong ones: the first ``FREE_FAILURES`` cost nothing, then the account is
  locked for 2, 4, 8 ... seconds, up to ``MAX_LOCK_S``, whatever password is tried meanwhile.
  A login never tells whether the user name exists.
* Roles: an ``assistant`` records (people, sessions, clips, clearance values); a
  ``clinician`` also reviews, signs, amends and sets the clinic's policy (``ALLOWED``).
* ``require`` is the one check of "may this name do this": every change that records a name
  (reviews, values, signatures, amendments, the policy) runs it in its own unit of work. With
  no account in the records (a single-user install, as before accounts existed) any non-empty
  name may act; from the first ``valgus user add`` on, the name must be an active account with
  the role for it. The app always asks for a login before it shows or changes records.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valgus.store import audit
from valgus.store.db import Database
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.info import clean_name, now, utc
from valgus.store.models import User

Role = Literal["clinician", "assistant"]
Action = Literal["record", "review", "sign", "policy"]
ROLES: tuple[Role, ...] = ("clinician", "assistant")
ALLOWED: dict[str, frozenset[str]] = {
    "assistant": frozenset({"record"}),
    "clinician": frozenset({"record", "review", "sign", "policy"}),
}
VERBS = {"record": "record values", "review": "review reps", "sign": "sign or amend records",
         "policy": "set the clinic's policy"}
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
FREE_FAILURES = 3
MAX_LOCK_S = 900
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()
# Verified when the user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("valgus: no such account")


class LoginError(RecordError):
    """A login that did not succeed; the message never says whether the name exists."""


@dataclass(frozen=True)
class UserInfo:
    """An account as the app and the CLI see it (never its password hash)."""

    username: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    def may(self, action: Action) -> bool:
        return not self.disabled and action in ALLOWED[self.role]


def _info(u: User) -> UserInfo:
    role: Role = "clinician" if u.role == "clinician" else "assistant"
    return UserInfo(u.username, role, u.disabled, utc(u.created_at),
                    utc(u.last_login_at) if u.last_login_at else None)


def clean_username(name: str) -> str:
    """A user name as stored: NFC, lower case; letters, digits and . _ @ - only, 1-64 chars.

    Raises:
        RecordError: anything else.
    """
    text = unicodedata.normalize("NFC", name).strip().lower()
    if not USERNAME.fullmatch(text):
        raise RecordError("a user name is 1-64 letters a-z, digits and . _ @ -, starting with a "
                          "letter or digit")
    return text


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise RecordError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def _find(s: Session, username: str) -> User:
    row = s.scalar(select(User).where(User.username == clean_username(username)))
    if row is None:
        raise NotFoundError(f"no account {clean_username(username)!r}")
    return row


def accounts_exist(s: Session) -> bool:
    return bool(s.scalar(select(func.count(User.id))))


def require(s: Session, name: str, action: Action) -> str:
    """The name to record for ``action`` by ``name`` (see the module docstring).

    Raises:
        RecordError: an empty name; with accounts: not an active account, or one whose role
            may not do this.
    """
    if not accounts_exist(s):
        return clean_name(name, "name")
    try:
        username = clean_username(name)
    except RecordError:
        raise RecordError(f"{' '.join(name.split())[:64]!r} is not a valgus account") from None
    row = s.scalar(select(User).where(User.username == username))
    if row is None or row.disabled:
        raise RecordError(f"{username!r} is not an active valgus account (valgus user add)")
    if action not in ALLOWED[row.role]:
        raise RecordError(f"{username} is an {row.role}: only a clinician may {VERBS[action]}")
    return username


def add_user(db: Database, username: str, role: str, password: str) -> UserInfo:
    """A new account. Raises ``RecordError`` for a taken or bad name, an unknown role or a
    short password."""
    username = clean_username(username)
    if role not in ROLES:
        raise RecordError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    _check_password(password)
    hashed = _HASHER.hash(password)
    with db.write() as s:
        if s.scalar(select(User).where(User.username == username)) is not None:
            raise RecordError(f"the account {username!r} exists already")
        row = User(username=username, role=role, password_hash=hashed, disabled=False,
                   failed_logins=0, created_at=now())
        s.add(row)
        s.flush()
        audit.note(s, audit.local_actor(), "user_added", f"user {username}", role=role)
        return _info(row)


def set_password(db: Database, username: str, password: str) -> None:
    """Replace an account's password (and lift its back-off)."""
    _check_password(password)
    hashed = _HASHER.hash(password)
    with db.write() as s:
        row = _find(s, username)
        row.password_hash, row.failed_logins, row.locked_until = hashed, 0, None
        audit.note(s, audit.local_actor(), "user_changed", f"user {row.username}", password="set")


def set_disabled(db: Database, username: str, disabled: bool = True) -> UserInfo:
    """Disable (or enable again) an account: a disabled one can neither log in nor act."""
    with db.write() as s:
        row = _find(s, username)
        audit.note(s, audit.local_actor(), "user_changed", f"user {row.username}",
                   disabled={"old": row.disabled, "new": disabled})
        row.disabled = disabled
        return _info(row)


def list_users(db: Database) -> list[UserInfo]:
    with db.read() as s:
        return [_info(u) for u in s.scalars(select(User).order_by(User.username))]


def get_user(db: Database, username: str) -> UserInfo:
    with db.read() as s:
        return _info(_find(s, username))


def _lock_s(failures: int) -> float:
    over = failures - FREE_FAILURES
    return 0.0 if over < 0 else float(min(2 ** (over + 1), MAX_LOCK_S))


def authenticate(db: Database, username: str, password: str) -> UserInfo:
    """The account, if ``password`` is its password and it is active and not backing off.

    Raises:
        LoginError: wrong name or password, a disabled account, or a back-off in progress.
    """
    try:
        name = clean_username(username)
    except RecordError:
        name = ""
    with db.read() as s:
        row = s.scalar(select(User).where(User.username == name)) if name else None
        stored = row.password_hash if row is not None else _DUMMY_HASH
        locked = row.locked_until if row is not None else None
    when = now()
    if locked is not None and locked > when:
        wait = int((locked - when).total_seconds()) + 1
        raise LoginError(f"too many failed logins: try again in {wait} s")
    try:
        ok = _HASHER.verify(stored, password[:MAX_PASSWORD_CHARS]) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    with db.write() as s:
        current = s.scalar(select(User).where(User.username == name)) if name else None
        if current is None:
            audit.note(s, name or "?", "login_failed", f"user {name or '?'}")
            s.commit()
            raise LoginError("wrong user name or password")
        if not ok or current.disabled:
            audit.note(s, name, "login_failed", f"user {name}")
            current.failed_logins += 1
            lock = _lock_s(current.failed_logins)
            current.locked_until = when + timedelta(seconds=lock) if lock else None
            s.commit()
            raise LoginError("wrong user name or password")
        current.failed_logins, current.locked_until, current.last_login_at = 0, None, when
        audit.note(s, name, "login", f"user {name}")
        if _HASHER.check_needs_rehash(current.password_hash):
            current.password_hash = _HASHER.hash(password)
        return _info(current)
