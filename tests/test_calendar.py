"""Birthdays typed in the Jalali or Gregorian calendar, and dates shown in each language."""

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
import pytest

from loyalty.calendar import GREGORIAN, JALALI, format_date, format_moment, parse_birthday, split_day
from loyalty.errors import InvalidDate

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize("typed", ["1375/06/31", "۱۳۷۵/۰۶/۳۱", "31/6/1375", "1375-6-31", "1375 06 31"])
def test_a_jalali_birthday_is_read_in_any_common_form(typed: str) -> None:
    assert parse_birthday(typed, TODAY) == (date(1996, 9, 21), JALALI)


@pytest.mark.parametrize(
    "typed",
    [
        "۳۱ شهریور ۱۳۷۵",
        "۳۱ شهریور ۷۵",
        "۱۳۷۵ شهریور ۳۱",
        "31 شهریور 75",
        "۳۱ شهريور ۱۳۷۵",
        "۳۱ شهریور، ۱۳۷۵",
    ],
)
def test_a_jalali_birthday_is_read_with_the_month_named(typed: str) -> None:
    assert parse_birthday(typed, TODAY) == (date(1996, 9, 21), JALALI)


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("۲ اردی\u200cبهشت ۶۰", date(1981, 4, 22)),
        ("۵ دي ۱۳۶۲", date(1983, 12, 26)),
        ("۱ آذر ۰۵", date(2026, 11, 22)),
        ("۲ آذر ۰۵", date(1926, 11, 24)),
        ("۱۰ مهر ۹۹", date(2020, 10, 1)),
    ],
)
def test_a_two_digit_jalali_year_is_the_latest_one_in_the_past(typed: str, born: date) -> None:
    assert parse_birthday(typed, TODAY) == (born, JALALI)


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("21 September 1996", date(1996, 9, 21)),
        ("Sep 21 1996", date(1996, 9, 21)),
        ("sep 21, 96", date(1996, 9, 21)),
        ("1996 Sept 21", date(1996, 9, 21)),
        ("۲۱ September ۹۶", date(1996, 9, 21)),
        ("22 Nov 26", date(2026, 11, 22)),
        ("23 Nov 26", date(1926, 11, 23)),
    ],
)
def test_a_gregorian_birthday_is_read_with_an_english_month_name(typed: str, born: date) -> None:
    assert parse_birthday(typed, TODAY) == (born, GREGORIAN)


def test_a_gregorian_birthday_is_read_and_remembered_as_gregorian() -> None:
    assert parse_birthday("1990-09-21", TODAY) == (date(1990, 9, 21), GREGORIAN)


def test_30_esfand_exists_only_in_leap_years() -> None:
    assert parse_birthday("1403/12/30", TODAY) == (date(2025, 3, 20), JALALI)
    with pytest.raises(InvalidDate) as refused:
        parse_birthday("1404/12/30", TODAY)
    assert refused.value.reason == "impossible"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1990-02-29", "impossible"),
        ("1375/13/01", "impossible"),
        ("1405/09/02", "future"),
        ("2030-01-01", "future"),
        ("1800-01-01", "too_old"),
        ("1299/01/01", "too_old"),
        ("75/6/31", "two_digit_year"),
        ("hello", "format"),
        ("۳۱ شهریور", "format"),
        ("۳۱ شهریور ۱۹۹۶", "format"),
        ("21 Sep 1375", "too_old"),
        ("21 Smarch 1996", "format"),
        ("21 Sep 1996 noon", "format"),
        ("۳۱ اسفند ۱۴۰۴", "impossible"),
        ("31 Sep 96", "impossible"),
        ("۱ دی ۱۴۰۵", "future"),
        ("1 Jan 1800", "too_old"),
        ("", "format"),
    ],
)
def test_impossible_future_and_unreadable_birthdays_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidDate) as refused:
        parse_birthday(typed, TODAY)
    assert refused.value.reason == reason


def test_dates_are_jalali_with_persian_digits_in_persian_and_gregorian_in_english() -> None:
    assert format_date(TODAY, "fa") == "۱ آذر ۱۴۰۵"
    assert format_date(TODAY, "en") == "22 Nov 2026"


def test_a_date_shown_again_is_not_worked_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    format_date.cache_clear()
    calls: list[date] = []
    to_jalali = jdatetime.date.fromgregorian

    def counted(**arguments: Any) -> jdatetime.date:
        calls.append(arguments["date"])
        return to_jalali(**arguments)

    monkeypatch.setattr(jdatetime.date, "fromgregorian", counted)
    shown = {format_date(TODAY, "fa") for _ in range(3)}
    assert (shown, calls) == ({"۱ آذر ۱۴۰۵"}, [TODAY])


def test_moments_are_shown_in_the_shop_time_zone() -> None:
    moment = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert format_moment(moment, "en", ZoneInfo("Asia/Tehran")) == "22 Nov 2026, 23:30"
    assert format_moment(moment, "fa", ZoneInfo("Asia/Tehran")).endswith("۲۳:۳۰")


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("1405-09-10 18:00", (1405, 9, 10, JALALI, " 18:00")),
        ("۱۴۰۵/۹/۱۰", (1405, 9, 10, JALALI, "")),
        ("۱۰ آذر ۱۴۰۵ ساعت ۶ عصر", (1405, 9, 10, JALALI, " ساعت 6 عصر")),
        ("۲ اردی\u200cبهشت ۱۴۰۶", (1406, 2, 2, JALALI, "")),
        ("1 December 2026 6 pm", (2026, 12, 1, GREGORIAN, " 6 pm")),
        ("Dec 1, 2026 at 18:00", (2026, 12, 1, GREGORIAN, " at 18:00")),
    ],
)
def test_a_day_is_read_from_the_start_of_a_moment_in_digits_or_with_the_month_named(
    typed: str, day: tuple[int, int, int, str, str]
) -> None:
    assert split_day(typed) == day


@pytest.mark.parametrize("typed", ["۱۰ آذر ۲۰۲۶", "1 December 1405", "۱۰ آذر", "tomorrow 18:00", "10/09/1405"])
def test_a_day_that_cannot_be_read_from_a_moment_is_refused(typed: str) -> None:
    with pytest.raises(InvalidDate):
        split_day(typed)
