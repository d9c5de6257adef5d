"""Points about to expire: which members to remind, of how many points, expiring on which day (shop date).

A member is reminded once per day on which some of their points expire (`reminder_key`), a set number of
days before (`Rules.expiry_reminder_days`). The daily job (`scheduler.jobs`) looks from now up to the end of
that day ahead, so a day it missed while the bot was down is still reminded, late but before the points go.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.birthdays import GREETED
from storage.models import Member, PointLot, written


@dataclass(frozen=True)
class Expiring:
    """Points of one member that expire on one day (shop date)."""

    member: Member
    day: date
    points: int


def reminder_key(member_id: int, day: date) -> str:
    """The outbox key of a reminder: one per member and day of expiry."""
    return f"expiry:{day.isoformat()}:{member_id}"


async def expiring(
    session: AsyncSession, now: datetime, until: datetime, zone: tzinfo, *, after: int = 0, limit: int = 500
) -> list[Expiring]:
    """Points expiring from `now` until `until`, per member and day, for members after `after` whom a reminder
    reaches; up to `limit` members, by id."""
    window = (PointLot.remaining > written(0), PointLot.expires_at > now, PointLot.expires_at < until)
    member_ids = (
        select(PointLot.member_id)
        .join(Member, Member.id == PointLot.member_id)
        .where(*window, *GREETED, PointLot.member_id > after)
        .group_by(PointLot.member_id)
        .order_by(PointLot.member_id)
        .limit(limit)
    )
    found = {member.id: member for member in await session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    lots = await session.execute(
        select(PointLot.member_id, PointLot.expires_at, PointLot.remaining).where(
            *window, PointLot.member_id.in_(list(found))
        )
    )
    points: defaultdict[tuple[int, date], int] = defaultdict(int)
    for member_id, expires_at, remaining in lots:
        points[member_id, expires_at.astimezone(zone).date()] += remaining
    return [Expiring(found[member_id], day, total) for (member_id, day), total in sorted(points.items())]
