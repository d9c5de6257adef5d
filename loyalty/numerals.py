"""Digits in and out: read Persian and Arabic digits, write numbers the way each language does."""

from functools import cache

from babel.numbers import get_group_symbol

from loyalty.errors import InvalidNumber

_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
SEPARATORS = str.maketrans("", "", ",٬،_' \u00a0\u066c\u202f")
MINUS_SIGNS = "-\u2212"  # a dash, or a real minus sign
MAX_ID = 2**31 - 1  # the largest row id (ids are 32-bit INTEGER columns)
MAX_BIGINT = 2**63 - 1  # the largest value of a 64-bit column: money, points, messenger ids


def ascii_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII ones."""
    return text.translate(_TO_ASCII)


def local_digits(text: str, language: str) -> str:
    """Write the digits of `text` in the language's own digits."""
    return text.translate(_TO_PERSIAN) if language == "fa" else text


@cache
def _group_symbol(language: str) -> str:
    """The thousands separator of the language's digits, from CLDR (Persian: ٬ with Persian digits)."""
    return get_group_symbol(language, numbering_system="arabext" if language == "fa" else "latn")


def format_number(value: int, language: str) -> str:
    """An integer with the language's grouping and digits: 12,500 or ۱۲٬۵۰۰ (every shipped language groups by 3)."""
    grouped = f"{value:,}".replace(",", _group_symbol(language))
    return local_digits(grouped, language)


def parse_bounded(text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, typed in any digits with thousands separators and an optional sign.

    Raises InvalidNumber: not_a_number, too_small or too_large. However many digits are typed, nothing beyond
    the bounds' length is ever converted, so no number out of range goes on to SQL (or to Python's digit limit).
    """
    cleaned = ascii_digits(text.strip()).translate(SEPARATORS)
    negative = cleaned[:1] in tuple(MINUS_SIGNS)
    digits = cleaned[1:] if negative or cleaned.startswith("+") else cleaned
    if not digits.isascii() or not digits.isdigit():
        raise InvalidNumber("not_a_number", low, high)
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(max(abs(low), abs(high)))):
        raise InvalidNumber("too_small" if negative else "too_large", low, high)
    value = -int(digits) if negative else int(digits)
    if value < low:
        raise InvalidNumber("too_small", low, high)
    if value > high:
        raise InvalidNumber("too_large", low, high)
    return value
