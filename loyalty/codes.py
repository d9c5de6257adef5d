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
