"""A figure against the one it is compared with, in the reader's language: 1,200,000 toman ▲ 41%, ۲ ▼ ۱۰٪."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from loyalty.reports import Compared
from texts.numbers import number


def change(figure: Compared) -> str:
    """▲ 25% or ▼ 10% against the figure compared with; ▲ alone from nothing, = when equal."""
    if figure.now == figure.before:
        return "="
    arrow = "▲" if figure.now > figure.before else "▼"
    if not figure.before:
        return arrow
    percent = round(abs(figure.now - figure.before) * 100 / figure.before)
    return f"{arrow} " + _("report.percent").format(value=number(percent))


def compared(value: str, figure: Compared) -> str:
    """A figure and its change: 1,200,000 toman ▲ 41%."""
    return f"{value} {change(figure)}"
