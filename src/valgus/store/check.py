"""Files and rows that do not match: ``valgus records check`` lists them, ``valgus records
quarantine`` moves the unreferenced files aside. Nothing here deletes a file.

An unreferenced file in ``clips/`` or ``poses/`` is a save that died between renaming its file
and committing, or (far more likely, and why nothing is ever removed on its own) a clip of
*another* database: the folder opened with another ``VALGUS_DATABASE_URL``, an empty or
restored ``valgus.db``. Quarantine moves such files to ``quarantine/<time>/`` under the data
directory, keeping their relative paths, from where they can be put back.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from valgus.store import audit
from valgus.store.db import (
    CLIPS_DIR,
    HOST,
    POSES_DIR,
    PRIVATE_DIR,
    TMP_DIR,
    Database,
    _parse_url,
    database_tag,
    database_url,
    default_data_dir,
    make_private_dirs,
    pid_alive,
    temp_owner,
)
from valgus.store.errors import StorageError
from valgus.store.models import Analysis, Clip

QUARANTINE_DIR = "quarantine"
# Unreferenced files younger than this are left alone by quarantine where the database cannot
# lock out writers meanwhile (not SQLite): they may belong to a save that has not committed
# yet. A save of a clip takes seconds; an hour is far beyond it.
GRACE_S = 3600.0


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found, as paths relative to the data directory.

    ``unreferenced``: files in clips/ and poses/ no row of this database refers to.
    ``stale_temp``: this database's temporary files whose save is over (its process died, or
    older than ``GRACE_S``). ``missing``: files rows refer to that are not there.
    """

    unreferenced: tuple[str, ...]
    stale_temp: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not (self.unreferenced or self.stale_temp or self.missing)


def _referenced(s: Session) -> set[str]:
    paths = {p for p in s.scalars(select(Clip.stored_path)) if p}  # "" : erased
    return paths | {p for p in s.scalars(select(Analysis.poses_path)) if p}


def _older(path: Path, now: float, grace_s: float) -> bool:
    try:
        return now - path.stat().st_mtime > grace_s
    except FileNotFoundError:
        return False


def _scan(db: Database, referenced: set[str], now: float, grace_s: float) -> CheckReport:
    return _scan_folder(db.data_dir, db.tag, referenced, now, grace_s)


def _scan_folder(
    data_dir: Path, db_tag: str, referenced: set[str], now: float, grace_s: float
) -> CheckReport:
    unreferenced = sorted(
        f"{sub}/{p.name}" for sub in (CLIPS_DIR, POSES_DIR) if (data_dir / sub).is_dir()
        for p in (data_dir / sub).iterdir()
        if p.is_file() and f"{sub}/{p.name}" not in referenced
    )
    stale = []
    tmp = data_dir / TMP_DIR
    for p in sorted(tmp.iterdir()) if tmp.is_dir() else []:
        tag, host, pid = temp_owner(p.name)
        if tag != db_tag:
            continue  # another database's save: none of this check's business
        dead = host == HOST and pid is not None and not pid_alive(pid)
        if dead or _older(p, now, grace_s):
            stale.append(f"{TMP_DIR}/{p.name}")
    missing = sorted(r for r in referenced if not (data_dir / r).is_file())
    return CheckReport(tuple(unreferenced), tuple(stale), tuple(missing))


def check(db: Database, grace_s: float = GRACE_S) -> CheckReport:
    """List the files that do not match the rows (see ``CheckReport``); changes nothing and
    takes no write lock. A file a save is renaming right now may show as unreferenced."""
    with db.read() as s:
        referenced = _referenced(s)
    return _scan(db, referenced, time.time(), grace_s)


def check_without_records(
    data_dir: Path | str | None = None, url: str | None = None, grace_s: float = GRACE_S
) -> CheckReport:
    """``check`` for a database that holds no records (there is none, or it is empty: a
    restore gone wrong): every file in clips/ and poses/ is unreferenced. Opens no database,
    creates, changes and deletes nothing.

    Raises:
        StorageError: the database URL is not one.
    """
    directory = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    tag = database_tag(_parse_url(database_url(directory, url)))
    return _scan_folder(directory, tag, set(), time.time(), grace_s)


def quarantine(db: Database, grace_s: float = GRACE_S) -> tuple[Path | None, list[str]]:
    """Move the unreferenced and stale temporary files of ``check`` to
    ``quarantine/<UTC time>/`` (same relative paths). Returns that folder (None if nothing
    moved) and what moved.

    On SQLite this runs under the write lock, which every save holds from before it renames
    its file until after it commits, so a file found unreferenced cannot be a save in
    progress. Elsewhere only files older than ``grace_s`` move.

    Raises:
        StorageError: a file cannot be moved (those moved before stay moved and are listed
            in the quarantine folder).
    """
    now = time.time()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = db.data_dir / QUARANTINE_DIR / stamp
    moved: list[str] = []
    with db.write() as s:
        report = _scan(db, _referenced(s), now, grace_s)
        for relative in (*report.unreferenced, *report.stale_temp):
            source = db.data_dir / relative
            if not db.is_sqlite and not _older(source, now, grace_s):
                continue
            make_private_dirs(target, CLIPS_DIR, POSES_DIR, TMP_DIR)
            try:
                os.replace(source, target / relative)
            except FileNotFoundError:
                continue
            except OSError as err:
                raise StorageError(f"cannot move {relative} to {target}: {err.strerror}") from err
            moved.append(relative)
        if moved:
            audit.note(s, audit.local_actor(), "files_quarantined", "data directory",
                       folder=target.name, files=moved)
    if moved:
        (db.data_dir / QUARANTINE_DIR).chmod(PRIVATE_DIR)
    return (target if moved else None), moved
