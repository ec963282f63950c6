"""Opening the records database and the data directory; units of work; crash-safe files.

* The data directory (``--data-dir``, else ``VALGUS_DATA_DIR``, else the platform's user data
  directory, ``~/.local/share/valgus`` on Linux) holds the SQLite file ``valgus.db`` and the
  stored clips and pose files. ``VALGUS_DATABASE_URL`` (any SQLAlchemy URL, e.g. PostgreSQL for a
  clinic) replaces the SQLite file; clips still go to the data directory.
* Opening runs the Alembic migrations up to head, so a new or older database is brought up to
  date before use.
* Every unit of work gets its own ``Session`` (``Database.read`` / ``Database.write``); there is
  no module-level session, so two callers (two browser sessions, two processes) never share
  state. SQLite runs in WAL mode (readers do not block the writer) with a busy timeout, and a
  write takes the write lock at its start (``BEGIN IMMEDIATE``): two writers queue instead of
  failing half-way when both try to upgrade a read lock.
* Files enter the data directory in two steps: copied to ``tmp/`` first (outside any
  transaction), renamed to their final name inside the transaction that records them, just
  before its commit. A crash leaves at most an unreferenced file, removed by ``sweep_orphans``
  (run on open); a row never points to a missing file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from valgus.paths import data_dir
from valgus.store.errors import StorageError
from valgus.store.migrate import upgrade_to_head
from valgus.store.models import Analysis, Clip

DATABASE_URL_ENV = "VALGUS_DATABASE_URL"
DB_FILE = "valgus.db"
CLIPS_DIR = "clips"
POSES_DIR = "poses"
TMP_DIR = "tmp"
# A writer waits this long (s) for another writer's transaction to finish before giving up.
BUSY_TIMEOUT_S = 30.0
# Unreferenced files younger than this are left alone where the database cannot lock out writers
# while the sweep runs (not SQLite): they may belong to a save that has not committed yet. A
# save of a clip takes seconds; an hour is far beyond it.
ORPHAN_GRACE_S = 3600.0
_COPY_CHUNK = 1 << 20
_HOST = socket.gethostname().replace("-", "_")


def default_data_dir() -> Path:
    """``VALGUS_DATA_DIR`` if set, else the user data directory (``valgus.paths.data_dir``)."""
    return data_dir()


def database_url(data_dir: Path, url: str | None = None) -> str:
    """The database to use: ``url``, else ``VALGUS_DATABASE_URL``, else SQLite in ``data_dir``."""
    url = url or os.environ.get(DATABASE_URL_ENV)
    return url or f"sqlite:///{(data_dir / DB_FILE).resolve()}"


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as err:  # SQLAlchemy raises ArgumentError; any bad URL is the user's input
        raise StorageError(f"not a database URL: {url!r}") from err
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: a clinic server may drop idle connections between two uses of the app.
        return create_engine(parsed, pool_pre_ping=True)
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (sqlite3's legacy mode would skip it for SELECT and
        # DDL, breaking transactional migrations), then set up each connection.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if parsed.database and parsed.database != ":memory:":
            cur.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL loses no committed transaction on a process crash; only a power
            # cut can drop the last ones, never corrupting the file.
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("valgus_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@dataclass
class StagedFile:
    """A file copied into ``tmp/`` and waiting for its transaction. ``publish`` renames it to its
    final place (call inside the transaction, after the rows are flushed); ``discard`` removes
    whatever this stage left if the transaction did not commit."""

    temp: Path
    final: Path
    relative: str
    sha256: str
    size_bytes: int
    published: bool = field(default=False)

    def publish(self) -> None:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp, self.final)
        self.published = True
        _fsync_dir(self.final.parent)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.final if self.published else self.temp).unlink()


def _fsync_dir(path: Path) -> None:
    # A rename is only durable once its directory is flushed.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Database:
    """The records database and its data directory. Thread-safe; open once per process (or per
    app) and use ``read()`` / ``write()`` for each unit of work."""

    def __init__(self, data_dir: Path, engine: Engine) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self._writer = engine.execution_options(valgus_begin="IMMEDIATE")

    @classmethod
    def open(
        cls, data_dir: Path | str | None = None, url: str | None = None, *, sweep: bool = True
    ) -> Database:
        """Open (creating if needed) the data directory and the database, migrate it to the
        current schema and remove files left by interrupted saves.

        Raises:
            StorageError: the directory cannot be created or the database cannot be reached or
                migrated.
        """
        directory = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
        try:
            for sub in (CLIPS_DIR, POSES_DIR, TMP_DIR):
                (directory / sub).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(
                f"cannot create the data directory {directory}: {err.strerror}"
            ) from err
        engine = _make_engine(database_url(directory, url))
        db = cls(directory, engine)
        try:
            upgrade_to_head(engine)
            if sweep:
                db.sweep_orphans()
        except SQLAlchemyError as err:
            engine.dispose()
            raise StorageError(f"cannot open the database: {_reason(err)}") from err
        return db

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_sqlite(self) -> bool:
        return _is_sqlite(self.engine)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            except SQLAlchemyError as err:
                raise StorageError(f"database error: {_reason(err)}") from err
            finally:
                session.rollback()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back on any error.
        On SQLite the write lock is taken at the start, so concurrent writers wait their turn
        (up to ``BUSY_TIMEOUT_S``)."""
        with Session(self._writer, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except SQLAlchemyError as err:
                session.rollback()
                raise StorageError(f"database error: {_reason(err)}") from err
            except BaseException:
                session.rollback()
                raise

    # ------------------------------------------------------------------ files

    def path(self, relative: str) -> Path:
        """Absolute path of a stored file (``relative`` as kept in the database)."""
        return self.data_dir / relative

    def _temp_path(self, suffix: str) -> Path:
        # Host and pid in the name tell the sweep whether the save that made it is still running.
        return self.data_dir / TMP_DIR / f"{_HOST}-{os.getpid()}-{uuid.uuid4().hex}{suffix}"

    def stage_copy(self, source: Path, subdir: str = CLIPS_DIR) -> StagedFile:
        """Copy ``source`` into ``tmp/`` while computing its sha256 (hex), flushed to disk.
        The final name is ``SUBDIR/<sha256 prefix>-<random>.<ext>``: unique, so no two saves
        ever share (and could delete) one file."""
        suffix = source.suffix.lower()[:10]
        temp = self._temp_path(suffix)
        digest = hashlib.sha256()
        size = 0
        try:
            with source.open("rb") as src, temp.open("xb") as dst:
                while chunk := src.read(_COPY_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except OSError as err:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise StorageError(
                f"cannot copy {source} into {self.data_dir}: {err.strerror}"
            ) from err
        sha = digest.hexdigest()
        relative = f"{subdir}/{sha[:16]}-{uuid.uuid4().hex[:12]}{suffix}"
        return StagedFile(temp, self.path(relative), relative, sha, size)

    def stage_new(self, suffix: str, subdir: str) -> StagedFile:
        """A staged file for the caller to write at ``.temp`` (e.g. a pose file); sha256 and size
        are filled by ``finish_stage``."""
        temp = self._temp_path(suffix)
        relative = f"{subdir}/{uuid.uuid4().hex}{suffix}"
        return StagedFile(temp, self.path(relative), relative, "", 0)

    def sweep_orphans(self, grace_s: float = ORPHAN_GRACE_S) -> list[Path]:
        """Remove files no committed row refers to: temp files of saves whose process has died
        (or older than ``grace_s``), and stored clips and pose files without a row.

        On SQLite this runs under the write lock, which every save holds from before it renames
        its file until after it commits: a file found unreferenced here can only come from a
        save that died. Elsewhere only files older than ``grace_s`` are removed.
        """
        removed: list[Path] = []
        now = time.time()
        for temp in (self.data_dir / TMP_DIR).glob("*"):
            host, _, rest = temp.name.partition("-")
            pid_text = rest.partition("-")[0]
            dead = host == _HOST and pid_text.isdigit() and not _pid_alive(int(pid_text))
            if dead or _older(temp, now, grace_s):
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
                    removed.append(temp)
        with self.write() as session:
            referenced = set(session.scalars(select(Clip.stored_path)))
            referenced |= {p for p in session.scalars(select(Analysis.poses_path)) if p}
            locked = self.is_sqlite
            for sub in (CLIPS_DIR, POSES_DIR):
                for path in (self.data_dir / sub).glob("*"):
                    relative = f"{sub}/{path.name}"
                    if relative in referenced or not path.is_file():
                        continue
                    if locked or _older(path, now, grace_s):
                        with contextlib.suppress(FileNotFoundError):
                            path.unlink()
                            removed.append(path)
        return removed


def finish_stage(staged: StagedFile) -> StagedFile:
    """Fill in the sha256 and size of a file written to ``staged.temp``; flush it to disk."""
    digest = hashlib.sha256()
    size = 0
    with staged.temp.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(f.fileno())
    staged.sha256, staged.size_bytes = digest.hexdigest(), size
    return staged


def sha256_file(path: Path) -> str:
    """sha256 (hex) of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _older(path: Path, now: float, grace_s: float) -> bool:
    try:
        return now - path.stat().st_mtime > grace_s
    except FileNotFoundError:
        return False


def _reason(err: SQLAlchemyError) -> str:
    """The driver's own message, on one line, without SQLAlchemy's SQL dump and links."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err)
    return text.splitlines()[0] if text else type(err).__name__
