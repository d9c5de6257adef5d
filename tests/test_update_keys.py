"""What an update did is known by a key that stays unique when the messenger restarts its update ids or the shop
moves to a new bot: the same update twice does it once, two updates with the same update id do it twice."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import StampMiddleware, update_key
from loyalty.stamps import Stamp
from storage.models import LedgerEntry, Member, Purchase
from tests import updates
from tests.chat import Chat
from tests.factories import NOW
from tests.lookups import count
from tests.paid import TEHRAN
from tests.people import OWNER, customer
from tests.stub_bot import TOKEN, RecordingSession

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
RESTARTED = 5  # the update id both updates carry, as after the messenger restarted its count


def as_update(raw: dict[str, object]) -> Update:
    return Update.model_validate(raw)


def test_a_message_is_known_by_its_bot_chat_and_message_and_a_button_press_by_its_query() -> None:
    owner = updates.user_json(OWNER, "Owner", "en")
    message = updates.message_update(owner, text="/earn 1 2")
    chat_id, message_id = OWNER, message["message"]["message_id"]  # type: ignore[index]
    assert update_key(1000, as_update(message)) == f"1000:{chat_id}:{message_id}"
    assert update_key(2000, as_update(message)) == f"2000:{chat_id}:{message_id}"
    pressed = updates.callback_update(owner, "x", {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}})
    assert update_key(1000, as_update(pressed)) == f"1000:cb:{pressed['callback_query']['id']}"  # type: ignore[index]


def test_an_update_of_another_kind_is_known_by_its_bot_its_id_and_when_it_came() -> None:
    other = as_update({"update_id": RESTARTED})  # e.g. a poll answer: it writes nothing keyed
    first, second = update_key(1000, other), update_key(1000, other)
    assert first.startswith(f"1000:u:{RESTARTED}:") and first != second


async def test_an_update_is_stamped_with_its_sender_key_id_and_moment_and_one_without_a_sender_is_not() -> None:
    owner = updates.user_json(OWNER, "Owner", "en")
    message = as_update(updates.message_update(owner, text="/earn 1 2") | {"update_id": RESTARTED})
    assert message.message is not None
    seen: list[object] = []

    async def handler(_event: object, data: dict[str, object]) -> None:
        seen.append(data.get("stamp"))

    stamping, bot = StampMiddleware(lambda: NOW, TEHRAN), Bot(TOKEN)
    await stamping(handler, message, {"event_from_user": message.message.from_user, "bot": bot})
    await stamping(handler, message, {"bot": bot})
    key = update_key(bot.id, message)
    assert seen == [Stamp(OWNER, key, NOW, RESTARTED), None]


async def member_code(chat_with: MakeChat, sessions: Sessions) -> str:
    _, member = await customer(chat_with, sessions)
    return member.code


async def test_two_purchases_whose_updates_share_an_update_id_are_both_recorded(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    code = await member_code(chat_with, sessions)
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    for amount in ("250000", "100000"):
        await owner.feed(updates.message_update(owner.user, text=f"/earn {code} {amount}") | {"update_id": RESTARTED})
    async with sessions() as session:
        amounts = (await session.scalars(select(Purchase.amount).order_by(Purchase.id))).all()
    assert amounts == [250_000, 100_000]


async def test_the_same_purchase_update_fed_twice_is_recorded_once(chat_with: MakeChat, sessions: Sessions) -> None:
    code = await member_code(chat_with, sessions)
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    earn = updates.message_update(owner.user, text=f"/earn {code} 250000")
    await owner.feed(earn)
    await owner.feed(earn)
    assert await count(sessions, Purchase) == 1


async def test_two_corrections_whose_updates_share_an_update_id_are_both_applied(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    code = await member_code(chat_with, sessions)
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    adjust = updates.message_update(owner.user, text=f"/adjust {code} +5 gift") | {"update_id": RESTARTED}
    await owner.feed(adjust)
    await owner.feed(adjust)  # the same update again: once
    await owner.feed(updates.message_update(owner.user, text=f"/adjust {code} +7 gift") | {"update_id": RESTARTED})
    async with sessions() as session:
        balance = await session.scalar(select(Member.balance).where(Member.code == code))
    assert balance == 100 + 5 + 7
    assert await count(sessions, LedgerEntry) == 3  # the welcome bonus and the two corrections


async def test_a_new_bot_records_a_purchase_the_old_one_had_under_the_same_chat_and_message(
    chat_with: MakeChat, sessions: Sessions, dispatcher: Dispatcher
) -> None:
    code = await member_code(chat_with, sessions)
    old = chat_with(OWNER, first_name="Owner", language_code="en")
    recorder = RecordingSession()
    new = Chat(dispatcher, Bot("2000:the-shops-new-bot", session=recorder), recorder, OWNER, first_name="Owner")
    earn = updates.message_update(old.user, text=f"/earn {code} 250000")
    await old.feed(earn)
    await new.feed(earn)
    assert await count(sessions, Purchase) == 2
