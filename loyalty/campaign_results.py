"""What the campaigns started in a period brought (the Campaigns report): for each, the messages reached, blocked
and failed, the vouchers of its gift used, and the kept purchases its reached members made in the `FOLLOW_DAYS`
after it started.

Four queries whatever the number of recipients: the campaigns, their outbox rows by state, their gifts' used
vouchers, and the purchases of each campaign's week joined to its rows of the members reached (the week's bounds
computed here, so the SQL is the same on SQLite and PostgreSQL). A campaign over for 90 days is archived
(`campaigns.archive_finished`): its outbox rows — the only record of who got it — are deleted, and its counts stay
in `final_counts`, with its purchases (`frozen`, under `AFTER_KEY`: its week is long over by then). A campaign
archived before they were kept there has purchases unknown (None): nothing else records its recipients.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.vouchers import Status
from storage.models import Campaign, OutboxMessage, OutboxState, Purchase, Voucher, written

FOLLOW_DAYS = 7  # the purchases counted for a campaign are those in this many days after it started
SHOWN = 5  # campaigns in the report, newest first
AFTER_KEY = "purchases"  # in an archived campaign's final_counts: [purchases, amount] in its FOLLOW_DAYS


@dataclass(frozen=True)
class Result:
    """One campaign's outcome; `used` None without a voucher gift, `purchases` and `amount` None once archived."""

    name: str
    started_at: datetime
    sent: int
    blocked: int
    failed: int
    used: int | None
    purchases: int | None
    amount: int | None


async def results(session: AsyncSession, start: datetime, end: datetime, size: int = SHOWN) -> list[Result]:
    """The `size` newest campaigns started in [start, end), newest first, with what each brought."""
    started = await session.execute(
        select(Campaign.id, Campaign.name, Campaign.started_at, Campaign.gift_id, Campaign.final_counts)
        .where(Campaign.started_at >= start, Campaign.started_at < end)
        .order_by(Campaign.started_at.desc(), Campaign.id.desc())
        .limit(size)
    )
    rows = started.all()
    ids = [row.id for row in rows]
    counts = await _row_counts(session, ids)
    used = await _vouchers_used(session, [row.gift_id for row in rows if row.gift_id is not None])
    bought = await _purchases(session, {row.id: row.started_at for row in rows if row.final_counts is None})
    found = []
    for row in rows:
        by_state = json.loads(row.final_counts) if row.final_counts is not None else counts.get(row.id, {})
        purchases, amount = bought.get(row.id, (0, 0)) if row.final_counts is None else _kept(by_state)
        found.append(
            Result(
                row.name,
                row.started_at,
                sent=by_state.get(OutboxState.SENT, 0),
                blocked=by_state.get(OutboxState.BLOCKED, 0),
                failed=by_state.get(OutboxState.FAILED, 0),
                used=None if row.gift_id is None else used.get(row.gift_id, 0),
                purchases=purchases,
                amount=amount,
            )
        )
    return found


async def frozen(session: AsyncSession, campaign_id: int, started_at: datetime | None) -> dict[str, list[int]]:
    """What the campaign's `final_counts` keeps before its outbox rows go: its purchases (none if never started)."""
    if started_at is None:
        return {}
    purchases, amount = (await _purchases(session, {campaign_id: started_at})).get(campaign_id, (0, 0))
    return {AFTER_KEY: [purchases, amount]}


def _kept(final_counts: dict[str, Any]) -> tuple[int | None, int | None]:
    """The purchases an archived campaign kept (None, None if archived before they were kept)."""
    kept = final_counts.get(AFTER_KEY)
    return (None, None) if kept is None else (int(kept[0]), int(kept[1]))


async def _row_counts(session: AsyncSession, ids: Sequence[int]) -> dict[int | None, dict[str, int]]:
    """The campaigns' outbox rows by state, by campaign."""
    counts: dict[int | None, dict[str, int]] = {}
    if not ids:
        return counts
    rows = await session.execute(
        select(OutboxMessage.campaign_id, OutboxMessage.state, func.count())
        .where(OutboxMessage.campaign_id.in_(ids))
        .group_by(OutboxMessage.campaign_id, OutboxMessage.state)
    )
    for campaign_id, state, number in rows:
        counts.setdefault(campaign_id, {})[state] = int(number)
    return counts


async def _vouchers_used(session: AsyncSession, gift_ids: Sequence[int]) -> dict[int | None, int]:
    """How many vouchers of each gift were used."""
    if not gift_ids:
        return {}
    rows = await session.execute(
        select(Voucher.gift_id, func.count())
        .where(Voucher.gift_id.in_(gift_ids), Voucher.status == written(Status.USED))
        .group_by(Voucher.gift_id)
    )
    return {gift_id: int(number) for gift_id, number in rows}


async def _purchases(session: AsyncSession, starts: dict[int, datetime]) -> dict[int | None, tuple[int, int]]:
    """The kept purchases (count, total) the members each campaign reached made in its `FOLLOW_DAYS` from `starts`.

    One SELECT per campaign, joined by UNION ALL into one statement: each reads its week's kept purchases by their
    time (a covering index) and looks each buyer up among the campaign's rows (its unique campaign–member index),
    so it reads a week of purchases, never all the campaign's recipients."""
    if not starts:
        return {}
    follow = timedelta(days=FOLLOW_DAYS)
    weeks = [
        select(literal(campaign_id).label("campaign_id"), func.count().label("purchases"), func.sum(Purchase.amount))
        .select_from(Purchase)
        .join(
            OutboxMessage,
            and_(OutboxMessage.campaign_id == campaign_id, OutboxMessage.member_id == Purchase.member_id),
        )
        .where(
            Purchase.reversed_at.is_(None),
            Purchase.created_at >= started_at,
            Purchase.created_at < started_at + follow,
            OutboxMessage.state == OutboxState.SENT,
        )
        for campaign_id, started_at in starts.items()
    ]
    rows = await session.execute(union_all(*weeks))
    return {campaign_id: (int(number), int(total or 0)) for campaign_id, number, total in rows}
