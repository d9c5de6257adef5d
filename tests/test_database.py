"""The engine's connections to SQLite: opened once and kept, however many updates use them at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, text

from storage.database import SQLITE_POOL_SIZE, create_engine

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
