"""The schema version of a records database and the Alembic migrations, run from code (no
alembic.ini needed).

Opening (``check_schema``) never migrates: a new, empty database is created at the current
schema; an older one is refused until ``valgus records upgrade`` (``upgrade``), which the clinic
runs after a backup; a database made by a newer valgus is refused with that version, so an old
install cannot damage it. Every creation or upgrade records the valgus version that did it in
the ``settings`` table (name ``schema``), which is how a newer database names its maker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import delete, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from valgus import __version__
from valgus.store.errors import NoRecordsError, StorageError
from valgus.store.models import Setting

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SCHEMA_SETTING = "schema"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at valgus's migrations; ``connection`` is handed to env.py."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return _scripts().get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _is_empty(connection: Connection) -> bool:
    """No table but (maybe) Alembic's own: a new database, or one downgraded to nothing."""
    return set(inspect(connection).get_table_names()) <= {VERSION_TABLE}


def made_by(connection: Connection) -> str | None:
    """The valgus version that last created or upgraded this database's schema, if recorded."""
    try:
        value = connection.scalar(select(Setting.value).where(Setting.name == SCHEMA_SETTING))
    except SQLAlchemyError:
        return None
    return str(value.get("valgus_version")) if isinstance(value, dict) else None


def check_schema(engine: Engine, create: bool = True) -> None:
    """Make sure the database behind ``engine`` has exactly this valgus's schema. An empty
    database is created at head when ``create`` (in one transaction holding the write lock, so
    two processes creating it at once create it once); nothing else is changed.

    Raises:
        StorageError: the database is older (run ``valgus records upgrade``), newer (made by
            a newer valgus), not a valgus database, or empty and ``create`` is false.
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached.
    """
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
        if current == head:
            return
        empty = current is None and _is_empty(conn)
        if not empty:
            raise _version_error(conn, current, head)
    if not create:
        raise NoRecordsError("there are no records in this database yet")
    with engine.execution_options(valgus_begin="IMMEDIATE").begin() as conn:
        current = current_revision(conn)
        if current is None and _is_empty(conn):
            _upgrade_in(conn, head)
        elif current != head:
            raise _version_error(conn, current, head)


def _version_error(conn: Connection, current: str | None, head: str | None) -> StorageError:
    if current is None:
        return StorageError("this database holds tables but no valgus schema version: it is "
                            "not a valgus records database")
    if not _known(current):
        maker = made_by(conn)
        by = f"valgus {maker}" if maker else "a newer valgus"
        return StorageError(f"the records database was made by {by} (schema {current}); this "
                            f"is valgus {__version__}: upgrade valgus to open it")
    return StorageError(f"the records database has schema {current}, older than this valgus "
                        f"(schema {head}): back it up, then run `valgus records upgrade`")


def _upgrade_in(conn: Connection, head: str | None) -> None:
    command.upgrade(alembic_config(conn), "head")
    conn.execute(delete(Setting).where(Setting.name == SCHEMA_SETTING))
    conn.execute(insert(Setting).values(
        name=SCHEMA_SETTING, value={"revision": head, "valgus_version": __version__},
        updated_by=f"valgus {__version__}", updated_at=datetime.now(UTC).replace(tzinfo=None),
    ))


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Migrate the database behind ``engine`` to this valgus's schema (``valgus records
    upgrade``; back the database up first). Returns (revision before, revision after).

    Raises:
        StorageError: the database was made by a newer valgus, or is not a valgus database.
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or migrated.
    """
    head = head_revision()
    with engine.execution_options(valgus_begin="IMMEDIATE").begin() as conn:
        before = current_revision(conn)
        if before is not None and not _known(before):
            raise _version_error(conn, before, head)
        if before is None and not _is_empty(conn):
            raise _version_error(conn, before, head)
        if before != head:
            _upgrade_in(conn, head)
    return before, head
