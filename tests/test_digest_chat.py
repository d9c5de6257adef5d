"""/digest through the real dispatcher: a manager starts and stops getting the daily digest for themselves, an
owner hears that owners get it while it is on for the club, a cashier hears it needs a manager."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import digest_readers
from loyalty.staff import Role
from tests.chat import Chat
from tests.people import CASHIER, MANAGER, NEEDS_MANAGER, OWNER, hire, manager_chat

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]


async def texts(chat: Chat, command: str) -> list[str]:
    return [reply.text for reply in await chat.say(command) if reply.text]


async def readers(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        return [reader.telegram_id for reader in await digest_readers.readers(session, (OWNER,))]


async def test_a_manager_turns_the_digest_on_and_off_for_themselves(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    assert await texts(manager, "/digest") == [
        "🔔 You will get the daily digest every day at 21:00. Send /digest again to stop it."
    ]
    assert await readers(sessions) == [OWNER, MANAGER]
    assert await texts(manager, "/digest") == [
        "🔕 You will no longer get the daily digest. Send /digest to get it again."
    ]
    assert await readers(sessions) == [OWNER]


async def test_a_manager_in_persian_hears_the_hour_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions, language="fa")
    [reply] = await texts(manager, "/digest")
    assert reply.startswith("🔔 از این پس گزارش روزانه را هر روز ساعت ۲۱:۰۰ می‌گیرید.")


async def test_an_owner_hears_how_owners_get_it_and_a_cashier_that_it_needs_a_manager(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    assert await texts(chat_with(OWNER, language_code="en"), "/digest") == [
        "📊 Owners get the daily digest every day at 21:00. /settings turns it off for everyone or changes its hour."
    ]
    await hire(sessions, CASHIER, Role.CASHIER)
    assert await texts(chat_with(CASHIER, language_code="fa"), "/digest") == [NEEDS_MANAGER.format(command="/digest")]
    assert await readers(sessions) == [OWNER]
