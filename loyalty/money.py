"""Amounts of money typed at the counter: Persian or ASCII digits, with or without thousands separators."""

from loyalty.errors import InvalidAmount, InvalidNumber
from loyalty.numerals import parse_bounded
from loyalty.rules import MAX_AMOUNT

REASONS = {"too_small": "not_positive", "too_large": "too_large", "not_a_number": "not_a_number"}


def parse_amount(text: str) -> int:
    """A whole, positive amount in the shop's currency unit: '250000', '۲۵۰٬۰۰۰' and '250,000' all read 250000."""
    try:
        return parse_bounded(text, 1, MAX_AMOUNT)
    except InvalidNumber as error:
        raise InvalidAmount(REASONS[error.reason]) from None
