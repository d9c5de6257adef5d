"""Digits in and out: read Persian and Arabic digits, write numbers the way each language does."""

from babel.numbers import format_decimal

_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def ascii_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII ones."""
    return text.translate(_TO_ASCII)


def local_digits(text: str, language: str) -> str:
    """Write the digits of `text` in the language's own digits."""
    return text.translate(_TO_PERSIAN) if language == "fa" else text


def format_number(value: int, language: str) -> str:
    """An integer with the language's grouping and digits: 12,500 or ۱۲٬۵۰۰."""
    if language == "fa":
        return local_digits(format_decimal(value, locale="fa", numbering_system="arabext"), "fa")
    return format_decimal(value, locale=language)
