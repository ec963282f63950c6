"""Opening the records database and the data directory; units of work; crash-safe files.

* The data directory (``--data-dir``, else ``VALGUS_DATA_DIR``, else the platform's user data
  directory, ``~/.local/share/valgus`` on Linux) holds the SQLite file ``valgus.db`` and the
  stored clips and pose files. ``VALGUS_DATABASE_URL`` (any SQLAlchemy URL, e.g. PostgreSQL for a
  clinic) replaces the SQLite file; clips still go to the data directory. The directories are
  made private (0700) when valgus creates them.
* Opening never changes what is stored: a new, empty database is created at the current schema,
  an older one is refused until ``valgus records upgrade`` (``migrate.upgrade``) and a newer one
  names the valgus that made it (``migrate.check_schema``). No file is ever deleted on open:
  files no row refers to are only listed by ``valgus records check`` and moved aside by
  ``valgus records quarantine`` (``valgus.store.check``).
* ``readonly=True`` (the commands that only show) opens SQLite read-only (immutable where the
  folder itself cannot be written), creates nothing and takes no write lock.
* Every unit of work gets its own ``Session`` (``Database.read`` / ``Database.write``); there is
  no module-level session, so two callers (two browser sessions, two processes) never share
  state. SQLite runs in WAL mode (readers do not block the writer) with a busy timeout, and a
  write takes the write lock at its start (``BEGIN IMMEDIATE``): two writers queue instead of
  failing half-way when both try to upgrade a read lock.
* Files enter the data directory in two steps: copied to ``tmp/`` first (outside any
  transaction, named for their database, host and process), renamed to their final name inside
  the transaction that records them, just before its commit. A crash leaves at most an
  unreferenced file, which ``valgus records check`` lists; a row never points to a missing file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from valgus.files import sha256_file as sha256_file  # re-exported: one helper, in files
from valgus.paths import data_dir
from valgus.store.errors import NoRecordsError, StorageError
from valgus.store.migrate import check_schema, upgrade

DATABASE_URL_ENV = "VALGUS_DATABASE_URL"
DB_FILE = "valgus.db"
CLIPS_DIR = "clips"
POSES_DIR = "poses"
TMP_DIR = "tmp"
# A writer waits this long (s) for another writer's transaction to finish before giving up.
BUSY_TIMEOUT_S = 30.0
_COPY_CHUNK = 1 << 20
HOST = socket.gethostname().replace("-", "_")
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def default_data_dir() -> Path:
    """``VALGUS_DATA_DIR`` if set, else the user data directory (``valgus.paths.data_dir``)."""
    return data_dir()


def database_url(data_dir: Path, url: str | None = None) -> str:
    """The database to use: ``url``, else ``VALGUS_DATABASE_URL``, else SQLite in ``data_dir``."""
    url = url or os.environ.get(DATABASE_URL_ENV)
    return url or f"sqlite:///{(data_dir / DB_FILE).resolve()}"


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except Exception as err:  # SQLAlchemy raises ArgumentError; any bad URL is the user's input
        raise StorageError("not a database URL (see VALGUS_DATABASE_URL)") from err


def database_tag(url: URL) -> str:
    """A short name for the database behind ``url`` (password left out), put in the names of
    its temporary files so that the check of one database never touches another's."""
    shown = url.render_as_string(hide_password=True)
    return hashlib.sha256(shown.encode()).hexdigest()[:12]


def _readonly_sqlite(parsed: URL) -> URL:
    """``parsed`` as a read-only SQLite URI; immutable where the folder cannot be written
    (SQLite cannot otherwise read a WAL database there: it would create its -shm file)."""
    path = Path(parsed.database or "")
    if not path.is_file():
        raise NoRecordsError(f"no records database at {path}: nothing was saved there yet")
    flags = "mode=ro" if os.access(path.parent, os.W_OK) else "mode=ro&immutable=1"
    return parsed.set(database=f"file:{path.resolve()}?{flags}", query={"uri": "true"})


