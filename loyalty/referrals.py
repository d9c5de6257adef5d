"""Referrals: a member's invite link brings a friend, who is attributed on joining and rewarded once.

A referral's life (one `storage.models.Referral` row per newcomer's messenger account):
pending (the newcomer opened the link, `opened`) → joined (they finished joining within the window:
attributed, `on_joined`) → rewarded (paid once, on joining or on their first qualifying purchase as the
owner chose, `on_purchase`); or refused, with its reason on the row. Every refusal is written to the
audit log as `referral.refused` with its reason; a link refused on opening (self, already a member,
unknown referrer) makes no row, only the audit entry.

Decisions:
- Window: a newcomer is attributed if they finish joining within `referral_window_days` (7 by default)
  of opening the link, however long they wander in between. The first link opened holds while pending;
  a link opened after the window re-points the pending referral to its member.
- First qualifying purchase: the first purchase of at least `referral_min_purchase`; smaller purchases
  before it neither convert the referral nor spoil it. Conversion is counted whatever the trigger.
- Rewards: points for the referrer, the friend or both (`referral_reward_to`), and optionally a voucher
  of a catalog reward each (`referral_*_reward_id`), given without spending points; a reward inactive or
  out of stock gives no voucher (reason reward_unavailable), the points still come.
- Monthly cap: a referrer is paid for at most `referral_monthly_cap` referrals in any rolling 30 days
  (no time zone, no burst at the turn of a month). Past it, or while the referrer's membership is
  `blocked`, the referrer earns nothing for that referral (reason monthly_cap / referrer_blocked);
  the friend still gets theirs. Likewise a friend whose membership is blocked when the reward is paid (on
  joining or on the first purchase) gets nothing (reason friend_blocked), and the referrer still gets theirs.
  Stopping news (`Member.stopped`) is not a block.
- Who cannot be referred: the referrer themself, a messenger account that is (members are never
  deleted, so: ever was) a member, and a phone already in the club (an imported member linking).
- Statistics: "invites sent" are links opened by distinct newcomers (a row each), per member who has
  joined; conversion is converted / opened, so the viral coefficient K = invites per member × conversion
  = converted friends per member.

Locks: a referrer always joined, and so got their id, before their friend. A purchase that may convert
a referral locks the referrer and the friend in id order before anything else (the purchase's lock
statement takes both rows, the referrer found by `UNCONVERTED_REFERRER`), the order the nightly expiry
locks members in, so the two never wait on each other in a cycle. Joining locks the referrer after the
friend's row, which is new and which no other transaction can see yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, ledger
from loyalty.codes import read_member_code
from loyalty.rewards import free_voucher
from loyalty.rules import Rules
from storage import repositories
from storage.database import rowcount, write_transaction
from storage.models import Member, Purchase, Referral

PREFIX = "ref_"
MAX_PAYLOAD = 64
CAP_PERIOD = timedelta(days=30)
REFERRER_REASON = "referral"  # ledger reasons of the two rewards
FRIEND_REASON = "referral_friend"
REVOKED_REASON = "referral_revoked"  # the ledger reason of points taken back when the purchase is undone


class Status(StrEnum):
    """Where a referral stands."""

    PENDING = "pending"
    JOINED = "joined"
    REWARDED = "rewarded"
    REFUSED = "refused"


class Reason(StrEnum):
    """Why a referral was refused, or why its referrer got nothing."""

    NOT_A_REFERRAL = "not_a_referral"
    UNKNOWN_REFERRER = "unknown_referrer"
    SELF = "self"
    ALREADY_MEMBER = "already_member"
    EXPIRED = "expired"
    PHONE_IN_CLUB = "phone_in_club"
    MONTHLY_CAP = "monthly_cap"
    REFERRER_BLOCKED = "referrer_blocked"
    FRIEND_BLOCKED = "friend_blocked"
    REWARD_UNAVAILABLE = "reward_unavailable"
    PURCHASE_UNDONE = "purchase_undone"  # the purchase that completed it was reversed


class Event(StrEnum):
    """What just happened to a referral, for the chat side to tell."""

    JOINED = "joined"
    CONVERTED = "converted"


ATTRIBUTED = (Status.JOINED, Status.REWARDED)


@dataclass(frozen=True)
class Opened:
    """A newcomer's pending referral; `duplicate` if they had opened this (or an earlier) link already."""

    referral_id: int
    referrer_id: int
    referrer_first_name: str
    duplicate: bool


