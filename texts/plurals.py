"""Nouns that agree with their number — 1 point, 2 points; Persian keeps one form after a number — by gettext's
plural forms: a catalog entry with `msgid_plural` and a text per form, picked by the rule (`Plural-Forms`) of the
reply's language. An entry's plural key is its own key."""

from __future__ import annotations

from aiogram.utils.i18n import ngettext

from texts.numbers import number


def counted(key: str, count: int) -> str:
    """The catalog text `key` in its form for `count`, in the reply's language (the sign of `count` aside)."""
    return ngettext(key, key, abs(count))


def points_text(count: int) -> str:
    """A number of points with its noun, in the reply's language and digits: 1 point, 250 points, ۲۵۰ امتیاز."""
    return counted("count.points", count).format(count=number(count))


def days_text(count: int) -> str:
    """A number of days with its noun, in the reply's language and digits: 1 day, 30 days, ۳۰ روز."""
    return counted("count.days", count).format(count=number(count))
