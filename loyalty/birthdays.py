"""Birthdays in the member's own calendar: which day they fall on, today's birthdays for SQL, once-a-year keys.

A Jalali birthday falls on its Jalali day every year, a Gregorian one on its Gregorian day. A leap-day
birthday is celebrated the day before in common years: 29 February on 28 February, 30 Esfand on 29 Esfand,
keeping it in its own month and year (see `loyalty.occasions`).

Selecting today's birthdays needs a column beside `Member.birthday` (a Gregorian date, from which the
Jalali month and day cannot be read in SQL): `birthday_md`, an indexed small integer, month * 100 + day in
the member's own calendar, filled with `birthday_md()` wherever a birthday is stored. Then::

    keys = birthday_keys(today)
    or_(*(and_(Member.birthday_calendar == calendar, Member.birthday_md.in_(days)) for calendar, days in keys.items()))
"""

from __future__ import annotations

from datetime import date

from loyalty.calendar import GREGORIAN, JALALI
from loyalty.occasions import LEAP_DAYS, in_calendar, recurs_on


def celebrated_on(birthday: date, calendar: str, year: int) -> date:
    """The Gregorian date on which a birthday is celebrated in a year of its own calendar."""
    _, month, day = in_calendar(birthday, calendar)
    return recurs_on(month, day, calendar, year)


def is_birthday(today: date, birthday: date, calendar: str) -> bool:
    """Whether today (the shop's today) is the member's birthday in the calendar they gave it in."""
    return celebrated_on(birthday, calendar, in_calendar(today, calendar)[0]) == today


def birthday_md(birthday: date, calendar: str) -> int:
    """A birthday's month * 100 + day in its own calendar: the value of the `birthday_md` column."""
    _, month, day = in_calendar(birthday, calendar)
    return month * 100 + day


def birthday_keys(today: date) -> dict[str, frozenset[int]]:
    """For each calendar, the `birthday_md` values celebrated today: today's own, and the leap day on its eve."""
    keys = {}
    for calendar in (GREGORIAN, JALALI):
        year, month, day = in_calendar(today, calendar)
        days = {month * 100 + day}
        leap_month, leap_day = LEAP_DAYS[calendar]
        if recurs_on(leap_month, leap_day, calendar, year) == today:
            days.add(leap_month * 100 + leap_day)
        keys[calendar] = frozenset(days)
    return keys


def greeting_key(member_id: int, today: date, calendar: str) -> str:
    """The once-a-year key of a member's birthday greeting, by the year of the member's own calendar.

    A Jalali birthday near the Gregorian new year (11 Dey is 31 December or 1 January) may fall twice in
    one Gregorian year and not at all in the next; its Jalali year has it exactly once.
    """
    return f"birthday:{in_calendar(today, calendar)[0]}:{member_id}"


def age_on(today: date, birthday: date) -> int:
    """Whole years completed, by Gregorian arithmetic for either calendar (a day off at most near the birthday).

    Someone born on 29 February completes a year on 1 March in common years, though greeted on 28 February.
    """
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