@dataclass(frozen=True)
class Refused:
    """A link that does not make a referral, and why (a `Reason`)."""

    reason: Reason


@dataclass(frozen=True)
class ReferralEvent:
    """What the chat side tells whom: the referrer (never the friend's phone), and what each side got now.

    `rewarded` False: nothing paid at this event (the reward waits for the friend's first qualifying
    purchase, or was paid on joining); `withheld` says why the referrer got no points though due, and
    `friend_withheld` why the friend got none.
    """

    referral_id: int
    event: Event
    referrer_id: int
    referrer_telegram_id: int | None
    referrer_language: str
    friend_id: int
    friend_first_name: str
    rewarded: bool
    referrer_points: int
    friend_points: int
    withheld: Reason | None
    referrer_voucher_id: int | None = None
    friend_voucher_id: int | None = None
    friend_withheld: Reason | None = None


@dataclass(frozen=True)
class MyResults:
    """A member's own invite results for /invite."""

    joined: int
    bought: int
    points: int


@dataclass(frozen=True)
class TopReferrer:
    """One of the members who brought the most friends."""

    member_id: int
    first_name: str
    joined: int
    converted: int
    points: int


@dataclass(frozen=True)
class ReferralStats:
    """The club's referral figures for staff; rates are 0 when there is nothing to divide by."""

    members: int
    opened: int
    joined: int
    converted: int
    conversion_rate: float
    invites_per_member: float
    k_factor: float
    top: tuple[TopReferrer, ...]


def payload_for(member_code: str) -> str:
    """The /start payload of a member's invite link: ref_<member code> (A–Z a–z 0–9 _ - only, 64 at most)."""
    return PREFIX + member_code


def read_payload(payload: str | None) -> str | None:
    """The member code in an invite payload, or None for anything else (garbage, too long, a wrong code)."""
    if not payload or len(payload) > MAX_PAYLOAD or not payload.startswith(PREFIX):
        return None
    code = payload.removeprefix(PREFIX)
    return read_member_code(code) if code.isascii() and code.isdigit() else None


async def opened(
    session: AsyncSession, payload: str, *, telegram_id: int, now: datetime, rules: Rules
) -> Opened | Refused:
    """Record that a newcomer opened an invite link, in one transaction; once per newcomer; refusals audited."""
    code = read_payload(payload)
    if code is None:
        return Refused(Reason.NOT_A_REFERRAL)  # not an invite link at all: nothing to log
    try:
        async with write_transaction(session):
            return await _open(session, code, telegram_id, now, rules)
    except IntegrityError:  # the same newcomer opened a link twice at the same moment (PostgreSQL)
        row = await _referral_of(session, telegram_id)
        if row is None:
            raise
        return Opened(row.id, row.referrer_id, await _first_name(session, row.referrer_id), duplicate=True)


async def _open(session: AsyncSession, code: str, telegram_id: int, now: datetime, rules: Rules) -> Opened | Refused:
    referrer = await repositories.member_by_code(session, code)
    if referrer is None or referrer.joined_at is None:  # unknown, or imported and never joined: no link of theirs
        return await _refused(
            session, Reason.UNKNOWN_REFERRER, actor_id=telegram_id, referrer_id=None, now=now, code=code
        )
    opener = await repositories.member_by_telegram_id(session, telegram_id)
    if opener is not None:
        reason = Reason.SELF if opener.id == referrer.id else Reason.ALREADY_MEMBER
        return await _refused(session, reason, actor_id=telegram_id, referrer_id=referrer.id, now=now)
    row = await _referral_of(session, telegram_id, lock=True)
    if row is not None and not (row.status == Status.PENDING and _expired(row, rules, now)):
        return Opened(row.id, row.referrer_id, await _first_name(session, row.referrer_id), duplicate=True)
    if row is None:
        row = await _new_referral(session, referrer.id, telegram_id, now)
    else:  # a pending referral past its window: the newer link takes it over
        row.referrer_id, row.opened_at = referrer.id, now
        await session.flush()
    await _audit(session, "open", row, actor_id=telegram_id, now=now, update_id=None)
    return Opened(row.id, referrer.id, referrer.first_name, duplicate=False)


