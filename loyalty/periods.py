"""Report periods in the shop's calendar: today, yesterday, this week, the last 7 or 30 days, this month.

A period is a run of whole days of the shop's time zone, first and last day included; its UTC bounds are the
midnights of the shop's zone around it, so a purchase at 23:30 shop time belongs to that day. Each period is
compared with the previous one of the same length, the days right before it. The week starts on Saturday in the
Jalali calendar and on Monday in the Gregorian one; this month is the Jalali month or the Gregorian one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from loyalty.calendar import JALALI

KINDS = ("today", "yesterday", "week", "last7", "last30", "month")
DAY = timedelta(days=1)
SATURDAY, MONDAY = 5, 0  # date.weekday()


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
