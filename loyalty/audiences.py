"""Audiences: who a campaign reaches, as a filter over members stored as JSON and run as one SQL statement.

An `Audience` is the staff's choice of filters (each left empty means "any"): tiers, gender, an age range,
a birthday month (Jalali or Gregorian), part of the name, joined between two moments, points between two
numbers, last purchase more than N days ago (win-back: members who bought before, but not lately), spent at
least an amount in all, bought or never bought a product category, referred at least N friends. Reversed
purchases do not count. Whatever the filters, a member is left out who has no messenger account, said no to
news, sent /stop, blocked the bot or is gone (`unreachable`), or whom staff blocked for abuse (`REACHABLE`).

`count` and `member_ids` run the filter in the database; `recipients` is the SELECT a campaign inserts into
its outbox (INSERT ... SELECT), so members are never loaded into Python to be counted or enqueued.
Dates (ages, birthday months) are taken in the time zone of `now`: pass the shop's local time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy import ColumnElement, Select, and_, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.calendar import GREGORIAN, JALALI
from loyalty.errors import LoyaltyError
from loyalty.occasions import in_calendar, on_date
from loyalty.rules import MAX_AMOUNT
from loyalty.text_keys import text_key
from storage.models import Member, Purchase, Referral

GENDERS = ("female", "male")
REFERRED = ("joined", "rewarded")  # a referral counts once the friend joined
MAX_AGE, MAX_POINTS, MAX_INACTIVE_DAYS, MAX_REFERRED, CATEGORY_LENGTH = 120, 10**9, 3650, 10_000, 32
Age = Annotated[int, Field(ge=0, le=MAX_AGE)]
Points = Annotated[int, Field(ge=0, le=MAX_POINTS)]
Category = Annotated[  # compared by its key, as purchases store it (`loyalty.text_keys`)
    str, AfterValidator(text_key), StringConstraints(min_length=1, max_length=CATEGORY_LENGTH)
]

REACHABLE: tuple[ColumnElement[bool], ...] = (
    Member.telegram_id.is_not(None),
    Member.news_consent.is_(True),
    Member.stopped.is_(False),
    Member.unreachable.is_(False),
    Member.blocked.is_(False),
)


class InvalidAudience(LoyaltyError):
    """An audience that cannot be built; `field` is what is wrong and `reason` why (pydantic's error type)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Audience(BaseModel):
    """Which members a campaign reaches; every filter set must hold (an empty audience is every member)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: tuple[str, ...] = ()
    gender: Literal["female", "male"] | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    birthday_month: Annotated[int, Field(ge=1, le=12)] | None = None
    birthday_calendar: Literal["jalali", "gregorian"] = "jalali"
    name_contains: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    joined_after: AwareDatetime | None = None
    joined_before: AwareDatetime | None = None
    points_min: Points | None = None
    points_max: Points | None = None
    inactive_days: Annotated[int, Field(ge=1, le=MAX_INACTIVE_DAYS)] | None = None
    spent_at_least: Annotated[int, Field(ge=1, le=MAX_AMOUNT)] | None = None
    bought_category: Category | None = None
    never_bought_category: Category | None = None
    referred_at_least: Annotated[int, Field(ge=1, le=MAX_REFERRED)] | None = None

    @model_validator(mode="after")
    def _ranges_in_order(self) -> Audience:
        """A range's low end is not above its high end."""
        for low, high in (("age_min", "age_max"), ("points_min", "points_max"), ("joined_after", "joined_before")):
            bottom, top = getattr(self, low), getattr(self, high)
            if bottom is not None and top is not None and bottom > top:
                raise ValueError(f"{low} is above {high}")
        return self

    @classmethod
    def build(cls, **fields: Any) -> Audience:
        """An audience from the staff's choices, or InvalidAudience naming the first wrong field."""
        try:
            return cls.model_validate(fields)
        except ValidationError as error:
            raise invalid(error, InvalidAudience) from None

    @classmethod
    def from_json(cls, raw: str) -> Audience:
        """The audience stored on a campaign."""
        return cls.model_validate_json(raw)

    def to_json(self) -> str:
        """The audience as stored on a campaign (only the filters that are set)."""
        return self.model_dump_json(exclude_defaults=True)

    def conditions(self, now: datetime) -> list[ColumnElement[bool]]:
        """The SQL conditions of the filters that are set, on `members` (reachability not included)."""
        today = now.date()
        conditions: list[ColumnElement[bool]] = []
        if self.tiers:
            conditions.append(Member.tier.in_(self.tiers))
        if self.gender is not None:
            conditions.append(Member.gender == self.gender)
        if self.age_min is not None:
            conditions.append(Member.birthday <= years_before(today, self.age_min))
        if self.age_max is not None:
            conditions.append(Member.birthday > years_before(today, self.age_max + 1))
        if self.birthday_month is not None:
            conditions.append(_born_in(self.birthday_month, self.birthday_calendar, today))
        if self.name_contains is not None:
            conditions.append(Member.first_name.icontains(self.name_contains, autoescape=True))
        if self.joined_after is not None:
            conditions.append(Member.joined_at >= self.joined_after)
        if self.joined_before is not None:
            conditions.append(Member.joined_at < self.joined_before)
        if self.points_min is not None:
            conditions.append(Member.balance >= self.points_min)
        if self.points_max is not None:
            conditions.append(Member.balance <= self.points_max)
        conditions.extend(self._purchase_conditions(now))
        if self.referred_at_least is not None:
            referrers = (
                select(Referral.referrer_id)
                .where(Referral.status.in_(REFERRED))
                .group_by(Referral.referrer_id)
                .having(func.count() >= self.referred_at_least)
            )
            conditions.append(Member.id.in_(referrers))
        return conditions

    def _purchase_conditions(self, now: datetime) -> list[ColumnElement[bool]]:
        """The filters on purchases (reversed ones left out), as member-id subqueries."""
        counted = Purchase.reversed_at.is_(None)
        by_member = select(Purchase.member_id).where(counted).group_by(Purchase.member_id)
        conditions: list[ColumnElement[bool]] = []
        if self.inactive_days is not None:
            since = now - timedelta(days=self.inactive_days)
            conditions.append(Member.id.in_(by_member.having(func.max(Purchase.created_at) < since)))
        if self.spent_at_least is not None:
            conditions.append(Member.id.in_(by_member.having(func.sum(Purchase.amount) >= self.spent_at_least)))
        if self.bought_category is not None:
            bought = select(Purchase.member_id).where(counted, Purchase.category == self.bought_category)
            conditions.append(Member.id.in_(bought))
        if self.never_bought_category is not None:
            bought = select(Purchase.member_id).where(counted, Purchase.category == self.never_bought_category)
            conditions.append(Member.id.not_in(bought))
        return conditions


def invalid(error: ValidationError, kind: Callable[[str, str], LoyaltyError]) -> LoyaltyError:
    """The domain error (`kind` of field and reason) for the first problem pydantic found."""
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem.get("loc", ())) or "value"
    return kind(field, problem.get("type", "invalid"))