async def on_joined(
    session: AsyncSession,
    member: Member,
    *,
    now: datetime,
    rules: Rules,
    update_id: int | None,
    phone_in_club: bool,
) -> ReferralEvent | None:
    """Attribute the newcomer's pending referral, inside the joining transaction; pay now if the trigger says so.

    `phone_in_club` is True when joining linked a member the shop had already (imported by phone).
    Returns None when there is no referral or it was refused (the refusal is stored and audited).
    """
    referral = await _pending_for(session, member, now)
    if referral is None:
        return None
    refusal = _join_refusal(referral, member, rules, now, phone_in_club)
    if refusal is not None:
        referral.status, referral.reason = Status.REFUSED, refusal
        await _audit(
            session, "refused", referral, actor_id=member.telegram_id, now=now, update_id=update_id, reason=refusal
        )
        return None
    referral.status, referral.friend_member_id, referral.joined_at = Status.JOINED, member.id, now
    await session.flush()
    await _audit(session, "join", referral, actor_id=member.telegram_id, now=now, update_id=update_id, friend=member.id)
    pay = rules.referral_trigger == "registration"
    return await _news(session, referral, member, Event.JOINED, rules, now, update_id, pay=pay)


async def _pending_for(session: AsyncSession, member: Member, now: datetime) -> Referral | None:
    """The newcomer's pending referral; or, if the chat side never recorded the link, one from the join's payload."""
    if member.telegram_id is None:
        return None
    row = await _referral_of(session, member.telegram_id, lock=True)
    if row is not None:
        return row if row.status == Status.PENDING else None
    code = read_payload(member.referral_payload)
    referrer = await repositories.member_by_code(session, code) if code else None
    if referrer is None or referrer.joined_at is None:
        return None
    return await _new_referral(session, referrer.id, member.telegram_id, now)


async def _new_referral(session: AsyncSession, referrer_id: int, telegram_id: int, now: datetime) -> Referral:
    """A pending referral of a newcomer's account to a member, opened now."""
    row = Referral(
        referrer_id=referrer_id,
        friend_telegram_id=telegram_id,
        status=Status.PENDING,
        opened_at=now,
        referrer_points=0,
        friend_points=0,
    )
    session.add(row)
    await session.flush()
    return row


def _join_refusal(
    referral: Referral, member: Member, rules: Rules, now: datetime, phone_in_club: bool
) -> Reason | None:
    """Why a pending referral cannot be attributed to the member who just joined, or None."""
    if referral.referrer_id == member.id:
        return Reason.SELF
    if phone_in_club:
        return Reason.PHONE_IN_CLUB
    if _expired(referral, rules, now):
        return Reason.EXPIRED
    return None


def _expired(referral: Referral, rules: Rules, now: datetime) -> bool:
    """True once the newcomer's window to join after opening the link has passed."""
    return now > referral.opened_at + timedelta(days=rules.referral_window_days)


def _unconverted(friend_id: int | BindParameter[int]) -> tuple[ColumnElement[bool], ...]:
    """The conditions on the friend's attributed referral that their first qualifying purchase has not converted."""
    return (Referral.friend_member_id == friend_id, Referral.status.in_(ATTRIBUTED), Referral.converted_at.is_(None))


UNCONVERTED_REFERRER: ScalarSelect[int] = (
    select(Referral.referrer_id).where(*_unconverted(bindparam("member_id"))).scalar_subquery()
)
"""The referrer of member :member_id's referral that a purchase may convert, or NULL (most members; one index read).

A purchase locks this referrer with the member, in id order, in one statement (the nightly expiry locks members
in id order too; the friend first and the referrer, an older member with a smaller id, after it could make
the two wait on each other on PostgreSQL), and calls `on_purchase` only when there is one.
"""


