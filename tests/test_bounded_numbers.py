"""Every number typed or carried by a button is bounded before it reaches SQL: out of range gets a polite answer
(typed) or the stale-button one (a forged or mangled button), never an error — on SQLite and PostgreSQL."""

from __future__ import annotations

import typing
from collections.abc import Callable

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import handlers
from bot.i18n import create_i18n
from handlers.wizard import Refused, whole
from loyalty.errors import InvalidNumber
from loyalty.numerals import parse_bounded
from storage.models import Base, Member
from tests.chat import Chat, Reply

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER = 1
HUGE = "99999999999999999999999"
TOO_BIG, NEGATIVE = 2**70, -1

# A button of every kind that carries a number, with {n} where the number goes.
FORGED = [
    "ctr:earn:{n}",
    "ctr:recent:{n}",
    "ctrok:1:{n}",
    "ctrok:0:{n}",
    "ctrp:quick:{n}",
    "ctrp:ask:{n}",
    "ctrp:undo:{n}",
    "cat:open:{n}:",
    "cat:switch:{n}:",
    "cat:ask:{n}:stock",
    "cmp:open:{n}",
    "cmp:pause:{n}",
    "rdm:use:{n}",
    "rwd:show:{n}:0",
    "rwd:ask:{n}:0",
    "rwd:yes:{n}:0",
    "rwd:yes:1:{n}",
    "vch:show:{n}",
    "vch:ask:{n}",
    "vch:cancel:{n}",
    "stf:person::{n}",
    "stf:remove::{n}",
    "stf:removed::{n}",
    "stf:role:cashier:{n}",
    "hist:{n}",
]


def all_subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *all_subclasses(direct)}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), ("۴۲", 42), ("٤٢", 42), ("1,000", 1000), ("۱۲٬۵۰۰", 12_500), ("0007", 7), (" 5 ", 5)],
)
def test_a_bounded_number_is_read_in_any_digits_and_grouping(text: str, expected: int) -> None:
    assert parse_bounded(text, 0, 10**6) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (HUGE, "too_large"),
        ("9" * 5000, "too_large"),
        ("-1", "too_small"),
        ("-" + HUGE, "too_small"),
        ("0", "too_small"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("12.5", "not_a_number"),
        ("²", "not_a_number"),
        ("--1", "not_a_number"),
    ],
)
def test_a_number_out_of_range_or_no_number_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        parse_bounded(text, 1, 10**12)
    assert (refused.value.reason, refused.value.low, refused.value.high) == (reason, 1, 10**12)


def test_a_signed_number_keeps_its_sign() -> None:
    assert parse_bounded("−۵", -10, 10) == -5
    assert parse_bounded("+5", -10, 10) == 5


def test_every_number_a_button_carries_is_bounded() -> None:
    buttons = {button for button in all_subclasses(CallbackData) if button.__module__.startswith(handlers.__name__)}
    assert len(buttons) > 10
    for button in buttons:
        for name, field in button.model_fields.items():
            if field.annotation is int or int in typing.get_args(field.annotation):
                bounds = {type(item).__name__ for item in field.metadata}
                assert {"Ge", "Le"} <= bounds, f"{button.__name__}.{name} is not bounded"


async def rows(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def answered_politely(replies: list[Reply]) -> bool:
    texts = [reply.text for reply in replies] + [getattr(reply.method, "text", "") or "" for reply in replies]
    return bool(replies) and not any("went wrong" in text for text in texts)


@pytest.mark.parametrize("number", [TOO_BIG, NEGATIVE])
@pytest.mark.parametrize("data", FORGED)
async def test_a_button_with_a_number_out_of_range_is_answered_as_stale_and_writes_nothing(
    chat_with: MakeChat, sessions: Sessions, data: str, number: int
) -> None:
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    await owner.join()
    before = await rows(sessions)
    replies = await owner.press(data.format(n=number))
    assert answered_politely(replies), replies
    assert [reply.name for reply in replies] == ["AnswerCallbackQuery"], replies
    assert await rows(sessions) == before


@pytest.mark.parametrize(
    "command",
    [
        "/earn {code} " + HUGE,
        "/earn {code} -" + HUGE,
        "/adjust {code} " + HUGE + " typo",
        "/adjust {code} -" + HUGE + " typo",
        "/adjust {code} +" + "9" * 5000 + " typo",
    ],
)
async def test_a_typed_number_out_of_range_gets_a_polite_answer_and_writes_nothing(
    chat_with: MakeChat, sessions: Sessions, command: str
) -> None:
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    await owner.join()
    async with sessions() as session:
        code = await session.scalar(select(Member.code).where(Member.telegram_id == OWNER))
    before = await rows(sessions)
    replies = await owner.say(command.format(code=code))
    assert answered_politely(replies), replies
    assert await rows(sessions) == before


@pytest.mark.parametrize(
    ("rule", "typed"), [("welcome_bonus", HUGE), ("amount_per_point", "-" + HUGE), ("percent", HUGE)]
)
async def test_a_rule_typed_out_of_range_is_refused_with_its_range_and_changes_nothing(
    chat_with: MakeChat, sessions: Sessions, rule: str, typed: str
) -> None:
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    await owner.say("/settings")
    await owner.press(f"set:ask:{rule}:silver" if rule == "percent" else f"set:ask:{rule}:")
    before = await rows(sessions)
    [refusal] = await owner.say(typed)
    assert "between" in refusal.text.lower() or "from" in refusal.text.lower(), refusal.text
    assert await rows(sessions) == before


def test_a_wizard_answer_out_of_range_is_refused_with_its_range() -> None:
    with create_i18n("en").context():
        for typed in (HUGE, "-" + HUGE, "9" * 5000):
            with pytest.raises(Refused) as refused:
                whole(1, 100)(typed)
            assert "100" in str(refused.value)