def _make_engine(parsed: URL, readonly: bool = False) -> Engine:
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: a clinic server may drop idle connections between two uses of the app.
        opts = {"postgresql_readonly": True} if readonly else {}
        return create_engine(parsed, pool_pre_ping=True, execution_options=opts)
    wal = bool(parsed.database) and parsed.database != ":memory:" and not readonly
    if readonly:
        parsed = _readonly_sqlite(parsed)
    elif wal and parsed.database:
        _create_private_database(Path(parsed.database))
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (sqlite3's legacy mode would skip it for SELECT and
        # DDL, breaking transactional migrations), then set up each connection.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if wal:
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


class Database:
    """The records database and its data directory. Thread-safe; open once per process (or per
    app) and use ``read()`` / ``write()`` for each unit of work. ``tag``: names the temporary
    files of this database (``database_tag``)."""

    def __init__(
        self, data_dir: Path, engine: Engine, tag: str = "", readonly: bool = False
    ) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self.tag = tag or database_tag(engine.url)
        self.readonly = readonly
        self._writer = engine.execution_options(valgus_begin="IMMEDIATE")

    @classmethod
    def open(
        cls, data_dir: Path | str | None = None, url: str | None = None, *, readonly: bool = False
    ) -> Database:
        """Open the data directory and the database; a new, empty database is created at the
        current schema. Nothing stored is changed or removed (see the module docstring).
        ``readonly``: create nothing, write nothing, take no write lock.

        Raises:
            StorageError: the directory cannot be created, the database cannot be reached, is
                older than this valgus (run ``valgus records upgrade``) or newer (upgrade
                valgus), or (``readonly``) does not exist yet.
        """
        directory = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
        if not readonly:
            make_private_dirs(directory, CLIPS_DIR, POSES_DIR, TMP_DIR)
        parsed = _parse_url(database_url(directory, url))
        engine = _make_engine(parsed, readonly)
        try:
            check_schema(engine, create=not readonly)
        except SQLAlchemyError as err:
            engine.dispose()
            raise StorageError(f"cannot open the database: {_reason(err)}") from err
        except BaseException:
            engine.dispose()
            raise
        return cls(directory, engine, database_tag(parsed), readonly)

    @staticmethod
    def upgrade(
        data_dir: Path | str | None = None, url: str | None = None
    ) -> tuple[str | None, str | None]:
        """Migrate the database to this valgus's schema (``valgus records upgrade``; back it
        up first). Returns (schema before, schema after).

        Raises:
            StorageError: the database cannot be reached or migrated, or is newer.
        """
        directory = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
        make_private_dirs(directory, CLIPS_DIR, POSES_DIR, TMP_DIR)
        engine = _make_engine(_parse_url(database_url(directory, url)))
        try:
            return upgrade(engine)
        except SQLAlchemyError as err:
            raise StorageError(f"cannot upgrade the database: {_reason(err)}") from err
        finally:
            engine.dispose()

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
        # Database, host and pid in the name tell `valgus records check` whose file it is and
        # whether the save that made it is still running (``temp_owner``).
        name = f"{self.tag}-{HOST}-{os.getpid()}-{uuid.uuid4().hex}{suffix}"
        return self.data_dir / TMP_DIR / name

    def stage_copy(self, source: Path, subdir: str = CLIPS_DIR) -> StagedFile:
        """Copy ``source`` into ``tmp/`` while computing its sha256 (hex), flushed to disk.
        The final name is ``SUBDIR/<sha256 prefix>-<random>.<ext>``: unique, so no two saves
        ever share (and could delete) one file."""
        suffix = source.suffix.lower()[:10]
        temp = self._temp_path(suffix)
        digest = hashlib.sha256()
        size = 0
        try:
            with source.open("rb") as src, _create_private(temp) as dst:
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


def make_private_dirs(directory: Path, *subdirs: str) -> None:
    """Create ``directory`` and its ``subdirs``, readable by their owner only (0700) when
    valgus creates them (an existing folder keeps the modes its owner chose).

    Raises:
        StorageError: a folder cannot be created.
    """
    try:
        for path in (directory, *(directory / sub for sub in subdirs)):
            if not path.is_dir():
                path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
                path.chmod(PRIVATE_DIR)
    except OSError as err:
        raise StorageError(
            f"cannot create the data directory {directory}: {err.strerror}"
        ) from err


def _create_private_database(path: Path) -> None:
    """Create a missing SQLite database file empty and readable by its owner only (0600), so
    SQLite never creates it with the umask's mode; its -wal and -shm files take the database
    file's mode. An existing file is left as it is.

    Raises:
        StorageError: the file cannot be created.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        return
    except OSError as err:
        raise StorageError(f"cannot open the database {path}: {err.strerror}") from err
    path.chmod(PRIVATE_FILE)


def _create_private(path: Path) -> BinaryIO:
    """A new file (never an existing one) open for writing, readable by its owner only."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb")


def temp_owner(name: str) -> tuple[str, str, int | None]:
    """(database tag, host, pid) from a temporary file's name; pid None if unreadable."""
    tag, _, rest = name.partition("-")
    host, _, rest = rest.partition("-")
    pid_text = rest.partition("-")[0]
    return tag, host, int(pid_text) if pid_text.isdigit() else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def finish_stage(staged: StagedFile) -> StagedFile:
    """Fill in the sha256 and size of a file written to ``staged.temp``; flush it to disk."""
    digest = hashlib.sha256()
    size = 0
    staged.temp.chmod(PRIVATE_FILE)
    with staged.temp.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(f.fileno())
    staged.sha256, staged.size_bytes = digest.hexdigest(), size
    return staged


def _reason(err: SQLAlchemyError) -> str:
    """The driver's own message, on one line, without SQLAlchemy's SQL dump and links."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err)
    return text.splitlines()[0] if text else type(err).__name__
