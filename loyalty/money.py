"""Amounts of money typed at the counter: Persian or ASCII digits, separators, 'هزار'/'k' and 'میلیون'/'m'.

A unit word (تومان, ریال, toman, rial) is read and ignored: the amount is always in the shop's currency unit. The
unit the owner types in /settings is read here too (`currency_of`).
"""

import re

from loyalty.errors import InvalidAmount, InvalidNumber
from loyalty.numerals import ascii_digits, parse_bounded
from loyalty.rules import MAX_AMOUNT

REASONS = {"too_small": "not_positive", "too_large": "too_large", "not_a_number": "not_a_number"}
ZEROS = {"هزار": 3, "k": 3, "میلیون": 6, "million": 6, "م": 6, "m": 6}  # a multiplier: how many zeros it adds
NAMED_UNITS = {"تومان": "toman", "toman": "toman", "ریال": "rial", "rial": "rial"}  # each by its key in the rules
UNITS = frozenset(NAMED_UNITS)
_MULTIPLIED = re.compile(r"(?P<number>.*?)\s*(?P<multiplier>{})".format("|".join(sorted(ZEROS, key=len, reverse=True))))


def amount_words(words: list[str]) -> int:
    """How many of the leading `words` spell the amount: its number, then any multiplier and unit words."""
    count = 1 if words else 0
    while count < len(words) and (words[count].casefold() in ZEROS or words[count].casefold() in UNITS):
        count += 1
    return count


def parse_amount(text: str) -> int:
    """A whole, positive amount: '250000', '۲۵۰٬۰۰۰', '250,000 تومان', '۲۵۰ هزار' and '0.25m' all read 250000.

    A decimal point ('.' or '٫') is read only before a multiplier, and the result must be whole ('1.2345 هزار' is not).
    """
    words = ascii_digits(text).casefold().split()
    if words and words[-1] in UNITS:
        words.pop()
    typed = " ".join(words)
    multiplied = _MULTIPLIED.fullmatch(typed)
    try:
        return parse_bounded(scaled(*multiplied.group("number", "multiplier")) if multiplied else typed, 1, MAX_AMOUNT)
    except InvalidNumber as error:
        raise InvalidAmount(REASONS[error.reason]) from None


def scaled(number: str, multiplier: str) -> str:
    """The digits of `number` times the multiplier ('2.5' and 'm' give '2500000'); refuses a number with no digit
    or with a fraction the multiplier does not make whole."""
    whole, _, fraction = number.replace("٫", ".").partition(".")
    fraction = fraction.rstrip("0")
    zeros = ZEROS[multiplier]
    no_digit = not any(character.isdigit() for character in whole + fraction)
    if no_digit or len(fraction) > zeros or (fraction and not fraction.isdigit()):
        raise InvalidAmount("not_a_number")
    return whole + fraction + "0" * (zeros - len(fraction))


def currency_of(typed: str) -> str:
    """A unit the owner typed, as the rules keep it: toman or rial by its key whatever the language it is typed in
    (so each reader sees it in theirs), any other unit as typed, spaces folded."""
    unit = " ".join(typed.split())
    return NAMED_UNITS.get(unit.casefold(), unit)
