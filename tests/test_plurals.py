"""Numbers as the bot writes them: nouns agree with their number (1 member, 2 members in English; Persian keeps its
one form after a number), and member codes and phones keep their printed order in a Persian line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import create_i18n
from loyalty.reminders import Expiring
from loyalty.rules import Rules
from scheduler.jobs import Jobs, reminder_text
from storage.database import create_engine, session_factory
from storage.models import Member
from tests.factories import NOW
from texts.languages import speaking
from texts.numbers import code_text, number, phone_text
from texts.plurals import counted, days_text, points_text

I18N = create_i18n("fa")
TEHRAN = ZoneInfo("Asia/Tehran")


def written(language: str, text: Callable[[], str]) -> str:
    """A text as the bot writes it in `language`."""
    with speaking(I18N, language):
        return text()


def audience(count: int) -> str:
    """The /campaign wizard's line on the audience's size."""
    return counted("campaign.audience_size", count).format(audience="all", count=number(count))


@pytest.mark.parametrize(
    ("count", "size"), [(0, "0 members"), (1, "1 member"), (2, "2 members"), (1_000, "1,000 members")]
)
def test_an_english_noun_agrees_with_its_count(count: int, size: str) -> None:
    assert written("en", lambda: audience(count)) == f"Audience: all — {size}"


def test_persian_keeps_one_form_after_a_number() -> None:
    sizes = [written("fa", lambda count=count: audience(count)) for count in (0, 1, 2, 1_000)]

    assert sizes == [f"مخاطبان: all — {size} عضو" for size in ("۰", "۱", "۲", "۱٬۰۰۰")]


@pytest.mark.parametrize(
    ("language", "count", "points", "days"),
    [
        ("en", 1, "1 point", "1 day"),
        ("en", 30, "30 points", "30 days"),
        ("en", -1, "-1 point", "-1 day"),  # a correction taking one point back
        ("fa", 1, "۱ امتیاز", "۱ روز"),
        ("fa", 30, "۳۰ امتیاز", "۳۰ روز"),
    ],
)
def test_points_and_days_come_with_their_noun(language: str, count: int, points: str, days: str) -> None:
    assert written(language, lambda: points_text(count)) == points
    assert written(language, lambda: days_text(count)) == days


@pytest.mark.parametrize(
    ("language", "points", "said"),
    [
        ("en", 1, ["Sara, 1 of your points expires on", "put it to use"]),
        ("en", 2, ["Sara, 2 of your points expire on", "put them to use"]),
        ("fa", 1, ["Sara عزیز، ۱ امتیاز شما در"]),
        ("fa", 2, ["Sara عزیز، ۲ امتیاز شما در"]),
    ],
)
def test_the_schedulers_reminder_agrees_with_its_points(language: str, points: int, said: list[str]) -> None:
    jobs = Jobs(I18N, session_factory(create_engine("sqlite+aiosqlite://")), Rules(), lambda: NOW, TEHRAN)
    member = Member(first_name="Sara", language=language)

    reminder = reminder_text(jobs, Expiring(member, date(2026, 12, 1), points))

    assert all(words in reminder for words in said)


@pytest.mark.parametrize(
    ("language", "code", "phone"),
    [
        ("en", "4821 3375", "0912 123 4567"),
        ("fa", "\u200e۴۸۲۱ ۳۳۷۵", "\u200e۰۹۱۲ ۱۲۳ ۴۵۶۷"),  # kept in their order inside a right-to-left line
    ],
)
def test_codes_and_phones_are_written_as_printed(language: str, code: str, phone: str) -> None:
    assert written(language, lambda: code_text("48213375")) == code
    assert written(language, lambda: phone_text("+989121234567")) == phone