async def on_purchase(
    session: AsyncSession, member: Member, purchase: Purchase, *, now: datetime, rules: Rules, update_id: int | None
) -> ReferralEvent | None:
    """Convert the member's referral on their first qualifying purchase, inside the purchase's transaction.

    Expects the referrer locked with the member (`UNCONVERTED_REFERRER`). The conversion is one conditional
    UPDATE (only a referral not yet converted), so two purchases of the same friend at once convert and reward
    it once. Pays the reward if it was not paid on joining.
    """
    if purchase.amount < rules.referral_min_purchase:
        return None
    converted = await session.execute(
        update(Referral)
        .where(*_unconverted(member.id))
        .values(converted_at=now, purchase_id=purchase.id)
        .returning(Referral.id)
        .execution_options(synchronize_session=False)
    )
    referral_id = converted.scalar()
    if referral_id is None:
        return None
    referral = await session.get(Referral, referral_id, populate_existing=True)
    assert referral is not None
    await _audit(
        session, "convert", referral, actor_id=purchase.staff_id, now=now, update_id=update_id, purchase_id=purchase.id
    )
    pay = referral.status == Status.JOINED  # not paid on joining (the trigger is the purchase, or was then)
    return await _news(session, referral, member, Event.CONVERTED, rules, now, update_id, pay=pay)


async def _news(
    session: AsyncSession,
    referral: Referral,
    friend: Member,
    event: Event,
    rules: Rules,
    now: datetime,
    update_id: int | None,
    *,
    pay: bool,
) -> ReferralEvent:
    """Pay the referral if `pay` (once: a conditional UPDATE moves it from joined to rewarded); say what happened."""
    if pay:
        claimed = await session.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.status == Status.JOINED)
            .values(status=Status.REWARDED, rewarded_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) == 1:
            await session.refresh(referral)
            return await _pay(session, referral, friend, event, rules, now, update_id)
    referrer = await session.get(Member, referral.referrer_id)
    assert referrer is not None  # a foreign key
    return _event(referral, event, referrer, friend, rewarded=False)


async def _pay(
    session: AsyncSession,
    referral: Referral,
    friend: Member,
    event: Event,
    rules: Rules,
    now: datetime,
    update_id: int | None,
) -> ReferralEvent:
    """Reward a referral just claimed: each side its points and voucher, unless withheld from that side."""
    # the referrer is locked already by a purchase (`UNCONVERTED_REFERRER`); on joining, the friend's row is new
    # and nobody else can see it yet, so locking the referrer after it cannot make a cycle
    referrer = await repositories.lock_member(session, referral.referrer_id)
    withheld: dict[str, Reason | None] = {"referrer": None, "friend": None}
    for side, member in (("referrer", referrer), ("friend", friend)):
        if rules.referral_reward_to not in (side, "both"):
            continue
        points, reward_id = _side_reward(rules, side)
        withheld[side] = await _withheld(session, member, side, rules, now) if points or reward_id else None
        if withheld[side] is None:
            paid = await _reward(session, referral, member, side, points, reward_id, rules, now, update_id)
            if side == "referrer":
                referral.referrer_points, referral.referrer_voucher_id = paid
            else:
                referral.friend_points, referral.friend_voucher_id = paid
        else:
            why = withheld[side]
            referral.reason = referral.reason or why
            await _audit(session, "refused", referral, actor_id=None, now=now, update_id=update_id, reason=why)
    await session.flush()
    await _audit(
        session,
        "reward",
        referral,
        actor_id=None,
        now=now,
        update_id=update_id,
        referrer_points=referral.referrer_points,
        friend_points=referral.friend_points,
        referrer_voucher_id=referral.referrer_voucher_id,
        friend_voucher_id=referral.friend_voucher_id,
    )
    return _event(
        referral,
        event,
        referrer,
        friend,
        rewarded=True,
        withheld=withheld["referrer"],
        friend_withheld=withheld["friend"],
    )


def _side_reward(rules: Rules, side: str) -> tuple[int, int | None]:
    """The points and catalog reward the owner set for one side of a referral."""
    if side == "referrer":
        return rules.referral_referrer_points, rules.referral_referrer_reward_id
    return rules.referral_friend_points, rules.referral_friend_reward_id


