"""Purchases at the counter: earn points by the owner's rules, exactly once; an unusual amount to confirm first;
undo by receipt or by purchase (a cashier their own, for a few minutes); and staff corrections of a member's points
(`adjust`), once per update.

A purchase's key is its receipt number when the cashier gives one, else the messenger update that
recorded it: a re-delivered update or a second tap finds the first purchase instead of a new one.
Staff cannot record a purchase on their own membership (`staff.refuse_own_account`), nor claim one by joining with
the phone they recorded it on (`reverse_own`, called by `members.join`).
Receipt numbers and categories are stored, found and compared by their `loyalty.text_keys.text_key`: "R-۱۲۳"
and "r-123" are one receipt.
Each member's first purchase not reversed is kept on the member (`first_purchase_at`, for the reports): set by the
earn that is earlier than it, read again from the purchases by an undo. Each kept purchase keeps the moment of its
member's kept purchase before it (`previous_at`, for the reports' buyers): the earn links the new purchase after the
latest one not later than it (and the one after it, if any, to the new one), an undo links the next to the reversed
one's predecessor; in the order of time, then id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from loyalty import audit, ledger, outbox, payments, referrals, rules, staff, tiers
from loyalty.audiences import CATEGORY_LENGTH
from loyalty.errors import AlreadyReversed, InvalidAmount, PurchaseNotFound, ReceiptTaken, UndoRefused
from loyalty.outbox import Notices
from loyalty.rules import MAX_AMOUNT, Rules
from loyalty.stamps import Stamp
from loyalty.text_keys import text_key
from storage import repositories
from storage.database import write_transaction
from storage.models import LedgerEntry, Member, Multiplier, Purchase, Referral

CAMPAIGN = "campaign"
RECEIPT_LENGTH = 64
USUAL_SAMPLE = 200  # the latest purchases whose median is the shop's usual amount
USUAL_MINIMUM = 20  # fewer purchases than this: no usual amount yet
UNUSUAL_FACTOR = 20  # an amount above this many times the usual one is confirmed first
QUICK_UNDO = timedelta(minutes=10)  # how long a cashier may undo their own purchase without a manager
OWN_REVERSED = "purchase.own_reversed"  # the audit action of a purchase reversed as its own cashier joined


@dataclass(frozen=True)
class Earned:
    """What a purchase earned and where the member stands after it, and the unit of its amount (the rules'
    `currency`); `referral`: a referral it converted."""

    purchase: Purchase
    member: Member
    points: int
    campaign_points: int
    balance: int
    progress: tiers.Progress
    upgraded_from: str | None
    duplicate: bool
    currency: str
    referral: referrals.ReferralEvent | None = None


@dataclass(frozen=True)
class Undone:
    """A reversed purchase: the points taken back, those already spent that could not be, and the referral it
    completed (if any), refused with its rewards taken back."""

    purchase: Purchase
    member: Member
    taken: int
    shortfall: int
    balance: int
    referral: referrals.Revoked | None = None  # the referral this purchase completed, now refused
    tier_change: tiers.TierChange | None = None  # the member's tier, recomputed without the purchase


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


def purchase_key(receipt: str | None, update_key: str) -> str:
    """The idempotency key of a purchase: its receipt, else the key of the update that recorded it."""
    return f"purchase:{receipt}" if receipt else f"purchase-update:{update_key}"


def check_amount(amount: int, club_rules: Rules) -> None:
    """Refuse amounts the counter cannot record."""
    if amount <= 0:
        raise InvalidAmount("not_positive")
    if amount > MAX_AMOUNT:
        raise InvalidAmount("too_large")
    if amount < club_rules.min_purchase:
        raise InvalidAmount("below_minimum", minimum=club_rules.min_purchase, currency=club_rules.currency)


@dataclass(frozen=True)
class Unusual:
    """Why an amount is confirmed before it is recorded: above the owner's cap, or far above the usual amount."""

    cap: int | None  # the owner's cap it is above
    usual: int | None  # the usual amount it is over UNUSUAL_FACTOR times


LATEST_AMOUNTS = (
    select(Purchase.amount).where(Purchase.reversed_at.is_(None)).order_by(Purchase.id.desc()).limit(USUAL_SAMPLE)
)
"""The amounts of the latest purchases standing: read backwards along the primary key, at most USUAL_SAMPLE rows."""


