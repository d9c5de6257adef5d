"""Reading the dates the /campaign wizard asks for (a moment to send, an occasion's day, the founding date), typed
in either calendar, and their examples and refusals."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import jdatetime
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import get_month_names

from handlers.wizard import (
    Refused,
)
from loyalty.calendar import GREGORIAN, JALALI, birthday_example, calendar_for, parse_birthday
from loyalty.errors import InvalidDate
from loyalty.numerals import ascii_digits, local_digits
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
_MOMENT = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s+(\d{1,2})\s*:\s*(\d{2}))?\s*$")


# Reading the answers.


def month_names(calendar: str) -> list[str]:
    """The twelve months in the staff member's calendar and language."""
    if calendar == JALALI:
        return list(jdatetime.date.j_months_fa if language() == "fa" else jdatetime.date.j_months_en)
    names = get_month_names("wide", locale=language())
    return [names[month] for month in range(1, 13)]


def moment_from(text: str, zone: ZoneInfo, default: time | None = None) -> datetime:
    """A date and time typed as 1405-09-10 18:00 (a year from 1300 to 1499 is Jalali), in the shop's time zone.

    With a `default` time of day, the date alone is enough.
    """
    match = _MOMENT.match(ascii_digits(text))
    if not match or (match[4] is None and default is None):
        raise InvalidDate("format")
    year, month, day = (int(part) for part in match.groups()[:3])
    day_ = on_date(year, month, day, JALALI if year < 1900 else GREGORIAN)
    try:
        at = time(int(match[4]), int(match[5])) if match[4] is not None else default
    except ValueError:
        raise InvalidDate("format") from None
    return datetime.combine(day_, at, tzinfo=zone)


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


def date_refusal(error: InvalidDate, example: str) -> str:
    """Why a typed date was refused: a day its calendar lacks, a founding date to come, or it could not be read."""
    if error.reason in DATE_REFUSALS:
        return str(DATE_REFUSALS[error.reason])
    return _("campaign.moment_format").format(example=example)


def example_day() -> str:
    """An example date in the staff member's calendar and digits."""
    return local_digits("1405-09-10" if calendar_for(language()) == JALALI else "2026-12-01", language())


def example_moment() -> str:
    """An example date and time in the staff member's calendar and digits."""
    return example_day() + " " + local_digits("18:00", language())


def example_founded() -> str:
    """An example founding date (in the past) in the staff member's calendar and digits."""
    return birthday_example(language())


def send_time() -> str:
    """The time of day an occasion's campaign goes out, in the staff member's digits."""
    return local_digits(SEND_TIME.strftime("%H:%M"), language())


DATE_READERS = {  # a typed date's step: how the moment to send is read from it, and an example of the answer
    "send_at": (read_send_at, example_moment),
    "occasion_day": (read_occasion_day, example_day),
    "founded": (read_founded, example_founded),
}
