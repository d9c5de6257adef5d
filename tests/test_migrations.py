"""The migrations build exactly the tables the models declare, on SQLite and PostgreSQL, and fill in what a new
column derives from rows already there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import create_engine
from storage.migrate import downgrade, upgrade
from storage.models import Base, LedgerEntry, Member
from tests.factories import NOW, member_row


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []


async def test_the_birthday_migration_fills_in_the_month_and_day_of_members_already_in(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as connection:
            for number, (born, calendar) in enumerate([("1996-11-21", "jalali"), ("2000-02-29", "gregorian")], 1):
                await connection.execute(
                    text(
                        "INSERT INTO members (id, phone, code, first_name, language, balance, tier, news_consent, "
                        "stopped, blocked, unreachable, created_at, birthday, birthday_calendar) VALUES (:id, :phone, "
                        ":code, 'Sara', 'fa', 0, 'bronze', 0, 0, 0, 0, '2026-11-22 09:00:00', :born, :calendar)"
                    ),
                    {
                        "id": number,
                        "phone": f"+98912000000{number}",
                        "code": f"{number:08d}",
                        "born": born,
                        "calendar": calendar,
                    },
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT id, birthday_md FROM members ORDER BY id"))
            assert found.all() == [(1, 901), (2, 229)]
    finally:
        await engine.dispose()


async def test_the_key_migration_folds_receipts_and_categories_already_stored(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0011_ledger")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO members (id, phone, code, first_name, language, balance, tier, news_consent, "
                    "stopped, blocked, unreachable, created_at) VALUES (1, '+989120000001', '00000001', 'Sara', 'fa', "
                    "0, 'bronze', 0, 0, 0, 0, '2026-11-22 09:00:00')"
                )
            )
            typed = [("R-۱۲", "Coffee"), ("r-12", "كيك"), ("A\u200c7", None), (None, "نان شیرینی")]
            for number, (receipt, category) in enumerate(typed, 1):
                await connection.execute(
                    text(
                        "INSERT INTO purchases (id, member_id, amount, idempotency_key, receipt, category, points, "
                        "staff_id, created_at) VALUES (:id, 1, 1000, :key, :receipt, :category, 0, 1, "
                        "'2026-11-22 09:00:00')"
                    ),
                    {"id": number, "key": f"purchase:{number}", "receipt": receipt, "category": category},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT receipt, category FROM purchases ORDER BY id"))
            # R-۱۲ keeps its spelling: its key r-12 is another purchase's receipt
            assert found.all() == [("R-۱۲", "coffee"), ("r-12", "کیک"), ("a7", None), (None, "نانشیرینی")]
    finally:
        await engine.dispose()


async def old_members(connection: AsyncConnection, count: int) -> None:
    """Members 1…`count` written as an older revision's table takes them (raw SQL: the models are newer)."""
    for number in range(1, count + 1):
        await connection.execute(
            text(
                "INSERT INTO members (id, phone, code, first_name, language, balance, tier, news_consent, "
                "stopped, blocked, unreachable, created_at) VALUES (:id, :phone, :code, 'Sara', 'fa', 0, "
                "'bronze', 0, 0, 0, 0, '2026-01-01 09:00:00')"
            ),
            {"id": number, "phone": f"+98912000000{number}", "code": f"{number:08d}"},
        )


