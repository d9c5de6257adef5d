"""Short reads of a SQLite file on the event loop's own thread, for the lookup every update makes.

aiosqlite runs each call on its connection's thread and hands the answer back to the loop: a statement through
SQLAlchemy's async session is four such hand-offs (cursor, execute, fetch, close), each waking the other thread and
then the loop. For the sender's account, a few index look-ups that SQLite answers in some ten microseconds, the
hand-offs cost many times the read (`BENCHMARKS.md`). So a SQLite file's engine gets a reader beside it: a synchronous
connection of its own, read-only and in autocommit (each statement sees the latest commit and holds no snapshot),
whose reads run where the loop is. Writes, and every other read, stay on aiosqlite.

Blocking the loop is what aiosqlite exists to avoid; it is bounded here. A reader in WAL mode waits for no writer;
what can keep it waiting (another connection's recovery of the file, or a file not in WAL mode while a writer holds
it) is cut off after `BUSY_TIMEOUT_S`, and the read goes to aiosqlite's thread instead. PostgreSQL has no reader:
its statements go over the network, and asyncpg already makes one await of each.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

BUSY_TIMEOUT_S = 0.05  # the longest the loop waits for a lock on the file before the read goes to aiosqlite

_READERS: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def read_on_loop(engine: AsyncEngine, path: str) -> None:
    """Give `engine` (a SQLite file's, at `path`) a reader on the loop, closed when `engine` is disposed."""
    reader = create_engine(
        f"sqlite:///{path}", isolation_level="AUTOCOMMIT", pool_size=1, connect_args={"timeout": BUSY_TIMEOUT_S}
    )
    event.listen(reader, "connect", _read_only)
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.dispose())
    _READERS[engine.sync_engine] = reader


def reader_of(engine: AsyncEngine) -> Engine | None:
    """The reader beside `engine`, if it has one (a SQLite file's)."""
    return _READERS.get(engine.sync_engine)


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    """The reader never writes: SQLite refuses it any statement that would."""
    dbapi_connection.execute("PRAGMA query_only=ON")


async def read_one(session: AsyncSession, statement: Executable, parameters: dict[str, Any]) -> Row[Any]:
    """The one row a Core `statement` returns, read on the loop where the session's engine has a reader, else by the
    session."""
    bind = session.get_bind()
    reader = _READERS.get(bind) if isinstance(bind, Engine) else None
    if reader is not None:
        try:
            with reader.connect() as connection:
                return connection.execute(statement, parameters).one()
        except OperationalError:  # the file is locked: wait on aiosqlite's thread, not on the loop
            pass
    return (await session.execute(statement, parameters)).one()
