"""Points, balances and money are 64-bit in the database (ten billion rials is an ordinary purchase), on SQLite and
PostgreSQL, and the migration that widened them keeps what a 0007 database already holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer, SmallInteger, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from loyalty import purchases
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Base, Purchase
from tests.databases import POSTGRES_URL, _admin
from tests.factories import NOW
from tests.lookups import books
from tests.steps import give, new_member

Sessions = async_sessionmaker[AsyncSession]
TEN_BILLION = 10_000_000_000
ABOVE_INT32 = 2**31 + 7

# 32-bit on purpose: row ids and references to them, days, hours, small counts of rows or attempts.
NARROW = {
    "members.birthday_md",
    "multipliers.bonus_expiry_days",
    "rewards.validity_days",
    "rewards.per_member_limit",
    "gifts.issued",
    "campaigns.recipients",
    "outbox.campaign_id",
    "outbox.member_id",
    "outbox.attempts",
}


def test_every_number_column_is_64_bit_unless_it_is_an_id_a_reference_or_a_small_count() -> None:
    narrow = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Integer | SmallInteger)
        and not isinstance(column.type, BigInteger)
        and not column.primary_key
        and not column.foreign_keys
    }
    assert narrow == NARROW


async def test_a_ten_billion_rial_purchase_earning_ten_billion_points_is_stored_and_read_back(
    sessions: Sessions,
) -> None:
    member_id = await new_member(sessions)
    async with sessions() as session:
        earned = await purchases.record_purchase(
            session,
            Rules(amount_per_point=1, welcome_bonus=0),
            member_id=member_id,
            amount=TEN_BILLION,
            receipt="R-10B",
            stamp=Stamp(8_000_000_000, "1", NOW),
        )
    assert (earned.points, earned.balance) == (TEN_BILLION, TEN_BILLION)
    async with sessions() as session:
        stored = await session.scalar(select(Purchase).where(Purchase.receipt == "r-10b"))  # stored as its key
    assert stored is not None
    assert (stored.amount, stored.points, stored.staff_id) == (TEN_BILLION, TEN_BILLION, 8_000_000_000)
    assert await books(sessions, member_id) == (TEN_BILLION, TEN_BILLION, TEN_BILLION)


async def test_a_balance_above_two_to_the_31_is_stored_and_read_back(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, ABOVE_INT32, key="big", at=NOW, days=30)
    assert await books(sessions, member_id) == (ABOVE_INT32, ABOVE_INT32, ABOVE_INT32)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no tables yet, dropped afterwards."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield engine
        await engine.dispose()
        return
    name = f"loyalty_wide_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


OLD = 9001  # ids chosen by hand, above what the sequences will hand out in the test
OLD_ROWS = [
    "INSERT INTO members (id, telegram_id, phone, code, first_name, language, balance, tier, news_consent, stopped, "
    "blocked, unreachable, created_at) VALUES (9001, 7000000001, '+989120000001', '00000001', 'Sara', 'fa', 40, "
    "'bronze', false, false, false, false, '2026-11-22 09:00:00+00')",
    "INSERT INTO ledger_entries (id, member_id, kind, points, reason, idempotency_key, created_at) "
    "VALUES (9001, 9001, 'earn', 40, 'purchase', 'purchase:R1', '2026-11-22 09:00:00+00')",
    "INSERT INTO point_lots (id, member_id, entry_id, points, remaining, expires_at) "
    "VALUES (9001, 9001, 9001, 40, 40, '2027-11-22 09:00:00+00')",
    "INSERT INTO purchases (id, member_id, amount, idempotency_key, receipt, points, entry_id, staff_id, created_at) "
    "VALUES (9001, 9001, 400000, 'purchase:R1', 'R1', 40, 9001, 500, '2026-11-22 09:00:00+00')",
    "INSERT INTO rewards (id, name, description, kind, cost, validity_days, stock, active, created_at, updated_at) "
    "VALUES (9001, 'Coffee', '', 'item', 100, 30, 5, true, '2026-11-22 09:00:00+00', '2026-11-22 09:00:00+00')",
]


async def test_the_migration_widens_a_0007_database_keeping_its_rows(empty_database: AsyncEngine) -> None:
    await upgrade(empty_database, "0007")
    async with empty_database.begin() as connection:
        for statement in OLD_ROWS:
            await connection.execute(text(statement))
    await upgrade(empty_database)
    sessions = session_factory(empty_database)
    assert await books(sessions, OLD) == (40, 40, 40)
    async with sessions() as session:
        bought = await session.scalar(select(Purchase).where(Purchase.receipt == "r1"))  # folded to its key
        assert bought is not None and (bought.amount, bought.points) == (400_000, 40)
    await give(sessions, OLD, ABOVE_INT32, key="big", at=NOW, days=30)
    assert await books(sessions, OLD) == (ABOVE_INT32 + 40,) * 3
    async with empty_database.begin() as connection:
        await connection.execute(text(f"UPDATE rewards SET cost = {ABOVE_INT32}, stock = {ABOVE_INT32}"))
        assert (await connection.execute(text("SELECT cost, stock FROM rewards"))).one() == (ABOVE_INT32,) * 2