async def test_the_greeting_migration_remembers_the_birthday_gifts_already_given(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0012_ledger")
        async with engine.begin() as connection:
            await old_members(connection, 3)
            await connection.execute(
                text(
                    "INSERT INTO outbox (key, kind, member_id, chat_id, state, attempts, next_attempt_at, sent_at) "
                    "VALUES ('birthday:1405:1', 'birthday', 1, 1, 'sent', 1, '2026-11-22 06:30:00', "
                    "'2026-11-22 06:31:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO ledger_entries (member_id, kind, points, reason, idempotency_key, created_at) "
                    "VALUES (2, 'bonus', 100, 'birthday', 'birthday:2025:2', '2025-03-01 06:30:00')"
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT id, birthday_greeted_on FROM members ORDER BY id"))
            assert [(number, str(day) if day else None) for number, day in found] == [
                (1, "2026-11-22"),
                (2, "2025-03-01"),
                (3, None),
            ]
    finally:
        await engine.dispose()


async def payment_columns(engine: AsyncEngine) -> list[str]:
    """The columns of `purchases` named payment."""
    async with engine.connect() as connection:
        columns = await connection.run_sync(lambda sync: inspect(sync).get_columns("purchases"))
    return [column["name"] for column in columns if column["name"] == "payment"]


async def test_the_payment_migration_goes_down_and_up_again(engine: AsyncEngine) -> None:
    try:
        await downgrade(engine, "0014_reports")
        assert await payment_columns(engine) == []
    finally:
        await upgrade(engine)
    assert await payment_columns(engine) == ["payment"]
    await test_migrations_match_the_models(engine)


async def test_purchases_from_before_the_payment_migration_say_no_method(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0014_reports")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO members (id, phone, code, first_name, language, balance, tier, news_consent, "
                    "stopped, blocked, unreachable, created_at) VALUES (1, '+989120000001', '00000001', 'Sara', 'fa', "
                    "0, 'bronze', 0, 0, 0, 0, '2026-11-22 09:00:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO purchases (id, member_id, amount, idempotency_key, points, staff_id, created_at) "
                    "VALUES (1, 1, 1000, 'purchase:1', 0, 1, '2026-11-22 09:00:00')"
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT payment FROM purchases"))).all() == [(None,)]
    finally:
        await engine.dispose()


async def test_the_report_migrations_fill_in_first_purchases_and_each_purchases_previous_one(tmp_path: Path) -> None:
    """0016 each member's first purchase not reversed, 0017 each kept purchase's predecessor (time, then id)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0014_reports")
        async with engine.begin() as connection:
            await old_members(connection, 3)
            bought = [  # member 1's earliest was reversed; member 2's only one too; member 3 bought nothing
                (1, "2026-11-01 09:00:00", "2026-11-01 10:00:00"),
                (1, "2026-11-05 09:00:00", None),
                (1, "2026-11-03 09:00:00", None),
                (2, "2026-11-02 09:00:00", "2026-11-02 09:05:00"),
                (1, "2026-11-05 09:00:00", None),  # at the same moment as purchase 2: after it, by id
            ]
            for number, (member_id, at, reversed_at) in enumerate(bought, 1):
                await connection.execute(
                    text(
                        "INSERT INTO purchases (id, member_id, amount, idempotency_key, points, staff_id, created_at, "
                        "reversed_at) VALUES (:id, :member_id, 1000, :key, 0, 1, :at, :reversed_at)"
                    ),
                    {"id": number, "member_id": member_id, "key": f"p{number}", "at": at, "reversed_at": reversed_at},
                )
        await upgrade(engine)
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT id, first_purchase_at FROM members ORDER BY id"))
            assert found.all() == [(1, "2026-11-03 09:00:00"), (2, None), (3, None)]
            links = await connection.execute(text("SELECT id, previous_at FROM purchases ORDER BY id"))
            assert links.all() == [
                (1, None),
                (2, "2026-11-03 09:00:00"),
                (3, None),
                (4, None),
                (5, "2026-11-05 09:00:00"),
            ]
    finally:
        await engine.dispose()


async def test_the_out_of_reach_migration_dates_stopped_and_unreachable_members_from_their_last_activity(
    engine: AsyncEngine,
) -> None:
    """1 stopped, their last entry after joining; 2 unreachable, nothing since joining; 3 neither."""
    await downgrade(engine, "0019_members_forgotten_at")
    joined, bought = NOW - timedelta(days=90), NOW - timedelta(days=20)
    async with engine.begin() as connection:
        rows = [member_row(1, stopped=True), member_row(2, unreachable=True), member_row(3)]
        await connection.execute(insert(Member), [row | {"joined_at": joined} for row in rows])
        entry = {"kind": "earn", "points": 5, "reason": "purchase"}
        entries = [(1, "a", joined), (1, "b", bought), (3, "c", bought)]
        await connection.execute(
            insert(LedgerEntry),
            [entry | {"member_id": member, "idempotency_key": key, "created_at": at} for member, key, at in entries],
        )
    await upgrade(engine)
    async with engine.connect() as connection:
        found = await connection.execute(select(Member.id, Member.out_of_reach_since).order_by(Member.id))
        assert found.all() == [(1, bought), (2, joined), (3, None)]