def _usual() -> Select[Any]:
    """In one statement: the owner's stored rules, how many of the latest amounts there are, and their low median
    (the one at (n - 1) // 2 in order, as `statistics.median_low`)."""
    latest = LATEST_AMOUNTS.cte("latest")  # read once, used by the count and the median
    count = select(func.count()).select_from(latest).scalar_subquery()
    median = select(latest.c.amount).order_by(latest.c.amount).offset((count - 1) // 2).limit(1).scalar_subquery()
    return select(rules.STORED, count, median)


USUAL = _usual()

FIRST_PURCHASES: Update = (
    update(Member)
    .values(
        first_purchase_at=select(func.min(Purchase.created_at))
        .where(Purchase.member_id == Member.id, Purchase.reversed_at.is_(None))
        .scalar_subquery()
    )
    .execution_options(synchronize_session=False)
)
"""Sets members' `first_purchase_at` from their purchases not reversed (add a WHERE for some members only)."""
_FIRST_PURCHASE = (
    update(Member)
    .where(Member.id == bindparam("member_id"))
    .values(first_purchase_at=bindparam("at"))
    .execution_options(synchronize_session=False)
)


async def unusual(session: AsyncSession, defaults: Rules, amount: int) -> Unusual | None:
    """Why `amount` should be confirmed before it is recorded, or None: above the owner's cap
    (`purchase_confirm_above`), or over UNUSUAL_FACTOR times the median of the latest purchases (once there are
    USUAL_MINIMUM of them)."""
    stored, count, usual = (await session.execute(USUAL)).one()
    cap = rules.in_force(defaults, stored).purchase_confirm_above
    if cap is not None and amount > cap:
        return Unusual(cap=cap, usual=None)
    if count < USUAL_MINIMUM:
        return None
    return Unusual(cap=None, usual=usual) if amount > UNUSUAL_FACTOR * usual else None


def _running(*columns: Any) -> Select[Any]:
    """The points campaigns running at :now, strongest first (the older first of equals)."""
    running = (Multiplier.starts_at <= bindparam("now")) & (Multiplier.ends_at > bindparam("now"))
    return select(*columns).where(running).order_by(Multiplier.percent.desc(), Multiplier.id)


@dataclass(frozen=True)
class Campaign:
    """The strongest points campaign running at a purchase: its percent and how long its bonus points last."""

    percent: int
    bonus_expiry_days: int


_STRONGEST = _running(Multiplier.percent, Multiplier.bonus_expiry_days).limit(1).subquery("campaign")
# Statement 1 of a purchase: the member locked — with the referrer of a referral it may convert, in id order —
# and, read along, what no member lock guards: the owner's stored rules and the running campaign. (The referral
# is read before the lock is granted; only a purchase of this member, which holds the lock, changes it later,
# and `referrals.on_purchase` converts it with a conditional UPDATE, so a stale "pending" converts nothing.)
_LOCK = (
    select(
        Member,
        rules.STORED.label("stored_rules"),
        _STRONGEST.c.percent,
        _STRONGEST.c.bonus_expiry_days,
        referrals.UNCONVERTED_REFERRER.label("referrer_id"),
    )
    .outerjoin(_STRONGEST, true())
    .where(Member.id.in_([bindparam("member_id"), referrals.UNCONVERTED_REFERRER]))
    .order_by(Member.id)
    .with_for_update(of=Member)
    .execution_options(populate_existing=True)
)
# Statement 2, once the lock is held (on PostgreSQL a statement sees what committed before it began, so what
# other holders of the lock change is read here, not in statement 1): the purchase already recorded under the
# key, the qualifying spend so far, whether lots are due to expire first, and the member's kept purchases either side
# of this one's moment (its `previous_at`, and one recorded later, which is to follow it).
_MEMBER_KEPT = and_(Purchase.member_id == bindparam("member_id"), Purchase.reversed_at.is_(None))
_UNDER_LOCK = select(
    select(Purchase.id).where(Purchase.idempotency_key == bindparam("key")).scalar_subquery(),
    tiers.SPEND_OF_MEMBER.scalar_subquery(),
    ledger.LOTS_DUE,
    select(func.max(Purchase.created_at))
    .where(_MEMBER_KEPT, Purchase.created_at <= bindparam("now"))
    .scalar_subquery(),
    select(Purchase.id)
    .where(_MEMBER_KEPT, Purchase.created_at > bindparam("now"))
    .order_by(Purchase.created_at, Purchase.id)
    .limit(1)
    .scalar_subquery(),
)
_LINK = (  # a purchase now follows one recorded after it
    update(Purchase)
    .where(Purchase.id == bindparam("purchase_id"))
    .values(previous_at=bindparam("at"))
    .execution_options(synchronize_session=False)
)
_LATER = aliased(Purchase)
_NEXT = (
    select(_LATER.id)
    .where(
        _LATER.member_id == bindparam("of_member"),
        _LATER.reversed_at.is_(None),
        or_(
            _LATER.created_at > bindparam("undone_at"),
            and_(_LATER.created_at == bindparam("undone_at"), _LATER.id > bindparam("undone_id")),
        ),
    )
    .order_by(_LATER.created_at, _LATER.id)
    .limit(1)
    .scalar_subquery()
)
# An undo's link: the member's next kept purchase after the reversed one (:undone_at, :undone_id) now follows
# the reversed one's predecessor (:before).
_RELINK = (
    update(Purchase)
    .where(Purchase.id == _NEXT)
    .values(previous_at=bindparam("before"))
    .execution_options(synchronize_session=False)
)


@dataclass(frozen=True)
class _Locked:
    """What a purchase reads with the member locked, before it writes anything."""

    member: Member
    rules: Rules
    campaign: Campaign | None
    referral_pending: bool  # a referral this purchase may convert (its referrer locked too)
    seen_id: int | None  # the purchase already recorded under the key
    spend: int  # qualifying spend before this purchase
    lots_due: bool
    previous_at: datetime | None  # the member's latest kept purchase not later than this one
    later_id: int | None  # the member's earliest kept purchase later than this one (none but for a late record)


async def _lock(
    session: AsyncSession, defaults: Rules, member_id: int, amount: int, key: str, now: datetime
) -> _Locked:
    """Lock the member (and referrer) and read all the purchase needs, in two statements; check the amount."""
    rows = (await session.execute(_LOCK, {"member_id": member_id, "now": now})).all()
    row = next((row for row in rows if row.Member.id == member_id), None)  # the other row: the referrer
    if row is None:
        raise LookupError(f"no member {member_id}")
    club_rules = rules.in_force(defaults, row.stored_rules)
    check_amount(amount, club_rules)
    params = {"key": key, "member_id": member_id, "since": tiers.window_start(club_rules, now), "now": now}
    seen_id, spend, lots_due, previous_at, later_id = (await session.execute(_UNDER_LOCK, params)).one()
    campaign = Campaign(row.percent, row.bonus_expiry_days) if row.percent is not None else None
    pending = row.referrer_id is not None
    return _Locked(row.Member, club_rules, campaign, pending, seen_id, int(spend), lots_due, previous_at, later_id)


async def record_purchase(
    session: AsyncSession,
    defaults: Rules,
    *,
    member_id: int,
    amount: int,
    receipt: str | None,
    stamp: Stamp,
    category: str | None = None,
    payment: str | None = None,
    notices: Notices[Earned] | None = None,
) -> Earned:
    """Record a purchase by the cashier `stamp.actor_id` at `stamp.at` and its points in one transaction; the same
    key twice answers the first purchase.

    `payment` is how it was paid (`loyalty.payments.Payment`, None: not said); on credit while the owner has it off
    raises CreditOff, having written nothing.

    The key is the receipt's, else the stamp's update key (see `bot.middlewares.update_key`); its update id is only
    audited. The receipt and the category are recorded as their keys (`text_key`); an empty category is none.
    A new purchase's `notices` (to the member, a referrer) are enqueued in its transaction (`loyalty.outbox`).
    Raises OwnAccount when the cashier is the member's own messenger account, having written nothing.
    """
    receipt = text_key(receipt) if receipt is not None else None
    if receipt is not None and not 0 < len(receipt) <= RECEIPT_LENGTH:
        raise ValueError("a receipt number is 1 to 64 characters")
    category = text_key(category) if category else None
    if category is not None and len(category) > CATEGORY_LENGTH:
        raise ValueError("a category is at most 32 characters")
    key = purchase_key(receipt, stamp.update_key)
    try:
        async with write_transaction(session):
            locked = await _lock(session, defaults, member_id, amount, key, stamp.at)
            staff.refuse_own_account(locked.member, stamp.actor_id, "purchase")
            if locked.seen_id is not None:
                return await _already(session, locked)
            method = payments.check(payment, locked.rules)
            purchase = Purchase(
                member_id=member_id,
                amount=amount,
                idempotency_key=key,
                receipt=receipt,
                category=category,
                payment=method,
                staff_id=stamp.actor_id,
                created_at=stamp.at,
                reversed_at=None,
            )
            earned = await _earn(session, locked, purchase, stamp.update_id)
            await outbox.notify(session, notices, earned, now=stamp.at)
            return earned
    except IntegrityError:
        if receipt is None or await repositories.purchase_by_receipt(session, receipt) is None:
            raise
        raise ReceiptTaken(receipt) from None


async def _already(session: AsyncSession, locked: _Locked) -> Earned:
    """The answer to a repeated key: the first purchase, if it was for this member."""
    seen = await session.get(Purchase, locked.seen_id)
    assert seen is not None  # read under the lock, and purchases are never deleted
    if seen.member_id != locked.member.id:
        raise ReceiptTaken(seen.receipt)
    member = locked.member
    progress = tiers.progress(locked.rules, member.tier, locked.spend)
    currency = locked.rules.currency
    return Earned(seen, member, seen.points, 0, member.balance, progress, None, duplicate=True, currency=currency)


async def _earn(session: AsyncSession, locked: _Locked, purchase: Purchase, update_id: int | None) -> Earned:
    """Expire what is due, credit the points (and the campaign's), write the purchase, tier, referral and audit.

    `purchase` is new and complete but for its points and entry; its rows are written with Core statements.
    """
    member, club_rules, campaign, now = locked.member, locked.rules, locked.campaign, purchase.created_at
    base = club_rules.base_points(purchase.amount)
    points = base * club_rules.tier_named(member.tier).percent // 100
    extra = base * (campaign.percent - 100) // 100 if campaign else 0
    if locked.lots_due:
        await ledger.expire_member(session, member.id, now)
    key, days = purchase.idempotency_key, club_rules.expiry_days
    purchase.entry_id = None
    if points > 0:
        entry = await _credit(
            session, member, purchase, points, kind=ledger.Kind.EARN, reason="purchase", key=key, days=days
        )
        purchase.entry_id = entry.id
    if campaign and extra > 0:
        bonus_key, days = f"{key}:{CAMPAIGN}", campaign.bonus_expiry_days
        await _credit(
            session, member, purchase, extra, kind=ledger.Kind.BONUS, reason=CAMPAIGN, key=bonus_key, days=days
        )
    purchase.points = points + extra
    purchase.previous_at = locked.previous_at
    await repositories.insert_now(session, purchase)
    if locked.later_id is not None:  # recorded after a later one (a stamp from the past): that one follows it now
        await session.execute(_LINK, {"purchase_id": locked.later_id, "at": now})
    if member.first_purchase_at is None or member.first_purchase_at > now:  # a statement only for a first purchase
        await session.execute(_FIRST_PURCHASE, {"member_id": member.id, "at": now})
        set_committed_value(member, "first_purchase_at", now)
    spend = locked.spend + purchase.amount  # the purchase counts: it is made now, inside the window
    upgraded_from = await tiers.settle_after_purchase(session, member, club_rules, spend, now, purchase.staff_id)
    referral = None
    if locked.referral_pending:
        referral = await referrals.on_purchase(
            session, member, purchase, now=now, rules=club_rules, update_id=update_id
        )
    record = audit.entry(
        actor_id=purchase.staff_id,
        action="purchase.record",
        now=now,
        member_id=member.id,
        update_id=update_id,
        amount=purchase.amount,
        receipt=purchase.receipt,
        points=purchase.points,
        payment=purchase.payment,
    )
    await audit.write(session, record)
    progress = tiers.progress(club_rules, member.tier, spend)
    return Earned(
        purchase,
        member,
        purchase.points,
        extra,
        member.balance,
        progress,
        upgraded_from,
        duplicate=False,
        currency=club_rules.currency,
        referral=referral,
    )


async def _credit(
    session: AsyncSession,
    member: Member,
    purchase: Purchase,
    points: int,
    *,
    kind: ledger.Kind,
    reason: str,
    key: str,
    days: int,
) -> LedgerEntry:
    """Credit points of the purchase, by its cashier, at its time, in a lot lasting `days`."""
    return await ledger.post_credit(
        session,
        member,
        points=points,
        kind=kind,
        reason=reason,
        key=key,
        now=purchase.created_at,
        expires_at=purchase.created_at + timedelta(days=days),
        actor_id=purchase.staff_id,
    )


async def active_multiplier(session: AsyncSession, now: datetime) -> Multiplier | None:
    """The strongest points campaign running at `now`, if any."""
    strongest: Multiplier | None = await session.scalar(_running(Multiplier).limit(1), {"now": now})
    return strongest


async def new_multiplier(
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
    """A points campaign and its audit entry, added to the caller's write transaction (flushed: its id is known)."""
    if not 100 < percent <= 1000 or ends_at <= starts_at or bonus_expiry_days < 1:
        raise ValueError("a campaign multiplies by more than 100%, ends after it starts, and its points last")
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
    await session.flush()
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


async def undo_purchase(
    session: AsyncSession, defaults: Rules, receipt: str, stamp: Stamp, *, notices: Notices[Undone] | None = None
) -> Undone:
    """Reverse the purchase of `receipt`, found by its key (`text_key`) however it was typed (`_undo`)."""

    async def find() -> Purchase | None:
        return await repositories.purchase_by_receipt(session, text_key(receipt))

    return await _undo(session, defaults, find, receipt, stamp, notices)


async def undo_by_id(
    session: AsyncSession,
    defaults: Rules,
    purchase_id: int,
    stamp: Stamp,
    *,
    notices: Notices[Undone] | None = None,
    own_within: timedelta | None = None,
) -> Undone:
    """Reverse the purchase `purchase_id`, with a receipt number or without (`_undo`). With `own_within`, only the
    cashier who recorded it may, until `own_within` after it was recorded: else UndoRefused, nothing written."""

    async def find() -> Purchase | None:
        return await session.get(Purchase, purchase_id)

    def check(purchase: Purchase) -> None:
        if own_within is None:
            return
        if purchase.staff_id != stamp.actor_id:
            raise UndoRefused("not_yours")
        if stamp.at - purchase.created_at > own_within:
            raise UndoRefused("too_late")

    return await _undo(session, defaults, find, purchase_id, stamp, notices, check)


async def _undo(
    session: AsyncSession,
    defaults: Rules,
    find: Callable[[], Awaitable[Purchase | None]],
    reference: str | int,
    stamp: Stamp,
    notices: Notices[Undone] | None,
    check: Callable[[Purchase], None] = lambda purchase: None,
) -> Undone:
    """Reverse a purchase for the staff member `stamp.actor_id`, in one transaction: take its points back (its own
    lots first), as far as the member still has them, revoke the referral it completed, and set the member's tier
    from the spend left (`tiers.recompute`). Its `notices` are enqueued in the same transaction (`loyalty.outbox`).
    PurchaseNotFound, AlreadyReversed or what `check` raises of the purchase, once locked: nothing written.
    """
    async with write_transaction(session):
        purchase = await find()
        if purchase is None:
            raise PurchaseNotFound(reference)
        member, converted = await _lock_reversal(session, purchase)
        if purchase.reversed_at is not None:
            raise AlreadyReversed(purchase.receipt or reference)
        check(purchase)
        club_rules = await rules.current(session, defaults)
        undone = await _reverse(session, club_rules, purchase, member, converted, stamp, "purchase.undo")
        await outbox.notify(session, notices, undone, now=stamp.at)
    return undone


async def reverse_own(session: AsyncSession, club_rules: Rules, member_id: int, stamp: Stamp) -> list[Undone]:
    """Reverse, in the caller's write transaction, the standing purchases on the member that the account
    `stamp.actor_id` recorded itself (as `_undo` would, audited as `OWN_REVERSED`): joining with a phone they
    recorded purchases on gives staff none of those points. The member is locked here."""
    mine = (Purchase.member_id == member_id) & (Purchase.staff_id == stamp.actor_id) & Purchase.reversed_at.is_(None)
    undone = []
    for purchase in list(await session.scalars(select(Purchase).where(mine).order_by(Purchase.id))):
        member, converted = await _lock_reversal(session, purchase)
        undone.append(await _reverse(session, club_rules, purchase, member, converted, stamp, OWN_REVERSED))
    return undone


async def _lock_reversal(session: AsyncSession, purchase: Purchase) -> tuple[Member, Referral | None]:
    """Lock the purchase's member and the referrer of the referral it completed (in id order, as purchases do), and
    read the purchase afresh; the member and that referral."""
    converted = await referrals.converted_by(session, purchase.id)
    others = [converted.referrer_id] if converted is not None else []
    await repositories.lock_members(session, sorted({purchase.member_id, *others}))
    member = await repositories.lock_member(session, purchase.member_id)
    await session.refresh(purchase)
    return member, converted


async def _reverse(
    session: AsyncSession,
    club_rules: Rules,
    purchase: Purchase,
    member: Member,
    converted: Referral | None,
    stamp: Stamp,
    action: str,
) -> Undone:
    """Reverse a standing purchase, its member (and referrer) locked, for `stamp.actor_id` in the caller's transaction:
    take its points back (its own lots first) as far as the member still has them, revoke the referral it completed,
    audit it as `action` and set the member's tier from the spend left (`tiers.recompute`)."""
    staff_id, update_id, now = stamp.actor_id, stamp.update_id, stamp.at
    taken = await ledger.take_back(
        session,
        member,
        points=purchase.points,
        entry_ids=await _entries_of(session, purchase),
        reason="purchase_undo",
        key=f"undo:{purchase.idempotency_key}",
        now=now,
        actor_id=staff_id,
    )
    revoked = await referrals.revoke(session, converted, actor_id=staff_id, now=now, update_id=update_id)
    purchase.reversed_at = now
    await session.flush()
    reversed_one = {"undone_at": purchase.created_at, "undone_id": purchase.id}
    await session.execute(_RELINK, {"of_member": member.id, **reversed_one, "before": purchase.previous_at})
    first = await session.scalar(FIRST_PURCHASES.where(Member.id == member.id).returning(Member.first_purchase_at))
    set_committed_value(member, "first_purchase_at", first)
    await audit.record(
        session,
        actor_id=staff_id,
        action=action,
        now=now,
        member_id=member.id,
        update_id=update_id,
        receipt=purchase.receipt,
        purchase_id=purchase.id,
        taken=taken,
        shortfall=purchase.points - taken,
    )
    change = await tiers.recompute(session, member, club_rules, now, staff_id)
    return Undone(purchase, member, taken, purchase.points - taken, member.balance, revoked, change)


async def recent(session: AsyncSession, member_id: int, limit: int = 10) -> list[Purchase]:
    """The member's latest purchases, undone ones too, newest first (along `ix_purchases_member_created`)."""
    latest = (
        select(Purchase)
        .where(Purchase.member_id == member_id)
        .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(latest))


async def adjust(
    session: AsyncSession,
    defaults: Rules,
    member: Member,
    points: int,
    reason: str,
    stamp: Stamp,
    *,
    notices: Notices[ledger.Posted] | None = None,
) -> ledger.Posted:
    """A staff correction of the member's points, up or down, with a reason (`ledger.adjust`: one transaction, once
    per update, with its `notices`); points added last as long as the rules say, and the reason is kept to what an
    entry holds. Raises OwnAccount when the staff member is the member's own messenger account, having written
    nothing."""
    staff.refuse_own_account(member, stamp.actor_id, "adjust")
    club_rules = await rules.current(session, defaults)
    return await ledger.adjust(
        session,
        member.id,
        points,
        reason=reason[: ledger.REASON_LENGTH],
        key=f"adjust:{stamp.update_key}",
        now=stamp.at,
        actor_id=stamp.actor_id,
        expiry_days=club_rules.expiry_days,
        notices=notices,
    )


async def _entries_of(session: AsyncSession, purchase: Purchase) -> list[int]:
    """The purchase's credit entries: its earn and its campaign bonus."""
    keys = [purchase.idempotency_key, f"{purchase.idempotency_key}:{CAMPAIGN}"]
    return list((await session.scalars(select(LedgerEntry.id).where(LedgerEntry.idempotency_key.in_(keys)))).all())
