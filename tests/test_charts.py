"""The sales chart: a PNG a phone shows at full width, in either language; its days in the reader's calendar."""

from __future__ import annotations

import struct
from datetime import date

import pytest

from texts.charts import bar_chart, day_label


def size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_days_are_jalali_with_persian_digits_in_persian_and_gregorian_in_english() -> None:
    assert day_label(date(2026, 11, 22), "fa") == "۱ آذر"
    assert day_label(date(2026, 11, 21), "fa") == "۳۰ آبان"
    assert day_label(date(2026, 11, 22), "en") == "Nov 22"


@pytest.mark.parametrize(("code", "title"), [("fa", "مجموع خرید هر روز (تومان)"), ("en", "Purchases' total by day")])
def test_a_month_of_days_draws_as_a_phone_sized_png(code: str, title: str) -> None:
    labels = [day_label(date(2026, 11, day), code) for day in range(1, 31)]
    png = bar_chart(labels, [day * 100_000 for day in range(30)], title, code)
    assert size(png) == (1200, 750)


def test_a_period_without_sales_still_draws() -> None:
    assert size(bar_chart(["Nov 22"], [0], "Purchases' total by day", "en")) == (1200, 750)
