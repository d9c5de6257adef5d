"""A small club whose purchases say how they were paid, for the payment methods' figures (`loyalty.payments`) and
reports; the week is 16–22 Nov 2026 in Tehran, as the bot's clock in the tests has it."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.periods import Period
from tests.factories import NOW, add_members, add_purchases, member_row, purchase

TEHRAN = ZoneInfo("Asia/Tehran")
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))


async def paid_club(session: AsyncSession) -> None:
    """Three members' purchases in the week of 16–22 Nov (Tehran), by method; one reversed, one the week before."""
    await add_members(session, [member_row(1), member_row(2), member_row(3)])
    rows = [
        purchase(1, 1, 100_000, 1, payment="cash"),
        purchase(2, 1, 200_000, 2, payment="card"),
        purchase(3, 2, 300_000, 3, payment="card"),
        purchase(4, 2, 400_000, 1, payment="credit"),
        purchase(5, 3, 150_000, 2, payment="credit"),
        purchase(6, 3, 250_000, 3, payment="credit"),
        purchase(7, 3, 50_000, 4),  # not said, as before migration 0015
        purchase(8, 1, 900_000, 1, payment="credit", reversed_at=NOW),  # reversed: counts nowhere
        purchase(9, 1, 800_000, 9, payment="cash"),  # the week before
    ]
    await add_purchases(session, rows)
    await session.commit()
