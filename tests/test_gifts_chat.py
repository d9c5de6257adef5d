"""/gift through the real dispatcher: managers give vouchers to a member, a tier or everyone, and members are told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import gifts
from loyalty.staff import Role
from loyalty.voucher_codes import display
from storage.models import Gift, LedgerEntry, Member, Voucher
from tests.chat import Chat, Reply
from tests.stub_bot import TOKEN, RecordingSession
from tests.test_catalog_chat import walk
from tests.test_counter import count, customer, hire, to
from tests.test_staff import audit_log

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
Stubbed = tuple[Bot, "UnreachableSession"]
OWNER, MANAGER, CASHIER = 1, 3, 7
SARA, REZA, NIMA, BLOCKED, GONE = 42, 43, 44, 45, 46
CONFIRM = "wiz:gift:confirm::"
STALE = "This button is no longer active. Please use the menu."


class UnreachableSession(RecordingSession):
    """A recording session where, once `unreachable` is set, one account has blocked the bot and one chat is gone."""

    unreachable = False

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if self.unreachable and isinstance(method, SendMessage) and method.chat_id in (BLOCKED, GONE):
            self.requests.append(method)  # tried, and refused
        if self.unreachable and isinstance(method, SendMessage) and method.chat_id == BLOCKED:
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")
        if self.unreachable and isinstance(method, SendMessage) and method.chat_id == GONE:
            raise TelegramBadRequest(method=method, message="Bad Request: chat not found")
        return await super().make_request(bot, method, timeout)


@pytest.fixture
def stubbed() -> tuple[Bot, UnreachableSession]:
    """The bot of these tests: one member has blocked it, another's chat is gone."""
    session = UnreachableSession()
    return Bot(TOKEN, session=session), session


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries run without pacing in tests."""
    monkeypatch.setattr(gifts, "PACE", 0)


def choose(step: str, value: str) -> str:
    return f"wiz:gift:choose:{step}:{value}"


async def manager_chat(chat_with: MakeChat, sessions: Sessions, language: str = "en") -> Chat:
    await hire(sessions, MANAGER, Role.MANAGER)
    return chat_with(MANAGER, first_name="Mina", language_code=language)


async def members_of(chat_with: MakeChat, sessions: Sessions, *people: tuple[int, str, str, bool]) -> dict[int, Member]:
    """Members who joined by chat: (account, phone, tier, takes news)."""
    found = {}
    for user_id, phone, tier, news in people:
        _, member = await customer(chat_with, sessions, user_id, phone)
        async with sessions() as session:
            await session.execute(update(Member).where(Member.id == member.id).values(tier=tier, news_consent=news))
            await session.commit()
        found[user_id] = member
    return found


async def gift_to_all(chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed) -> dict[int, Member]:
    """Five members in two tiers, some taking news; then one blocks the bot and another's chat goes."""
    people = await members_of(
        chat_with,
        sessions,
        (SARA, "09121234567", "bronze", True),
        (REZA, "09121234568", "silver", True),
        (NIMA, "09121234569", "silver", False),
        (BLOCKED, "09121234570", "bronze", True),
        (GONE, "09121234571", "bronze", True),
    )
    stubbed[1].unreachable = True
    return people


async def vouchers(sessions: Sessions) -> list[Voucher]:
    async with sessions() as session:
        return list((await session.scalars(select(Voucher).order_by(Voucher.member_id))).all())


async def give(chat: Chat) -> tuple[list[Reply], list[Reply]]:
    """Press Give: the manager's view and toast, and (once the background delivery ends) the messages it sent."""
    start = len(chat.session.requests)
    replies = await chat.press(CONFIRM)
    await asyncio.gather(*gifts.DELIVERIES)
    sent = [Reply(method) for method in chat.session.requests[start:] if isinstance(method, SendMessage)]
    return [reply for reply in replies if not isinstance(reply.method, SendMessage)], sent


async def test_a_member_gets_a_gift_by_code_with_its_voucher_code_and_no_points_spent(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    sara = (await members_of(chat_with, sessions, (SARA, "09121234567", "bronze", False)))[SARA]
    manager = await manager_chat(chat_with, sessions)
    [audience] = await manager.say("/gift")
    assert "Who receives it?" in audience.text
    assert audience.buttons() == ["👤 One member", "🏅 Members of a tier", "👥 All members", "✖️ Cancel"]
    [ask_member, _] = await manager.press(choose("audience", "member"))
    assert "member's code" in ask_member.text
    [kind] = await manager.say(sara.code)
    assert "What does the voucher give?" in kind.text
    [summary] = await walk(manager, choose("kind", "fixed"), "۵۰٬۰۰۰", "30", "Happy birthday, Sara!\nWith love")
    assert "To: Sara · " in summary.text and "Members reached: 1" in summary.text
    assert "Gives: 50,000 off" in summary.text and "Valid for 30 days" in summary.text
    assert "Happy birthday, Sara!\nWith love" in summary.text and summary.callback_data()[0] == CONFIRM
    replies = await manager.press(CONFIRM)
    [voucher] = await vouchers(sessions)
    [notice] = to(replies, SARA)
    assert notice.text.startswith("Happy birthday, Sara!\nWith love\n\n🎟 Happy birthday, Sara!: ۵۰٬۰۰۰ تخفیف")
    assert display(voucher.code) in notice.text and "معتبر تا" in notice.text
    [report] = [reply for reply in to(replies, MANAGER) if reply.name == "EditMessageText"]
    assert "Vouchers issued: 1" in report.text and "has received the message" in report.text
    assert (voucher.member_id, voucher.points, voucher.entry_id, voucher.value) == (sara.id, 0, None, 50_000)
    assert await count(sessions, LedgerEntry) == 1  # Sara's welcome bonus only
    [(action, actor, details)] = await audit_log(sessions)
    assert (action, actor, details["audience"]) == ("voucher.gift", MANAGER, "member")
    assert not gifts.DELIVERIES  # nothing runs in the background for one member


async def test_a_mistyped_or_unknown_member_is_explained_and_asked_again(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await members_of(chat_with, sessions, (SARA, "09121234567", "bronze", False))
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "member"))
    [unknown] = await manager.say("09350000000")
    assert "No member has the code or phone number 09350000000" in unknown.text and "member's code" in unknown.text
    [nonsense] = await manager.say("hello")
    assert "member code (8 digits) or a phone number" in nonsense.text
    [kind] = await manager.say("۰۹۱۲۱۲۳۴۵۶۷")
    assert "What does the voucher give?" in kind.text


