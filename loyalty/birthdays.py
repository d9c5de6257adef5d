"""Birthdays in the member's own calendar: which day they fall on, today's birthdays for SQL, once-a-year keys.

A Jalali birthday falls on its Jalali day every year, a Gregorian one on its Gregorian day. A leap-day
birthday is celebrated the day before in common years: 29 February on 28 February, 30 Esfand on 29 Esfand,
keeping it in its own month and year (see `loyalty.occasions`).

Selecting today's birthdays needs a column beside `Member.birthday` (a Gregorian date, from which the
Jalali month and day cannot be read in SQL): `birthday_md`, an indexed small integer, month * 100 + day in
the member's own calendar, filled with `birthday_md()` wherever a birthday is stored; `born_today` is the
condition on it, and `celebrants` the members to greet today.

The gift (`give_gift`): the owner's points, with their own expiry, under the greeting's once-a-year key, and
optionally a free voucher from the catalog. Greeting and gift go together, at most once in `GIFT_INTERVAL` (365
days) per member, whatever the member does to their birthday or its calendar: `Member.birthday_greeted_on` is
the shop's date of the last greeting, and `claim_gift` moves it with one conditional UPDATE in the transaction
that gives the gift and enqueues the greeting (`scheduler.jobs`), so two runs at once greet once. The greeting's
once-a-year key stays the outbox's guard as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import ledger
from loyalty.calendar import GREGORIAN, JALALI
from loyalty.occasions import LEAP_DAYS, in_calendar, recurs_on
from loyalty.rewards import free_voucher
from loyalty.rules import Rules
from storage import repositories
from storage.database import rowcount
from storage.models import Member, Voucher

REASON = "birthday"  # the ledger reason of birthday points
GIFT_INTERVAL = timedelta(days=365)  # at most one birthday greeting and gift in this many days


def celebrated_on(birthday: date, calendar: str, year: int) -> date:
    """The Gregorian date on which a birthday is celebrated in a year of its own calendar."""
    _, month, day = in_calendar(birthday, calendar)
    return recurs_on(month, day, calendar, year)


def is_birthday(today: date, birthday: date, calendar: str) -> bool:
    """Whether today (the shop's today) is the member's birthday in the calendar they gave it in."""
    return celebrated_on(birthday, calendar, in_calendar(today, calendar)[0]) == today


def birthday_md(birthday: date, calendar: str) -> int:
    """A birthday's month * 100 + day in its own calendar: the value of the `birthday_md` column."""
    _, month, day = in_calendar(birthday, calendar)
    return month * 100 + day


def birthday_keys(today: date) -> dict[str, frozenset[int]]:
    """For each calendar, the `birthday_md` values celebrated today: today's own, and the leap day on its eve."""
    keys = {}
    for calendar in (GREGORIAN, JALALI):
        year, month, day = in_calendar(today, calendar)
        days = {month * 100 + day}
        leap_month, leap_day = LEAP_DAYS[calendar]
        if recurs_on(leap_month, leap_day, calendar, year) == today:
            days.add(leap_month * 100 + leap_day)
        keys[calendar] = frozenset(days)
    return keys


def greeting_key(member_id: int, today: date, calendar: str) -> str:
    """The once-a-year key of a member's birthday greeting, by the year of the member's own calendar.

    A Jalali birthday near the Gregorian new year (11 Dey is 31 December or 1 January) may fall twice in
    one Gregorian year and not at all in the next; its Jalali year has it exactly once.
    """
    return f"birthday:{in_calendar(today, calendar)[0]}:{member_id}"


def age_on(today: date, birthday: date) -> int:
    """Whole years completed, by Gregorian arithmetic for either calendar (a day off at most near the birthday).

    Someone born on 29 February completes a year on 1 March in common years, though greeted on 28 February.
    """
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


GREETED: tuple[ColumnElement[bool], ...] = (  # whom a greeting or a reminder reaches (no news consent asked)
    Member.joined_at.is_not(None),
    Member.telegram_id.is_not(None),
    Member.stopped.is_(False),
    Member.unreachable.is_(False),
    Member.blocked.is_(False),
)


def born_today(today: date) -> ColumnElement[bool]:
    """The SQL condition: the member's birthday is today in their own calendar (an index on birthday_md)."""
    return or_(
        *(
            and_(Member.birthday_calendar == calendar, Member.birthday_md.in_(sorted(days)))
            for calendar, days in birthday_keys(today).items()
        )
    )


def gift_due(today: date) -> ColumnElement[bool]:
    """The SQL condition: the member had no birthday greeting (nor gift) in the `GIFT_INTERVAL` before today."""
    return or_(Member.birthday_greeted_on.is_(None), Member.birthday_greeted_on <= today - GIFT_INTERVAL)


async def claim_gift(session: AsyncSession, member_id: int, today: date) -> bool:
    """Mark the member greeted today if their gift is due (`gift_due`); True if this call marked them.

    One conditional UPDATE in the caller's transaction: of two runs at once, one marks and the other gets False.
    """
    claimed = await session.execute(
        update(Member)
        .where(Member.id == member_id, gift_due(today))
        .values(birthday_greeted_on=today)
        .execution_options(synchronize_session=False)
    )
    return rowcount(claimed) == 1


async def celebrants(session: AsyncSession, today: date, *, after: int = 0, limit: int = 500) -> list[Member]:
    """Members whose birthday is today, whose gift is due and whom a greeting reaches, by id after `after`,
    locked on PostgreSQL."""
    statement = (
        select(Member)
        .where(born_today(today), gift_due(today), *GREETED, Member.id > after)
        .order_by(Member.id)
        .limit(limit)
        .with_for_update()
    )
    return list(await session.scalars(statement))


@dataclass(frozen=True)
class BirthdayGift:
    """What a member was given on their birthday: points with their expiry, and a catalog voucher."""

    points: int = 0
    points_expire_at: datetime | None = None
    voucher: Voucher | None = None


async def give_gift(session: AsyncSession, member: Member, rules: Rules, key: str, now: datetime) -> BirthdayGift:
    """The owner's birthday gift, in the caller's write transaction (the member locked); points once per `key`.

    A voucher whose reward is paused or out of stock is left out; the points are given all the same.
    """
    points, expires_at = 0, None
    if rules.birthday_points > 0 and await repositories.entry_by_key(session, key) is None:
        points, expires_at = rules.birthday_points, now + timedelta(days=rules.birthday_expiry_days)
        await ledger.post_credit(
            session,
            member,
            points=points,
            kind=ledger.Kind.BONUS,
            reason=REASON,
            key=key,
            now=now,
            expires_at=expires_at,
        )
    voucher = None
    if rules.birthday_reward_id is not None:
        voucher = await free_voucher(session, member.id, rules.birthday_reward_id, now)
    return BirthdayGift(points, expires_at, voucher)
