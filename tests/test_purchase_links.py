"""Each kept purchase's `previous_at` (its member's kept purchase before it), as the counter keeps it through earns
recorded out of order, at the same moment, and undone; and the reports' buyers counted by it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from loyalty import reports
from loyalty.periods import Period
from storage.models import Purchase
from tests.steps import Sessions, buy, new_member, undo

UTC_ZONE = ZoneInfo("UTC")
START = datetime(2026, 11, 1, tzinfo=UTC)


def expected_links(kept: list[Purchase]) -> dict[int, datetime | None]:
    """Each kept purchase's predecessor among its member's, in the order of time, then id."""
    links: dict[int, datetime | None] = {}
    last: dict[int, datetime] = {}
    for purchase in sorted(kept, key=lambda purchase: (purchase.created_at, purchase.id)):
        links[purchase.id] = last.get(purchase.member_id)
        last[purchase.member_id] = purchase.created_at
    return links


def distinct_buyers(kept: list[Purchase], start: datetime, end: datetime) -> int:
    return len({purchase.member_id for purchase in kept if start <= purchase.created_at < end})


async def test_links_and_buyers_hold_through_late_records_ties_and_undos(sessions: Sessions) -> None:
    rng = random.Random(17)
    people = [await new_member(sessions) for _ in range(3)]
    receipts: list[str] = []
    for step in range(40):
        if receipts and rng.random() < 0.3:
            await undo(sessions, receipts.pop(rng.randrange(len(receipts))))
            continue
        moment = START + timedelta(days=rng.randrange(14))  # whole days: ties are common, order is random
        receipts.append(f"R{step}")
        await buy(sessions, rng.choice(people), 10_000, receipt=receipts[-1], at=moment)
    async with sessions() as session:
        kept = list((await session.scalars(select(Purchase).where(Purchase.reversed_at.is_(None)))).all())
        assert {purchase.id: purchase.previous_at for purchase in kept} == expected_links(kept)
        for first in range(1, 14, 3):
            period = Period(date(2026, 11, first), date(2026, 11, first + 1))
            counted = await reports.buyers(session, period, UTC_ZONE)
            start, end = period.bounds(UTC_ZONE)
            before = period.previous().bounds(UTC_ZONE)
            assert counted.buyers.now == distinct_buyers(kept, start, end)
            assert counted.buyers.before == distinct_buyers(kept, *before)
