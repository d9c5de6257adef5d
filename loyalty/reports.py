"""The owner's reports over a period, each figure beside the previous period's: aggregates the database computes.

Sales: purchases, their total, the average purchase, purchases per buying member, buyers new to the club (their
first purchase ever falls in the period) and returning ones, and the purchases and total of each day. Members: the
members who joined through the bot and the waiting ones (walk-ins or imported, no messenger account yet), the new
ones, the active ones (bought in the period), the lapsed ones (bought before, not in the last N days: the
win-back audience's condition, reachable or not), by tier, gender, age band (ages on the shop's today, by cut-off
dates) with the average age, and how they joined; the stopped, unreachable and blocked ones. A reversed purchase
counts nowhere.
Points: the points issued (earned, bonuses, corrections up), spent and expired in the period by the ledger's
entries, the points the members hold now (the club's liability, also in money at the average money off per point of
the catalog's active money-off rewards), and the vouchers issued, used and expired, for rewards and gift vouchers.
Top customers: the few members who spent most and bought most often in the period, and who hold most points now.
Referrals (what /stats shows, over the period): invite links opened, friends who joined, friends who made their
first purchase, the points both sides got for it, and the members whose friends bought most.
Days are the shop's days (`loyalty.periods`): each purchase falls into one by comparing its moment with the shop's
midnights in UTC, so the same SQL runs on SQLite and PostgreSQL without their time zone functions.
Busy hours: the kept purchases of a period by the shop's weekday and hour of the day (`hours`, whose docstring says
how the shop's hour is found without those functions either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
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
    extract,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.audiences import month_day, years_before
from loyalty.ledger import Kind
from loyalty.periods import Period, midnight
from loyalty.vouchers import Kind as VoucherKind
from storage.models import AuditEntry, LedgerEntry, Member, Purchase, Referral, Reward, Voucher, written


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


AGE_LIMITS = (18, 25, 35, 45, 55)  # the age bands: under 18, 18–24, 25–34, 35–44, 45–54, 55 and over
GENDERS = ("female", "male")  # as registration and import store them; anything else (NULL) is "not given"
ORIGINS = ("invited", "imported", "walk_in", "direct")  # how members joined (`members`, `_made_by`)
MADE_BY = {"member.imported": "imported", "member.walk_in": "walk_in"}  # audited where a member is made: its origin


@dataclass(frozen=True)
class Members:
    """The club's members now, the new and active ones in the period against the previous one, and how they split.

    `genders` counts None for "not given"; `ages` the bands of AGE_LIMITS in order, then those without a birthday;
    `origins` (each member in one of ORIGINS) and the other splits add up to all members.
    """

    joined: int
    waiting: int
    new: Compared
    active: Compared
    tiers: dict[str, int]
    lapsed: int  # bought before, but not in the last `away_days`
    genders: dict[str | None, int]
    ages: list[int]
    average_age: float | None  # of the members with a birthday; None with none
    origins: dict[str, int]
    stopped: int
    unreachable: int
    blocked: int


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


@dataclass(frozen=True)
class Hours:
    """A period's kept purchases by the shop's weekday and hour: counts[weekday][hour], weekday as date.weekday()
    (Monday 0), hour 0–23."""

    counts: list[list[int]]

    def busiest_weekday(self) -> int | None:
        """The weekday with most purchases (the first of a tie, Monday first); None without purchases."""
        totals = [sum(hours) for hours in self.counts]
        return _busiest(totals)

    def busiest_hour(self) -> int | None:
        """The hour of the day with most purchases over the weekdays (the earlier of a tie); None without purchases."""
        return _busiest([sum(hours[hour] for hours in self.counts) for hour in range(24)])


def _busiest(totals: list[int]) -> int | None:
    """The index of the largest total, the first of a tie; None when all are 0."""
    most = max(totals)
    return totals.index(most) if most else None


RANGES_A_STATEMENT = 100  # ranges summed by one compound SELECT (SQLite allows 500 terms)


def _ratio(part: float, whole: float) -> float:
    """part ÷ whole, 0 when whole is 0."""
    return part / whole if whole else 0


async def _range_sums(session: AsyncSession, edges: list[datetime]) -> list[tuple[int, int]]:
    """The kept purchases' count and total between each two consecutive `edges` (days' or hours' starts, then the
    end): a range of the covering `ix_purchases_kept_created` each, joined by UNION ALL, so no row has its day or hour
    computed and none is sorted (a CASE over 60 days and a GROUP BY cost 3.5 s over 1.6 million purchases)."""
    kept = Purchase.reversed_at.is_(None)
    figures: dict[int, tuple[int, int]] = {}
    for first in range(0, len(edges) - 1, RANGES_A_STATEMENT):
        ranges = [
            select(
                literal(index, Integer), func.count(), cast(func.coalesce(func.sum(Purchase.amount), 0), BigInteger)
            ).where(kept, _within(Purchase.created_at, edges[index], edges[index + 1]))
            for index in range(first, min(first + RANGES_A_STATEMENT, len(edges) - 1))
        ]
        figures.update((index, (count, total)) for index, count, total in await session.execute(union_all(*ranges)))
    return [figures[index] for index in range(len(edges) - 1)]


def _within(moment: SQLColumnExpression[datetime | None], start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(moment >= start, moment < end)


async def sales(session: AsyncSession, period: Period, zone: ZoneInfo) -> Sales:
    """The sales of `period` (the shop's days in `zone`) against the previous period of the same length."""
    previous = period.previous()
    days = previous.days() + period.days()
    end = period.bounds(zone)[1]
    figures = await _range_sums(session, [midnight(day, zone) for day in days] + [end])
    split = previous.length
    return Sales(
        purchases=Compared(sum(f[0] for f in figures[split:]), sum(f[0] for f in figures[:split])),
        total=Compared(sum(f[1] for f in figures[split:]), sum(f[1] for f in figures[:split])),
        buyers=await buyers(session, period, zone),
        days=[Day(day, *figures[split + offset]) for offset, day in enumerate(period.days())],
    )


async def hours(session: AsyncSession, period: Period, zone: ZoneInfo) -> Hours:
    """The kept purchases of `period` by the shop's weekday and hour in `zone`.

    Each of the period's wall-clock hours is a range of moments from its start in UTC to the next one's
    (`_hour_starts`), counted like the days of `sales`: no row has its hour computed, and the zone's offsets (half
    hours in Tehran, UTC+3:30) and daylight-saving changes are Python's. An hour the clocks skip is empty; the hour
    they go back in lasts two, and counts the purchases of both.
    """
    days = period.days()
    figures = await _range_sums(session, [*_hour_starts(days, zone), period.bounds(zone)[1]])
    counts = [[0] * 24 for _ in range(7)]
    for index, (count, _total) in enumerate(figures):
        counts[days[index // 24].weekday()][index % 24] += count
    return Hours(counts)


def _hour_starts(days: list[date], zone: ZoneInfo) -> list[datetime]:
    """The moments, in UTC, each hour of the shop's `days` starts (24 a day). A wall-clock time the clocks skip is
    read with the offset before the change (`fold` 0), which makes its hour start where the next one does."""
    return [datetime.combine(day, time(hour), zone).astimezone(UTC) for day in days for hour in range(24)]


async def buyers(session: AsyncSession, period: Period, zone: ZoneInfo) -> Buyers:
    """The members who bought in `period` and in the previous one, and those whose first purchase is in it, each
    counted at their first purchase in it (`_buyers_within`): one statement, two ranges of the covering index."""
    start, middle = period.previous().bounds(zone)
    end = period.bounds(zone)[1]
    halves = union_all(_buyers_within(start, middle, 0), _buyers_within(middle, end, 1))
    counts = {half: (int(bought), int(new or 0)) for half, bought, new in await session.execute(halves)}
    (before, new_before), (after, new_after) = counts[0], counts[1]
    return Buyers(buyers=Compared(after, before), new=Compared(new_after, new_before))


def _buyers_within(start: datetime, end: datetime | None, index: int = 0) -> Select[int, int, int]:
    """`index`, the members with a kept purchase from `start` (up to `end`, if given), and the new ones among them:
    a member is counted at their first purchase in the range, the one whose previous purchase (`previous_at`) is
    older than `start`, and is new if it has none. Reads the range of `ix_purchases_kept_created`, which covers it;
    no DISTINCT, no sort."""
    in_range = Purchase.created_at >= start if end is None else _within(Purchase.created_at, start, end)
    first = or_(Purchase.previous_at.is_(None), Purchase.previous_at < start)
    new = func.sum(case((Purchase.previous_at.is_(None), 1), else_=0))
    return select(literal(index, Integer), func.count(), new).where(Purchase.reversed_at.is_(None), in_range, first)


async def members(session: AsyncSession, period: Period, zone: ZoneInfo, now: datetime, away_days: int) -> Members:
    """The club's members at `now`, the new ones in `period` and the previous period, the active ones, the lapsed
    ones (no purchase in `away_days`), and their splits: an aggregate over all members (one row, no grouping), the
    tiers along `ix_members_tier`, the invited friends of the referrals, and the audit entries that made members
    (`_made_by`)."""
    start, middle = period.previous().bounds(zone)
    end = period.bounds(zone)[1]
    today = now.astimezone(zone).date()
    conditions = {
        "joined": Member.telegram_id.is_not(None),
        "bought": Member.first_purchase_at.is_not(None),  # has a purchase not reversed
        "new": _within(Member.created_at, middle, end),
        "new_before": _within(Member.created_at, start, middle),
        **{gender: Member.gender == gender for gender in GENDERS},
        **{f"age{band}": condition for band, condition in enumerate(_age_bands(today))},
        "stopped": Member.stopped.is_(True),
        "unreachable": Member.unreachable.is_(True),
        "blocked": Member.blocked.is_(True),
    }
    counts = (func.sum(case((condition, 1), else_=0)) for condition in conditions.values())
    row = (await session.execute(select(func.count(), func.sum(_age(today)), *counts))).one()
    sums = {name: int(row[2 + index] or 0) for index, name in enumerate(conditions)}
    total, aged = int(row[0]), int(row[1] or 0)
    tiers = {
        tier: count for tier, count in await session.execute(select(Member.tier, func.count()).group_by(Member.tier))
    }
    ages = [sums[f"age{band}"] for band in range(len(AGE_LIMITS) + 1)]
    made = await _made_by(session)
    away = sums["bought"] - await _bought_since(session, now - timedelta(days=away_days))
    invited = int(await session.scalar(select(func.count(distinct(Referral.friend_member_id)))) or 0)
    origins = {"invited": invited, **made, "direct": total - invited - sum(made.values())}
    return Members(
        joined=sums["joined"],
        waiting=total - sums["joined"],
        new=Compared(sums["new"], sums["new_before"]),
        active=(await buyers(session, period, zone)).buyers,
        tiers=tiers,
        lapsed=away,
        genders={**{gender: sums[gender] for gender in GENDERS}, None: total - sum(sums[g] for g in GENDERS)},
        ages=[*ages, total - sum(ages)],
        average_age=_ratio(aged, sum(ages)) if sum(ages) else None,
        origins=origins,
        stopped=sums["stopped"],
        unreachable=sums["unreachable"],
        blocked=sums["blocked"],
    )


async def _bought_since(session: AsyncSession, since: datetime) -> int:
    """How many members have a purchase not reversed since `since`: the lapsed are the members who ever bought
    (their first purchase kept on them) less these, the win-back audience's count (`Audience.inactive_days`)."""
    return int((await session.execute(_buyers_within(since, None))).one()[1])


def _age_bands(today: date) -> list[ColumnElement[bool]]:
    """Conditions on the birthday for each band of AGE_LIMITS on `today`: a member is 18 from the day that is their
    18th birthday (1 March for 29 February in a common year), by cut-off dates computed here, no date arithmetic in
    SQL."""
    cutoffs = [years_before(today, limit) for limit in AGE_LIMITS]
    born = Member.birthday
    middle = [and_(born <= older, born > younger) for older, younger in pairwise(cutoffs)]
    return [born > cutoffs[0], *middle, born <= cutoffs[-1]]


def _age(today: date) -> ColumnElement[int]:
    """A member's age in whole years on `today` (NULL without a birthday), as the bands count it."""
    birthday_to_come = case((month_day(Member.birthday) > today.month * 100 + today.day, 1), else_=0)
    return today.year - cast(extract("year", Member.birthday), Integer) - birthday_to_come


async def _made_by(session: AsyncSession) -> dict[str, int]:
    """The members imported and those made by a walk-in purchase, each once, by the audit entry the transaction
    that made them wrote (`MADE_BY`); it stays so once they join the bot. One pass over the audit log, cheaper than
    a look-up per member. An invite is never attributed to a phone the club had (`referrals.on_joined`), so no
    invited member is among them, and the rest of the club joined directly."""
    made = (
        select(AuditEntry.action, func.count(distinct(AuditEntry.member_id)))
        .where(AuditEntry.action.in_(MADE_BY), AuditEntry.member_id.is_not(None))
        .group_by(AuditEntry.action)
    )
    counted = {MADE_BY[action]: int(count) for action, count in await session.execute(made)}
    return {origin: counted.get(origin, 0) for origin in MADE_BY.values()}


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
    lapsed = and_(Voucher.status == written("active"), Voucher.expires_at <= now)
    bounds = [start, middle, end]
    counts = [
        *_counted(true(), Voucher.issued_at, bounds),
        *_counted(Voucher.status == written("used"), Voucher.used_at, bounds),
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
    to the older member. The period's purchases are grouped by member once (along the covering
    `ix_purchases_kept_created`; a common table expression both rankings read, which SQLite and PostgreSQL
    materialise once), and only the `size` best of each are joined to their members."""
    start, end = period.bounds(zone)
    per_member = (
        select(
            Purchase.member_id,
            cast(func.sum(Purchase.amount), BigInteger).label("spend"),
            func.count().label("visits"),
        )
        .where(Purchase.reversed_at.is_(None), _within(Purchase.created_at, start, end))
        .group_by(Purchase.member_id)
        .cte("per_member")
    )

    def best(ranking: int, figure: ColumnElement[int]) -> Select[int, int, int]:
        ranked = select(per_member.c.member_id, figure).order_by(figure.desc(), per_member.c.member_id).limit(size)
        return select(literal(ranking, Integer), *ranked.subquery().c)

    ranks = union_all(best(0, per_member.c.spend), best(1, per_member.c.visits)).subquery()
    rows = await session.execute(
        select(ranks.c[0], Member.code, Member.first_name, Member.phone, ranks.c[2])
        .join(Member, Member.id == ranks.c[1])
        .order_by(ranks.c[0], ranks.c[2].desc(), Member.id)
    )
    lists: list[list[Ranked]] = [[], []]
    for ranking, code, name, phone, value in rows:
        lists[ranking].append(Ranked(code, name, phone, int(value)))
    held = await session.execute(
        select(Member.code, Member.first_name, Member.phone, Member.balance)
        .where(Member.balance > 0)
        .order_by(Member.balance.desc(), Member.id)
        .limit(size)
    )
    return Top(spend=lists[0], visits=lists[1], points=[Ranked(*row) for row in held])


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