async def test_a_gift_to_a_tier_issues_only_to_its_members(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
) -> None:
    people = await gift_to_all(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    await manager.say("/gift")
    [tiers, _] = await manager.press(choose("audience", "tier"))
    assert tiers.buttons() == ["Bronze", "Silver", "Gold", "✖️ Cancel"]
    await walk(manager, choose("tier", "silver"), choose("kind", "percent"), "10", "20000", "14")
    [summary] = await manager.say("Thank you, Silver members")
    assert "To: members of Silver" in summary.text and "Members reached: 2" in summary.text
    assert "Gives: 10% off, up to 20,000" in summary.text
    [report, _], sent = await give(manager)
    assert "Vouchers issued: 2" in report.text and "I will tell you when it is done" in report.text
    assert [voucher.member_id for voucher in await vouchers(sessions)] == [people[REZA].id, people[NIMA].id]
    assert [reply.method.chat_id for reply in sent] == [REZA, MANAGER]  # Nima takes no news
    assert sent[0].text.startswith("Thank you, Silver members\n\n🎟")
    assert "reached 1 of 2 members" in sent[1].text


async def test_a_gift_to_everyone_issues_to_every_member_and_reports_the_delivery(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
) -> None:
    await gift_to_all(chat_with, sessions, stubbed)
    async with sessions() as session:  # Reza sent /stop; an imported member is not on the bot
        await session.execute(update(Member).where(Member.telegram_id == REZA).values(stopped=True))
        session.add(Member(phone="+989121234599", code="00000000", first_name="Old", language="fa", news_consent=True))
        await session.commit()
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7")
    [summary] = await manager.say("A free cake for everyone")
    assert "To: all members" in summary.text and "Members reached: 6" in summary.text
    [report, _], sent = await give(manager)
    assert "Vouchers issued: 6" in report.text
    assert len(await vouchers(sessions)) == 6
    assert [reply.method.chat_id for reply in sent] == [SARA, BLOCKED, GONE, MANAGER]
    assert "🎟 A free cake for everyone: یک کالای رایگان" in sent[0].text
    assert sent[-1].text.startswith("📬 The gift message reached 1 of 6 members.")


async def test_confirm_pressed_twice_gives_once(chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed) -> None:
    await gift_to_all(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!", CONFIRM)
    [stale] = [reply for reply in await manager.press(CONFIRM) if reply.name == "AnswerCallbackQuery"]
    assert stale.text == STALE
    await asyncio.gather(*gifts.DELIVERIES)
    assert await count(sessions, Gift) == 1 and len(await vouchers(sessions)) == 5


async def test_cancel_gives_nothing(chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed) -> None:
    await gift_to_all(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    [cancelled, _] = await manager.press("wiz:gift:cancel::")
    assert cancelled.text == "Cancelled. No gift was given."
    [stale] = await manager.press(CONFIRM)
    assert stale.text == STALE
    assert await count(sessions, Gift) == 0 and await audit_log(sessions) == []


@pytest.mark.parametrize(
    ("before", "typed", "answer"),
    [
        ((choose("audience", "all"), choose("kind", "item")), "0", "from 1 to 3,650"),
        ((choose("audience", "all"), choose("kind", "item"), "7"), " ", "1 to 1,000 characters"),
        ((choose("audience", "all"), choose("kind", "percent")), "101", "from 1 to 100"),
        ((choose("audience", "all"),), "fixed", "Please answer with the buttons below."),
    ],
)
async def test_a_bad_answer_is_asked_again_and_nothing_is_given(
    chat_with: MakeChat, sessions: Sessions, before: tuple[str, ...], typed: str, answer: str
) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", *before)
    [again] = await manager.say(typed)
    assert answer in again.text and "\n\n" in again.text
    assert await count(sessions, Gift) == 0


async def test_a_persian_manager_gives_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    await members_of(chat_with, sessions, (SARA, "09121234567", "gold", True))
    manager = await manager_chat(chat_with, sessions, "fa")
    await walk(manager, "/gift", choose("audience", "tier"), choose("tier", "gold"), choose("kind", "fixed"), "۱۰۰۰۰۰")
    [summary] = await walk(manager, "۶۰", "هدیهٔ ویژهٔ اعضای طلایی")
    assert "به: اعضای سطح طلایی" in summary.text and "تعداد اعضا: ۱" in summary.text and "۱۰۰٬۰۰۰ تخفیف" in summary.text
    [report, _], sent = await give(manager)
    assert "تعداد بن‌های صادرشده: ۱" in report.text
    assert "به ۱ نفر از ۱ عضو رسید" in sent[-1].text


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((SARA, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        assert [reply.text for reply in await chat.say("/gift")] == [reply.text for reply in await chat.say("/foo")]
        stale = [reply.text for reply in await chat.press("nothing")]
        assert [reply.text for reply in await chat.press(CONFIRM)] == stale
        assert [reply.text for reply in await chat.press(choose("audience", "all"))] == stale
    assert await count(sessions, Gift) == 0
