"""Amounts of money with the shop's unit, in the reader's language and digits: 2,500,000 toman, ۲٬۵۰۰٬۰۰۰ تومان.

The unit is the rules' `currency`: toman and rial are named in the reader's language, a unit the owner typed is
shown as typed, after the amount in both languages. A purchase priced in toman or rial is written by the catalog
("money.priced_toman": «خرید ۲٬۵۰۰٬۰۰۰ تومانی», a purchase of 2,500,000 toman), so the translator decides its form.
"""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

from texts.numbers import number

UNIT_NAMES = {"toman": __("money.toman"), "rial": __("money.rial")}
PRICED = {"toman": __("money.priced_toman"), "rial": __("money.priced_rial")}  # an amount as what a thing costs


def unit_name(unit: str) -> str:
    """The unit in the reader's language: toman or rial by their names, any other as the owner typed it."""
    return str(UNIT_NAMES[unit]) if unit in UNIT_NAMES else unit


def amount_text(amount: int, unit: str) -> str:
    """An amount with its unit: 2,500,000 toman, ۲٬۵۰۰٬۰۰۰ تومان."""
    return f"{number(amount)} {unit_name(unit)}"


def priced_text(amount: int, unit: str) -> str:
    """An amount as what a purchase cost, to follow the word purchase: «خرید ۲٬۵۰۰٬۰۰۰ تومانی», a purchase of
    2,500,000 toman (in a unit the owner typed, the amount with its unit: «خرید ۲٬۵۰۰٬۰۰۰ درهم»)."""
    return str(PRICED[unit]).format(amount=number(amount)) if unit in PRICED else amount_text(amount, unit)
