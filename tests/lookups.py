"""What the tests read back from the database, each look in its own session: counts, members, books, rewards,
campaigns and the audit log."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEntry, Campaign, LedgerEntry, Member, PointLot, Reward

Sessions = async_sessionmaker[AsyncSession]


async def count(sessions: Sessions, model: type, *conditions: object) -> int:
    """How many rows of `model` meet the conditions (all rows without any)."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def member_of(sessions: Sessions, telegram_id: int = 42) -> Member:
    """The member of a messenger account (the default user's unless told)."""
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        assert member is not None
        return member


async def books(sessions: Sessions, member_id: int) -> tuple[int, int, int]:
    """(stored balance, sum of lots' remaining, sum of entries' points) for one member."""
    async with sessions() as session:
        stored = await session.scalar(select(Member.balance).where(Member.id == member_id))
        lots = await session.scalar(
            select(func.coalesce(func.sum(PointLot.remaining), 0)).where(PointLot.member_id == member_id)
        )
        entries = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.member_id == member_id)
        )
    return int(stored or 0), int(lots), int(entries)


async def referral_points(sessions: Sessions, member_id: int) -> int:
    """Points the member got from referrals, as ledger entries."""
    async with sessions() as session:
        entries = await session.scalars(
            select(LedgerEntry.points).where(
                LedgerEntry.member_id == member_id, LedgerEntry.reason.in_(["referral", "referral_friend"])
            )
        )
        return sum(entries)


async def stock_of(sessions: Sessions, reward_id: int) -> int | None:
    """The reward's stock (None: unlimited)."""
    async with sessions() as session:
        return await session.scalar(select(Reward.stock).where(Reward.id == reward_id))


async def stored_rewards(sessions: Sessions) -> list[Reward]:
    """The rewards of the catalog, oldest first."""
    async with sessions() as session:
        return list((await session.scalars(select(Reward).order_by(Reward.id))).all())


async def stored_campaigns(sessions: Sessions) -> list[Campaign]:
    """The campaigns, oldest first."""
    async with sessions() as session:
        return list((await session.scalars(select(Campaign).order_by(Campaign.id))).all())


async def audit_log(sessions: Sessions) -> list[tuple[str, int | None, dict[str, object]]]:
    """The audit log, oldest first: (action, actor, details)."""
    async with sessions() as session:
        entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(entry.action, entry.actor_id, json.loads(entry.details)) for entry in entries]


async def audit_actions(sessions: Sessions, actor_id: int) -> list[str]:
    """The actions one account is on record for, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == actor_id).order_by(AuditEntry.id)
        )
        return list(rows)


async def refusals(sessions: Sessions) -> list[str]:
    """The reasons of the referral refusals in the audit log, oldest first."""
    async with sessions() as session:
        details = await session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "referral.refused").order_by(AuditEntry.id)
        )
        return [json.loads(text)["reason"] for text in details]
