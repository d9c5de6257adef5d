"""The playground's seeded café: its members, cast, ledger, sales and campaigns, on SQLite and PostgreSQL.

The café is seeded once per database for the module (a seed takes seconds) and only read by the tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.playground.cafe import MEMBERS, SALES_DAYS, CafeExists, seed_cafe
from bot.playground.cast import ALI, CASHIER, EMMA, OWNER, SARA
from bot.settings import Settings
from loyalty import campaign_results, reports, staff
from loyalty.periods import period
from storage.database import create_engine, session_factory
from storage.models import Campaign, LedgerEntry, Member, PointLot, Purchase
from tests.databases import PostgresRun, empty_tables, sqlite_copy, unavailable
from tests.stub_bot import TOKEN

NOW = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
SETTINGS = Settings(_env_file=None, bot_token=TOKEN, owner_ids=(OWNER.telegram_id,))  # type: ignore[call-arg]


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            await empty_tables(engine)
        await seed_cafe(engine, SETTINGS, now=NOW)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def sqlite_cafe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with the café seeded as it stands at NOW."""
    url = sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path_factory.mktemp("cafe"))
    asyncio.run(_seed(url))
    return url


@pytest.fixture(scope="module")
def postgresql_cafe(request: pytest.FixtureRequest) -> str:
    """The test PostgreSQL database with the café seeded as it stands at NOW."""
    run: PostgresRun = request.getfixturevalue("postgres_run")
    if run.error is not None:
        unavailable("PostgreSQL", run.error)
    asyncio.run(_seed(run.url))
    return run.url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cafe_url(request: pytest.FixtureRequest) -> str:
    """A database with the café seeded as it stands at NOW, on each database."""
    return str(request.getfixturevalue(f"{request.param}_cafe"))


@pytest.fixture
async def cafe(cafe_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the seeded café."""
    engine = create_engine(cafe_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(cafe: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(cafe)() as session:
        yield session


async def member_of(session: AsyncSession, telegram_id: int) -> Member | None:
    return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


async def test_the_cafe_has_about_two_hundred_members_besides_its_cast(session: AsyncSession) -> None:
    count = await session.scalar(select(func.count()).select_from(Member))

    assert count == MEMBERS + sum(person.member for person in (OWNER, CASHIER, SARA, ALI, EMMA))


async def test_ali_the_newcomer_is_not_a_member(session: AsyncSession) -> None:
    assert await member_of(session, ALI.telegram_id) is None
    assert await session.scalar(select(Member).where(Member.phone == ALI.phone)) is None


async def test_the_cashier_is_on_the_staff_as_a_cashier_and_not_a_member(session: AsyncSession) -> None:
    assert await staff.role_of(session, CASHIER.telegram_id, ()) is staff.Role.CASHIER
    assert await member_of(session, CASHIER.telegram_id) is None


async def test_emma_is_a_member_who_reads_english(session: AsyncSession) -> None:
    emma = await member_of(session, EMMA.telegram_id)

    assert emma is not None and emma.language == "en" and emma.phone == EMMA.phone


async def test_sara_is_a_member_with_a_birthday_who_has_been_buying(session: AsyncSession) -> None:
    sara = await member_of(session, SARA.telegram_id)

    assert sara is not None and sara.birthday is not None and sara.first_purchase_at is not None
    assert sara.first_name.startswith(SARA.first_name)


async def test_every_members_balance_is_the_sum_of_their_ledger_entries_and_of_their_open_lots(
    session: AsyncSession,
) -> None:
    entries = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.member_id == Member.id)
    lots = select(func.coalesce(func.sum(PointLot.remaining), 0)).where(PointLot.member_id == Member.id)
    rows = (await session.execute(select(Member.balance, entries.scalar_subquery(), lots.scalar_subquery()))).all()

    assert [row for row in rows if not row[0] == row[1] == row[2]] == []
    assert sum(row[0] for row in rows) > 0


async def test_purchases_span_the_last_ninety_days(session: AsyncSession) -> None:
    first, last = (await session.execute(select(func.min(Purchase.created_at), func.max(Purchase.created_at)))).one()

    assert NOW - SALES_DAYS * timedelta(days=1) <= first < NOW - (SALES_DAYS - 3) * timedelta(days=1)
    assert NOW - timedelta(days=2) < last <= NOW


async def test_the_sales_and_members_reports_have_figures_for_the_last_thirty_days(session: AsyncSession) -> None:
    zone = SETTINGS.zone
    month = period("last30", NOW.astimezone(zone).date(), "jalali")

    sales = await reports.sales(session, month, zone)
    club = await reports.members(session, month, zone, NOW, away_days=30)

    assert sales.purchases.now > 0 and sales.total.now > 0 and sales.buyers.buyers.now > 0
    assert club.joined > 0 and club.active.now > 0 and club.new.now > 0 and club.stopped + club.blocked > 0


async def test_a_finished_campaign_was_sent_and_one_is_scheduled(session: AsyncSession) -> None:
    finished = await campaign_results.results(session, NOW - SALES_DAYS * timedelta(days=1), NOW)
    states = set((await session.scalars(select(Campaign.state))).all())

    assert [result.sent > 0 for result in finished] == [True]
    assert states == {"done", "scheduled"}


async def _story(engine: AsyncEngine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The members (phone, name, gender, birthday, tier, balance) and their purchases, in a comparable order."""
    async with session_factory(engine)() as session:
        people = select(Member.phone, Member.first_name, Member.gender, Member.birthday, Member.tier, Member.balance)
        bought = select(Member.phone, Purchase.created_at, Purchase.amount, Purchase.category, Purchase.payment)
        return (
            [tuple(row) for row in await session.execute(people.order_by(Member.phone))],
            [tuple(row) for row in await session.execute(bought.join(Member).order_by(Purchase.created_at))],
        )


async def test_the_same_moment_seeds_the_same_cafe_on_both_databases(sqlite_cafe: str, postgresql_cafe: str) -> None:
    stories = []
    for url in (sqlite_cafe, postgresql_cafe):
        engine = create_engine(url)
        try:
            stories.append(await _story(engine))
        finally:
            await engine.dispose()

    assert stories[0] == stories[1]


async def test_seeding_a_database_that_has_a_club_is_refused_and_writes_nothing(
    cafe: AsyncEngine, session: AsyncSession
) -> None:
    before = await session.scalar(select(func.count()).select_from(LedgerEntry))
    await session.commit()

    with pytest.raises(CafeExists):
        await seed_cafe(cafe, SETTINGS, now=NOW + timedelta(days=1))

    assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == before
