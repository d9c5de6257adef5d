"""Digits in and out: read Persian and Arabic digits, write numbers the way each language does."""

from functools import cache

from babel.numbers import get_group_symbol

_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


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
