"""The engine's connections to SQLite: opened once and kept, however many updates use them at a time, and ended
without a round trip to their thread when there is nothing to end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import event, text

from storage.database import SQLITE_POOL_SIZE, create_engine, session_factory

CHATS = 20  # updates of this many chats at once, each holding its connection across a reply's round trip


async def test_a_sqlite_engine_keeps_the_connections_that_concurrent_updates_opened(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'club.db'}")
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, _record: opened.append(connection))

    async def update() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)

    try:
        for _ in range(3):
            await asyncio.gather(*(update() for _ in range(CHATS)))
    finally:
        await engine.dispose()
    assert CHATS <= SQLITE_POOL_SIZE
    assert len(opened) == CHATS  # each opened once (a thread and its PRAGMAs), none closed and opened again


async def test_a_sqlite_session_that_only_read_ends_without_a_round_trip_and_one_that_wrote_still_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'club.db'}")
    ended: list[str] = []
    for name in ("commit", "rollback"):
        finish = getattr(aiosqlite.Connection, name)
        monkeypatch.setattr(aiosqlite.Connection, name, _counted(ended, name, finish))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
        ended.clear()
        async with session_factory(engine)() as session:  # an update that only reads, as most do
            await session.execute(text("SELECT count(*) FROM notes"))
        assert ended == []  # sqlite3 had no transaction open: nothing to hand to the connection's thread
        async with session_factory(engine)() as session:
            await session.execute(text("INSERT INTO notes VALUES ('kept?')"))
            await session.rollback()
            assert await session.scalar(text("SELECT count(*) FROM notes")) == 0
    finally:
        await engine.dispose()
    assert ended == ["rollback"]


def _counted(ended: list[str], name: str, finish: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def counted(connection: aiosqlite.Connection) -> None:
        ended.append(name)
        await finish(connection)

    return counted
