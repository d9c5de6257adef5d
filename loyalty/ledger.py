"""The points ledger: every change of points is an entry; credits open lots that expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage import repositories
from storage.models import LedgerEntry, Member, PointLot

BONUS = "bonus"
WELCOME = "welcome"


@dataclass(frozen=True)
class Balance:
    """What a member sees on /balance."""

    points: int
    tier: str
    expiring_points: int
    expires_at: datetime | None


async def credit(
    session: AsyncSession,
    member: Member,
    *,
    points: int,
    kind: str,
    reason: str,
    key: str,
    now: datetime,
    expires_in: timedelta,
) -> LedgerEntry:
    """Credit `points` under the idempotency key `key`, once: a repeated key returns the first entry.

    Adds to the caller's transaction; the caller commits.
    """
    if points <= 0:
        raise ValueError("a credit is a positive number of points")
    existing = await repositories.entry_by_key(session, key)
    if existing is not None:
        return existing
    entry = LedgerEntry(
        member_id=member.id, kind=kind, points=points, reason=reason, idempotency_key=key, created_at=now
    )
    session.add(entry)
    await session.flush()
    session.add(
        PointLot(
            member_id=member.id,
            entry_id=entry.id,
            points=points,
            remaining=points,
            expires_at=now + expires_in,
        )
    )
    new_balance = await session.scalar(
        update(Member).where(Member.id == member.id).values(balance=Member.balance + points).returning(Member.balance)
    )
    set_committed_value(member, "balance", new_balance)
    return entry


async def balance(session: AsyncSession, member: Member, now: datetime) -> Balance:
    """The member's points, tier and the points that expire first."""
    soonest = await repositories.next_expiry(session, member.id, now)
    return Balance(
        points=member.balance,
        tier=member.tier,
        expiring_points=soonest.points if soonest else 0,
        expires_at=soonest.expires_at if soonest else None,
    )
