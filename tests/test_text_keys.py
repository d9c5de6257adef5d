"""Receipt numbers and product categories are compared by one key, however they were typed."""

from __future__ import annotations

import pytest

from loyalty.text_keys import text_key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("R-۱۲۳", "r-123"),  # Persian digits
        ("R-١٢٣", "r-123"),  # Arabic-Indic digits
        ("r-123\u200c", "r-123"),  # a zero-width non-joiner left behind by a Persian keyboard
        ("\ufeffR-\u200b12\u200d3", "r-123"),  # byte order mark, zero-width space and joiner
        ("\u200fR-123\u200e", "r-123"),  # right-to-left and left-to-right marks
        ("\u202bR-123\u202c\u2067\u2069", "r-123"),  # bidi embeddings and isolates
        (" R - 123 ", "r-123"),  # spaces, ordinary and not
        ("R\u00a0-\u2009123", "r-123"),
        ("COFFEE", "coffee"),
        ("كيك", "کیک"),  # Arabic kaf and yeh are the Persian ones
        ("مصطفى", "مصطفی"),  # alef maksura too
        ("نان‌شیرینی", "نانشیرینی"),
        ("نان شیرینی", "نانشیرینی"),
        ("خامهٔ", "خامهٔ"),  # other Persian letters are left alone
        ("ۀ ة", "ۀة"),
    ],
)
def test_spellings_a_person_reads_as_the_same_have_one_key(typed: str, key: str) -> None:
    assert text_key(typed) == key


def test_the_key_of_a_key_is_itself() -> None:
    for typed in ("R-۱۲۳\u200c", "كيك", "A b C"):
        assert text_key(text_key(typed)) == text_key(typed)
