"""Dates in the Jalali and Gregorian calendars: reading birthdays and showing dates to members."""

from __future__ import annotations

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


def calendar_for(language: str) -> str:
    """The calendar a member of this language reads and types dates in."""
    return JALALI if language == "fa" else GREGORIAN


def parse_birthday(text: str, today: date) -> tuple[date, str]:
    """Read a typed birthday as (Gregorian date, calendar it was typed in).

    Year, month and day are separated by / - . or spaces, year first or last. A year from 1300 to
    1499 is Jalali, one from 1900 on is Gregorian, so either calendar works in either language.
    """
    match = _PARTS.match(ascii_digits(text))
    if not match:
        raise InvalidDate("format")
    first, month, last = match.groups()
    year, day = (first, last) if len(first) == 4 else (last, first)
    if len(year) != 4:
        raise InvalidDate("two_digit_year")
    born = _to_gregorian(int(year), int(month), int(day))
    if born > today:
        raise InvalidDate("future")
    if today.year - born.year > OLDEST_AGE_YEARS:
        raise InvalidDate("too_old")
    return born, (JALALI if int(year) < 1900 else GREGORIAN)


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


def format_date(day: date, language: str) -> str:
    """A date as a member reads it: ۱ آذر ۱۴۰۵ in Persian, 22 Nov 2026 in English."""
    if language == "fa":
        jalali = jdatetime.date.fromgregorian(date=day, locale="fa_IR")
        return local_digits(jalali.strftime("%-d %B %Y"), "fa")
    return babel_dates.format_date(day, "d MMM y", locale=language)


def format_moment(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """A moment in the shop's time zone: date and hh:mm, in the member's calendar and digits."""
    local = moment.astimezone(zone)
    separator = "، " if language == "fa" else ", "
    return format_date(local.date(), language) + separator + local_digits(local.strftime("%H:%M"), language)


def birthday_example(language: str) -> str:
    """An example birthday in the member's calendar and digits, for prompts."""
    return local_digits("1375/06/31", "fa") if language == "fa" else "1990-09-21"
