"""Report periods in the shop's calendar: today, yesterday, this week, the last 7 or 30 days, this month, or a
custom range of days the manager types.

A period is a run of whole days of the shop's time zone, first and last day included; its UTC bounds are the
midnights of the shop's zone around it, so a purchase at 23:30 shop time belongs to that day. Each period is
compared with the previous one of the same length, the days right before it. The week starts on Saturday in the
Jalali calendar and on Monday in the Gregorian one; this month is the Jalali month or the Gregorian one.

A custom range is typed as two days in either calendar (`loyalty.calendar.split_day`: 1403/09/01 - 1403/09/15,
۱ آذر ۱۴۰۳ تا ۱۵ آذر ۱۴۰۳, 2024-11-01 2024-11-15) and travels on buttons by its name, r20241101-20241115 (the
Gregorian days: 18 characters, well inside a button's 64 bytes); `named_period` reads every period's name back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from loyalty.calendar import JALALI, split_day
from loyalty.errors import InvalidDate
from loyalty.occasions import on_date

KINDS = ("today", "yesterday", "week", "last7", "last30", "month")
DAY = timedelta(days=1)
SATURDAY, MONDAY = 5, 0  # date.weekday()
MOST_DAYS = 366  # a custom range's longest: a year, leap or not
CUSTOM = re.compile(r"^r(\d{8})-(\d{8})$")
_BETWEEN = re.compile(r"^\s*(?:-|–|—|~|,|،|تا|to|until)?\s*")  # between a range's two days


@dataclass(frozen=True)
class Period:
    """The shop's days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def length(self) -> int:
        """How many days the period has."""
        return (self.last - self.first).days + 1

    def days(self) -> list[date]:
        """Each day of the period, in order."""
        return [self.first + offset * DAY for offset in range(self.length)]

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(self.first - self.length * DAY, self.first - DAY)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period in UTC: from the shop's midnight starting its first day to the one ending its last (excluded)."""
        return midnight(self.first, zone), midnight(self.last + DAY, zone)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The moment, in UTC, the shop's `day` starts."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def month_start(today: date, calendar: str) -> date:
    """The first day of today's month in the calendar: 1 Azar or 1 November."""
    if calendar == JALALI:
        return jdatetime.date.fromgregorian(date=today).replace(day=1).togregorian()
    return today.replace(day=1)


def week_start(today: date, calendar: str) -> date:
    """The first day of today's week: the Saturday in the Jalali calendar, the Monday in the Gregorian one."""
    first_weekday = SATURDAY if calendar == JALALI else MONDAY
    return today - ((today.weekday() - first_weekday) % 7) * DAY


def period(kind: str, today: date, calendar: str) -> Period:
    """The period `kind` (one of KINDS) as of the shop's `today`; this week and this month run up to today."""
    starts = {
        "today": lambda: today,
        "week": lambda: week_start(today, calendar),
        "last7": lambda: today - 6 * DAY,
        "last30": lambda: today - 29 * DAY,
        "month": lambda: month_start(today, calendar),
    }
    if kind == "yesterday":
        return Period(today - DAY, today - DAY)
    return Period(starts[kind](), today)


def custom_name(span: Period) -> str:
    """The name a custom range travels by on a button: r20241101-20241115."""
    return f"r{span.first:%Y%m%d}-{span.last:%Y%m%d}"


def custom_range(name: str) -> Period | None:
    """The range a custom name stands for; None for any other name, or one no allowed range has."""
    match = CUSTOM.match(name)
    if match is None:
        return None
    try:
        first, last = (datetime.strptime(part, "%Y%m%d").date() for part in match.groups())
    except ValueError:
        return None
    span = Period(first, last)
    return span if 0 < span.length <= MOST_DAYS else None


def is_period_name(name: str) -> bool:
    """Whether `name` is one of KINDS or a custom range's name."""
    return name in KINDS or custom_range(name) is not None


def named_period(name: str, today: date, calendar: str) -> Period:
    """The period a button names: one of KINDS as of the shop's `today`, or a custom range (`is_period_name`)."""
    return custom_range(name) or period(name, today, calendar)


def typed_range(text: str, today: date) -> Period:
    """The days from a typed first day to a typed last one (one day alone is a range of one day), in either calendar
    and any digits; a last day after `today` is clipped to today. Else InvalidDate with the reason: format,
    impossible, order (the last before the first), future (the first after today) or too_long (over MOST_DAYS)."""
    year, month, day, calendar, rest = split_day(text)
    first = on_date(year, month, day, calendar)
    rest = _BETWEEN.sub("", rest, count=1)
    last = first
    if rest.strip():
        year, month, day, calendar, rest = split_day(rest)
        if rest.strip():
            raise InvalidDate("format")
        last = on_date(year, month, day, calendar)
    if last < first:
        raise InvalidDate("order")
    if first > today:
        raise InvalidDate("future")
    span = Period(first, min(last, today))
    if span.length > MOST_DAYS:
        raise InvalidDate("too_long")
    return span
