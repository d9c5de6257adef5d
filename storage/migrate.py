"""Apply the Alembic migrations that ship with the package, from code or from the CLI.

Alembic says a line for each migration it runs, and two about the database; at start that is one line, ours, from
which revision to which (Alembic's own lines show from LOG_LEVEL=DEBUG up).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at our migrations, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database behind `engine` up to `revision` (`_migrate`)."""
    await _migrate(engine, lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database behind `engine` back down to `revision` (`_migrate`): what an operator undoing a release
    runs, and what the tests check every new migration can do."""
    await _migrate(engine, lambda sync: command.downgrade(alembic_config(sync), revision))


async def _migrate(engine: AsyncEngine, step: Callable[[Connection], None]) -> None:
    """Run the migration `step` in one transaction.

    On SQLite, foreign keys are off while the migrations run: batch mode rebuilds a table it cannot alter in place
    (copy, drop, rename), and dropping a table that other tables' rows point at fails with the keys on, though the
    rebuilt table takes its place under the same name. The keys are checked once all is done, and a violation
    rolls the whole migration back. (The pragma only works outside a transaction, hence before it begins.)
    """
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as connection:
        if sqlite:
            await _pragma(connection, "foreign_keys = OFF")
        try:
            async with connection.begin():
                with _alembic_quiet():
                    before = await connection.run_sync(_revision)
                    await connection.run_sync(step)
                    after = await connection.run_sync(_revision)
                if sqlite:
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).first()
                    if broken is not None:
                        raise RuntimeError(f"a migration left a row pointing nowhere: {tuple(broken)}")
        finally:
            if sqlite:
                await _pragma(connection, "foreign_keys = ON")
    if before == after:
        logger.info("database schema up to date at %s", after)
    else:
        logger.info("database schema migrated from %s to %s", before or "empty", after or "empty")


def _revision(connection: Connection) -> str | None:
    """The database's Alembic revision (None: no migration applied)."""
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _alembic_quiet() -> Iterator[None]:
    """Alembic's INFO lines left out while it runs, unless DEBUG is on."""
    alembic = logging.getLogger("alembic")
    if alembic.isEnabledFor(logging.DEBUG):
        yield
        return
    level = alembic.level
    alembic.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic.setLevel(level)


async def _pragma(connection: AsyncConnection, pragma: str) -> None:
    """Set a SQLite pragma outside any transaction (SQLAlchemy's autobegun one is ended at once)."""
    await connection.exec_driver_sql(f"PRAGMA {pragma}")
    await connection.commit()


def alembic_head() -> str:
    """The newest migration's revision: where `upgrade` takes a database."""
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())
