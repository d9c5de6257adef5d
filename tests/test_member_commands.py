"""What a member can do after joining, through the real dispatcher (feed_update)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from aiogram.methods import SendPhoto
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger
from storage.models import Member
from tests.chat import Chat
from tests.factories import NOW
from tests.lookups import member_of
from tests.people import joined

DAY = timedelta(days=1)

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]


async def test_balance_shows_points_tier_and_next_expiry_in_english(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)
    [reply] = await chat.say("/balance")
    assert "Points: 100" in reply.text and "Tier: Bronze" in reply.text
    assert "100 points expire on 22 Nov 2027" in reply.text


async def test_balance_in_persian_uses_persian_digits_and_the_jalali_calendar(chat_with: MakeChat) -> None:
    chat = await joined(chat_with, "fa")
    [reply] = await chat.say("💳 موجودی")
    assert "امتیاز: ۱۰۰" in reply.text and "برنزی" in reply.text
    assert "۱ آذر ۱۴۰۶" in reply.text


async def test_history_lists_the_welcome_bonus(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)
    [reply] = await chat.say("/history")
    assert "+100 · Welcome bonus" in reply.text
    assert reply.callback_data() == []


async def test_the_member_card_is_a_qr_image_with_the_member_code(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    [reply] = await chat.say("/card")
    member = await member_of(sessions)
    assert isinstance(reply.method, SendPhoto)
    assert f"{member.code[:4]} {member.code[4:]}" in reply.text


async def test_the_invite_link_points_at_this_bot(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    [reply] = await chat.say("/invite")
    member = await member_of(sessions)
    assert f"https://t.me/loyalty_test_bot?start=ref_{member.code}" in reply.text


async def test_stop_then_start_turns_broadcasts_off_and_on_noting_since_when(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat = await joined(chat_with)
    [stopped] = await chat.say("/stop")
    assert "won't send you news" in stopped.text
    member = await member_of(sessions)
    assert member.stopped and member.out_of_reach_since == NOW
    [resumed] = await chat.say("/start")
    assert "receive our news and offers again" in resumed.text
    member = await member_of(sessions)
    assert not member.stopped and member.out_of_reach_since is None


async def test_language_can_be_switched_to_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    [offer] = await chat.say("/language")
    assert offer.buttons() == ["فارسی", "English"]
    replies = await chat.press("lang:fa")
    assert any("زبان به فارسی تغییر کرد" in reply.text for reply in replies)
    assert (await member_of(sessions)).language == "fa"
    [balance] = await chat.say("/balance")
    assert "امتیاز: ۱۰۰" in balance.text


async def test_a_newcomer_can_pick_a_language_before_joining(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="de")
    await chat.press("lang:en")
    [welcome] = await chat.say("/start")
    assert "Welcome to the customer club of our shop" in welcome.text


async def test_profile_shows_the_member_and_edits_the_name(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    [card] = await chat.say("/profile")
    assert "Phone: 0912 123 4567" in card.text and "Birthday: not given" in card.text
    await chat.press("prof:name:")
    [saved] = await chat.say("Sima")
    assert "Saved" in saved.text and "Name: Sima" in saved.text
    assert (await member_of(sessions)).first_name == "Sima"


async def test_profile_birthday_edit_reasks_an_impossible_date(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    await chat.press("prof:birthday:")
    [problem] = await chat.say("2001-02-30")
    assert "doesn't exist" in problem.text
    await chat.say("2001-02-28")
    assert (await member_of(sessions)).birthday.isoformat() == "2001-02-28"


async def test_profile_birthday_is_read_with_the_jalali_month_named(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with, "fa")
    await chat.press("prof:birthday:")
    await chat.say("۳۱ شهریور ۷۵")
    member = await member_of(sessions)
    assert (member.birthday.isoformat(), member.birthday_calendar) == ("1996-09-21", "jalali")


async def test_profile_gender_and_news_are_one_tap(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    await chat.press("prof:gender:male")
    await chat.press("prof:news:1")
    member = await member_of(sessions)
    assert (member.gender, member.news_consent) == ("male", True)


async def test_unknown_commands_stickers_and_free_text_get_a_polite_answer(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)
    [unknown] = await chat.say("/earn 1000")
    assert "don't know that command" in unknown.text
    [sticker] = await chat.sticker()
    assert "only read text" in sticker.text
    [text] = await chat.say("x" * 4096)
    assert "didn't understand" in text.text


async def test_history_pages_through_older_entries(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    async with sessions() as session:
        member = await session.merge(await member_of(sessions))
        for number in range(6):
            await ledger.post_credit(
                session,
                member,
                points=10,
                kind=ledger.Kind.BONUS,
                reason="welcome",
                key=f"extra:{number}",
                now=NOW,
                expires_at=NOW + DAY,
            )
        await session.commit()

    [first] = await chat.say("/history")
    assert "page 1 of 2" in first.text and first.callback_data() == ["hist:1"]
    edited, answered = await chat.press("hist:1")
    assert edited.name == "EditMessageText" and "page 2 of 2" in edited.text
    assert edited.callback_data() == ["hist:0"] and answered.name == "AnswerCallbackQuery"


async def test_help_for_a_customer_lists_no_staff_commands(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)
    [reply] = await chat.say("/help")
    assert "/rewards" in reply.text and "/earn" not in reply.text and "/staff" not in reply.text


async def test_help_for_an_owner_adds_every_staff_command(chat_with: MakeChat) -> None:
    [reply] = await chat_with(1, language_code="en").say("/help")
    assert all(command in reply.text for command in ("/earn", "/redeem", "/catalog", "/gift", "/staff", "/settings"))


async def test_start_after_unblocking_makes_the_member_reachable_again(chat_with: MakeChat, sessions: Sessions) -> None:
    chat = await joined(chat_with)
    async with sessions() as session, session.begin():
        await session.execute(update(Member).where(Member.telegram_id == 42).values(unreachable=True))
    await chat.say("/start")
    assert (await member_of(sessions)).unreachable is False
