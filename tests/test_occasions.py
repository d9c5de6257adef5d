"""Occasion presets fall on their day in their calendar; owner-typed dates are checked in either calendar."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

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
    Preset,
    anniversary,
    next_occurrence,
    next_send_moment,
    occasion_in,
    on_date,
)
from scheduler.sender import QuietHours


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


TEHRAN = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # 1 Azar 1405, 12:30 in Tehran


@pytest.mark.parametrize(
    ("preset", "moment"),
    [
        (NOWRUZ, datetime(2027, 3, 21, 10, 0, tzinfo=TEHRAN)),  # 1 Farvardin 1406
        (YALDA, datetime(2026, 12, 21, 10, 0, tzinfo=TEHRAN)),  # 30 Azar 1405
        (anniversary(date(1996, 9, 21), JALALI), datetime(2027, 9, 22, 10, 0, tzinfo=TEHRAN)),  # 31 Shahrivar 1406
        (anniversary(date(2020, 11, 22), GREGORIAN), datetime(2027, 11, 22, 10, 0, tzinfo=TEHRAN)),  # 10:00 passed
    ],
)
def test_an_occasion_is_sent_at_the_send_hour_of_its_next_day_in_shop_time(preset: Preset, moment: datetime) -> None:
    sent = next_send_moment(preset, NOW, TEHRAN)
    assert sent == moment
    assert not QuietHours(zone=TEHRAN).applies(sent)


@pytest.mark.parametrize(
    ("now", "moment"),
    [
        (datetime(2026, 12, 20, 21, 0, tzinfo=UTC), datetime(2026, 12, 21, 10, 0, tzinfo=TEHRAN)),  # Tehran's 30 Azar
        (datetime(2026, 12, 21, 6, 29, tzinfo=UTC), datetime(2026, 12, 21, 10, 0, tzinfo=TEHRAN)),
        (datetime(2026, 12, 21, 6, 30, tzinfo=UTC), datetime(2027, 12, 21, 10, 0, tzinfo=TEHRAN)),  # 30 Azar 1406
    ],
)
def test_on_the_day_itself_after_the_send_hour_it_is_next_years(now: datetime, moment: datetime) -> None:
    assert next_send_moment(YALDA, now, TEHRAN) == moment


def test_a_lunar_occasion_has_no_send_moment_of_its_own() -> None:
    with pytest.raises(ValueError, match="dated by the owner"):
        next_send_moment(MOTHERS_DAY, NOW, TEHRAN)
