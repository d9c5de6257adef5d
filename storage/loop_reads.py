"""Short reads of a SQLite file on the event loop's own thread, for the lookup every update makes.

aiosqlite runs each call on its connection's thread and hands the answer back to the loop: a statement through
SQLAlchemy's async session is four such hand-offs (cursor, execute, fetch, close), each waking the other thread and
then the loop. For the sender's account, a few index look-ups that SQLite answers in some ten microseconds, the
hand-offs cost many times the read (`BENCHMARKS.md`). So a SQLite file's engine gets a `Reader` beside it: one
sqlite3 connection of its own, read-only and in autocommit (each statement sees the latest commit and holds no
snapshot), kept open, whose reads run where the loop is. Writes, and every other read, stay on aiosqlite.

SQLAlchemy compiles a statement for the reader once (`Prepared`): its SQL, where each parameter goes, and the
conversions its types make of values going in and coming out (a moment to the text SQLite stores and back). Running
it through SQLAlchemy's engine each time cost five times the read itself: checking a connection out of its pool and
in again, its compiled-statement cache, its execution context and result rows.

Blocking the loop is what aiosqlite exists to avoid; it is bounded here. A reader in WAL mode waits for no writer;
what can keep it waiting (another connection's recovery of the file, or a file not in WAL mode while a writer holds
it) is cut off after `BUSY_TIMEOUT_S`, and the read goes to aiosqlite's thread instead.

PostgreSQL has no reader: its statements go over the network, and asyncpg already makes one await of each. What
its lookup saves is round trips: it reads in autocommit, by a connection of its own (`autocommitted`), not by the
update's session, which would send BEGIN before it and ROLLBACK at its end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Dialect, Engine, Select, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

BUSY_TIMEOUT_S = 0.05  # the longest the loop waits for a lock on the file before the read goes to aiosqlite

Convert = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for the reader: its SQL, each placeholder's parameter (with its value when the statement
    fixes one) and conversion, and each column's name and conversion."""

    sql: str
    placeholders: tuple[tuple[str, Any, Convert], ...]
    columns: tuple[tuple[str, Convert], ...]

    @classmethod
    def compile(cls, statement: Select[Any], dialect: Dialect) -> Prepared:
        compiled = statement.compile(dialect=dialect)
        binds = compiled.binds
        placeholders = tuple(
            (name, binds[name].value, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()
        )
        columns = tuple(
            (str(column.key), cast(Convert, column.type.dialect_impl(dialect).result_processor(dialect, None)))
            for column in statement.selected_columns
        )
        return cls(compiled.string, placeholders, columns)

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        """What goes into the placeholders, converted as SQLAlchemy would."""
        values = []
        for name, fixed, convert in self.placeholders:
            value = parameters.get(name, fixed)
            values.append(value if convert is None else convert(value))
        return values

    def row(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """A row SQLite returned, by column name, converted as SQLAlchemy would."""
        return {
            name: value if convert is None else convert(value)
            for (name, convert), value in zip(self.columns, values, strict=True)
        }


class Reader:
    """A SQLite file's read-only connection for the loop (opened at its first read, closed with its engine), and
    the statements it has compiled."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self.path = path
        self.dialect = dialect
        self._connection: sqlite3.Connection | None = None
        self._prepared: dict[Select[Any], Prepared] = {}
        self._trace: Callable[[str], None] | None = None

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection: read-only (SQLite refuses it any statement that would write), in autocommit."""
        if self._connection is None:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA query_only=ON")
            self._connection = connection
        return self._connection

    @property
    def is_open(self) -> bool:
        """Whether the connection is open now."""
        return self._connection is not None

    def one(self, statement: Select[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The one row `statement` returns, by column name; sqlite3.OperationalError when the file keeps the reader
        waiting over `BUSY_TIMEOUT_S`."""
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared.compile(statement, self.dialect)
        if self._trace is not None:
            self._trace(prepared.sql)
        [row] = self.connection.execute(prepared.sql, prepared.values(parameters)).fetchall()
        return prepared.row(row)

    def trace(self, callback: Callable[[str], None] | None) -> None:
        """Call `callback` with the SQL of each statement the reader runs from now on (its placeholders unfilled),
        or stop with None: what SQLAlchemy's `before_cursor_execute` tells of an engine's."""
        self._trace = callback

    def close(self) -> None:
        """Close the connection; the next read opens another."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


_READERS: WeakKeyDictionary[Engine, Reader] = WeakKeyDictionary()


def read_on_loop(engine: AsyncEngine, path: str) -> None:
    """Give `engine` (a SQLite file's, at `path`) a reader on the loop, closed when `engine` is disposed."""
    reader = Reader(path, engine.dialect)
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.close())
    _READERS[engine.sync_engine] = reader


def reader_of(engine: AsyncEngine) -> Reader | None:
    """The reader beside `engine`, if it has one (a SQLite file's)."""
    return _READERS.get(engine.sync_engine)


async def read_one(session: AsyncSession, statement: Select[Any], parameters: dict[str, Any]) -> Mapping[str, Any]:
    """The one row `statement` returns, by column name: read on the loop where the session's engine has a reader;
    on PostgreSQL, before the session has begun, by a connection of its own in autocommit (`autocommitted`); else by
    the session."""
    bind = session.get_bind()
    reader = _READERS.get(bind) if isinstance(bind, Engine) else None
    if reader is not None:
        try:
            return reader.one(statement, parameters)
        except sqlite3.OperationalError:  # the file is locked: wait on aiosqlite's thread, not on the loop
            pass
    elif isinstance(session.bind, AsyncEngine) and bind.dialect.name == "postgresql" and not session.in_transaction():
        return await autocommitted(session.bind, statement, parameters)
    row: Mapping[str, Any] = (await session.execute(statement, parameters)).one()._mapping
    return row


async def autocommitted(engine: AsyncEngine, statement: Select[Any], parameters: dict[str, Any]) -> Mapping[str, Any]:
    """The one row `statement` returns, read by a connection of `engine`'s pool in autocommit. Through the update's
    session the read took BEGIN and ROLLBACK too, each a round trip to the server; a session that then runs nothing
    else (most updates') never takes a connection at all."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        row: Mapping[str, Any] = (await autocommit.execute(statement, parameters)).one()._mapping
        return row
