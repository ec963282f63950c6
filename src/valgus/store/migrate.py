"""Running the Alembic migrations from code (no alembic.ini needed): ``upgrade_to_head`` on open,
``alembic_config`` for tests and for ``alembic`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at valgus's migrations; ``connection`` is handed to env.py."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest schema. Cheap when it is already
    there (one query). The upgrade runs in one transaction holding the write lock (the
    ``valgus_begin`` execution option that ``valgus.store.db`` reads on SQLite), so two processes
    opening a new database at once migrate it once: the second finds it at head.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or migrated.
    """
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return
    with engine.execution_options(valgus_begin="IMMEDIATE").begin() as conn:
        command.upgrade(alembic_config(conn), "head")
