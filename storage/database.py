"""Engine and session factory for SQLite (WAL, busy timeout) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from storage.loop_reads import read_on_loop

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections to a SQLite file the pool keeps, and how many more it opens (and closes after use) beyond them. Each
# update holds one across its reply's round trip, so 20 chats answered at once need 20; a SQLite connection costs a
# thread and its PRAGMAs to open, and an idle one little (SQLAlchemy's default, 5 kept and 10 more, opened some 32
# connections per 1,000 updates of 20 chats, and made the 16th update at once wait for a connection).
SQLITE_POOL_SIZE = 32
SQLITE_POOL_OVERFLOW = 16


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """Make an engine for `url`; a SQLite file's folder is created and the file runs in WAL mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, **options)
    on_file = bool(parsed.database) and parsed.database != ":memory:"
    if on_file:
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_OVERFLOW} if on_file else {}  # memory: one
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **(pool | options))
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    _end_only_open_transactions(engine)
    if on_file:
        read_on_loop(engine, str(parsed.database))
    return engine


def _end_only_open_transactions(engine: AsyncEngine) -> None:
    """Commit or roll back a SQLite connection only when sqlite3 has a transaction open on it. After reads alone (most
    updates) it has none and would do nothing, but aiosqlite hands each call to the connection's thread and back, and
    SQLAlchemy rolls back twice at a session's end (the session's, and the pool's when the connection returns)."""
    dialect = engine.sync_engine.dialect
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, _if_in_transaction(getattr(dialect, name)))


def _if_in_transaction(end: Callable[[Any], None]) -> Callable[[Any], None]:
    """`end` (the dialect's commit or rollback), called only while the connection is inside a transaction."""

    def ended(connection: Any) -> None:
        try:
            open_transaction = connection.driver_connection.in_transaction
        except ValueError:  # aiosqlite's connection is closed: nothing to end
            return
        if open_transaction:
            end(connection)

    return ended


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Turn on WAL, a busy timeout and foreign keys for every new SQLite connection, and keep temporary B-trees in
    memory (a report's distinct buyers over 1.6 million purchases: 3.3 s with them in a temporary file, 1.3 s)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


AFTER_COMMIT = "storage.after_commit"  # `session.info` keys: called with the session after each of its commits,
AFTER_ROLLBACK = "storage.after_rollback"  # and after each of its rollbacks


class HookedSession(Session):
    """A session that calls what its `info` holds under `AFTER_COMMIT` after each commit, and under `AFTER_ROLLBACK`
    after each rollback: a hook for one session set in a dict, where listening to that session's events costs a
    listen and a remove (tens of microseconds, on every update that sets one)."""


@event.listens_for(HookedSession, "after_commit")
def _after_commit(session: Session) -> None:
    if (hook := session.info.get(AFTER_COMMIT)) is not None:
        hook(session)


@event.listens_for(HookedSession, "after_rollback")
def _after_rollback(session: Session) -> None:
    if (hook := session.info.get(AFTER_ROLLBACK)) is not None:
        hook(session)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit, and run the hooks their `info` holds (`HookedSession`)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=HookedSession)


async def close_session(session: AsyncSession) -> None:
    """End a session as `async with` ends it, more cheaply when it holds no connection. `async with` closes in a task
    of its own, shielded, so that a cancellation cannot leave a connection half handed back; a session that never
    took one (most updates': the sender is read apart from it, `storage.loop_reads`) has nothing to hand back, and its
    closing does no I/O, so it is closed here, without that task (a fifth of such a session's cost)."""
    transaction = session.sync_session.get_transaction()
    if transaction is None or not transaction.connections:
        session.sync_session.close()
    else:
        await session.__aexit__(None, None, None)


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Run the block as one write transaction: committed at the end, rolled back (and re-raised) on error.

    A read already open in the session is ended first (the session must hold no pending changes).
    On SQLite the write lock is taken at BEGIN (IMMEDIATE), so two writers never read the same state
    and then collide; on PostgreSQL, lock the rows you change (`repositories.lock_member`).
    After a rollback the session's objects are expired: read what a reply needs from the error.
    """
    if session.in_transaction():
        await session.commit()
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT ... SELECT run by `session.execute` matched.

    Such a statement's result is a `CursorResult`, which has `rowcount`, but `AsyncSession.execute` is typed as
    returning a plain `Result`: the cast mends SQLAlchemy's types, nothing else.
    """
    return cast("CursorResult[Any]", result).rowcount


def first_line(error: Exception) -> str:
    """The first line of a database driver's error, for a one-line message."""
    return str(getattr(error, "orig", None) or error).splitlines()[0]
