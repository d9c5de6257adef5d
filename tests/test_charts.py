"""The sales chart: a PNG a phone shows at full width, in either language; its days in the reader's calendar."""

from __future__ import annotations

import struct
import subprocess
import sys
from datetime import date

import pytest

from bot.i18n import create_i18n
from loyalty.calendar import format_day_month
from loyalty.reports import Hours
from texts.charts import bar_chart, heatmap, hours_chart
from texts.weekdays import week_order, weekday_name


def size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_days_are_jalali_with_persian_digits_in_persian_and_gregorian_in_english() -> None:
    assert format_day_month(date(2026, 11, 22), "fa") == "۱ آذر"
    assert format_day_month(date(2026, 11, 21), "fa") == "۳۰ آبان"
    assert format_day_month(date(2026, 11, 22), "en") == "Nov 22"


@pytest.mark.parametrize(("code", "title"), [("fa", "مجموع خرید هر روز (تومان)"), ("en", "Purchases' total by day")])
def test_a_month_of_days_draws_as_a_phone_sized_png(code: str, title: str) -> None:
    labels = [format_day_month(date(2026, 11, day), code) for day in range(1, 31)]
    png = bar_chart(labels, [day * 100_000 for day in range(30)], title, code)
    assert size(png) == (1200, 750)


def test_a_period_without_sales_still_draws() -> None:
    assert size(bar_chart(["Nov 22"], [0], "Purchases' total by day", "en")) == (1200, 750)


def test_the_week_starts_on_saturday_in_persian_and_on_monday_in_english() -> None:
    assert [weekday_name(day, "fa") for day in week_order("fa")][:3] == ["شنبه", "یکشنبه", "دوشنبه"]
    assert [weekday_name(day, "en", "abbreviated") for day in week_order("en")][:2] == ["Mon", "Tue"]


@pytest.mark.parametrize("code", ["fa", "en"])
def test_the_weekdays_by_hours_draw_as_a_phone_sized_png(code: str) -> None:
    rows = [[(day * 24 + hour) % 13 for hour in range(24)] for day in range(7)]
    png = heatmap(rows, [weekday_name(day, code) for day in week_order(code)], "Purchases by weekday and hour", code)
    assert size(png) == (1200, 750)


@pytest.mark.parametrize("code", ["fa", "en"])
def test_the_busy_hours_draw_in_the_readers_language_even_without_purchases(code: str) -> None:
    i18n = create_i18n(code)
    with i18n.context(), i18n.use_locale(code):
        assert size(hours_chart(Hours([[0] * 24 for _ in range(7)]))) == (1200, 750)
        assert size(hours_chart(Hours([[hour for hour in range(24)] for _ in range(7)]))) == (1200, 750)


def test_a_starting_bot_leaves_matplotlib_unloaded_until_a_report_draws() -> None:
    started = (
        "import sys, bot.app, bot.cli; print([name for name in ('matplotlib', 'texts.charts') if name in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", started], capture_output=True, text=True, check=True).stdout

    assert loaded.strip() == "[]"  # some 70 MB an idle instance does without
