"""Keys of what staff type to name a thing again later: receipt numbers and `#category` tags.

Two spellings a person reads as the same have one key, so a receipt typed on a Persian keyboard is the receipt
typed on a Latin one, and a category typed with Arabic letters is the Persian category:
- Persian (۰-۹) and Arabic-Indic (٠-٩) digits become ASCII digits;
- letters are case folded;
- whitespace of any kind is removed (a receipt or a tag is one word; "نان شیرینی" is "نان‌شیرینی");
- zero-width characters (ZWNJ U+200C, ZWJ U+200D, U+200B, U+FEFF) and bidi controls (U+200E/F, U+202A-202E,
  U+2066-2069) are removed;
- Arabic yeh (U+064A) and alef maksura (U+0649) become Persian yeh (U+06CC), Arabic kaf (U+0643) Persian keheh
  (U+06A9); other letters (ة, ۀ, ...) are left as they are.

The key is what is stored (`Purchase.receipt`, `Purchase.category`) and what is looked up or filtered by.
"""

from __future__ import annotations

from loyalty.numerals import ascii_digits

_INVISIBLE = "\u200b\u200c\u200d\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_FOLD = str.maketrans({**dict.fromkeys(_INVISIBLE, None), "\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})


def text_key(text: str) -> str:
    """The key of a receipt number or a category as typed: one spelling for all a person reads as the same."""
    return "".join(ascii_digits(text).translate(_FOLD).casefold().split())
