"""The owner's reports over a period, each figure beside the previous period's: aggregates the database computes.

Sales: purchases, their total, the average purchase, purchases per buying member, buyers new to the club (their
first purchase ever falls in the period) and returning ones, and the purchases and total of each day. Members: the
members who joined through the bot and the waiting ones (walk-ins or imported, no messenger account yet), the new
ones, the active ones (bought in the period), by tier. A reversed purchase counts nowhere. Points: the points
issued (earned, bonuses, corrections up), spent and expired in the period by the ledger's entries, the points the
members hold now (the club's liability, also in money at the average money off per point of the catalog's active
money-off rewards), and the vouchers issued, used and expired, for rewards and gift vouchers.
Top customers: the few members who spent most and bought most often in the period, and who hold most points now.
Referrals (what /stats shows, over the period): invite links opened, friends who joined, friends who made their
first purchase, the points both sides got for it, and the members whose friends bought most.
Days are the shop's days (`loyalty.periods`): each purchase falls into one by comparing its moment with the shop's
midnights in UTC, so the same SQL runs on SQLite and PostgreSQL without their time zone functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.ledger import Kind
from loyalty.periods import Period, midnight
from loyalty.vouchers import Kind as VoucherKind
from storage.models import LedgerEntry, Member, Purchase, Referral, Reward, Voucher


@dataclass(frozen=True)
class Compared:
    """A figure in the period (`now`) and in the previous period of the same length (`before`)."""

    now: float
    before: float


@dataclass(frozen=True)
class Day:
    """One day of the period: its purchases and their total."""

    day: date
    purchases: int
    total: int


@dataclass(frozen=True)
class Buyers:
    """The members who bought in the period, and those of them whose first purchase ever is in it."""

    buyers: Compared
    new: Compared

    @property
    def returning(self) -> Compared:
        """Buyers who had bought before the period."""
        return Compared(self.buyers.now - self.new.now, self.buyers.before - self.new.before)


@dataclass(frozen=True)
class Sales:
    """The sales of a period against the previous one, and its days."""

    purchases: Compared
    total: Compared
    buyers: Buyers
    days: list[Day]

    @property
    def average(self) -> Compared:
        """The average purchase (0 with none)."""
        return Compared(_ratio(self.total.now, self.purchases.now), _ratio(self.total.before, self.purchases.before))

    @property
    def per_buyer(self) -> Compared:
        """Purchases per buying member (0 with none)."""
        buyers = self.buyers.buyers
        return Compared(_ratio(self.purchases.now, buyers.now), _ratio(self.purchases.before, buyers.before))


@dataclass(frozen=True)
class Members:
    """The club's members now, the new and active ones in the period against the previous one, and by tier."""

    joined: int
    waiting: int
    new: Compared
    active: Compared
    tiers: dict[str, int]


@dataclass(frozen=True)
class Vouchers:
    """Vouchers issued, used and expired in the period against the previous one."""

    issued: Compared
    used: Compared
    expired: Compared

    @property
    def rate(self) -> Compared:
        """The redemption rate: used ÷ issued (0 with none issued)."""
        return Compared(_ratio(self.used.now, self.issued.now), _ratio(self.used.before, self.issued.before))


@dataclass(frozen=True)
class Points:
    """Points issued, spent and expired in the period, the points members hold now, and the vouchers."""

    issued: Compared
    spent: Compared
    expired: Compared
    outstanding: int
    worth: int | None  # the outstanding points in money; None without a money-off reward in the catalog
    rewards: Vouchers
    gifts: Vouchers


@dataclass(frozen=True)
class Ranked:
    """A member in a top list, with the figure it is ranked by (amount spent, purchases or points)."""

    code: str
    name: str
    phone: str
    value: int


@dataclass(frozen=True)
class Top:
    """The top members of a period by amount spent and by purchases, and by points held now."""

    spend: list[Ranked]
    visits: list[Ranked]
    points: list[Ranked]


@dataclass(frozen=True)
class Referrals:
    """Invites of the period against the previous one, and the members whose invited friends bought most in it."""

    opened: Compared
    joined: Compared
    bought: Compared
    points: Compared
    inviters: list[Ranked]


DAYS_A_STATEMENT = 100  # days summed by one compound SELECT (SQLite allows 500 terms)


def _ratio(part: float, whole: float) -> float:
    """part ÷ whole, 0 when whole is 0."""
    return part / whole if whole else 0


async def _day_sums(session: AsyncSession, edges: list[datetime]) -> list[tuple[int, int]]:
    """The kept purchases' count and total of each day between consecutive `edges` (the days' midnights and the
    end): a range of the covering `ix_purchases_kept_created` a day, the days joined by UNION ALL, so no row has its
    day computed and none is sorted (a CASE over 60 days and a GROUP BY cost 3.5 s over 1.6 million purchases)."""
    kept = Purchase.reversed_at.is_(None)
    figures: dict[int, tuple[int, int]] = {}
    for first in range(0, len(edges) - 1, DAYS_A_STATEMENT):
        days = [
            select(
                literal(index, Integer), func.count(), cast(func.coalesce(func.sum(Purchase.amount), 0), BigInteger)
            ).where(kept, _within(Purchase.created_at, edges[index], edges[index + 1]))
            for index in range(first, min(first + DAYS_A_STATEMENT, len(edges) - 1))
        ]
        figures.update((index, (count, total)) for index, count, total in await session.execute(union_all(*days)))
    return [figures[index] for index in range(len(edges) - 1)]