async def _reward(
    session: AsyncSession,
    referral: Referral,
    member: Member,
    side: str,
    points: int,
    reward_id: int | None,
    rules: Rules,
    now: datetime,
    update_id: int | None,
) -> tuple[int, int | None]:
    """Give one side its points (once: the key names the referral and the side) and its catalog voucher, if any.

    Returns the points credited and the voucher's id (None: none set, or the reward is not available).
    """
    if points > 0:
        await ledger.post_credit(
            session,
            member,
            points=points,
            kind=ledger.Kind.BONUS,
            reason=REFERRER_REASON if side == "referrer" else FRIEND_REASON,
            key=f"referral:{referral.id}:{side}",
            now=now,
            expires_at=now + timedelta(days=rules.referral_points_expiry_days),
        )
    if reward_id is None:
        return points, None
    voucher = await free_voucher(session, member.id, reward_id, now)
    if voucher is None:
        await _audit(
            session,
            "refused",
            referral,
            actor_id=None,
            now=now,
            update_id=update_id,
            reason=Reason.REWARD_UNAVAILABLE,
            side=side,
            reward_id=reward_id,
        )
    return points, voucher.id if voucher else None


async def _withheld(session: AsyncSession, member: Member, side: str, rules: Rules, now: datetime) -> Reason | None:
    """Why one side earns nothing for a referral now: a blocked member (either side), or a referrer already paid
    for the cap's worth in 30 days."""
    if member.blocked:
        return Reason.REFERRER_BLOCKED if side == "referrer" else Reason.FRIEND_BLOCKED
    if side != "referrer":
        return None
    paid = await session.scalar(
        select(func.count()).where(
            Referral.referrer_id == member.id,
            (Referral.referrer_points > 0) | Referral.referrer_voucher_id.is_not(None),
            Referral.rewarded_at > now - CAP_PERIOD,
        )
    )
    return Reason.MONTHLY_CAP if (paid or 0) >= rules.referral_monthly_cap else None


def _event(
    referral: Referral,
    event: Event,
    referrer: Member,
    friend: Member,
    *,
    rewarded: bool,
    withheld: Reason | None = None,
    friend_withheld: Reason | None = None,
) -> ReferralEvent:
    return ReferralEvent(
        referral_id=referral.id,
        event=event,
        referrer_id=referrer.id,
        referrer_telegram_id=referrer.telegram_id,
        referrer_language=referrer.language,
        friend_id=friend.id,
        friend_first_name=friend.first_name,
        rewarded=rewarded,
        referrer_points=referral.referrer_points if rewarded else 0,
        friend_points=referral.friend_points if rewarded else 0,
        withheld=withheld,
        referrer_voucher_id=referral.referrer_voucher_id if rewarded else None,
        friend_voucher_id=referral.friend_voucher_id if rewarded else None,
        friend_withheld=friend_withheld,
    )


async def _refused(
    session: AsyncSession, reason: Reason, *, actor_id: int, referrer_id: int | None, now: datetime, **details: object
) -> Refused:
    """Write a link refused on opening (no referral made) to the audit log, with its reason, and answer it."""
    await audit.record(
        session,
        actor_id=actor_id,
        action="referral.refused",
        now=now,
        member_id=referrer_id,
        update_id=None,  # named, so that no key of `details` can take its place
        reason=reason.value,
        **details,
    )
    return Refused(reason)


@dataclass(frozen=True)
class Revoked:
    """A referral refused after the purchase that completed it was undone: the points taken back from each side."""

    referral_id: int
    referrer_id: int
    referrer_taken: int
    friend_taken: int


async def converted_by(session: AsyncSession, purchase_id: int) -> Referral | None:
    """The referral a purchase completed (its friend's first qualifying purchase), if any."""
    return await session.scalar(select(Referral).where(Referral.purchase_id == purchase_id))


async def revoke(
    session: AsyncSession, referral: Referral | None, *, actor_id: int, now: datetime, update_id: int | None
) -> Revoked | None:
    """The purchase that completed `referral` is undone: refuse it (it never counts or pays again) and take its
    points back from both sides as far as they still have them; in the caller's transaction, with both members
    locked. Vouchers it gave stay (a voucher is a thing in hand; staff may still decline it at the counter)."""
    if referral is None:
        return None
    refused = await session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.converted_at.is_not(None))
        .values(status=Status.REFUSED, reason=Reason.PURCHASE_UNDONE, converted_at=None)
        .values(referrer_points=0, friend_points=0)  # what it paid is taken back (the audit entry says how much)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(refused):
        return None
    taken = {}
    for side, member_id, points in (
        ("referrer", referral.referrer_id, referral.referrer_points),
        ("friend", referral.friend_member_id, referral.friend_points),
    ):
        taken[side] = await _take_back(session, referral, side, member_id, points, actor_id, now)
    await _audit(session, "revoked", referral, actor_id=actor_id, now=now, update_id=update_id, **taken)
    return Revoked(referral.id, referral.referrer_id, taken["referrer"], taken["friend"])


