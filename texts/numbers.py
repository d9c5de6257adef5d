"""Numbers in the reply's language and digits: whole numbers and fractions."""

from __future__ import annotations

from babel.numbers import format_decimal

from loyalty.numerals import format_number, local_digits
from texts.languages import language


def number(value: int) -> str:
    """A number in the reply's language."""
    return format_number(value, language())


def decimal(value: float, pattern: str) -> str:
    """A fraction in the reply's language and digits, by a CLDR pattern: 37.5 or ۳۷٫۵ for "#,##0.#"."""
    code = language()
    written = format_decimal(value, format=pattern, locale=code, numbering_system="arabext" if code == "fa" else "latn")
    return local_digits(written, code)  # Babel gives Persian separators, not Persian digits
