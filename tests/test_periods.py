"""Report periods: the shop's days in both calendars, their UTC bounds in the shop's zone, the previous period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from loyalty.calendar import GREGORIAN, JALALI
from loyalty.periods import KINDS, Period, period

TEHRAN = ZoneInfo("Asia/Tehran")  # UTC+3:30, no daylight saving
TODAY = date(2026, 11, 22)  # a Sunday; 1 Azar 1405 in the Jalali calendar


@pytest.mark.parametrize(
    ("kind", "calendar", "first", "last"),
    [
        ("today", JALALI, date(2026, 11, 22), date(2026, 11, 22)),
        ("yesterday", GREGORIAN, date(2026, 11, 21), date(2026, 11, 21)),
        ("week", JALALI, date(2026, 11, 21), date(2026, 11, 22)),  # from Saturday
        ("week", GREGORIAN, date(2026, 11, 16), date(2026, 11, 22)),  # from Monday
        ("last7", JALALI, date(2026, 11, 16), date(2026, 11, 22)),
        ("last30", GREGORIAN, date(2026, 10, 24), date(2026, 11, 22)),
        ("month", JALALI, date(2026, 11, 22), date(2026, 11, 22)),  # 1 Azar is today
        ("month", GREGORIAN, date(2026, 11, 1), date(2026, 11, 22)),
    ],
)
def test_each_period_is_the_shops_days_in_its_calendar(kind: str, calendar: str, first: date, last: date) -> None:
    assert period(kind, TODAY, calendar) == Period(first, last)


def test_the_jalali_month_starts_on_its_first_day_in_the_middle_of_a_gregorian_month() -> None:
    assert period("month", date(2026, 12, 10), JALALI) == Period(date(2026, 11, 22), date(2026, 12, 10))  # 19 Azar


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    week = Period(date(2026, 11, 16), date(2026, 11, 22))
    assert week.previous() == Period(date(2026, 11, 9), date(2026, 11, 15))
    assert Period(TODAY, TODAY).previous() == Period(date(2026, 11, 21), date(2026, 11, 21))
    assert all(period(kind, TODAY, JALALI).previous().length == period(kind, TODAY, JALALI).length for kind in KINDS)


def test_the_bounds_are_the_shops_midnights_in_utc() -> None:
    start, end = Period(date(2026, 11, 21), date(2026, 11, 22)).bounds(TEHRAN)
    assert start == datetime(2026, 11, 20, 20, 30, tzinfo=UTC)
    assert end == datetime(2026, 11, 22, 20, 30, tzinfo=UTC)
    late = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # 23:30 on 22 November in Tehran
    assert start <= late < end


def test_the_days_are_listed_in_order() -> None:
    assert Period(date(2026, 11, 30), date(2026, 12, 1)).days() == [date(2026, 11, 30), date(2026, 12, 1)]
