"""Times of day as people type them: 18, 18:30, ساعت ۱۸, ۶ عصر, ۶ و نیم بعدازظهر, ۹ صبح, 6 pm, 6:30pm.

Without a part of the day the hour is read on the 24-hour clock (0-23); with one it is 1-12 on the clock face:
صبح and am are the morning (۱۲ صبح is midnight), ظهر is around noon (۱۲ ظهر is 12:00, ۱ ظهر 13:00), عصر,
بعدازظهر, غروب and pm are the afternoon and evening (۶ عصر is 18:00), شب is the evening and the night (۸ شب is
20:00, ۱۲ شب midnight, ۲ شب 02:00). «و نیم» and «و ربع» add half and a quarter of an hour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time

from loyalty.errors import InvalidTime
from loyalty.numerals import ascii_digits

_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": ""})
_TIME = re.compile(
    r"^(?:ساعت|at)?\s*(?P<hour>\d{1,2})(?:\s*[:٫.]\s*(?P<minute>\d{2}))?"
    r"(?:\s*و\s*(?P<fraction>نیم|ربع))?\s*(?P<period>[^\d]*)$"
)
FRACTIONS = {"نیم": 30, "ربع": 15}


def _morning(hour: int) -> int:
    return 0 if hour == 12 else hour


def _noon(hour: int) -> int:
    return hour if hour >= 11 else hour + 12


def _afternoon(hour: int) -> int:
    return hour % 12 + 12


def _night(hour: int) -> int:
    return 0 if hour == 12 else hour if hour < 5 else hour + 12


PERIODS: dict[str, Callable[[int], int]] = {
    "صبح": _morning,
    "am": _morning,
    "ظهر": _noon,
    "noon": _noon,
    "بعدازظهر": _afternoon,
    "عصر": _afternoon,
    "غروب": _afternoon,
    "pm": _afternoon,
    "شب": _night,
}


def parse_time(text: str) -> time:
    """A time of day typed in any digits, on the 24-hour clock or with a part of the day; else InvalidTime."""
    typed = ascii_digits(text).translate(_LETTERS).strip().lower()
    match = _TIME.match(typed)
    if not match:
        raise InvalidTime(text)
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["fraction"]:
        if match["minute"]:
            raise InvalidTime(text)
        minute = FRACTIONS[match["fraction"]]
    period = re.sub(r"[\s.]", "", match["period"])
    if period:
        if period not in PERIODS or not 1 <= hour <= 12:
            raise InvalidTime(text)
        hour = PERIODS[period](hour)
    if hour > 23 or minute > 59:
        raise InvalidTime(text)
    return time(hour, minute)
