"""Notices: what the chat tells another person than the one it answers goes through the outbox, written in the
transaction of the change it reports, once per change, and reaches the member at once when the bot's sender runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher
from bot.settings import Settings
from loyalty import outbox, purchases
from loyalty.outbox import Message, Outgoing
from loyalty.stamps import Stamp
from scheduler.sender import Pacer, Sender, SenderConfig, telegram_send
from storage.models import Member, OutboxMessage, Purchase
from tests import updates
from tests.chat import Chat, Delivered, to
from tests.factories import NOW, RULES, joined_member
from tests.faults import fail_after
from tests.lookups import count
from tests.people import CUSTOMER, OWNER, customer
from tests.stub_bot import RecordingSession

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]


async def outbox_rows(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_purchase_and_its_notice_commit_together_or_not_at_all(
    session: AsyncSession, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    member_id = (await joined_member(session, CUSTOMER)).member.id

    def notices(earned: purchases.Earned) -> list[Outgoing]:
        return [Outgoing(f"notice:purchase:{earned.purchase.id}", outbox.NOTICE, CUSTOMER, Message("+25"), member_id)]

    def buy(receipt: str) -> Awaitable[purchases.Earned]:
        return purchases.record_purchase(
            session,
            RULES,
            member_id=member_id,
            amount=250_000,
            receipt=receipt,
            stamp=Stamp(OWNER, receipt, NOW),
            notices=notices,
        )

    fail_after(monkeypatch, outbox, "enqueue")  # the rows go in, then the transaction fails
    with pytest.raises(ConnectionError):
        await buy("R-1")
    assert await count(sessions, Purchase) == 0 and await outbox_rows(sessions) == []  # neither
    monkeypatch.undo()
    earned = await buy("R-2")
    [row] = await outbox_rows(sessions)  # both
    key = f"notice:purchase:{earned.purchase.id}"
    assert (row.key, row.kind, row.chat_id, row.state) == (key, "notice", CUSTOMER, "pending")


async def test_a_retried_update_enqueues_its_notice_once(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    earn = updates.message_update(owner.user, text=f"/earn {member.code} 250000")  # no receipt: keyed by the update
    adjust = updates.message_update(owner.user, text=f"/adjust {member.code} -20 entered twice")
    for update in (earn, earn, adjust, adjust):  # each delivered twice, as the messenger may after a restart
        await owner.feed(update)
    rows = await outbox_rows(sessions)
    assert [row.key.split(":")[1] for row in rows if row.key] == ["purchase", "adjust"]
    [earned, adjusted] = to(await delivered(), CUSTOMER)
    assert "۲۵ امتیاز" in earned.text and "۱۰۵" in adjusted.text and "entered twice" in adjusted.text


async def test_a_purchase_rolled_back_tells_nobody(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, member = await customer(chat_with, sessions)
    fail_after(monkeypatch, outbox, "enqueue")  # the rows go in, then the transaction fails
    [apology] = await chat_with(OWNER, language_code="en").say(f"/earn {member.code} 250000 R-1")
    assert "try again" in apology.text.lower()
    assert await count(sessions, Purchase) == 0 and await outbox_rows(sessions) == []
    assert await delivered() == []


# --- at once: the bot's sender gets an update's notices as it commits ---------------------------------------------


@pytest.fixture
async def running_sender(sessions: Sessions, stubbed: tuple[Bot, RecordingSession]) -> AsyncIterator[Sender]:
    """The bot's sender, running, sending through the stubbed bot; it looks at the outbox only every 30 s."""
    sender = Sender(sessions, telegram_send(stubbed[0]), SenderConfig(poll=30, quiet=None), clock=lambda: NOW)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await wait_until(lambda: sender.courier() is not None)  # it holds the sender lease
    yield sender
    stop.set()
    await asyncio.wait_for(running, timeout=10)


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)


async def states_become(sessions: Sessions, states: list[str], timeout: float = 5.0) -> None:
    """Wait until the outbox rows are in these states, in id order."""
    deadline = time.monotonic() + timeout
    while (found := [row.state for row in await outbox_rows(sessions)]) != states:
        assert time.monotonic() < deadline, f"the outbox stayed {found}"
        await asyncio.sleep(0.01)


def sent_to(recording: RecordingSession, chat_id: int) -> list[str]:
    sent = [method for method in recording.requests if isinstance(method, SendMessage)]
    return [method.text for method in sent if method.chat_id == chat_id]


async def test_a_notice_reaches_the_member_at_once_not_at_the_senders_next_look(
    settings: Settings, sessions: Sessions, stubbed: tuple[Bot, RecordingSession], running_sender: Sender
) -> None:
    dispatcher = create_dispatcher(settings, sessions, clock=lambda: NOW, sender=running_sender)
    await Chat(dispatcher, *stubbed, CUSTOMER, first_name="Sara").join()
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == CUSTOMER))
    assert member is not None
    owner = Chat(dispatcher, *stubbed, OWNER, language_code="en")
    before = len(sent_to(stubbed[1], CUSTOMER))  # what joining showed her
    await owner.say(f"/earn {member.code} 250000 R-1")
    await wait_until(lambda: len(sent_to(stubbed[1], CUSTOMER)) > before)  # within 5 s, and the sender's next look
    assert "۲۵ امتیاز" in sent_to(stubbed[1], CUSTOMER)[-1]  # would be 30 s away
    await states_become(sessions, ["sent"])


async def test_a_notice_rolled_back_is_never_handed_over(
    settings: Settings,
    sessions: Sessions,
    stubbed: tuple[Bot, RecordingSession],
    running_sender: Sender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dispatcher = create_dispatcher(settings, sessions, clock=lambda: NOW, sender=running_sender)
    await Chat(dispatcher, *stubbed, CUSTOMER, first_name="Sara").join()
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == CUSTOMER))
    assert member is not None
    before = len(sent_to(stubbed[1], CUSTOMER))
    fail_after(monkeypatch, outbox, "enqueue")  # the rows go in, then the transaction fails
    await Chat(dispatcher, *stubbed, OWNER, language_code="en").say(f"/earn {member.code} 250000 R-1")
    await asyncio.sleep(0.3)
    assert len(sent_to(stubbed[1], CUSTOMER)) == before and await outbox_rows(sessions) == []


async def test_express_turns_wait_for_a_pause_but_neither_for_the_pace_nor_for_the_chat() -> None:
    pacer = Pacer(rate=1, chat_interval=60)
    await pacer.turn(1)  # a broadcast's turn: the next may come in a second, to this chat in a minute
    began = time.monotonic()
    await pacer.turn(1, express=True)
    await pacer.turn(1, express=True)
    assert time.monotonic() - began < 0.5
    pacer.pause(0.3)  # the messenger said 429
    began = time.monotonic()
    await pacer.turn(2, express=True)
    assert time.monotonic() - began >= 0.25
