"""What the campaigns started in a period brought, on a small fixed club, on SQLite and PostgreSQL: messages
reached, blocked and failed, gift vouchers used, and the reached members' kept purchases in the week after the
start; a campaign archived keeps its counts and those purchases, one archived before they were kept knows no
purchases any more."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import campaign_results, campaigns
from loyalty.campaign_results import Result
from storage.models import Campaign, Gift, OutboxMessage, Voucher
from tests.factories import NOW, add_members, add_purchases, campaign_row, member_row, outbox_row, purchase

START = datetime(2026, 11, 10, 9, tzinfo=UTC)
SALE, NEWS, ARCHIVED, OLD = 1, 2, 3, 4


def voucher(number: int, member_id: int, status: str) -> dict[str, object]:
    """A voucher of the sale's gift."""
    return {
        "code": f"V{number}",
        "member_id": member_id,
        "gift_id": 1,
        "title": "10% off",
        "kind": "percent",
        "value": 10,
        "status": status,
        "issued_at": START,
        "expires_at": START + timedelta(days=30),
    }


async def a_month_of_campaigns(session: AsyncSession) -> None:
    """The sale (a voucher gift) reached members 1–3, blocked 4, failed 5; the news reached 1 and 6; an archived
    campaign; one started before the period. Purchases around the sale's week."""
    await add_members(session, [member_row(number) for number in range(1, 8)])
    gift = {"id": 1, "idempotency_key": "g1", "title": "10% off", "kind": "percent", "value": 10}
    gift |= {"expires_at": START + timedelta(days=30), "audience": "campaign", "created_at": START, "issued": 3}
    await session.execute(insert(Gift), [gift])
    archived_counts = json.dumps({"sent": 40, "blocked": 2, "failed": 1})
    await session.execute(
        insert(Campaign),
        [
            campaign_row(SALE, "Autumn sale", START, gift_id=1, recipients=5),
            campaign_row(NEWS, "New menu", START + timedelta(days=5), recipients=2),
            campaign_row(ARCHIVED, "Old news", START - timedelta(days=2), final_counts=archived_counts, recipients=43),
            campaign_row(OLD, "Before", START - timedelta(days=20)),
            campaign_row(5, "Draft", START, state="draft", started_at=None, finished_at=None),
        ],
    )
    states = {1: "sent", 2: "sent", 3: "sent", 4: "blocked", 5: "failed"}
    rows = [outbox_row(SALE, member, state) for member, state in states.items()]
    await session.execute(insert(OutboxMessage), [*rows, outbox_row(NEWS, 1, "sent"), outbox_row(NEWS, 6, "sent")])
    await session.execute(insert(Voucher), [voucher(1, 1, "used"), voucher(2, 2, "used"), voucher(3, 3, "active")])
    moments = {
        1: START + timedelta(days=1),  # the sale's week, and the news's own week
        2: START + timedelta(days=6, hours=23),  # the last hour of the sale's week
        3: START + timedelta(days=7),  # the week is over
        4: START - timedelta(minutes=1),  # before the sale
    }
    await add_purchases(
        session,
        [
            purchase(1, 1, 100_000, 0, created_at=moments[1]),
            purchase(2, 2, 200_000, 0, created_at=moments[2]),
            purchase(3, 3, 300_000, 0, created_at=moments[3]),
            purchase(4, 1, 400_000, 0, created_at=moments[4]),
            purchase(5, 2, 500_000, 0, created_at=moments[1], reversed_at=moments[2]),  # reversed: left out
            purchase(6, 4, 600_000, 0, created_at=moments[1]),  # blocked: never reached
            purchase(7, 7, 700_000, 0, created_at=moments[1]),  # not in the campaign
            purchase(8, 6, 800_000, 0, created_at=START + timedelta(days=6)),  # the news's week
        ],
    )
    await session.commit()


async def test_each_campaign_started_in_the_period_with_what_it_brought_newest_first(session: AsyncSession) -> None:
    await a_month_of_campaigns(session)
    found = await campaign_results.results(session, START - timedelta(days=3), NOW)
    assert found == [
        Result("New menu", START + timedelta(days=5), sent=2, blocked=0, failed=0, used=None, purchases=1,
               amount=800_000),
        Result("Autumn sale", START, sent=3, blocked=1, failed=1, used=2, purchases=2, amount=300_000),
        Result("Old news", START - timedelta(days=2), sent=40, blocked=2, failed=1, used=None, purchases=None,
               amount=None),
    ]  # fmt: skip


async def test_at_most_a_few_campaigns_and_none_outside_the_period(session: AsyncSession) -> None:
    await a_month_of_campaigns(session)
    assert [found.name for found in await campaign_results.results(session, START, NOW, size=1)] == ["New menu"]
    assert await campaign_results.results(session, NOW, NOW + timedelta(days=1)) == []


async def test_archiving_a_campaign_keeps_its_purchases_with_its_counts(session: AsyncSession) -> None:
    await a_month_of_campaigns(session)
    before = await campaign_results.results(session, START - timedelta(days=3), NOW)
    assert await campaigns.archive_finished(session, NOW) == 7  # the sale's 5 rows and the news's 2
    assert await campaign_results.results(session, START - timedelta(days=3), NOW) == before
    progress = await campaigns.progress(session, SALE, NOW)
    assert (progress.sent, progress.blocked, progress.failed, progress.handled) == (3, 1, 1, 5)
