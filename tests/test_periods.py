"""Report periods: the shop's days in both calendars, their UTC bounds in the shop's zone, the previous period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from loyalty.calendar import GREGORIAN, JALALI
from loyalty.errors import InvalidDate
from loyalty.periods import KINDS, Period, custom_name, custom_range, is_period_name, named_period, period, typed_range

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


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("1403/09/01 - 1403/09/15", date(2024, 11, 21), date(2024, 12, 5)),  # 1 Azar 1403 is 21 Nov 2024
        ("۱۴۰۳/۹/۱ تا ۱۴۰۳/۹/۱۵", date(2024, 11, 21), date(2024, 12, 5)),
        ("١٤٠٣/٩/١ - ١٤٠٣/٩/١٥", date(2024, 11, 21), date(2024, 12, 5)),  # Arabic digits
        ("2024-11-01 2024-11-15", date(2024, 11, 1), date(2024, 11, 15)),
        ("1 آذر 1403 تا 15 آذر 1403", date(2024, 11, 21), date(2024, 12, 5)),
        ("Nov 1, 2024 to Nov 15, 2024", date(2024, 11, 1), date(2024, 11, 15)),
        ("1403/09/01 - 2024-12-05", date(2024, 11, 21), date(2024, 12, 5)),  # one day in each calendar
        ("2024-11-01", date(2024, 11, 1), date(2024, 11, 1)),  # one day alone
        ("2026-11-20 - 2026-12-10", date(2026, 11, 20), TODAY),  # the days to come are clipped
        ("2025-11-23 - 2026-11-22", date(2025, 11, 23), TODAY),  # 365 days
    ],
)
def test_a_typed_range_is_read_in_either_calendar_and_any_digits(typed: str, first: date, last: date) -> None:
    assert typed_range(typed, TODAY) == Period(first, last)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("last week", "format"),
        ("2024-11-01 - 2024-11-15 please", "format"),
        ("2024-11-01 and then", "format"),
        ("2024-02-30 - 2024-03-01", "impossible"),
        ("1403/09/15 - 1403/09/01", "order"),
        ("2026-11-23 - 2026-11-30", "future"),
        ("2024-11-01 - 2026-11-01", "too_long"),
    ],
)
def test_a_typed_range_that_cannot_be_a_period_is_refused_with_its_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidDate) as refused:
        typed_range(typed, TODAY)
    assert refused.value.reason == reason


def test_a_custom_range_travels_by_a_short_name_and_reads_back() -> None:
    span = Period(date(2024, 11, 1), date(2024, 11, 15))
    assert custom_name(span) == "r20241101-20241115"
    assert named_period("r20241101-20241115", TODAY, JALALI) == span
    assert named_period("last7", TODAY, JALALI) == period("last7", TODAY, JALALI)
    assert is_period_name("r20241101-20241115") and is_period_name("today")


@pytest.mark.parametrize(
    "name", ["r20241115-20241101", "r20241301-20241302", "r2024111-20241115", "r20230101-20241115", "forever", ""]
)
def test_a_name_no_allowed_range_has_is_no_period(name: str) -> None:
    assert custom_range(name) is None and not is_period_name(name)
