"""Dates in the Jalali and Gregorian calendars: reading birthdays and showing dates to members."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import jdatetime
from babel import dates as babel_dates

from loyalty.errors import InvalidDate
from loyalty.numerals import ascii_digits, local_digits

JALALI = "jalali"
GREGORIAN = "gregorian"
OLDEST_AGE_YEARS = 120
_PARTS = re.compile(r"^\s*(\d{1,4})\s*[/\-.\s]\s*(\d{1,2})\s*[/\-.\s]\s*(\d{1,4})\s*$")
_TOKENS = re.compile(r"\d+|[^\W\d_]+")
_NAMED = re.compile(r"^[\w\s,،/.\-]*$")
_DAY_NUMBERS = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?!\d)(.*)$")
_DAY_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})\s*([^\W\d_]+)\s*[,،]?\s*(\d{4})(?!\d)(.*)$")
_MONTH_DAY_YEAR = re.compile(r"^\s*([^\W\d_]+)\s*(\d{1,2})\s*[,،]?\s*(\d{4})(?!\d)(.*)$")
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": None})
JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
ENGLISH_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def calendar_for(language: str) -> str:
    """The calendar a member of this language reads and types dates in."""
    return JALALI if language == "fa" else GREGORIAN


def parse_birthday(text: str, today: date) -> tuple[date, str]:
    """Read a typed birthday as (Gregorian date, calendar it was typed in).

    Year, month and day are separated by / - . or spaces, year first or last. A year from 1300 to
    1499 is Jalali, one from 1900 on is Gregorian, so either calendar works in either language.
    The month may also be named, a Jalali one (۳۱ شهریور ۷۵) or an English one (Sep 21 1996); then the
    year may have two digits.
    """
    typed = ascii_digits(text).translate(_LETTERS).lower()
    match = _PARTS.match(typed)
    year, month, day = _numeric_parts(*match.groups()) if match else _named_parts(typed, today)
    born = _to_gregorian(year, month, day)
    if born > today:
        raise InvalidDate("future")
    if today.year - born.year > OLDEST_AGE_YEARS:
        raise InvalidDate("too_old")
    return born, (JALALI if year < 1900 else GREGORIAN)


def _numeric_parts(first: str, month: str, last: str) -> tuple[int, int, int]:
    """Year, month and day of year/month/day or day/month/year, the year written with four digits."""
    year, day = (first, last) if len(first) == 4 else (last, first)
    if len(year) != 4:
        raise InvalidDate("two_digit_year")
    return int(year), int(month), int(day)


def _named_parts(typed: str, today: date) -> tuple[int, int, int]:
    """Year, month and day of a day, a named month and a year in any order; two-digit years are allowed."""
    tokens = _TOKENS.findall(typed) if _NAMED.match(typed) else []
    numbers = [token for token in tokens if token.isdigit()]
    names = [token for token in tokens if not token.isdigit()]
    if len(numbers) != 2 or len(names) != 1:
        raise InvalidDate("format")
    calendar, month = _month(names[0])
    year, day = (numbers[0], numbers[1]) if len(numbers[0]) > 2 else (numbers[1], numbers[0])
    full_year = int(year) if len(year) > 2 else _full_year(int(year), month, int(day), calendar, today)
    if calendar == GREGORIAN and full_year < 1900:
        raise InvalidDate("too_old")
    if calendar == JALALI and full_year >= 1900:
        raise InvalidDate("format")
    return full_year, month, int(day)


def split_day(text: str) -> tuple[int, int, int, str, str]:
    """A day at the start of `text` and what follows it (a time of day, say): (year, month, day, calendar, rest).

    The day is written year first in digits (1405/09/10, 1405-9-10) or with the month named and a four-digit year
    (۱۰ آذر ۱۴۰۵, 1 December 2026, Dec 1, 2026); a year before 1900 is Jalali. Else InvalidDate("format").
    """
    typed = ascii_digits(text).translate(_LETTERS).lower()
    if match := _DAY_NUMBERS.match(typed):
        year, month, day = (int(part) for part in match.groups()[:3])
        return year, month, day, (JALALI if year < 1900 else GREGORIAN), match[4]
    if match := _DAY_MONTH_YEAR.match(typed):
        day_typed, name, year_typed, rest = match.groups()
    elif match := _MONTH_DAY_YEAR.match(typed):
        name, day_typed, year_typed, rest = match.groups()
    else:
        raise InvalidDate("format")
    calendar, month = _month(name)
    if (calendar == JALALI) != (int(year_typed) < 1900):
        raise InvalidDate("format")
    return int(year_typed), month, int(day_typed), calendar, rest


def _month(name: str) -> tuple[str, int]:
    """The calendar and number of a Jalali month name or an English one (full or three letters)."""
    if name in JALALI_MONTHS:
        return JALALI, JALALI_MONTHS.index(name) + 1
    for number, english in enumerate(ENGLISH_MONTHS, start=1):
        if len(name) >= 3 and english.startswith(name):
            return GREGORIAN, number
    raise InvalidDate("format")


def _full_year(short: int, month: int, day: int, calendar: str, today: date) -> int:
    """The year ending in `short` that puts the date in the past and at most a hundred years back."""
    this_year = jdatetime.date.fromgregorian(date=today).year if calendar == JALALI else today.year
    year = this_year - this_year % 100 + short
    if year > this_year or _to_gregorian(year, month, day) > today:
        year -= 100
    return year


def _to_gregorian(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali (1300–1499) or Gregorian (1900 on) day; impossible days refused."""
    try:
        if 1300 <= year <= 1499:
            return jdatetime.date(year, month, day).togregorian()
        if year >= 1900:
            return date(year, month, day)
    except ValueError:
        raise InvalidDate("impossible") from None
    raise InvalidDate("too_old" if year < 1900 else "format")


@functools.lru_cache(maxsize=4096)
def format_date(day: date, language: str) -> str:
    """A date as a member reads it: ۱ آذر ۱۴۰۵ in Persian, 22 Nov 2026 in English. Kept for the dates asked again
    (every /balance names the day its points expire): the Jalali calendar and Babel took 6–12 µs a date."""
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=day, locale="fa_IR")
        return local_digits(jalali.strftime("%-d %B %Y"), "fa")
    return babel_dates.format_date(day, "d MMM y", locale=language)


def format_day_month(day: date, language: str) -> str:
    """A day without its year, as a chart's axis names it: ۱ آذر in Persian, Nov 22 in English."""
    if language == "fa":
        return local_digits(jdatetime.date.fromgregorian(date=day, locale="fa_IR").strftime("%-d %B"), "fa")
    return babel_dates.format_date(day, "MMM d", locale=language)


def format_moment(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """A moment in the shop's time zone: date and hh:mm, in the member's calendar and digits."""
    local = moment.astimezone(zone)
    separator = "، " if language == "fa" else ", "
    return format_date(local.date(), language) + separator + local_digits(local.strftime("%H:%M"), language)


def birthday_example(language: str) -> str:
    """An example birthday in the member's calendar and digits, for prompts."""
    return local_digits("1375/06/31", "fa") if language == "fa" else "1990-09-21"


def named_birthday_example(language: str) -> str:
    """The example birthday with its month named, for the re-ask of a date that could not be read."""
    if language == "fa":
        return f"{local_digits('31', 'fa')} {JALALI_MONTHS[5]} {local_digits('1375', 'fa')}"
    return f"21 {ENGLISH_MONTHS[8].title()} 1990"
