"""Reading the dates the /campaign wizard asks for (a moment to send, an occasion's day, the founding date), typed
in either calendar, in digits or with the month named, with the time of day as people type it (ساعت ۱۸، ۶ عصر),
and their examples and refusals."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import jdatetime
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import get_month_names

from handlers.wizard import (
    Refused,
)
from loyalty.calendar import (
    JALALI,
    birthday_example,
    calendar_for,
    named_birthday_example,
    parse_birthday,
    split_day,
)
from loyalty.clock import parse_time
from loyalty.errors import InvalidDate, InvalidTime
from loyalty.numerals import local_digits
from loyalty.occasions import (
    PRESETS,
    SEND_TIME,
    anniversary,
    next_send_moment,
    on_date,
)
from texts.languages import language

DATED = {preset.key: preset for preset in PRESETS if not preset.owner_dated}  # Nowruz, Yalda: no date asked
LUNAR = tuple(preset.key for preset in PRESETS if preset.owner_dated)  # the owner types this year's date
DATE_REFUSALS = {"impossible": __("campaign.date_impossible"), "future": __("campaign.founded_future")}
SEPARATORS = " ,،"  # between a date and its time


# Reading the answers.


def month_names(calendar: str) -> list[str]:
    """The twelve months in the staff member's calendar and language."""
    if calendar == JALALI:
        return list(jdatetime.date.j_months_fa if language() == "fa" else jdatetime.date.j_months_en)
    names = get_month_names("wide", locale=language())
    return [names[month] for month in range(1, 13)]


def moment_from(text: str, zone: ZoneInfo, default: time | None = None) -> datetime:
    """A date and time typed as 1405-09-10 18:00 or ۱۰ آذر ۱۴۰۵ ساعت ۶ عصر (a year before 1900 is Jalali), in the
    shop's time zone.

    With a `default` time of day, the date alone is enough.
    """
    year, month, day, calendar, rest = split_day(text)
    day_ = on_date(year, month, day, calendar)
    return datetime.combine(day_, time_of_day(rest.strip(SEPARATORS), default), tzinfo=zone)


def time_of_day(text: str, default: time | None) -> time:
    """The time typed after a date, or `default` if none was typed; else InvalidDate("format")."""
    if not text and default is not None:
        return default
    try:
        return parse_time(text)
    except InvalidTime:
        raise InvalidDate("format") from None


def to_come(moment: datetime, now: datetime, past: str) -> datetime:
    """The moment, if it is still to come; else refused with `past`."""
    if moment <= now:
        raise Refused(past)
    return moment


def read_send_at(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A date and time to send, still to come."""
    return to_come(moment_from(text, zone), now, _("campaign.past"))


def read_occasion_day(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """This year's date of a lunar occasion (at SEND_TIME unless a time is typed), still to come."""
    return to_come(moment_from(text, zone, SEND_TIME), now, _("campaign.day_past"))


def read_founded(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The shop's founding date, in either calendar: the moment its next anniversary's campaign goes out."""
    founded, calendar = parse_birthday(text, now.astimezone(zone).date())
    return next_send_moment(anniversary(founded, calendar), now, zone)


def date_refusal(error: InvalidDate, example: str, named: str) -> str:
    """Why a typed date was refused: a day its calendar lacks, a founding date to come, or it could not be read (with
    an example in digits and one with the month named)."""
    if error.reason in DATE_REFUSALS:
        return str(DATE_REFUSALS[error.reason])
    return _("campaign.moment_format").format(example=example, named=named)


def example_day() -> str:
    """An example date in the staff member's calendar and digits."""
    return local_digits("1405-09-10" if calendar_for(language()) == JALALI else "2026-12-01", language())


def example_moment() -> str:
    """An example date and time in the staff member's calendar and digits."""
    return example_day() + " " + local_digits("18:00", language())


def named_day() -> str:
    """The example date with its month named, in the staff member's calendar, language and digits."""
    calendar = calendar_for(language())
    day, month, year = ("10", 9, "1405") if calendar == JALALI else ("1", 12, "2026")
    return local_digits(f"{day} {month_names(calendar)[month - 1]} {year}", language())


def named_moment() -> str:
    """The example date with its month named, and a time of day as people say it."""
    return named_day() + " " + _("campaign.example_time")


def named_founded() -> str:
    """The example founding date with its month named."""
    return named_birthday_example(language())


def example_founded() -> str:
    """An example founding date (in the past) in the staff member's calendar and digits."""
    return birthday_example(language())


def send_time() -> str:
    """The time of day an occasion's campaign goes out, in the staff member's digits."""
    return local_digits(SEND_TIME.strftime("%H:%M"), language())


DATE_READERS = {  # a typed date's step: how the moment to send is read from it, and examples (in digits, named)
    "send_at": (read_send_at, example_moment, named_moment),
    "occasion_day": (read_occasion_day, example_day, named_day),
    "founded": (read_founded, example_founded, named_founded),
}