def years_before(day: date, years: int) -> date:
    """The same day `years` years earlier (28 February for a 29 February that year lacks)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def month_day(column: Any) -> ColumnElement[int]:
    """A date as the number MMDD (0922 for 22 September), portable between SQLite and PostgreSQL."""
    return extract("month", column) * 100 + extract("day", column)


def month_days(month: int, calendar: str, today: date) -> tuple[int, int]:
    """The first and last day (as MMDD of the Gregorian calendar) of `month`, this year or the next to come.

    A Jalali month spans two Gregorian months (Dey: 22 December to 20 January); its edges move by a day between
    years, so they are taken for the coming occurrence of the month. The first may be above the last (a wrap).
    """
    if calendar == GREGORIAN:
        return month * 100 + 1, month * 100 + 31
    year, current, _ = in_calendar(today, JALALI)
    year += month < current
    first = on_date(year, month, 1, JALALI)
    last = on_date(year + month // 12, month % 12 + 1, 1, JALALI) - timedelta(days=1)
    return first.month * 100 + first.day, last.month * 100 + last.day


def _born_in(month: int, calendar: str, today: date) -> ColumnElement[bool]:
    """Members whose birthday falls in the month."""
    first, last = month_days(month, calendar, today)
    day = month_day(Member.birthday)
    within = day.between(first, last) if first <= last else or_(day >= first, day <= last)  # Dey wraps the year
    return and_(Member.birthday.is_not(None), within)


def where(audience: Audience, now: datetime) -> list[ColumnElement[bool]]:
    """Every condition a member of the audience meets: reachable, and the audience's filters."""
    return [*REACHABLE, *audience.conditions(now)]


def recipients(audience: Audience, now: datetime) -> Select[int, int | None]:
    """The audience's members as (id, messenger account) rows, for an INSERT ... SELECT."""
    return select(Member.id, Member.telegram_id).where(*where(audience, now))


async def count(session: AsyncSession, audience: Audience, now: datetime) -> int:
    """How many members the audience reaches now (one COUNT in the database)."""
    return int(await session.scalar(select(func.count()).select_from(Member).where(*where(audience, now))) or 0)


async def member_ids(session: AsyncSession, audience: Audience, now: datetime) -> list[int]:
    """The ids of the audience's members, in id order (for small audiences and checks)."""
    return list((await session.scalars(select(Member.id).where(*where(audience, now)).order_by(Member.id))).all())