async def _take_back(
    session: AsyncSession,
    referral: Referral,
    side: str,
    member_id: int | None,
    points: int,
    actor_id: int,
    now: datetime,
) -> int:
    """Take one side's referral points back, as far as that member still has them."""
    credit = await repositories.entry_by_key(session, f"referral:{referral.id}:{side}")
    if member_id is None or credit is None or points <= 0:
        return 0
    member = await repositories.lock_member(session, member_id)
    return await ledger.take_back(
        session,
        member,
        points=points,
        entry_ids=[credit.id],
        reason=REVOKED_REASON,
        key=f"revoke:{referral.id}:{side}",
        now=now,
        actor_id=actor_id,
    )


async def _audit(
    session: AsyncSession,
    step: str,
    referral: Referral,
    *,
    actor_id: int | None,
    now: datetime,
    update_id: int | None,
    **details: object,
) -> None:
    """Write a step of a referral (open, join, convert, reward, refused with a reason) to the audit log."""
    await audit.record(
        session,
        actor_id=actor_id,
        action=f"referral.{step}",
        now=now,
        member_id=referral.referrer_id,
        update_id=update_id,
        referral_id=referral.id,
        **details,
    )


async def _referral_of(session: AsyncSession, telegram_id: int, *, lock: bool = False) -> Referral | None:
    """The referral of a newcomer's messenger account, freshly read (locked if asked), if any."""
    statement = select(Referral).where(Referral.friend_telegram_id == telegram_id)
    if lock:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def _first_name(session: AsyncSession, member_id: int) -> str:
    """A member's first name."""
    return await session.scalar(select(Member.first_name).where(Member.id == member_id)) or ""


async def my_results(session: AsyncSession, member_id: int) -> MyResults:
    """Friends who joined through the member's link, friends who bought, and the points the member earned."""
    row = (await session.execute(_results().where(Referral.referrer_id == member_id))).one()
    return MyResults(joined=int(row.joined or 0), bought=int(row.converted or 0), points=int(row.points or 0))


def _results() -> Select[int, int, int]:
    """Friends joined, friends converted and the referrer's points, over referrals (filter and group as needed)."""
    return select(
        func.count(Referral.friend_member_id).label("joined"),
        func.count(Referral.converted_at).label("converted"),
        func.coalesce(func.sum(Referral.referrer_points), 0).label("points"),
    )


async def referral_stats(session: AsyncSession, now: datetime, top: int = 5) -> ReferralStats:
    """As of `now`: links opened by distinct newcomers, friends joined and converted, conversion, K, top referrers.

    Invites per member = links opened / members who have joined; conversion = converted / opened;
    K = invites per member × conversion (friends converted per member).
    """
    counted = Referral.opened_at <= now
    members = int(await session.scalar(select(func.count()).where(Member.joined_at <= now)) or 0)
    totals = (await session.execute(_results().add_columns(func.count().label("opened")).where(counted))).one()
    opened_count, converted = int(totals.opened), int(totals.converted or 0)
    conversion = converted / opened_count if opened_count else 0.0
    invites = opened_count / members if members else 0.0
    leaders = await session.execute(
        _results()
        .add_columns(Member.id, Member.first_name)
        .join(Member, Member.id == Referral.referrer_id)
        .where(counted, Referral.friend_member_id.is_not(None))
        .group_by(Member.id, Member.first_name)
        .order_by(
            func.count(Referral.converted_at).desc(),
            func.count(Referral.friend_member_id).desc(),
            func.sum(Referral.referrer_points).desc(),
            Member.id,
        )
        .limit(top)
    )
    return ReferralStats(
        members=members,
        opened=opened_count,
        joined=int(totals.joined or 0),
        converted=converted,
        conversion_rate=conversion,
        invites_per_member=invites,
        k_factor=invites * conversion,
        top=tuple(
            TopReferrer(row.id, row.first_name, int(row.joined), int(row.converted), int(row.points)) for row in leaders
        ),
    )
