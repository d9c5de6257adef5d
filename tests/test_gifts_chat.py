"""/gift through the real dispatcher: managers give vouchers to a member, a tier or everyone, and members are told.

One member hears by a notice sent at once, an audience by messages paced and held at night; both go through the
broadcast outbox, drained here by a real sender.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from handlers.staff import gifts
from loyalty import gifts as loyalty_gifts
from loyalty.campaigns import Message
from loyalty.errors import OwnAccount
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display
from loyalty.vouchers import Kind, Worth
from storage.models import AuditEntry, Gift, LedgerEntry, Member, OutboxMessage, OutboxState, Voucher
from tests import updates
from tests.chat import Chat, Reply, drain, to, walk
from tests.factories import NOW
from tests.faults import fail_once
from tests.lookups import audit_log, count
from tests.people import NEEDS_MANAGER, customer, hire, manager_chat, members_of
from tests.stub_bot import TOKEN, RecordingSession
from tests.wizards import GIFT

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
Stubbed = tuple[Bot, "UnreachableSession"]
OWNER, MANAGER, CASHIER = 1, 3, 7
SARA, REZA, NIMA, BLOCKED, GONE, STOPPED, LOST = 42, 43, 44, 45, 46, 47, 48
CONFIRM, choose = GIFT.confirm, GIFT.choose
ZONE = ZoneInfo("Asia/Tehran")
STALE = "This button is no longer active. Please use the menu."
CONFIRM_GONE = (
    "This button is no longer active. A gift that was not finished is listed under /gift, with Finish and Cancel."
)


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


async def outbox(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.member_id))).all())


async def give(chat: Chat) -> list[Reply]:
    """Press Give: the manager's view and toast; no member is messaged at once (an audience's go through the outbox)."""
    replies = await chat.press(CONFIRM)
    assert [reply.method.chat_id for reply in replies if isinstance(reply.method, SendMessage)] == []
    return replies


async def unreachable_members(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        found = await session.scalars(select(Member.telegram_id).where(Member.unreachable).order_by(Member.telegram_id))
        return [chat_id for chat_id in found.all() if chat_id is not None]


async def test_a_member_gets_a_gift_by_code_with_its_voucher_code_and_no_points_spent(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
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
    assert "Gives: 50,000 toman off" in summary.text and "Valid for 30 days" in summary.text
    assert "Happy birthday, Sara!\nWith love" in summary.text and summary.callback_data()[0] == CONFIRM
    replies = await manager.press(CONFIRM)
    [voucher] = await vouchers(sessions)
    [row] = await outbox(sessions)  # a notice: sent at once, whatever the hour
    assert (row.key, row.kind) == (f"gift:{voucher.gift_id}:{sara.id}", "notice")
    _, sent = await drain(sessions, stubbed)
    [notice] = to(sent, SARA)
    assert notice.text.startswith("Happy birthday, Sara!\nWith love\n\n🎟 Happy birthday, Sara!: ۵۰٬۰۰۰ تومان تخفیف")
    assert display(voucher.code) in notice.text and "معتبر تا" in notice.text
    [report] = [reply for reply in to(replies, MANAGER) if reply.name == "EditMessageText"]
    assert "Vouchers issued: 1" in report.text and "are on their way to the member" in report.text
    assert (voucher.member_id, voucher.points, voucher.entry_id, voucher.value) == (sara.id, 0, None, 50_000)
    assert await count(sessions, LedgerEntry) == 1  # Sara's welcome bonus only
    [(action, actor, details)] = await audit_log(sessions)
    assert (action, actor, details["audience"]) == ("voucher.gift", MANAGER, "member")


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


async def a_bronze_tier(chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed) -> dict[int, Member]:
    """The five members of `gift_to_all`, Sara reading English; in bronze also one who sent /stop, one the sender
    found unreachable, and an imported member who is not on the bot."""
    people = await gift_to_all(chat_with, sessions, stubbed)
    people |= await members_of(
        chat_with, sessions, (STOPPED, "09121234572", "bronze", True), (LOST, "09121234573", "bronze", True)
    )
    async with sessions() as session:
        await session.execute(update(Member).where(Member.telegram_id == SARA).values(language="en"))
        await session.execute(update(Member).where(Member.telegram_id == STOPPED).values(stopped=True))
        await session.execute(update(Member).where(Member.telegram_id == LOST).values(unreachable=True))
        session.add(
            Member(
                phone="+989121234599",
                code="00000000",
                first_name="Old",
                language="fa",
                news_consent=True,
                tier="bronze",
            )
        )
        await session.commit()
    return people


async def test_a_gift_to_a_tier_is_queued_for_its_reachable_members_and_sent_once(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
) -> None:
    people = await a_bronze_tier(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    await manager.say("/gift")
    [tiers, _] = await manager.press(choose("audience", "tier"))
    assert tiers.buttons() == ["Bronze", "Silver", "Gold", "↩️ Back", "✖️ Cancel"]
    await walk(manager, choose("tier", "bronze"), choose("kind", "percent"), "10", "20000", "14")
    [summary] = await manager.say("Thank you, Bronze members")
    assert "To: members of Bronze" in summary.text and "Members reached: 6" in summary.text
    assert "Gives: 10% off, up to 20,000 toman" in summary.text
    [report, _] = await give(manager)
    assert "Vouchers issued: 6" in report.text and "Members to receive the message: 3." in report.text
    assert "quiet hours" in report.text
    async with sessions() as session:
        gift_id = await session.scalar(select(Gift.id))
    issued = {voucher.member_id: voucher for voucher in await vouchers(sessions)}
    assert len(issued) == 6 and people[REZA].id not in issued and people[NIMA].id not in issued  # silver
    rows = await outbox(sessions)  # Nima is silver; /stop, unreachable and not on the bot are left out
    told = [people[who].id for who in (SARA, BLOCKED, GONE)]
    assert [row.member_id for row in rows] == told
    assert [row.key for row in rows] == [f"gift:{gift_id}:{member_id}" for member_id in told]
    assert [(row.kind, row.state, row.campaign_id) for row in rows] == [("gift", OutboxState.PENDING, None)] * 3
    assert [row.chat_id for row in rows] == [SARA, BLOCKED, GONE]
    texts = {row.chat_id: Message.from_json(row.payload or "").text for row in rows}
    assert texts[SARA].startswith(
        "Thank you, Bronze members\n\n🎟 Thank you, Bronze members: 10% off, up to 20,000 toman"
    )
    assert "Valid until" in texts[SARA]  # Sara reads English, the others Persian
    for who in (SARA, BLOCKED, GONE):
        assert display(issued[people[who].id].code) in texts[who]
    assert "۱۰٪ تخفیف" in texts[BLOCKED] and "معتبر تا" in texts[BLOCKED] and "معتبر تا" in texts[GONE]

    done, sent = await drain(sessions, stubbed)
    assert (done.sent, done.blocked, done.failed, done.retried) == (1, 2, 0, 0)
    assert sorted((reply.method.chat_id, reply.text) for reply in sent) == [
        (SARA, texts[SARA]),
        (BLOCKED, texts[BLOCKED]),
        (GONE, texts[GONE]),
    ]
    rows = await outbox(sessions)
    assert [row.state for row in rows] == [OutboxState.SENT, OutboxState.BLOCKED, OutboxState.BLOCKED]
    assert await unreachable_members(sessions) == [BLOCKED, GONE, LOST]
    again, resent = await drain(sessions, stubbed)
    assert again.sent + again.blocked == 0 and resent == []  # each message went once


async def test_a_gift_to_everyone_is_queued_for_everyone_reachable(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
) -> None:
    people = await gift_to_all(chat_with, sessions, stubbed)
    async with sessions() as session:  # Reza sent /stop; an imported member is not on the bot
        await session.execute(update(Member).where(Member.telegram_id == REZA).values(stopped=True))
        session.add(Member(phone="+989121234599", code="00000000", first_name="Old", language="fa", news_consent=True))
        await session.commit()
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7")
    [summary] = await manager.say("A free cake for everyone")
    assert "To: all members" in summary.text and "Members reached: 6" in summary.text
    [report, _] = await give(manager)
    assert "Vouchers issued: 6" in report.text and "Members to receive the message: 3." in report.text
    assert len(await vouchers(sessions)) == 6
    rows = await outbox(sessions)  # Nima takes no news
    assert [row.member_id for row in rows] == [people[who].id for who in (SARA, BLOCKED, GONE)]
    done, sent = await drain(sessions, stubbed)
    assert (done.sent, done.blocked) == (1, 2)
    assert sorted(reply.method.chat_id for reply in sent) == [SARA, BLOCKED, GONE]
    [to_sara] = [reply for reply in sent if reply.method.chat_id == SARA]
    assert "🎟 A free cake for everyone: یک کالای رایگان" in to_sara.text


async def test_a_repeat_of_the_give_update_adds_no_message_and_finishes_what_a_crash_cut_short(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
) -> None:
    people = await gift_to_all(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    message = {"message_id": 1, "date": 0, "chat": {"id": MANAGER, "type": "private"}, "text": "menu"}
    pressed = updates.callback_update(manager.user, CONFIRM, message)  # one update, delivered again below
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    await manager.feed(pressed)
    first = await outbox(sessions)
    assert [row.chat_id for row in first] == [SARA, REZA, BLOCKED, GONE]
    done, _ = await drain(sessions, stubbed)
    assert done.sent == 2
    async with sessions() as session:  # as if the bot had stopped before Reza's row was written
        await session.execute(delete(OutboxMessage).where(OutboxMessage.member_id == people[REZA].id))
        await session.commit()
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    [repeat] = [reply for reply in await manager.feed(pressed) if reply.name == "EditMessageText"]
    assert "This gift was given before. Vouchers issued: 5." in repeat.text
    assert await count(sessions, Gift) == 1 and len(await vouchers(sessions)) == 5
    rows = await outbox(sessions)
    assert [(row.key, row.chat_id) for row in rows] == [(row.key, row.chat_id) for row in first]
    assert [row.state for row in rows] == [
        OutboxState.SENT,
        OutboxState.PENDING,
        OutboxState.BLOCKED,
        OutboxState.BLOCKED,
    ]
    done, sent = await drain(sessions, stubbed)
    assert done.sent == 1 and [reply.method.chat_id for reply in sent] == [REZA]  # Sara is not told twice


async def test_the_messages_are_enqueued_page_by_page_and_once(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed
) -> None:
    people = await gift_to_all(chat_with, sessions, stubbed)
    async with sessions() as session:
        gifted = await loyalty_gifts.give(
            session,
            loyalty_gifts.GiftDraft("Cake", Worth(Kind.ITEM), 7),
            loyalty_gifts.Audience(),
            Stamp(MANAGER, "1", NOW),
            batch=2,
        )
    i18n = create_i18n("fa")
    with i18n.context():
        async with sessions() as session:
            told = await gifts.enqueue_messages(session, i18n, gifted.gift_id, "Cake!", ZONE, "toman", NOW, page=2)
        rows = await outbox(sessions)
        assert told == 4 and [row.member_id for row in rows] == [people[who].id for who in (SARA, REZA, BLOCKED, GONE)]
        async with sessions() as session:  # again: every member is in the outbox already
            assert await gifts.enqueue_messages(session, i18n, gifted.gift_id, "Cake!", ZONE, "toman", NOW, page=3) == 4
        assert [(row.id, row.key) for row in await outbox(sessions)] == [(row.id, row.key) for row in rows]


async def test_confirm_pressed_twice_gives_once(chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed) -> None:
    await gift_to_all(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!", CONFIRM)
    [stale] = [reply for reply in await manager.press(CONFIRM) if reply.name == "AnswerCallbackQuery"]
    assert stale.text == CONFIRM_GONE
    assert await count(sessions, Gift) == 1 and len(await vouchers(sessions)) == 5
    assert len(await outbox(sessions)) == 4


async def test_cancel_gives_nothing(chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed) -> None:
    await gift_to_all(chat_with, sessions, stubbed)
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    [cancelled, _] = await manager.press(GIFT.cancel)
    assert cancelled.text == "Cancelled. No gift was given."
    [stale] = await manager.press(CONFIRM)
    assert stale.text == CONFIRM_GONE
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
    assert (
        "به: اعضای سطح طلایی" in summary.text
        and "تعداد اعضا: ۱" in summary.text
        and "۱۰۰٬۰۰۰ تومان تخفیف" in summary.text
    )
    [report, _] = await give(manager)
    assert "تعداد بن‌های صادرشده: ۱" in report.text and "پیام برای ۱ عضو فرستاده می‌شود" in report.text


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((SARA, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        unknown = [reply.text for reply in await chat.say("/foo")]
        expected = [NEEDS_MANAGER.format(command="/gift")] if user_id == CASHIER else unknown
        assert [reply.text for reply in await chat.say("/gift")] == expected
        stale = [reply.text for reply in await chat.press("nothing")]
        assert [reply.text for reply in await chat.press(CONFIRM)] == stale
        assert [reply.text for reply in await chat.press(choose("audience", "all"))] == stale
    assert await count(sessions, Gift) == 0


async def test_a_manager_cannot_gift_a_voucher_to_themself(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await manager.join(phone="09351112233")  # the manager is also a member
    await walk(manager, "/gift", choose("audience", "member"))
    [refused] = await manager.say("09351112233")
    assert "cannot give a gift to yourself" in refused.text and "member's code" in refused.text
    async with sessions() as session:
        own = await session.scalar(select(Member).where(Member.telegram_id == MANAGER))
    with pytest.raises(OwnAccount):
        async with sessions() as session:
            draft = loyalty_gifts.GiftDraft("Me", Worth(Kind.ITEM), 7)
            audience = loyalty_gifts.Audience(member_id=own.id)
            await loyalty_gifts.give(session, draft, audience, Stamp(MANAGER, "9", NOW))
    assert await vouchers(sessions) == []


# --- a gift cut short is finished or cancelled from the chat ---------------------------------------------------

READERS = ((SARA, "09121234567"), (REZA, "09121234568"), (NIMA, "09121234569"), (BLOCKED, "09121234570"))


async def four_readers(chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch) -> dict[int, Member]:
    """Four members who take news, given vouchers two at a time."""
    monkeypatch.setattr(loyalty_gifts, "BATCH", 2)
    return await members_of(chat_with, sessions, *((user, phone, "bronze", True) for user, phone in READERS))


async def messages_to(sessions: Sessions, stubbed: Stubbed) -> Counter[int]:
    """Drain the outbox: how many messages reached each chat."""
    _, sent = await drain(sessions, stubbed)
    return Counter(reply.method.chat_id for reply in sent)


async def test_a_gift_that_fails_midway_is_finished_from_the_list_once_for_every_member(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    await four_readers(chat_with, sessions, monkeypatch)
    fail_once(monkeypatch, loyalty_gifts, "_next_batch", on_call=2)
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    [alert] = await manager.press(CONFIRM)
    assert alert.text.startswith("The gift was not finished") and alert.method.show_alert
    assert len(await vouchers(sessions)) == 2 and await outbox(sessions) == []  # half issued, nobody told
    [unfinished, ask] = await manager.say("/gift")
    assert "Gifts not finished" in unfinished.text and "vouchers issued so far: 2" in unfinished.text
    [gift] = [row for row in await stored(sessions, Gift)]
    assert unfinished.callback_data() == [f"gft:finish:{gift.id}", f"gft:cancel:{gift.id}"]
    assert "Who receives" in ask.text
    [finished, _] = await manager.press(f"gft:finish:{gift.id}")
    assert (
        "Gift finished. Vouchers issued: 4." in finished.text and "Members to receive the message: 4" in finished.text
    )
    assert Counter(voucher.member_id for voucher in await vouchers(sessions)) == Counter(
        {member.id: 1 for member in (await stored(sessions, Member)) if member.telegram_id in dict(READERS)}
    )
    assert await messages_to(sessions, stubbed) == Counter(dict.fromkeys(dict(READERS), 1))
    [stale] = await manager.press(f"gft:finish:{gift.id}")
    assert stale.text == STALE
    [menu] = await manager.say("/gift")
    assert "Gifts not finished" not in menu.text
    assert await messages_to(sessions, stubbed) == Counter()  # nobody told twice


async def test_give_pressed_again_after_a_failure_finishes_the_same_gift(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    await four_readers(chat_with, sessions, monkeypatch)
    fail_once(monkeypatch, loyalty_gifts, "_next_batch", on_call=2)
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    await manager.press(CONFIRM)
    [again, _] = await manager.press(CONFIRM)  # the same summary's button works again
    assert "Vouchers issued: 4" in again.text and "Members to receive the message: 4" in again.text
    assert await count(sessions, Gift) == 1 and len(await vouchers(sessions)) == 4
    assert await messages_to(sessions, stubbed) == Counter(dict.fromkeys(dict(READERS), 1))


async def test_a_gift_whose_telling_failed_is_cancelled_leaving_no_voucher_untold(
    chat_with: MakeChat, sessions: Sessions, stubbed: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    await four_readers(chat_with, sessions, monkeypatch)
    fail_once(monkeypatch, gifts, "enqueue", on_call=2)  # the second page of messages fails
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, "/gift", choose("audience", "all"), choose("kind", "item"), "7", "Cake!")
    await manager.press(CONFIRM)
    assert len(await vouchers(sessions)) == 4 and len(await outbox(sessions)) == 2
    told = await messages_to(sessions, stubbed)  # the two whose messages were in the outbox hear of it
    [gift] = await stored(sessions, Gift)
    await manager.say("/gift")
    [cancelled, _] = await manager.press(f"gft:cancel:{gift.id}")
    assert "Vouchers withdrawn before their members heard of them: 2" in cancelled.text
    members = {member.id: member.telegram_id for member in await stored(sessions, Member)}
    active = {members[voucher.member_id] for voucher in await vouchers(sessions) if voucher.status == "active"}
    assert active == set(told) and len(active) == 2  # every voucher left is one its member was told of
    assert await messages_to(sessions, stubbed) == Counter()
    async with sessions() as session:
        assert "voucher.gift_cancel" in (await session.scalars(select(AuditEntry.action))).all()
        i18n = create_i18n("en")
        with i18n.context():  # a Give still on its way when it was cancelled tells nobody of a withdrawn voucher
            await gifts.enqueue_messages(session, i18n, gift.id, "Cake!", ZONE, "toman", NOW)
    assert await messages_to(sessions, stubbed) == Counter()
    [stale] = await manager.press(f"gft:finish:{gift.id}")
    assert stale.text == STALE


async def stored(sessions: Sessions, model: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())
