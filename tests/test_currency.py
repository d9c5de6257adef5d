"""Amounts of money are shown with the shop's unit (issue #14): toman by default, rial or any unit the owner types
in /settings; never a bare number, in the counter's confirmations, the member's notices, the member's view and the
rules themselves."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import club_of
from bot.settings import Settings
from loyalty import rules
from storage.models import Member
from tests.chat import Chat, Delivered, to
from tests.emulator import BotAPIEmulator, FakeUser
from tests.lookups import member_of
from tests.people import CUSTOMER, OWNER, customer, joined, owner_chat

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).parent.parent
MONEY_PLACEHOLDERS = {"amount", "minimum", "threshold", "spend", "cap", "min_purchase", "amount_per_point"}


async def earn(chat_with: MakeChat, sessions: Sessions, delivered: Delivered, language: str = "en") -> tuple[str, str]:
    """Sara (Persian) buys for 2,500,000 at the owner's counter: the owner's confirmation and Sara's notice."""
    _, member = await customer(chat_with, sessions)
    replies = await owner_chat(chat_with, language).say(f"/earn {member.code} 2500000 R-1")
    [confirmation] = to(replies, OWNER)
    [notice] = to(await delivered(), CUSTOMER)
    return confirmation.text, notice.text


async def test_a_purchase_is_shown_in_toman_by_default(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    confirmation, notice = await earn(chat_with, sessions, delivered)
    assert "Recorded 2,500,000 toman for Sara" in confirmation
    assert "بابت خرید ۲٬۵۰۰٬۰۰۰ تومانی" in notice and "۲۵۰ امتیاز گرفتید" in notice


async def test_a_persian_cashier_sees_the_purchase_in_toman(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    confirmation, _ = await earn(chat_with, sessions, delivered, "fa")
    assert "خرید ۲٬۵۰۰٬۰۰۰ تومانی" in confirmation


async def test_an_english_member_hears_of_the_purchase_in_toman(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    await joined(chat_with, "en")
    member = await member_of(sessions, CUSTOMER)
    await owner_chat(chat_with).say(f"/earn {member.code} 2500000")
    [notice] = to(await delivered(), CUSTOMER)
    assert "for your purchase of 2,500,000 toman" in notice.text


async def test_the_owner_chooses_rial_and_amounts_are_shown_in_rial(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    [question, _] = await owner.press("set:choose:currency:")
    assert "Now: toman" in question.text
    assert question.buttons() == ["✅ toman", "rial", "✍️ Another unit", "↩️ Back to the rules"]
    [menu, _] = await owner.press("setc:currency:rial")
    assert "Currency unit changed from toman to rial" in menu.text
    assert "One point for every 10,000 rial spent" in menu.text
    async with sessions() as session:
        assert (await rules.current(session, club_of(settings).rules)).currency == "rial"
    confirmation, notice = await earn(chat_with, sessions, delivered)
    assert "Recorded 2,500,000 rial for Sara" in confirmation and "خرید ۲٬۵۰۰٬۰۰۰ ریالی" in notice


async def test_the_owner_types_a_unit_of_their_own(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    owner = owner_chat(chat_with, "fa")
    [prompt, _] = await owner.press("set:ask:currency:")
    assert "تومان" in prompt.text
    [menu] = await owner.say("  درهم ")
    assert "به ازای هر ۱۰٬۰۰۰ درهم خرید، یک امتیاز" in menu.text
    confirmation, notice = await earn(chat_with, sessions, delivered)
    assert "Recorded 2,500,000 درهم for Sara" in confirmation and "بابت خرید ۲٬۵۰۰٬۰۰۰ درهم، " in notice


@pytest.mark.parametrize("typed", ["12", "a" * 17, "toman!"])
async def test_a_unit_that_is_not_a_word_is_refused_and_asked_again(chat_with: MakeChat, typed: str) -> None:
    owner = owner_chat(chat_with)
    await owner.press("set:ask:currency:")
    [refusal] = await owner.say(typed)
    assert "up to 16 letters" in refusal.text
    [menu] = await owner.say("Rial")
    assert "One point for every 10,000 rial spent" in menu.text


async def test_the_rules_show_their_amounts_with_the_unit(chat_with: MakeChat) -> None:
    [menu] = await owner_chat(chat_with, "fa").say("/settings")
    assert "به ازای هر ۱۰٬۰۰۰ تومان خرید، یک امتیاز" in menu.text
    assert "• نقره‌ای: از ۲۰٬۰۰۰٬۰۰۰ تومان" in menu.text
    [tier, _] = await owner_chat(chat_with).press("set:tier::silver")
    assert "20,000,000 toman" in tier.text
    [prompt, _] = await owner_chat(chat_with).press("set:ask:min_purchase:")
    assert "Now: 0 toman" in prompt.text


async def test_the_member_view_and_an_undo_show_the_unit(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    await earn(chat_with, sessions, delivered)
    owner = owner_chat(chat_with)
    [card] = await owner.say("/member 09121234567")
    assert "Spent in all: 2,500,000 toman" in card.text
    await owner.say("/undo R-1")
    [notice] = to(await delivered(), CUSTOMER)
    assert "خرید ۲٬۵۰۰٬۰۰۰ تومانی" in notice.text


async def test_the_unit_end_to_end(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    """The owner picks rial in /settings; Sara, who joined in Persian, hears of her purchase in rial."""
    sara = FakeUser(live, 520, "Sara", "fa")
    await sara.join("09121234567")
    owner = FakeUser(live, OWNER, "Owner", "en")
    await owner.say("/settings")
    await owner.press("set:choose:currency:")
    [rules_now, _] = await owner.press("setc:currency:rial")
    assert "Currency unit changed from toman to rial" in rules_now.text
    async with AsyncSession(engine) as session:
        code = await session.scalar(select(Member.code).where(Member.telegram_id == 520))
    [confirmation] = await owner.say(f"/earn {code} 2500000")
    assert "Recorded 2,500,000 rial for Sara" in confirmation.text
    notice = "بابت خرید ۲٬۵۰۰٬۰۰۰ ریالی، ۲۵۰ امتیاز گرفتید"
    told = lambda: any(notice in call.text for call in live.sent_to(520))  # noqa: E731
    await live.wait_for(told, 10, lambda: "Sara was not told in rial")


def money_shown_bare() -> list[str]:
    """Where the code fills an amount of money into a text with a bare `number(...)`, without its unit."""
    bare = []
    for folder in ("handlers", "texts", "scheduler"):
        for path in sorted(set((ROOT / folder).rglob("*.py")) - {ROOT / "texts" / "money.py"}):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.keyword) and node.arg in MONEY_PLACEHOLDERS:
                    value = node.value
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "number":
                        bare.append(f"{path.relative_to(ROOT)}:{node.value.lineno} {node.arg}")
    return bare


def test_no_amount_of_money_is_filled_in_as_a_bare_number() -> None:
    assert money_shown_bare() == []
