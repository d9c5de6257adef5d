"""The sender's lookup (`storage.loop_reads`): on a SQLite file read on the event loop, read-only, leaving a read the
file refuses it to aiosqlite's thread, closed with its engine; on PostgreSQL in autocommit, by a connection of its
own; its member as much the update's session's as one the session had read."""

from __future__ import annotations

import sqlite3
from typing import Any
from unittest.mock import Mock

import pytest
from sqlalchemy import Select, bindparam, event, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import repositories
from storage.loop_reads import reader_of
from storage.models import Member
from tests.factories import NOW, joined_member


@pytest.fixture
def sqlite_engine(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name != "sqlite":
        pytest.skip("only a SQLite file has a reader on the loop")
    return engine


def test_the_reader_refuses_to_write(sqlite_engine: AsyncEngine) -> None:
    reader = reader_of(sqlite_engine)
    assert reader is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.connection.execute("DELETE FROM members")


SINCE = (
    select(Member.id, Member.first_name, Member.joined_at, Member.stopped)
    .where(
        Member.telegram_id == bindparam("telegram_id"),
        Member.stopped == literal(False),
        Member.joined_at <= bindparam("now"),
    )
    .limit(1)
)


@pytest.mark.parametrize("statement", [repositories._ACCOUNT, SINCE], ids=["account", "fixed value"])
async def test_the_reader_reads_what_sqlalchemy_reads(
    sqlite_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], statement: Select[Any]
) -> None:
    async with sessions() as session:
        joined = await joined_member(session, 503, "Reza")
        parameters = {"telegram_id": 503, "now": NOW}
        by_sqlalchemy = (await session.execute(statement, parameters)).one()._mapping
    reader = reader_of(sqlite_engine)
    assert reader is not None
    read = reader.one(statement, parameters)
    assert read == dict(by_sqlalchemy)
    assert (read["id"], read["joined_at"], read.get("stopped", False)) == (joined.member.id, NOW, False)


async def test_a_member_read_on_the_loop_is_changed_and_saved_by_the_updates_session(
    sessions: async_sessionmaker[AsyncSession],
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
    monkeypatch.setattr(reader, "one", Mock(side_effect=locked))
    handed: list[str] = []
    event.listen(sqlite_engine.sync_engine, "before_cursor_execute", lambda *call: handed.append(call[2]))
    async with sessions() as session:
        account = await repositories.account_by_telegram_id(session, 502, NOW)
    assert account.member is not None and account.member.first_name == "Ali"
    assert len(handed) == 1


async def test_disposing_the_engine_closes_the_readers_connection(sqlite_engine: AsyncEngine) -> None:
    reader = reader_of(sqlite_engine)
    assert reader is not None
    reader.connection.execute("SELECT 1")
    assert reader.is_open
    await sqlite_engine.dispose()
    assert not reader.is_open


async def test_on_postgresql_the_lookup_leaves_the_session_without_a_connection(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's lookup is read on the loop")
    async with sessions() as session:
        await joined_member(session, 504, "Mina")
    async with sessions() as session:
        account = await repositories.account_by_telegram_id(session, 504, NOW)
        assert account.member is not None and account.member.first_name == "Mina"
        assert engine.sync_engine.pool.checkedout() == 0  # no BEGIN, no ROLLBACK: read in autocommit
