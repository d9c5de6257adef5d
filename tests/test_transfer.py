"""Moving a club from SQLite to PostgreSQL: every row copied, in batches, checked by counts and sums, and the
sequences set so new rows get fresh ids."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from loyalty import purchases
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import create_engine, session_factory
from storage.migrate import downgrade
from storage.models import Base, Member
from storage.transfer import TransferError, copy_to_postgres
from tests.commands import one_line
from tests.databases import own_postgres, sqlite_copy
from tests.factories import NOW, add_members, add_purchases, joined_member, member_row, new_reward, purchase

BATCH = 50


@pytest.fixture
def postgres() -> Iterator[str]:
    """An empty PostgreSQL database migrated to head, made and dropped for this test."""
    with own_postgres() as url:
        yield url


async def seed_club(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Members who joined through the bot and bought (ledger entries, lots, purchases), a reward, and a few hundred
    members and purchases inserted in bulk, more than a batch of each."""
    async with sessions() as session:
        for telegram_id in (11, 12, 13):
            joined = await joined_member(session, telegram_id, f"Member {telegram_id}")
            await purchases.record_purchase(
                session,
                Rules(),
                member_id=joined.member.id,
                amount=1_250_000 * telegram_id,
                receipt=f"R{telegram_id}",
                stamp=Stamp(1, f"buy:{telegram_id}", NOW),
            )
        await new_reward(session)
        await add_members(session, [member_row(number, balance=number) for number in range(100, 260)])
        await add_purchases(
            session, [purchase(100 + number, 100 + number % 160, 1000 + number, 3) for number in range(1, 180)]
        )
        await session.commit()


async def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


async def test_a_seeded_club_is_copied_with_equal_counts_sums_and_working_sequences(
    sqlite_template: Path, tmp_path: Path, postgres: str
) -> None:
    source = sqlite_copy(sqlite_template, tmp_path)
    engine = create_engine(source)
    await seed_club(session_factory(engine))
    await engine.dispose()

    figures = await copy_to_postgres(source, postgres, batch=BATCH)

    checked = {figure.name: (figure.source, figure.target) for figure in figures}
    assert all(source_figure == target_figure for source_figure, target_figure in checked.values())
    assert checked["members"][0] == 163 and checked["purchases"][0] == 182
    assert checked["members.balance"][0] > sum(range(100, 260))  # the bulk members' and the buyers' points
    assert checked["ledger_entries.points"][0] > 0
    assert checked["purchases.amount"][0] == sum(1000 + number for number in range(1, 180)) + 1_250_000 * 36
    assert await table_counts(postgres) == await table_counts(source)

    target = create_engine(postgres)
    async with session_factory(target)() as session:
        newcomer = await joined_member(session, 99, "Newcomer")
        biggest = (await session.execute(select(func.max(Member.id)).where(Member.id != newcomer.member.id))).scalar()
    await target.dispose()
    assert newcomer.member.id == biggest + 1


async def add_members_to(url: str, rows: list[dict[str, Any]]) -> None:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        await add_members(session, rows)
    await engine.dispose()


async def test_rows_go_over_in_batches(sqlite_template: Path, tmp_path: Path, postgres: str) -> None:
    source = sqlite_copy(sqlite_template, tmp_path)
    await add_members_to(source, [member_row(number) for number in range(1, 121)])
    sent: list[int] = []  # rows in each statement sent to PostgreSQL

    def measure(connection: Connection, _cursor: Any, _statement: str, rows: Any, _context: Any, many: bool) -> None:
        if connection.dialect.name == "postgresql":
            sent.append(len(rows) if many else 1)

    event.listen(Engine, "before_cursor_execute", measure)
    try:
        figures = await copy_to_postgres(source, postgres, batch=BATCH)
    finally:
        event.remove(Engine, "before_cursor_execute", measure)
    assert {figure.name: figure.target for figure in figures}["members"] == 120
    assert max(sent) == BATCH


def test_the_command_prints_the_figures_and_refuses_a_target_with_rows(
    sqlite_template: Path, tmp_path: Path, postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sqlite_copy(sqlite_template, tmp_path)
    asyncio.run(add_members_to(source, [member_row(1, balance=700_000_000)]))
    to = postgres.replace("postgresql+asyncpg://", "postgresql://")  # as an owner would write it
    path = source.removeprefix("sqlite+aiosqlite:///")  # a bare path will do
    command = ["--env-file", str(tmp_path / "none"), "export-sqlite-to-postgres", "--from", path, "--to", to]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^members +1 +1$", printed, re.MULTILINE)
    assert re.search(r"^members.balance +700,000,000 +700,000,000$", printed, re.MULTILINE)
    assert main(command) == 2
    assert "The PostgreSQL database is not empty (members have rows)" in one_line(capsys.readouterr().err)
    assert asyncio.run(table_counts(postgres))["members"] == 1
    assert main([*command[:-1], "127.0.0.1:5432/loyalty"]) == 2
    assert "is not a URL such as postgresql://user:password@host:5432/loyalty" in one_line(capsys.readouterr().err)


async def test_a_source_that_is_missing_or_behind_the_migrations_is_refused(
    sqlite_template: Path, tmp_path: Path
) -> None:
    nowhere = "postgresql://postgres@127.0.0.1:9/never_reached"
    with pytest.raises(TransferError, match="No SQLite database at"):
        await copy_to_postgres(str(tmp_path / "missing.db"), nowhere)
    source = sqlite_copy(sqlite_template, tmp_path)
    engine = create_engine(source)
    await downgrade(engine, "-1")
    await engine.dispose()
    with pytest.raises(TransferError, match="migrate it first"):
        await copy_to_postgres(source, nowhere)
