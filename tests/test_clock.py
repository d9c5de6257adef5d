"""Times of day read as people type them, in Persian and English, and what cannot be read."""

from datetime import time

import pytest

from loyalty.clock import parse_time
from loyalty.errors import InvalidTime


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("18", time(18)),
        ("۱۸", time(18)),
        ("0", time(0)),
        ("ساعت ۱۸", time(18)),
        ("ساعت۹", time(9)),
        ("۱۸:۳۰", time(18, 30)),
        ("18:30", time(18, 30)),
        ("۹:۰۵", time(9, 5)),
        ("ساعت ۱۸:۳۰", time(18, 30)),
        ("۶ عصر", time(18)),
        ("۶ بعدازظهر", time(18)),
        ("۶ بعد از ظهر", time(18)),
        ("۶ بعد\u200cازظهر", time(18)),
        ("ساعت ۶ عصر", time(18)),
        ("۶ و نیم عصر", time(18, 30)),
        ("۶:۳۰ عصر", time(18, 30)),
        ("۹ و ربع", time(9, 15)),
        ("۹ صبح", time(9)),
        ("۱۲ صبح", time(0)),
        ("۱۲ ظهر", time(12)),
        ("۱ ظهر", time(13)),
        ("۱۱ ظهر", time(11)),
        ("۸ شب", time(20)),
        ("۱۲ شب", time(0)),
        ("۲ شب", time(2)),
        ("۷ غروب", time(19)),
        ("6 pm", time(18)),
        ("6pm", time(18)),
        ("6:30 PM", time(18, 30)),
        ("6 p.m.", time(18)),
        ("9 am", time(9)),
        ("12 am", time(0)),
        ("12 pm", time(12)),
        ("at 6 pm", time(18)),
        (" ۱۸ ", time(18)),
    ],
)
def test_a_time_is_read_as_people_type_it(typed: str, at: time) -> None:
    assert parse_time(typed) == at


@pytest.mark.parametrize(
    "typed",
    ["", "ساعت", "24", "25:00", "18:60", "۱۸ عصر", "۰ صبح", "13 pm", "۶ فردا", "six pm", "۶:۳۰ و نیم", "18:3", "1 2"],
)
def test_what_is_not_a_time_is_refused(typed: str) -> None:
    with pytest.raises(InvalidTime):
        parse_time(typed)
