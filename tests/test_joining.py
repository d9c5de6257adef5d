"""The joining flow through the real dispatcher (feed_update), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty.staff import Role
from storage.models import LedgerEntry, Member
from tests.chat import Chat
from tests.people import CASHIER, hire

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]


async def members_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Member)) or 0)


async def test_start_welcomes_a_newcomer_with_a_share_phone_button(chat_with: MakeChat) -> None:
    [reply] = await chat_with(language_code="en").say("/start")
    assert "Welcome to the customer club of our shop" in reply.text
    assert reply.requests_contact()


async def test_a_newcomer_joins_in_persian_skipping_every_optional_step(
    chat_with: MakeChat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = chat_with(first_name="سارا", language_code="fa")
    await chat.say("/start")
    [name_prompt] = await chat.share_contact("۰۹۱۲۱۲۳۴۵۶۷")
    assert name_prompt.buttons() == ["سارا"]
    [birthday_prompt] = await chat.say("سارا")
    assert "فعلاً نه" in birthday_prompt.buttons()
    [gender_prompt] = await chat.say("فعلاً نه")
    assert gender_prompt.buttons() == ["خانم", "آقا", "فعلاً نه"]
    await chat.say("فعلاً نه")
    [welcome] = await chat.say("فعلاً نه")

    assert "به باشگاه خوش آمدید" in welcome.text and "۱۰۰" in welcome.text
    assert "💳 موجودی" in welcome.buttons()
    async with sessions() as session:
        member = await session.scalar(select(Member))
        assert (member.phone, member.first_name, member.birthday, member.news_consent) == (
            "+989121234567",
            "سارا",
            None,
            False,
        )


async def test_a_full_profile_is_saved_in_english(
    chat_with: MakeChat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = chat_with(first_name="Sara", language_code="en")
    await chat.say("/start")
    await chat.share_contact("+989121234567")
    await chat.say("Sara Ahmadi")
    await chat.say("1990-09-21")
    await chat.say("Female")
    [welcome] = await chat.say("Yes, send me news")

    assert "Welcome to the club, Sara Ahmadi" in welcome.text
    async with sessions() as session:
        member = await session.scalar(select(Member))
        assert (member.gender, member.news_consent, member.language, member.birthday_calendar) == (
            "female",
            True,
            "en",
            "gregorian",
        )
        assert member.birthday.isoformat() == "1990-09-21"


async def test_someone_elses_contact_is_refused(
    chat_with: MakeChat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = chat_with(language_code="en")
    await chat.say("/start")
    [refusal] = await chat.share_contact("09121234567", owner_id=777)
    assert "isn't your own number" in refusal.text and refusal.requests_contact()
    [refusal] = await chat.share_contact("09121234567", owner_id=None)
    assert "isn't your own number" in refusal.text
    [refusal] = await chat.share_contact("09121234567", forwarded=True)
    assert "isn't your own number" in refusal.text
    assert await members_count(sessions) == 0


async def test_a_typed_phone_number_is_refused_with_the_reason(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="en")
    await chat.say("/start")
    [refusal] = await chat.say("09121234567")
    assert "don't type the number" in refusal.text and refusal.requests_contact()


async def test_an_invalid_birthday_is_asked_again_with_its_reason(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="fa")
    await chat.say("/start")
    await chat.share_contact("09121234567")
    await chat.say("سارا")
    [future] = await chat.say("۱۴۱۰/۰۱/۰۱")
    assert "هنوز نرسیده" in future.text
    [impossible] = await chat.say("1404/12/30")
    assert "وجود ندارد" in impossible.text
    [unread] = await chat.say("آخر تابستان")
    assert "متوجه نشدم" in unread.text and "۱۳۷۵/۰۶/۳۱ یا ۳۱ شهریور ۱۳۷۵" in unread.text
    [gender_prompt] = await chat.say("1375/06/31")
    assert "جنسیت" in gender_prompt.text


async def test_a_birthday_that_cannot_be_read_is_asked_again_with_a_named_month_too(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="en")
    await chat.say("/start")
    await chat.share_contact("09121234567")
    await chat.say("Sara")
    [unread] = await chat.say("end of summer")
    assert "couldn't read that date" in unread.text and "1990-09-21 or 21 September 1990" in unread.text


async def test_a_second_start_mid_registration_resumes_the_current_step(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="en")
    await chat.say("/start")
    await chat.share_contact("09121234567")
    await chat.say("Sara")
    resumed, prompt = await chat.say("/start")
    assert "pick up where we left off" in resumed.text
    assert "birthday" in prompt.text


async def test_commands_before_joining_explain_how_to_join(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="en")
    notice, prompt = await chat.say("/balance")
    assert "not a member" in notice.text
    assert prompt.requests_contact()


async def test_commands_mid_registration_ask_to_finish_first(chat_with: MakeChat) -> None:
    chat = chat_with(language_code="en")
    await chat.say("/start")
    await chat.share_contact("09121234567")
    notice, prompt = await chat.say("/card")
    assert "finish joining first" in notice.text
    assert "What should we call you" in prompt.text


async def test_stickers_photos_and_long_text_while_joining_get_a_helpful_answer(
    chat_with: MakeChat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = chat_with(language_code="en")
    await chat.say("/start")
    notice, prompt = await chat.sticker()
    assert "finish joining first" in notice.text and prompt.requests_contact()
    await chat.share_contact("09121234567")
    [too_long] = await chat.say("S" * 4000)
    assert "too long" in too_long.text
    notice, prompt = await chat.photo()
    assert "What should we call you" in prompt.text
    assert await members_count(sessions) == 0


async def test_a_number_already_linked_to_another_account_is_refused(chat_with: MakeChat) -> None:
    await chat_with(1, language_code="en").join("09121234567")
    chat = chat_with(2, language_code="en")
    await chat.say("/start")
    [refusal] = await chat.share_contact("09121234567")
    assert "already linked to another account" in refusal.text


async def test_the_welcome_bonus_is_one_ledger_entry(
    chat_with: MakeChat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = chat_with(language_code="en")
    await chat.join()
    await chat.say("/start")
    async with sessions() as session:
        entries = (await session.scalars(select(LedgerEntry))).all()
    assert [(entry.reason, entry.points) for entry in entries] == [("welcome", 100)]


async def test_plain_text_or_a_sticker_before_joining_offers_to_join(chat_with: MakeChat) -> None:
    for reply in (await chat_with(41, language_code="en").say("hello"), await chat_with(42).sticker()):
        notice, prompt = reply
        assert notice.text in ("You're not a member of the club yet.", "شما هنوز عضو باشگاه نیستید.")
        assert prompt.requests_contact()


async def test_staff_who_are_not_members_are_never_asked_to_join(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")
    for replies in (await cashier.say("hello"), await cashier.sticker(), await cashier.say("/balance")):
        [reply] = replies
        assert "Send /help to see your commands" in reply.text and not reply.requests_contact()
    [persian] = await chat_with(CASHIER, language_code="fa").say("سلام")
    assert "برای دیدن فرمان‌هایتان /help را بفرستید" in persian.text
    await cashier.share_contact("09121234567")  # they may still join, as anyone does
    await cashier.say("Ali")
    await cashier.say("Skip")
    await cashier.say("Skip")
    [joined] = await cashier.say("Skip")
    assert "Welcome to the club, Ali" in joined.text
