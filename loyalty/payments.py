"""How a purchase was paid: cash, card, online, or on credit (نسیه) when the owner turns on-credit sales on
(`Rules.credit`); a purchase may also say nothing (NULL, as every purchase before migration 0015).

The words a cashier types for a method (`/earn … card`, '۲۵۰ هزار نسیه') live here, beside the unit words of
`loyalty.money`, and are read by their `text_key`, so 'Card', 'كارت' and 'کارت' are one word.
"""

from __future__ import annotations

from enum import StrEnum

from loyalty.errors import CreditOff
from loyalty.rules import Rules
from loyalty.text_keys import text_key


class Payment(StrEnum):
    """A payment method, as stored in `purchases.payment`."""

    CASH = "cash"
    CARD = "card"
    ONLINE = "online"
    CREDIT = "credit"


WORDS = {
    "cash": Payment.CASH,
    "نقد": Payment.CASH,
    "نقدی": Payment.CASH,
    "card": Payment.CARD,
    "کارت": Payment.CARD,
    "online": Payment.ONLINE,
    "آنلاین": Payment.ONLINE,
    "credit": Payment.CREDIT,
    "نسیه": Payment.CREDIT,
}
"""Each word a cashier may type for a method, by its `text_key`."""


def payment_of(word: str) -> Payment | None:
    """The method a typed word names, or None."""
    return WORDS.get(text_key(word))


def offered(club_rules: Rules) -> tuple[Payment, ...]:
    """The methods the counter offers: on credit only when the owner turned it on."""
    return tuple(method for method in Payment if club_rules.credit or method is not Payment.CREDIT)


def check(payment: str | None, club_rules: Rules) -> Payment | None:
    """The method to store (None: not said); CreditOff for on credit while the owner has it off, ValueError for a
    method that is none of `Payment`."""
    if payment is None:
        return None
    method = Payment(payment)
    if method not in offered(club_rules):
        raise CreditOff()
    return method
