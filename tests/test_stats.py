"""/stats through the real dispatcher: managers and owners see the club's referral figures; others can't."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty.staff import Role
from tests.chat import Chat
from tests.factories import NOW
from tests.people import NEEDS_MANAGER, customer, hire
from tests.steps import buy, member, open_link, referred_friend

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER, MANAGER, CASHIER = 1, 3, 7
EARLIER = NOW - timedelta(days=2)  # the club is seeded before the bot's frozen clock
BIG = 1_000_000


async def seeded_club(sessions: Sessions) -> None:
    """7 members; Reza brought 3 friends (1 bought), Sara 2 (both bought) and 3 more opened her link only."""
    reza, sara = await member(sessions, 1001, "Reza", EARLIER), await member(sessions, 1002, "Sara", EARLIER)
    rezas = [(await referred_friend(sessions, reza, 2000 + number, EARLIER)).member for number in range(3)]
    saras = [(await referred_friend(sessions, sara, 3000 + number, EARLIER)).member for number in range(2)]
    for number in range(3):
        await open_link(sessions, sara, 4000 + number, EARLIER)
    for receipt, friend in enumerate((rezas[0], *saras)):
        await buy(sessions, friend.id, BIG, f"R{receipt}", EARLIER + timedelta(hours=2))


async def stats(chat: Chat) -> str:
    [reply] = await chat.say("/stats")
    return reply.text


async def test_a_manager_sees_the_referral_figures_and_the_top_referrers(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await seeded_club(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    text = await stats(chat_with(MANAGER, language_code="en"))
    assert text.startswith("📊 Club figures\n\n🤝 Referrals")
    for line in (
        "• Invite links opened: 8",
        "• Friends who joined: 5",
        "• Friends who made a first purchase: 3",
        "• Conversion (bought ÷ opened): 37.5%",
        "• Invites per member: 1.14",  # 8 links over 7 members
        "• K-factor (new buyers per member): 0.43",  # 3 buyers over 7 members
        "🏆 Top referrers\n1. Sara — joined 2 · bought 2 · 200 points\n2. Reza — joined 3 · bought 1 · 100 points",
    ):
        assert line in text


async def test_an_owner_sees_the_figures_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    await seeded_club(sessions)
    text = await stats(chat_with(OWNER, language_code="fa"))
    assert text.startswith("📊 آمار باشگاه")
    assert "• لینک‌های دعوتِ بازشده: ۸" in text and "• سهم لینک‌های بازشده‌ای که به خرید رسید: ۳۷٫۵٪" in text
    assert "• لینک دعوت بازشده برای هر عضو، به‌طور میانگین: ۱٫۱۴" in text
    assert "• خریدار تازه‌ای که هر عضو آورده، به‌طور میانگین: ۰٫۴۳ (بیش از ۱ یعنی" in text
    assert "۱. Sara — عضو شده: ۲ · خرید کرده: ۲ · ۲۰۰ امتیاز" in text


async def test_an_empty_club_has_zero_figures_and_no_top_referrers(chat_with: MakeChat) -> None:
    text = await stats(chat_with(OWNER, language_code="en"))
    for line in (
        "• Invite links opened: 0",
        "• Friends who joined: 0",
        "• Friends who made a first purchase: 0",
        "• Conversion (bought ÷ opened): 0%",
        "• Invites per member: 0.00",
        "• K-factor (new buyers per member): 0.00",
        "No friend has joined through an invite yet.",
    ):
        assert line in text
    assert "Top referrers" not in text


async def test_members_without_referrals_make_no_division_by_zero(chat_with: MakeChat, sessions: Sessions) -> None:
    await member(sessions, 1001, "Reza", EARLIER)
    text = await stats(chat_with(OWNER, language_code="en"))
    assert "• Invites per member: 0.00" in text and "• Conversion (bought ÷ opened): 0%" in text


async def test_figures_count_up_to_now_only(chat_with: MakeChat, sessions: Sessions) -> None:
    reza = await member(sessions, 1001, "Reza", EARLIER)
    await open_link(sessions, reza, 2000, EARLIER)
    await open_link(sessions, reza, 2001, NOW + timedelta(hours=1))  # after the bot's clock
    assert "• Invite links opened: 1" in await stats(chat_with(OWNER, language_code="en"))


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((42, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        unknown = [reply.text for reply in await chat.say("/foo")]
        expected = [NEEDS_MANAGER.format(command="/stats")] if user_id == CASHIER else unknown
        assert [reply.text for reply in await chat.say("/stats")] == expected
