"""The owner's daily digest: today's sales against the same weekday last week, tomorrow's birthdays, the points
that expire within a week, and at most one suggestion (members away for `AWAY_DAYS`, to win back).

The figures are the reports' (`loyalty.reports`, a day of the shop's calendar), counted in the database; who gets
the digest and when is the daily job's (`scheduler.jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audiences, reports
from loyalty.audiences import Audience
from loyalty.birthdays import born_today
from loyalty.periods import Period
from loyalty.reports import Compared
from storage.models import Member, PointLot, written

AWAY_DAYS = 60  # a member who has not bought for this many days is one to win back
EXPIRY_WINDOW = timedelta(days=7)  # points expiring within this are told
WEEK = timedelta(days=7)
WIN_BACK = Audience(inactive_days=AWAY_DAYS)
WIN_BACK_BUTTON = "digest:win_back"  # the suggestion's button: /campaign's wizard, the audience chosen (`handlers`)


@dataclass(frozen=True)
class Digest:
    """One day's digest: each sales figure against the same weekday a week before, and what is coming."""

    day: date
    purchases: Compared
    total: Compared
    average: Compared
    birthdays_tomorrow: int
    expiring_points: int
    away: int  # reachable members who bought before but not in `AWAY_DAYS`


def key(day: date, telegram_id: int) -> str:
    """The outbox key of a digest: one per reader and day, however many times the job runs."""
    return f"digest:{day.isoformat()}:{telegram_id}"


async def digest(session: AsyncSession, now: datetime, zone: ZoneInfo) -> Digest:
    """The digest of the shop's day at `now`."""
    today = now.astimezone(zone).date()
    this, last = (await day_sales(session, today, zone)), (await day_sales(session, today - WEEK, zone))
    return Digest(
        day=today,
        purchases=Compared(this.purchases.now, last.purchases.now),
        total=Compared(this.total.now, last.total.now),
        average=Compared(this.average.now, last.average.now),
        birthdays_tomorrow=await birthdays_on(session, today + timedelta(days=1)),
        expiring_points=await expiring_points(session, now),
        away=await audiences.count(session, WIN_BACK, now.astimezone(zone)),
    )


async def day_sales(session: AsyncSession, day: date, zone: ZoneInfo) -> reports.Sales:
    """The sales of one shop day (its `now` figures)."""
    return await reports.sales(session, Period(day, day), zone)


async def birthdays_on(session: AsyncSession, day: date) -> int:
    """How many members have their birthday on `day`, each in their own calendar."""
    return int(await session.scalar(select(func.count()).select_from(Member).where(born_today(day))) or 0)


async def expiring_points(session: AsyncSession, now: datetime) -> int:
    """The points left in lots that expire within `EXPIRY_WINDOW` of `now`."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
            PointLot.remaining > written(0), PointLot.expires_at > now, PointLot.expires_at <= now + EXPIRY_WINDOW
        )
    )
    return int(total or 0)