def _within(moment: SQLColumnExpression[datetime | None], start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(moment >= start, moment < end)


async def sales(session: AsyncSession, period: Period, zone: ZoneInfo) -> Sales:
    """The sales of `period` (the shop's days in `zone`) against the previous period of the same length."""
    previous = period.previous()
    days = previous.days() + period.days()
    end = period.bounds(zone)[1]
    figures = await _day_sums(session, [midnight(day, zone) for day in days] + [end])
    split = previous.length
    return Sales(
        purchases=Compared(sum(f[0] for f in figures[split:]), sum(f[0] for f in figures[:split])),
        total=Compared(sum(f[1] for f in figures[split:]), sum(f[1] for f in figures[:split])),
        buyers=await buyers(session, period, zone),
        days=[Day(day, *figures[split + offset]) for offset, day in enumerate(period.days())],
    )


async def buyers(session: AsyncSession, period: Period, zone: ZoneInfo) -> Buyers:
    """The members who bought in `period` and in the previous one, and those whose first purchase is in it (kept on
    the member as `first_purchase_at`: counted along its index, not by seeking each buyer's purchases)."""
    start, middle = period.previous().bounds(zone)
    end = period.bounds(zone)[1]
    half = case((Purchase.created_at < middle, 0), else_=1)
    everyone = select(half, func.count(distinct(Purchase.member_id))).where(
        Purchase.reversed_at.is_(None), _within(Purchase.created_at, start, end)
    )
    first_half = case((Member.first_purchase_at < middle, 0), else_=1)
    new = select(first_half, func.count()).where(_within(Member.first_purchase_at, start, end))
    bought = {index: count for index, count in await session.execute(everyone.group_by(half))}
    first = {index: count for index, count in await session.execute(new.group_by(first_half))}
    return Buyers(buyers=Compared(bought.get(1, 0), bought.get(0, 0)), new=Compared(first.get(1, 0), first.get(0, 0)))


async def members(session: AsyncSession, period: Period, zone: ZoneInfo) -> Members:
    """The club's members, the new ones in `period` and the previous period, the active ones, by tier."""
    start, middle = period.previous().bounds(zone)
    end = period.bounds(zone)[1]

    def counting(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    rows = (
        await session.execute(
            select(
                Member.tier,
                counting(Member.telegram_id.is_not(None)),
                counting(Member.telegram_id.is_(None)),
                counting(_within(Member.created_at, middle, end)),
                counting(_within(Member.created_at, start, middle)),
            ).group_by(Member.tier)
        )
    ).all()
    active = (await buyers(session, period, zone)).buyers
    return Members(
        joined=sum(row[1] for row in rows),
        waiting=sum(row[2] for row in rows),
        new=Compared(sum(row[3] for row in rows), sum(row[4] for row in rows)),
        active=active,
        tiers={row[0]: row[1] + row[2] for row in rows},
    )


def _counted(
    condition: ColumnElement[bool],
    moment: SQLColumnExpression[datetime | None],
    bounds: list[datetime],
    value: ColumnElement[int] | int = 1,
) -> list[ColumnElement[int]]:
    """Terms to sum: `value` of the rows meeting `condition` with their moment in the previous period, then in this
    one (1 counts the rows)."""
    start, middle, end = bounds
    halves = ((start, middle), (middle, end))
    return [case((and_(condition, _within(moment, *half)), value), else_=0) for half in halves]


async def points(session: AsyncSession, period: Period, zone: ZoneInfo, now: datetime) -> Points:
    """The points and vouchers of `period` against the previous period; expired vouchers only up to `now`."""
    start, middle = period.previous().bounds(zone)
    end = period.bounds(zone)[1]
    issued = case(
        (LedgerEntry.kind.in_([Kind.EARN, Kind.BONUS]), LedgerEntry.points),
        (and_(LedgerEntry.kind == Kind.ADJUST, LedgerEntry.points > 0), LedgerEntry.points),
        else_=0,
    )
    spent = case((LedgerEntry.kind == Kind.SPEND, -LedgerEntry.points), else_=0)
    expired = case((LedgerEntry.kind == Kind.EXPIRE, -LedgerEntry.points), else_=0)
    half = case((LedgerEntry.created_at < middle, 0), else_=1)
    sums = {
        row[0]: row[1:]
        for row in await session.execute(
            select(half, *(cast(func.sum(figure), BigInteger) for figure in (issued, spent, expired)))
            .where(_within(LedgerEntry.created_at, start, end))
            .group_by(half)
        )
    }
    before, after = sums.get(0, (0, 0, 0)), sums.get(1, (0, 0, 0))
    issued_points, spent_points, expired_points = (Compared(after[i] or 0, before[i] or 0) for i in range(3))
    outstanding = (await session.execute(select(cast(func.sum(Member.balance), BigInteger)))).scalar() or 0
    per_point = await session.scalar(
        select(func.avg(cast(Reward.value, Float) / Reward.cost)).where(Reward.active, Reward.kind == VoucherKind.FIXED)
    )
    gift = Voucher.gift_id.is_not(None)
    lapsed = and_(Voucher.status == "active", Voucher.expires_at <= now)
    bounds = [start, middle, end]
    counts = [
        *_counted(true(), Voucher.issued_at, bounds),
        *_counted(Voucher.status == "used", Voucher.used_at, bounds),
        *_counted(lapsed, Voucher.expires_at, bounds),
    ]
    touched = or_(*(_within(moment, start, end) for moment in (Voucher.issued_at, Voucher.used_at, Voucher.expires_at)))
    by_kind = {
        row[0]: row[1:]
        for row in await session.execute(
            select(gift, *(func.sum(count) for count in counts)).where(touched).group_by(gift)
        )
    }
    return Points(
        issued=issued_points,
        spent=spent_points,
        expired=expired_points,
        outstanding=outstanding,
        worth=None if per_point is None else round(outstanding * per_point),
        rewards=_vouchers(by_kind.get(False)),
        gifts=_vouchers(by_kind.get(True)),
    )


def _vouchers(row: Sequence[int | None] | None) -> Vouchers:
    """Vouchers from the six counts (previous, this period) of issued, used, expired."""
    counts = [int(value or 0) for value in row or (0,) * 6]
    return Vouchers(*(Compared(counts[index + 1], counts[index]) for index in (0, 2, 4)))


async def top(session: AsyncSession, period: Period, zone: ZoneInfo, size: int = 5) -> Top:
    """The `size` members who spent most and bought most often in `period`, and who hold most points now; ties go
    to the older member. The purchases are ranked by member first (along the covering `ix_purchases_kept_created`),
    and only the `size` best are joined to their members."""
    start, end = period.bounds(zone)
    kept = and_(Purchase.reversed_at.is_(None), _within(Purchase.created_at, start, end))

    async def ranked(
        figure: SQLColumnExpression[int], order: SQLColumnExpression[int], query: Select[str, str, str, int]
    ) -> list[Ranked]:
        rows = await session.execute(query.order_by(figure.desc(), order).limit(size))
        return [Ranked(code, name, phone, int(value)) for code, name, phone, value in rows]

    async def by_purchases(figure: SQLColumnExpression[int]) -> list[Ranked]:
        best = (
            select(Purchase.member_id, figure.label("value"))
            .where(kept)
            .group_by(Purchase.member_id)
            .order_by(figure.desc(), Purchase.member_id)
            .limit(size)
            .subquery()
        )
        members_of = select(Member.code, Member.first_name, Member.phone, best.c.value).join(
            best, best.c.member_id == Member.id
        )
        return await ranked(best.c.value, Member.id, members_of)

    held = select(Member.code, Member.first_name, Member.phone, Member.balance).where(Member.balance > 0)
    return Top(
        spend=await by_purchases(cast(func.sum(Purchase.amount), BigInteger)),
        visits=await by_purchases(func.count()),
        points=await ranked(Member.balance, Member.id, held),
    )


async def referral_figures(session: AsyncSession, period: Period, zone: ZoneInfo, size: int = 5) -> Referrals:
    """Invite links opened, friends joined, friends' first purchases and the referral points paid in `period` and
    the previous one; the members whose friends made most first purchases in it (a revoked one counts nowhere)."""
    start, middle = period.previous().bounds(zone)
    end = period.bounds(zone)[1]
    bounds = [start, middle, end]
    sums = [
        *_counted(true(), Referral.opened_at, bounds),
        *_counted(Referral.friend_member_id.is_not(None), Referral.joined_at, bounds),
        *_counted(true(), Referral.converted_at, bounds),
        *_counted(true(), Referral.converted_at, bounds, Referral.referrer_points + Referral.friend_points),
    ]
    moments = (Referral.opened_at, Referral.joined_at, Referral.converted_at)
    touched = or_(*(_within(moment, start, end) for moment in moments))
    row = (await session.execute(select(*(cast(func.sum(value), BigInteger) for value in sums)).where(touched))).one()
    counts = [int(value or 0) for value in row]
    friends_bought = func.count(Referral.id)
    inviters = await session.execute(
        select(Member.code, Member.first_name, Member.phone, friends_bought)
        .join(Referral, Referral.referrer_id == Member.id)
        .where(_within(Referral.converted_at, middle, end))
        .group_by(Member.id)
        .order_by(friends_bought.desc(), Member.id)
        .limit(size)
    )
    opened, joined, bought, paid = (Compared(counts[index + 1], counts[index]) for index in (0, 2, 4, 6))
    return Referrals(
        opened=opened,
        joined=joined,
        bought=bought,
        points=paid,
        inviters=[Ranked(code, name, phone, int(value)) for code, name, phone, value in inviters],
    )
