"""Weekdays in the reader's language and order (Saturday first in Persian, Monday first in English)."""

from __future__ import annotations

from typing import Literal

from babel import dates as babel_dates

WEEK_ORDERS = {"fa": (5, 6, 0, 1, 2, 3, 4), "en": (0, 1, 2, 3, 4, 5, 6)}  # date.weekday(): Saturday or Monday first


def week_order(code: str) -> tuple[int, ...]:
    """The weekdays (date.weekday()) in the reader's order: from Saturday in Persian, from Monday in English."""
    return WEEK_ORDERS.get(code, WEEK_ORDERS["en"])


def weekday_name(weekday: int, code: str, width: Literal["abbreviated", "wide"] = "wide") -> str:
    """A weekday (date.weekday()) in the reader's language: شنبه, Saturday (or Sat, `width` abbreviated)."""
    return str(babel_dates.get_day_names(width, locale=code)[weekday])
