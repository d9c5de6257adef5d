"""Yearly dates in the Jalali and Gregorian calendars: occasion presets and owner-typed campaign dates.

A yearly day (a birthday, a shop's founding day, Nowruz) recurs on its own calendar's month and day. A leap
day falls on the day before it in common years: 29 February on 28 February and 30 Esfand on 29 Esfand, so
it stays in its own month and its own year (never on 1 Farvardin, which is Nowruz of the next year).

Women's Day, Mother's Day and Father's Day in Iran follow the lunar Hijri calendar (20 Jumada al-Thani and
13 Rajab), as announced each year after the moon is sighted; no library here converts it, so these presets
are dated by the owner, who types the day in either calendar (`on_date`).

A campaign for an occasion goes out at SEND_TIME on its day in the shop's time zone (`next_send_moment`).
"""

from __future__ import annotations

from calendar import isleap
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import jdatetime

from loyalty.calendar import GREGORIAN, JALALI
from loyalty.errors import InvalidDate

HIJRI = "hijri"
LEAP_DAYS = {GREGORIAN: (2, 29), JALALI: (12, 30)}
ANNIVERSARY = "anniversary"
SEND_TIME = time(10)  # an occasion's campaign goes out at 10:00 shop time, after the quiet hours (22:00–09:00)


@dataclass(frozen=True)
class Preset:
    """A yearly occasion: a month and day in its calendar; Hijri ones are dated by the owner each year."""

    key: str
    calendar: str
    month: int
    day: int

    @property
    def owner_dated(self) -> bool:
        """Whether the owner must type this year's date (lunar occasions)."""
        return self.calendar == HIJRI


@dataclass(frozen=True)
class Occasion:
    """An occasion and the Gregorian day it falls on."""

    key: str
    day: date


NOWRUZ = Preset("nowruz", JALALI, 1, 1)
YALDA = Preset("yalda", JALALI, 9, 30)
WOMENS_DAY = Preset("womens_day", HIJRI, 6, 20)
MOTHERS_DAY = Preset("mothers_day", HIJRI, 6, 20)
FATHERS_DAY = Preset("fathers_day", HIJRI, 7, 13)
PRESETS = (NOWRUZ, YALDA, WOMENS_DAY, MOTHERS_DAY, FATHERS_DAY)


def anniversary(founded: date, calendar: str) -> Preset:
    """The shop's anniversary: its founding day recurring in the calendar the owner chose."""
    _, month, day = in_calendar(founded, calendar)
    return Preset(ANNIVERSARY, calendar, month, day)


def in_calendar(day: date, calendar: str) -> tuple[int, int, int]:
    """A Gregorian date as (year, month, day) in the Jalali or Gregorian calendar."""
    if calendar == JALALI:
        jalali = jdatetime.date.fromgregorian(date=day)
        return jalali.year, jalali.month, jalali.day
    if calendar == GREGORIAN:
        return day.year, day.month, day.day
    raise ValueError(f"unknown calendar {calendar!r}")


def is_leap(year: int, calendar: str) -> bool:
    """Whether a year of the Jalali (30 Esfand) or Gregorian (29 February) calendar has a leap day."""
    if calendar == JALALI:
        return jdatetime.date(year, 1, 1).isleap()
    if calendar == GREGORIAN:
        return isleap(year)
    raise ValueError(f"unknown calendar {calendar!r}")


def on_date(year: int, month: int, day: int, calendar: str) -> date:
    """The Gregorian date of a day typed in either calendar; a day the calendar lacks raises InvalidDate.

    31 Esfand never exists, 30 Esfand only in leap Jalali years, 29 February only in leap Gregorian years.
    """
    if calendar not in LEAP_DAYS:
        raise ValueError(f"unknown calendar {calendar!r}")
    try:
        if calendar == JALALI:
            return jdatetime.date(year, month, day).togregorian()
        return date(year, month, day)
    except (ValueError, OverflowError):
        raise InvalidDate("impossible") from None


def recurs_on(month: int, day: int, calendar: str, year: int) -> date:
    """The Gregorian date of a yearly month and day in a year of its calendar; a leap day moves one day back."""
    if (month, day) == LEAP_DAYS[calendar] and not is_leap(year, calendar):
        day -= 1
    return on_date(year, month, day, calendar)


def occasion_in(preset: Preset, year: int) -> Occasion | None:
    """The preset in a year of its own calendar; None for an owner-dated (lunar) preset."""
    if preset.owner_dated:
        return None
    return Occasion(preset.key, recurs_on(preset.month, preset.day, preset.calendar, year))


def next_occurrence(preset: Preset, today: date) -> Occasion | None:
    """The preset's first day on or after today (the shop's today); None for an owner-dated (lunar) preset."""
    if preset.owner_dated:
        return None
    return Occasion(preset.key, _next_day(preset, today))


def next_send_moment(preset: Preset, now: datetime, zone: tzinfo) -> datetime:
    """When a campaign for the preset goes out: SEND_TIME on its next day in the shop's zone, still to come.

    On the day itself after SEND_TIME, that is next year's. An owner-dated (lunar) preset has no day: ValueError.
    """
    if preset.owner_dated:
        raise ValueError(f"{preset.key!r} is dated by the owner")
    today = now.astimezone(zone).date()
    moment = datetime.combine(_next_day(preset, today), SEND_TIME, tzinfo=zone)
    if moment <= now:
        moment = datetime.combine(_next_day(preset, today + timedelta(days=1)), SEND_TIME, tzinfo=zone)
    return moment


def _next_day(preset: Preset, today: date) -> date:
    """A dated preset's first day on or after today: in today's year of its calendar, or in the next."""
    year = in_calendar(today, preset.calendar)[0]
    day = recurs_on(preset.month, preset.day, preset.calendar, year)
    return day if day >= today else recurs_on(preset.month, preset.day, preset.calendar, year + 1)
