"""Purchases at the counter: earn points by the owner's rules, exactly once; undo by receipt.

A purchase's key is its receipt number when the cashier gives one, else the messenger update that
recorded it: a re-delivered update or a second tap finds the first purchase instead of a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, ledger, referrals, rules, tiers
from loyalty.errors import AlreadyReversed, InvalidAmount, PurchaseNotFound, ReceiptTaken
from loyalty.rules import MAX_AMOUNT, Rules
from storage import repositories
from storage.database import write_transaction
from storage.models import LedgerEntry, Member, Multiplier, Purchase

CAMPAIGN = "campaign"
RECEIPT_LENGTH = 64


@dataclass(frozen=True)
class Earned:
    """What a purchase earned and where the member stands after it; `referral`: a referral it converted."""

    purchase: Purchase
    member: Member
    points: int
    campaign_points: int
    balance: int
    progress: tiers.Progress
    upgraded_from: str | None
    duplicate: bool
    referral: referrals.ReferralEvent | None = None


@dataclass(frozen=True)
class Undone:
    """A reversed purchase: the points taken back, and those already spent that could not be."""

    purchase: Purchase
    member: Member
    taken: int
    shortfall: int
    balance: int


@dataclass(frozen=True)
class Summary:
    """A member as staff see them at the counter."""

    progress: tiers.Progress
    total_spend: int
    last_visits: list[datetime]


async def summary(session: AsyncSession, member: Member, club_rules: Rules, now: datetime, visits: int = 3) -> Summary:
    """Tier progress, spend of all time and the latest visits (purchases not reversed)."""
    counted = (Purchase.member_id == member.id) & Purchase.reversed_at.is_(None)
    total = await session.scalar(select(func.coalesce(func.sum(Purchase.amount), 0)).where(counted))
    latest = await session.scalars(
        select(Purchase.created_at).where(counted).order_by(Purchase.id.desc()).limit(visits)
    )
    return Summary(await tiers.standing(session, member, club_rules, now), int(total or 0), list(latest))


def purchase_key(receipt: str | None, update_id: int) -> str:
    """The idempotency key of a purchase."""
    return f"purchase:{receipt}" if receipt else f"purchase-update:{update_id}"


def check_amount(amount: int, club_rules: Rules) -> None:
    """Refuse amounts the counter cannot record."""
    if amount <= 0:
        raise InvalidAmount("not_positive")
    if amount > MAX_AMOUNT:
        raise InvalidAmount("too_large")
    if amount < club_rules.min_purchase:
        raise InvalidAmount("below_minimum", minimum=club_rules.min_purchase)


async def record_purchase(
    session: AsyncSession,
    defaults: Rules,
    *,
    member_id: int,
    amount: int,
    receipt: str | None,
    staff_id: int,
    update_id: int,
    now: datetime,
    category: str | None = None,
) -> Earned:
    """Record a purchase and its points in one transaction; the same key twice answers the first purchase."""
    if receipt is not None and not 0 < len(receipt) <= RECEIPT_LENGTH:
        raise ValueError("a receipt number is 1 to 64 characters")
    key = purchase_key(receipt, update_id)
    try:
        async with write_transaction(session):
            club_rules = await rules.current(session, defaults)
            check_amount(amount, club_rules)
            await referrals.lock_for_purchase(session, member_id)  # the member's referrer first, in id order
            member = await repositories.lock_member(session, member_id)
            seen = await repositories.purchase_by_key(session, key)
            if seen is not None:
                return await _already(session, seen, member, club_rules, now)
            return await _earn(session, club_rules, member, amount, receipt, key, staff_id, update_id, now, category)
    except IntegrityError:
        if receipt is None or await repositories.purchase_by_receipt(session, receipt) is None:
            raise
        raise ReceiptTaken(receipt) from None


async def _already(session: AsyncSession, seen: Purchase, member: Member, club_rules: Rules, now: datetime) -> Earned:
    """The answer to a repeated key: the first purchase, if it was for this member."""
    if seen.member_id != member.id:
        raise ReceiptTaken(seen.receipt)
    return Earned(
        seen,
        member,
        seen.points,
        0,
        member.balance,
        await tiers.standing(session, member, club_rules, now),
        None,
        duplicate=True,
    )


async def _earn(
    session: AsyncSession,
    club_rules: Rules,
    member: Member,
    amount: int,
    receipt: str | None,
    key: str,
    staff_id: int,
    update_id: int,
    now: datetime,
    category: str | None,
) -> Earned:
    base = club_rules.base_points(amount)
    points = base * club_rules.tier_named(member.tier).percent // 100
    campaign = await active_multiplier(session, now)
    extra = base * (campaign.percent - 100) // 100 if campaign else 0
    purchase = Purchase(
        member_id=member.id,
        amount=amount,
        idempotency_key=key,
        receipt=receipt,
        category=category,
        points=points + extra,
        staff_id=staff_id,
        created_at=now,
    )
    session.add(purchase)
    await session.flush()
    await ledger.expire_member(session, member.id, now)
    if points > 0:
        entry = await ledger.post_credit(
            session,
            member,
            points=points,
            kind=ledger.Kind.EARN,
            reason="purchase",
            key=key,
            now=now,
            expires_at=now + timedelta(days=club_rules.expiry_days),
            actor_id=staff_id,
        )
        purchase.entry_id = entry.id
    if campaign and extra > 0:
        await ledger.post_credit(
            session,
            member,
            points=extra,
            kind=ledger.Kind.BONUS,
            reason=CAMPAIGN,
            key=f"{key}:{CAMPAIGN}",
            now=now,
            expires_at=now + timedelta(days=campaign.bonus_expiry_days),
            actor_id=staff_id,
        )
    spend = await tiers.qualifying_spend(session, member.id, club_rules, now)
    upgraded_from = await tiers.settle_after_purchase(session, member, club_rules, spend, now, staff_id)
    referral = await referrals.on_purchase(session, member, purchase, now=now, rules=club_rules, update_id=update_id)
    await audit.record(
        session,
        actor_id=staff_id,
        action="purchase.record",
        now=now,
        member_id=member.id,
        update_id=update_id,
        amount=amount,
        receipt=receipt,
        points=points + extra,
    )
    return Earned(
        purchase,
        member,
        points + extra,
        extra,
        member.balance,
        tiers.progress(club_rules, member.tier, spend),
        upgraded_from,
        duplicate=False,
        referral=referral,
    )


async def active_multiplier(session: AsyncSession, now: datetime) -> Multiplier | None:
    """The strongest points campaign running at `now`, if any."""
    statement = (
        select(Multiplier)
        .where(Multiplier.starts_at <= now, Multiplier.ends_at > now)
        .order_by(Multiplier.percent.desc())
        .limit(1)
    )
    return await session.scalar(statement)


async def add_multiplier(
    session: AsyncSession,
    *,
    name: str,
    percent: int,
    starts_at: datetime,
    ends_at: datetime,
    bonus_expiry_days: int,
    actor_id: int,
    now: datetime,
) -> Multiplier:
    """Schedule a points campaign (e.g. 200% for a slow week), with an audit entry."""
    if not 100 < percent <= 1000 or ends_at <= starts_at or bonus_expiry_days < 1:
        raise ValueError("a campaign multiplies by more than 100%, ends after it starts, and its points last")
    async with write_transaction(session):
        campaign = Multiplier(
            name=name,
            percent=percent,
            starts_at=starts_at,
            ends_at=ends_at,
            bonus_expiry_days=bonus_expiry_days,
            created_by=actor_id,
            created_at=now,
        )
        session.add(campaign)
        await audit.record(
            session,
            actor_id=actor_id,
            action="campaign.multiplier",
            now=now,
            name=name,
            percent=percent,
            starts_at=starts_at,
            ends_at=ends_at,
        )
    return campaign


async def undo_purchase(session: AsyncSession, *, receipt: str, staff_id: int, update_id: int, now: datetime) -> Undone:
    """Reverse a purchase: take its points back (its own lots first), as far as the member still has them."""
    async with write_transaction(session):
        purchase = await repositories.purchase_by_receipt(session, receipt)
        if purchase is None:
            raise PurchaseNotFound(receipt)
        member = await repositories.lock_member(session, purchase.member_id)
        await session.refresh(purchase)
        if purchase.reversed_at is not None:
            raise AlreadyReversed(receipt)
        await ledger.expire_member(session, member.id, now)
        own_lots = await repositories.lot_ids_of_entries(session, await _entries_of(session, purchase))
        available = sum(lot.remaining for lot in await repositories.open_lots(session, member.id, now))
        taken = min(purchase.points, available)
        if taken > 0:
            await ledger.post_debit(
                session,
                member,
                points=taken,
                kind=ledger.Kind.REVERSAL,
                reason="purchase_undo",
                key=f"undo:{purchase.idempotency_key}",
                now=now,
                actor_id=staff_id,
                reverses_id=purchase.entry_id,
                first_lots=frozenset(own_lots),
            )
        purchase.reversed_at = now
        await audit.record(
            session,
            actor_id=staff_id,
            action="purchase.undo",
            now=now,
            member_id=member.id,
            update_id=update_id,
            receipt=receipt,
            taken=taken,
            shortfall=purchase.points - taken,
        )
    return Undone(purchase, member, taken, purchase.points - taken, member.balance)


async def _entries_of(session: AsyncSession, purchase: Purchase) -> list[int]:
    """The purchase's credit entries: its earn and its campaign bonus."""
    keys = [purchase.idempotency_key, f"{purchase.idempotency_key}:{CAMPAIGN}"]
    return list((await session.scalars(select(LedgerEntry.id).where(LedgerEntry.idempotency_key.in_(keys)))).all())
