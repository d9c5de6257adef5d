"""Move a club from SQLite to PostgreSQL: every table copied into an empty PostgreSQL database at head, checked.

The target is migrated to head and must hold no rows. The tables are copied in dependency order (a row's
references are there before it), each read in primary-key order through a server-side cursor and written in
batches, so no table is ever held in memory whole. The whole copy is one transaction on PostgreSQL: it lands
whole or not at all. Then each table's sequence is set past its largest id, so new rows get fresh ids, and
the row counts of every table and the sums that carry money and points (members' balances, the ledger's points,
purchases' amounts) are compared on both sides, before the commit: a difference rolls the copy back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Select, Table, false, func, insert, literal, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import create_engine, first_line
from storage.migrate import alembic_head, upgrade
from storage.models import Base, LedgerEntry, Member, Purchase

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
EXAMPLES = {"sqlite": "sqlite:///data/loyalty.db", "postgresql": "postgresql://user:password@host:5432/loyalty"}
BATCH = 1000  # rows a statement: a few hundred kilobytes in memory, whatever the table's size
SUMS = (Member.__table__.c.balance, LedgerEntry.__table__.c.points, Purchase.__table__.c.amount)


class TransferError(Exception):
    """The copy cannot be made or did not check out; the message says why."""


@dataclass(frozen=True)
class Figure:
    """A count or a sum, on the SQLite side and on the PostgreSQL side."""

    name: str
    source: int
    target: int


async def copy_to_postgres(source_url: str, target_url: str, batch: int = BATCH) -> list[Figure]:
    """Copy the SQLite database at `source_url` into the empty PostgreSQL database at `target_url`; the figures
    compared (all equal, else TransferError and nothing is kept)."""
    source, target = _sqlite_engine(source_url), _postgres_engine(target_url)
    try:
        await _check_source(source)
        await upgrade(target)
        async with source.connect() as reading, target.begin() as writing:
            await _refuse_rows(writing)
            for table in Base.metadata.sorted_tables:
                await _copy_table(reading, writing, table, batch)
            await _set_sequences(writing)
            figures = [
                Figure(name, int(await reading.scalar(query)), int(await writing.scalar(query)))
                for name, query in _checks()
            ]
            wrong = [figure.name for figure in figures if figure.source != figure.target]
            if wrong:
                raise TransferError(
                    f"The copy differs from the SQLite database in {', '.join(wrong)}; nothing was kept."
                )
        return figures
    except (OSError, SQLAlchemyError) as error:
        raise TransferError(f"Cannot copy the database: {first_line(error)}") from None
    finally:
        await source.dispose()
        await target.dispose()


def _sqlite_engine(value: str) -> AsyncEngine:
    """An engine on the SQLite source, which must be an existing file (a URL, or a bare path)."""
    url = _parsed(value if "://" in value else f"sqlite:///{value}", "sqlite", "source")
    if not Path(url.database or "").is_file():
        raise TransferError(f"No SQLite database at {url.database}: check the path.")
    return create_engine(url.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False))


def _postgres_engine(value: str) -> AsyncEngine:
    """An engine on the PostgreSQL target (postgresql:// is read as postgresql+asyncpg://)."""
    url = _parsed(value, "postgresql", "target")
    return create_engine(url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False))


def _parsed(value: str, backend: str, role: str) -> URL:
    """The source's or target's URL, which must be of `backend`."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise TransferError(f"The {role} {value!r} is not a URL such as {EXAMPLES[backend]}.") from None
    if url.get_backend_name() != backend:
        raise TransferError(f"The {role} must be a {NAMES[backend]} database, not {url.render_as_string()}.")
    return url


async def _check_source(source: AsyncEngine) -> None:
    """Refuse a SQLite database that is missing or not migrated to head."""
    path = source.url.database or ""
    async with source.connect() as connection:
        has_versions = await connection.run_sync(lambda sync: sync.dialect.has_table(sync, "alembic_version"))
        version = await connection.scalar(text("SELECT version_num FROM alembic_version")) if has_versions else None
    if version is None:
        raise TransferError(f"{path} holds no club: check the SQLite database's path.")
    if version != alembic_head():
        raise TransferError(f"{path} is at migration {version}, not {alembic_head()}: migrate it first.")


async def _refuse_rows(target: AsyncConnection) -> None:
    """Refuse a target that holds any row."""
    full = [
        table.name
        for table in Base.metadata.sorted_tables
        if await target.scalar(select(literal(1)).select_from(table).limit(1)) is not None
    ]
    if full:
        raise TransferError(
            f"The PostgreSQL database is not empty ({', '.join(full)} have rows): copy into an empty one."
        )


async def _copy_table(reading: AsyncConnection, writing: AsyncConnection, table: Table, batch: int) -> None:
    """Copy one table's rows in primary-key order, `batch` rows a statement."""
    rows = await reading.stream(select(table).order_by(*table.primary_key.columns))
    async for part in rows.partitions(batch):
        await writing.execute(insert(table), [row._asdict() for row in part])


async def _set_sequences(target: AsyncConnection) -> None:
    """Set each serial id's sequence past the largest id copied, so the next row gets a fresh one."""
    for table in Base.metadata.sorted_tables:
        [key] = table.primary_key.columns
        if not isinstance(key.type, Integer) or key.autoincrement is False:
            continue
        sequence = await target.scalar(select(func.pg_get_serial_sequence(table.name, key.name)))
        if sequence is not None:
            after = select(func.coalesce(func.max(key), 0) + 1).scalar_subquery()
            await target.execute(select(func.setval(sequence, after, false())))


def _checks() -> list[tuple[str, Select[Any]]]:
    """The figures compared: each table's row count, and the sums of money and points (which PostgreSQL gives as
    NUMERIC, hence `int` on reading them)."""
    counts = [(table.name, select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables]
    sums = [(f"{column.table.name}.{column.name}", select(func.coalesce(func.sum(column), 0))) for column in SUMS]
    return counts + sums
