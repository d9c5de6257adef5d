"""Amounts of money typed at the counter: Persian or ASCII digits, with or without thousands separators."""

from loyalty.errors import InvalidAmount
from loyalty.numerals import ascii_digits
from loyalty.rules import MAX_AMOUNT

SEPARATORS = str.maketrans("", "", ",٬،_' \u00a0\u066c\u202f")


def parse_amount(text: str) -> int:
    """A whole, positive amount in the shop's currency unit: '250000', '۲۵۰٬۰۰۰' and '250,000' all read 250000."""
    cleaned = ascii_digits(text.strip()).translate(SEPARATORS)
    if cleaned.startswith("-") and cleaned[1:].isdigit():
        raise InvalidAmount("not_positive")
    if not cleaned.isascii() or not cleaned.isdigit():
        raise InvalidAmount("not_a_number")
    if len(cleaned) > len(str(MAX_AMOUNT)) or int(cleaned) > MAX_AMOUNT:
        raise InvalidAmount("too_large")
    if int(cleaned) == 0:
        raise InvalidAmount("not_positive")
    return int(cleaned)
