"""Birthdays fall on their day in the member's own calendar, once a year, and are found by keys SQL can use."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.birthdays import age_on, birthday_keys, birthday_md, celebrated_on, greeting_key, is_birthday
from loyalty.calendar import GREGORIAN, JALALI
from loyalty.occasions import on_date

BORN_31_SHAHRIVAR_1375 = date(1996, 9, 21)
BORN_30_ESFAND_1399 = date(2021, 3, 20)
BORN_11_DEY_1370 = date(1992, 1, 1)
BORN_29_FEBRUARY_2000 = date(2000, 2, 29)


def days(first: date, last: date) -> list[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_a_jalali_birthday_falls_on_its_jalali_day_whatever_the_gregorian_date() -> None:
    assert celebrated_on(BORN_31_SHAHRIVAR_1375, JALALI, 1403) == date(2024, 9, 21)
    assert celebrated_on(BORN_31_SHAHRIVAR_1375, JALALI, 1404) == date(2025, 9, 22)
    assert celebrated_on(BORN_31_SHAHRIVAR_1375, JALALI, 1405) == date(2026, 9, 22)
    assert is_birthday(date(2025, 9, 22), BORN_31_SHAHRIVAR_1375, JALALI)
    assert not is_birthday(date(2025, 9, 21), BORN_31_SHAHRIVAR_1375, JALALI)


def test_the_same_date_given_in_gregorian_falls_on_its_gregorian_day() -> None:
    assert is_birthday(date(2025, 9, 21), BORN_31_SHAHRIVAR_1375, GREGORIAN)
    assert not is_birthday(date(2025, 9, 22), BORN_31_SHAHRIVAR_1375, GREGORIAN)


def test_a_29_february_birthday_is_celebrated_on_28_february_in_common_years() -> None:
    assert celebrated_on(BORN_29_FEBRUARY_2000, GREGORIAN, 2024) == date(2024, 2, 29)
    assert celebrated_on(BORN_29_FEBRUARY_2000, GREGORIAN, 2025) == date(2025, 2, 28)
    assert not is_birthday(date(2024, 2, 28), BORN_29_FEBRUARY_2000, GREGORIAN)
    assert not is_birthday(date(2025, 3, 1), BORN_29_FEBRUARY_2000, GREGORIAN)


def test_a_jalali_birthday_that_was_29_february_is_an_ordinary_10_esfand() -> None:
    assert celebrated_on(BORN_29_FEBRUARY_2000, JALALI, 1403) == date(2025, 2, 28)
    assert celebrated_on(BORN_29_FEBRUARY_2000, JALALI, 1404) == date(2026, 3, 1)


def test_a_30_esfand_birthday_is_celebrated_on_30_esfand_in_leap_years_and_29_esfand_otherwise() -> None:
    assert celebrated_on(BORN_30_ESFAND_1399, JALALI, 1403) == date(2025, 3, 20)
    assert celebrated_on(BORN_30_ESFAND_1399, JALALI, 1404) == date(2026, 3, 20)
    assert celebrated_on(BORN_30_ESFAND_1399, JALALI, 1402) == date(2024, 3, 19)
    assert not is_birthday(date(2026, 3, 21), BORN_30_ESFAND_1399, JALALI)


@pytest.mark.parametrize(
    ("birthday", "calendar"),
    [
        (BORN_30_ESFAND_1399, JALALI),
        (BORN_29_FEBRUARY_2000, GREGORIAN),
        (BORN_29_FEBRUARY_2000, JALALI),
        (BORN_11_DEY_1370, JALALI),
        (BORN_31_SHAHRIVAR_1375, JALALI),
    ],
)
def test_a_birthday_comes_exactly_once_in_every_year_of_its_calendar(birthday: date, calendar: str) -> None:
    first_year = 1399 if calendar == JALALI else 2020
    twelve_years = days(
        on_date(first_year, 1, 1, calendar), on_date(first_year + 12, 1, 1, calendar) - timedelta(days=1)
    )

    greeted = [day for day in twelve_years if is_birthday(day, birthday, calendar)]

    assert len({greeting_key(1, day, calendar) for day in greeted}) == len(greeted) == 12


def test_the_greeting_key_of_a_jalali_birthday_follows_the_jalali_year_across_the_gregorian_new_year() -> None:
    greeted = [day for day in days(date(2017, 1, 1), date(2021, 12, 31)) if is_birthday(day, BORN_11_DEY_1370, JALALI)]

    keys = [(day, greeting_key(7, day, JALALI)) for day in greeted]

    assert keys == [
        (date(2018, 1, 1), "birthday:1396:7"),
        (date(2019, 1, 1), "birthday:1397:7"),
        (date(2020, 1, 1), "birthday:1398:7"),
        (date(2020, 12, 31), "birthday:1399:7"),
    ]


def test_the_greeting_key_of_a_gregorian_birthday_follows_the_gregorian_year() -> None:
    assert greeting_key(7, date(2026, 1, 1), GREGORIAN) == "birthday:2026:7"
    assert greeting_key(7, date(2026, 1, 1), JALALI) == "birthday:1404:7"


def test_a_birthday_is_stored_as_month_and_day_of_its_own_calendar() -> None:
    assert birthday_md(BORN_31_SHAHRIVAR_1375, JALALI) == 631
    assert birthday_md(BORN_31_SHAHRIVAR_1375, GREGORIAN) == 921
    assert birthday_md(BORN_30_ESFAND_1399, JALALI) == 1230


def test_on_28_february_of_a_common_year_the_keys_include_29_february() -> None:
    assert birthday_keys(date(2025, 2, 28)) == {GREGORIAN: {228, 229}, JALALI: {1210}}
    assert birthday_keys(date(2024, 2, 28)) == {GREGORIAN: {228}, JALALI: {1209}}


def test_on_29_esfand_of_a_common_year_the_keys_include_30_esfand() -> None:
    assert birthday_keys(date(2026, 3, 20)) == {GREGORIAN: {320}, JALALI: {1229, 1230}}
    assert birthday_keys(date(2025, 3, 19)) == {GREGORIAN: {319}, JALALI: {1229}}


LEAP_DAY_BIRTHDAYS = [BORN_29_FEBRUARY_2000, date(1996, 2, 29), BORN_30_ESFAND_1399, date(1997, 3, 20)]
AROUND_LEAP_DAYS = [
    day
    for year in range(2024, 2030)
    for day in days(date(year, 2, 27), date(year, 3, 2)) + days(date(year, 3, 18), date(year, 3, 22))
]


@given(
    birthday=st.one_of(st.dates(date(1900, 1, 1), date(2025, 12, 31)), st.sampled_from(LEAP_DAY_BIRTHDAYS)),
    calendar=st.sampled_from([GREGORIAN, JALALI]),
    today=st.one_of(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.sampled_from(AROUND_LEAP_DAYS)),
)
def test_the_keys_of_a_day_select_exactly_the_members_whose_birthday_it_is(
    birthday: date, calendar: str, today: date
) -> None:
    selected = birthday_md(birthday, calendar) in birthday_keys(today)[calendar]

    assert selected == is_birthday(today, birthday, calendar)


def test_age_counts_whole_years_completed() -> None:
    assert age_on(date(2025, 9, 20), BORN_31_SHAHRIVAR_1375) == 28
    assert age_on(date(2025, 9, 21), BORN_31_SHAHRIVAR_1375) == 29
    assert age_on(date(2025, 2, 28), BORN_29_FEBRUARY_2000) == 24
    assert age_on(date(2025, 3, 1), BORN_29_FEBRUARY_2000) == 25
