"""The sender's lookup read on the event loop beside a SQLite file (`storage.loop_reads`): read-only, leaving a read
the file refuses it to aiosqlite's thread, closed with its engine, and its member as much the update's session's as
one the session had read."""

from __future__ import annotations

import sqlite3
from unittest.mock import Mock

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import repositories
from storage.loop_reads import reader_of
from tests.factories import NOW, joined_member


@pytest.fixture
def sqlite_engine(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name != "sqlite":
        pytest.skip("only a SQLite file has a reader on the loop")
    return engine


def test_the_reader_refuses_to_write(sqlite_engine: AsyncEngine) -> None:
    reader = reader_of(sqlite_engine)
    assert reader is not None
    with reader.connect() as connection, pytest.raises(OperationalError, match="readonly"):
        connection.execute(text("DELETE FROM members"))


async def test_a_member_read_on_the_loop_is_changed_and_saved_by_the_updates_session(
    sqlite_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        member = (await joined_member(session, 501, "Sara")).member
    async with sessions() as session:
        account = await repositories.account_by_telegram_id(session, 501, NOW)
        assert account.member is not None and account.member.id == member.id
        account.member.first_name = "Sarah"
        await session.commit()
    async with sessions() as session:
        again = await repositories.member_by_telegram_id(session, 501)
    assert again is not None and again.first_name == "Sarah"


async def test_a_read_the_locked_file_refuses_the_reader_goes_to_aiosqlites_thread(
    sqlite_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with sessions() as session:
        await joined_member(session, 502, "Ali")
    reader = reader_of(sqlite_engine)
    assert reader is not None
    locked = sqlite3.OperationalError("database is locked")  # what SQLite says once BUSY_TIMEOUT_S has passed
    monkeypatch.setattr(reader, "connect", Mock(side_effect=OperationalError("SELECT", {}, locked)))
    handed: list[str] = []
    event.listen(sqlite_engine.sync_engine, "before_cursor_execute", lambda *call: handed.append(call[2]))
    async with sessions() as session:
        account = await repositories.account_by_telegram_id(session, 502, NOW)
    assert account.member is not None and account.member.first_name == "Ali"
    assert len(handed) == 1


async def test_disposing_the_engine_closes_the_readers_connection(sqlite_engine: AsyncEngine) -> None:
    reader = reader_of(sqlite_engine)
    assert reader is not None
    with reader.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert reader.pool.checkedin() == 1
    await sqlite_engine.dispose()
    assert reader.pool.checkedin() == 0
