"""Occasion presets fall on their day in their calendar; owner-typed dates are checked in either calendar."""

from datetime import date

import pytest

from loyalty.calendar import GREGORIAN, JALALI
from loyalty.errors import InvalidDate
from loyalty.occasions import (
    FATHERS_DAY,
    MOTHERS_DAY,
    NOWRUZ,
    PRESETS,
    WOMENS_DAY,
    YALDA,
    Occasion,
    anniversary,
    next_occurrence,
    occasion_in,
    on_date,
)


@pytest.mark.parametrize(
    ("year", "day"), [(1403, date(2024, 3, 20)), (1404, date(2025, 3, 21)), (1405, date(2026, 3, 21))]
)
def test_nowruz_is_1_farvardin(year: int, day: date) -> None:
    assert occasion_in(NOWRUZ, year) == Occasion("nowruz", day)


@pytest.mark.parametrize(("year", "day"), [(1403, date(2024, 12, 20)), (1404, date(2025, 12, 21))])
def test_yalda_is_greeted_on_30_azar(year: int, day: date) -> None:
    assert occasion_in(YALDA, year) == Occasion("yalda", day)


@pytest.mark.parametrize(
    ("today", "next_nowruz"),
    [
        (date(2026, 3, 20), date(2026, 3, 21)),
        (date(2026, 3, 21), date(2026, 3, 21)),
        (date(2026, 3, 22), date(2027, 3, 21)),
    ],
)
def test_the_next_nowruz_is_today_or_the_first_after_it(today: date, next_nowruz: date) -> None:
    assert next_occurrence(NOWRUZ, today) == Occasion("nowruz", next_nowruz)


def test_the_next_yalda_after_the_gregorian_new_year_is_in_december() -> None:
    assert next_occurrence(YALDA, date(2026, 1, 5)) == Occasion("yalda", date(2026, 12, 21))


def test_the_lunar_occasions_are_dated_by_the_owner() -> None:
    assert [preset.key for preset in PRESETS if preset.owner_dated] == ["womens_day", "mothers_day", "fathers_day"]
    assert next_occurrence(WOMENS_DAY, date(2026, 1, 5)) is None
    assert occasion_in(MOTHERS_DAY, 1405) is None
    assert occasion_in(FATHERS_DAY, 1405) is None


def test_the_anniversary_recurs_in_the_calendar_the_owner_chose() -> None:
    founded = date(1996, 9, 21)

    assert next_occurrence(anniversary(founded, JALALI), date(2026, 1, 5)) == Occasion("anniversary", date(2026, 9, 22))
    assert next_occurrence(anniversary(founded, GREGORIAN), date(2026, 1, 5)) == Occasion(
        "anniversary", date(2026, 9, 21)
    )


def test_an_anniversary_on_a_leap_day_comes_the_day_before_in_common_years() -> None:
    assert next_occurrence(anniversary(date(2021, 3, 20), JALALI), date(2026, 3, 1)).day == date(2026, 3, 20)
    assert next_occurrence(anniversary(date(2020, 2, 29), GREGORIAN), date(2026, 1, 1)).day == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ((1405, 1, 1, JALALI), date(2026, 3, 21)),
        ((1403, 12, 30, JALALI), date(2025, 3, 20)),
        ((1404, 6, 31, JALALI), date(2025, 9, 22)),
        ((2026, 3, 21, GREGORIAN), date(2026, 3, 21)),
        ((2024, 2, 29, GREGORIAN), date(2024, 2, 29)),
    ],
)
def test_an_owner_typed_date_is_read_in_either_calendar(typed: tuple[int, int, int, str], day: date) -> None:
    assert on_date(*typed) == day


@pytest.mark.parametrize(
    "typed",
    [
        (1404, 12, 30, JALALI),
        (1403, 12, 31, JALALI),
        (1404, 7, 31, JALALI),
        (1404, 13, 1, JALALI),
        (1404, 1, 0, JALALI),
        (2025, 2, 29, GREGORIAN),
        (2025, 4, 31, GREGORIAN),
    ],
)
def test_a_day_the_calendar_lacks_is_refused(typed: tuple[int, int, int, str]) -> None:
    with pytest.raises(InvalidDate) as refused:
        on_date(*typed)
    assert refused.value.reason == "impossible"


def test_an_unknown_calendar_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown calendar"):
        on_date(1405, 1, 1, "hijri")
