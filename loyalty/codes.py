"""Member codes: eight digits a cashier can type, the last one a Luhn check digit that catches typos."""

import secrets

from stdnum import luhn

from loyalty.numerals import ascii_digits

BODY_DIGITS = 7


def new_member_code() -> str:
    """A random member code, e.g. 48213375 (7 random digits from a CSPRNG, then a check digit)."""
    body = f"{secrets.randbelow(10**BODY_DIGITS):0{BODY_DIGITS}d}"
    return body + luhn.calc_check_digit(body)


def read_member_code(text: str) -> str | None:
    """The code in typed text (spaces, dashes, Persian digits allowed), or None if it is not valid."""
    code = "".join(char for char in ascii_digits(text) if char not in " -")
    if len(code) != BODY_DIGITS + 1 or not code.isdigit() or not luhn.is_valid(code):
        return None
    return code


def grouped(code: str) -> str:
    """A code split in two halves for reading aloud: 4821 3375."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


def looks_like_member_code(text: str) -> bool:
    """Eight digits (spaces and dashes allowed), valid or not: a code someone meant to type."""
    digits = "".join(char for char in ascii_digits(text) if char not in " -")
    return len(digits) == BODY_DIGITS + 1 and digits.isdigit()


def take_member_reference(text: str) -> tuple[str, str]:
    """The member reference typed first, and the rest: a code in two groups (`4821 3375`) is one reference.

    `4821 3375 250000` gives ("4821 3375", "250000"); `09121234567 250000` gives ("09121234567", "250000").
    """
    words = text.split(maxsplit=2)
    if len(words) > 1 and _is_half_code(words[0]) and _is_half_code(words[1]):
        return f"{words[0]} {words[1]}", words[2] if len(words) > 2 else ""
    first, *rest = text.split(maxsplit=1) or [""]
    return first, "".join(rest)


def _is_half_code(word: str) -> bool:
    """Four digits, in any script: one of the two groups the card shows."""
    digits = ascii_digits(word)
    return len(digits) == (BODY_DIGITS + 1) // 2 and digits.isascii() and digits.isdigit()
