"""Tiers by qualifying spend over a rolling window: immediate upgrades, a daily review for downgrades, and a member's
tier set again at once when a purchase is undone (`recompute`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, outbox
from loyalty.outbox import Notices
from loyalty.rules import Rules
from storage.database import write_transaction
from storage.models import Member, Purchase

_COUNTED = and_(Purchase.reversed_at.is_(None), Purchase.created_at > bindparam("since"))
SPEND_OF_MEMBER = select(func.coalesce(func.sum(Purchase.amount), 0)).where(
    Purchase.member_id == bindparam("member_id"), _COUNTED
)
"""Member :member_id's qualifying spend: purchases since :since (`window_start`), reversed ones left out."""
_SPEND_OF_ALL = (
    select(Member.id, Member.telegram_id, Member.language, Member.tier, func.coalesce(func.sum(Purchase.amount), 0))
    .outerjoin(Purchase, and_(Purchase.member_id == Member.id, _COUNTED))
    .group_by(Member.id)
)


@dataclass(frozen=True)
class Progress:
    """Where a member stands: tier, qualifying spend, and how much more reaches the next tier."""

    tier: str
    spend: int
    next_tier: str | None
    missing: int


@dataclass(frozen=True)
class TierChange:
    """A member moved from one tier to another."""

    member_id: int
    telegram_id: int | None
    language: str
    old: str
    new: str
    upgrade: bool


def window_start(club_rules: Rules, now: datetime) -> datetime:
    """The start of the rolling window whose spend sets the tiers (excluded; a purchase made `now` counts)."""
    return now - timedelta(days=club_rules.tier_window_days)


async def qualifying_spend(session: AsyncSession, member_id: int, club_rules: Rules, now: datetime) -> int:
    """What the member spent in the rolling window, reversed purchases left out."""
    params = {"member_id": member_id, "since": window_start(club_rules, now)}
    return int(await session.scalar(SPEND_OF_MEMBER, params) or 0)


def progress(club_rules: Rules, tier: str, spend: int) -> Progress:
    """The member's tier (as stored) and the distance to the next tier."""
    current = club_rules.tier_named(tier)
    above = [candidate for candidate in club_rules.tiers if candidate.threshold > current.threshold]
    following = above[0] if above else None
    missing = max(following.threshold - spend, 0) if following else 0
    return Progress(tier=current.name, spend=spend, next_tier=following.name if following else None, missing=missing)


async def standing(session: AsyncSession, member: Member, club_rules: Rules, now: datetime) -> Progress:
    """The member's progress towards the next tier, from the spend in the window."""
    return progress(club_rules, member.tier, await qualifying_spend(session, member.id, club_rules, now))


def rank(club_rules: Rules, tier: str) -> int:
    """The position of a tier, lowest first."""
    return club_rules.tiers.index(club_rules.tier_named(tier))


async def settle_after_purchase(
    session: AsyncSession, member: Member, club_rules: Rules, spend: int, now: datetime, actor_id: int | None
) -> str | None:
    """Upgrade at once when the spend reaches a higher tier (never downgrades); returns the old tier if moved."""
    reached = club_rules.tier(spend)
    old = member.tier
    if rank(club_rules, reached.name) <= rank(club_rules, old):
        return None
    member.tier = reached.name
    await audit.record(
        session,
        actor_id=actor_id,
        action="tier.up",
        now=now,
        member_id=member.id,
        old=old,
        new=reached.name,
        spend=spend,
    )
    return old


async def recompute(
    session: AsyncSession, member: Member, club_rules: Rules, now: datetime, actor_id: int | None
) -> TierChange | None:
    """Set the locked member's tier from their spend in the window now, up or down, as the daily review would, in the
    caller's transaction (its changes flushed first), with an audit entry; the change, if any."""
    await session.flush()
    spend = await qualifying_spend(session, member.id, club_rules, now)
    old, new = member.tier, club_rules.tier(spend).name
    if new == old:
        return None
    upgrade = rank(club_rules, new) > rank(club_rules, old)
    member.tier = new
    action = "tier.up" if upgrade else "tier.down"
    await audit.record(session, actor_id=actor_id, action=action, now=now, member_id=member.id, old=old, new=new)
    return TierChange(member.id, member.telegram_id, member.language, old, new, upgrade)


async def review(
    session: AsyncSession, club_rules: Rules, now: datetime, *, notices: Notices[TierChange] | None = None
) -> list[TierChange]:
    """The daily review: every member's tier set from the window's spend, up or down, in one transaction, with the
    messages `notices` writes of each change (`loyalty.outbox`)."""
    since = window_start(club_rules, now)
    changes = [
        TierChange(member_id, telegram_id, language, old, new, rank(club_rules, new) > rank(club_rules, old))
        for member_id, telegram_id, language, old, spend in await session.execute(_SPEND_OF_ALL, {"since": since})
        if (new := club_rules.tier(int(spend)).name) != old
    ]
    async with write_transaction(session):
        for tier in {change.new for change in changes}:
            moved = [change.member_id for change in changes if change.new == tier]
            await session.execute(update(Member).where(Member.id.in_(moved)).values(tier=tier))
        for change in changes:
            action = "tier.up" if change.upgrade else "tier.down"
            await audit.record(
                session,
                actor_id=None,
                action=action,
                now=now,
                member_id=change.member_id,
                old=change.old,
                new=change.new,
            )
        await outbox.notify(session, notices, *changes, now=now)
    return changes
