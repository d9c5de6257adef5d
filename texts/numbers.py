"""Numbers in the reply's language and digits: whole numbers and fractions, and member codes and phone numbers as
people write them.

A code or phone in groups ("۴۸۲۱ ۳۳۷۵", "۰۹۱۲ ۱۲۳ ۴۵۶۷") inside a Persian line would be laid out right to left group
by group, so it starts with a left-to-right mark there: it reads as printed on the card or typed on a keypad."""

from __future__ import annotations

from babel.numbers import format_decimal

from loyalty.codes import grouped
from loyalty.numerals import format_number, local_digits
from loyalty.phones import display_phone
from texts.languages import language

LEFT_TO_RIGHT_MARK = "\u200e"
RIGHT_TO_LEFT = ("fa",)  # the languages whose lines run right to left


def number(value: int) -> str:
    """A number in the reply's language."""
    return format_number(value, language())


def decimal(value: float, pattern: str) -> str:
    """A fraction in the reply's language and digits, by a CLDR pattern: 37.5 or ۳۷٫۵ for "#,##0.#"."""
    code = language()
    written = format_decimal(value, format=pattern, locale=code, numbering_system="arabext" if code == "fa" else "latn")
    return local_digits(written, code)  # Babel gives Persian separators, not Persian digits


def hour_text(hour: int) -> str:
    """An hour of the day in the reply's digits: 21:00, ۲۱:۰۰."""
    return local_digits(f"{hour:02d}:00", language())


def code_text(code: str) -> str:
    """A member code as the card shows it (two groups), in the reader's digits."""
    return left_to_right(local_digits(grouped(code), language()))


def phone_text(e164: str) -> str:
    """A stored phone number as people write it, in the reader's digits."""
    return left_to_right(local_digits(display_phone(e164), language()))


def left_to_right(text: str) -> str:
    """Digits in groups kept in their order inside a right-to-left line (a mark before them); as is otherwise."""
    return LEFT_TO_RIGHT_MARK + text if language() in RIGHT_TO_LEFT else text
