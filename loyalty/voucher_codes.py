"""Voucher codes: ten characters to read aloud and type, the last one a check character that catches typos.

- Alphabet: the 31 symbols 0-9 and A-Z without I, L, O, U (Crockford's base 32) and V. Typed letters that
  look like digits are read as those digits (O as 0, I and L as 1); U and V are never part of a code.
- Randomness: nine symbols from `secrets`, 9 × log2(31) ≈ 44.6 bits (31**9 ≈ 2.6e13 codes). With a million
  live vouchers a guess hits one in 26 million times; at five wrong codes a minute per account (the
  throttle in `loyalty.voucher_use`) an account needs about ten years for one hit on average.
- Check character: chosen so that the sum of value × position (1 to 10) is 0 modulo 31. As 31 is prime
  and the weights are distinct and below 31, changing any one character changes the sum by weight ×
  difference, never a multiple of 31; swapping two neighbours changes it by ± the difference. Every
  single-character substitution and every adjacent transposition is therefore caught.
- Display: ABCD-EFGH-JK. Reading accepts lowercase, spaces and dashes, and Persian or Arabic digits.
"""

from __future__ import annotations

import secrets

from loyalty.numerals import ascii_digits

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTWXYZ"
BODY_LENGTH = 9
LENGTH = BODY_LENGTH + 1
GROUPS = (4, 4, 2)
ENTROPY_BITS = 44.6  # BODY_LENGTH * log2(len(ALPHABET)), checked by the tests

_MODULUS = len(ALPHABET)
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
_LOOKALIKES = str.maketrans("OIL", "011")
_SEPARATORS = frozenset(" -_.\u00a0\u200c\u2010\u2011\u2012\u2013\u2014\u2212")


def check_symbol(body: str) -> str:
    """The check character that makes `body` (nine symbols of the alphabet) a valid code."""
    total = sum(position * _VALUES[symbol] for position, symbol in enumerate(body, start=1))
    return ALPHABET[-total * pow(LENGTH, -1, _MODULUS) % _MODULUS]


def is_valid(code: str) -> bool:
    """True if `code` (canonical: ten symbols, no separators) has the right check character."""
    if len(code) != LENGTH or any(symbol not in _VALUES for symbol in code):
        return False
    return sum(position * _VALUES[symbol] for position, symbol in enumerate(code, start=1)) % _MODULUS == 0


def new_voucher_code() -> str:
    """A random voucher code in canonical form, e.g. 7KQ2M9XW4H (nine symbols from a CSPRNG, then the check)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_symbol(body)


def _compact(text: str) -> str:
    """Typed text without separators, in capitals and ASCII digits, look-alike letters read as digits."""
    kept = "".join(char for char in ascii_digits(text) if char not in _SEPARATORS and not char.isspace())
    return kept.upper().translate(_LOOKALIKES)


def looks_like_voucher_code(text: str) -> bool:
    """Ten letters or digits (separators allowed), valid or not: a voucher code someone meant to type."""
    compact = _compact(text)
    return len(compact) == LENGTH and compact.isascii() and compact.isalnum()


def read_voucher_code(text: str) -> str | None:
    """The canonical code in typed text (lowercase, spaces, dashes, Persian digits allowed), or None if invalid."""
    compact = _compact(text)
    return compact if is_valid(compact) else None


def display(code: str) -> str:
    """A canonical code grouped for reading aloud: 7KQ2-M9XW-4H."""
    parts, start = [], 0
    for size in GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(parts)
