"""The people of the chat tests: their accounts, customers who joined by chat, staff hired straight in the database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty.staff import Role
from storage.models import Member, StaffMember
from tests.chat import Chat
from tests.factories import NOW

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER, MANAGER, CASHIER, CUSTOMER = 1, 3, 7, 42
NEEDS_MANAGER = "فقط مدیر یا مالک می‌تواند از {command} استفاده کند."  # a cashier's manager command, in Persian
NEEDS_OWNER = "فقط مالک می‌تواند از {command} استفاده کند."  # other staff's owner command, in Persian
SARA, REZA, NIMA, STOPPED = 42, 43, 44, 45  # the members of `four_members`


async def customer(
    chat_with: MakeChat, sessions: Sessions, user_id: int = CUSTOMER, phone: str = "09121234567"
) -> tuple[Chat, Member]:
    """Sara, who joined by chat in Persian, and her member row."""
    chat = chat_with(user_id, first_name="Sara", language_code="fa")
    await chat.join(phone=phone)
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == user_id))
    assert member is not None
    return chat, member


async def joined(chat_with: MakeChat, language: str = "en") -> Chat:
    """The default user (42), who joined by chat in `language`."""
    chat = chat_with(language_code=language)
    await chat.join()
    return chat


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


async def four_members(chat_with: MakeChat, sessions: Sessions) -> dict[int, Member]:
    """Sara (bronze), Reza and Nima (silver) take news; a fourth member sent /stop."""
    people = await members_of(
        chat_with,
        sessions,
        (SARA, "09121234567", "bronze", True),
        (REZA, "09121234568", "silver", True),
        (NIMA, "09121234569", "silver", True),
        (STOPPED, "09121234570", "bronze", True),
    )
    async with sessions() as session:
        await session.execute(update(Member).where(Member.telegram_id == STOPPED).values(stopped=True))
        await session.commit()
    return people


async def hire(sessions: Sessions, telegram_id: int, role: Role, name: str = "Staff") -> None:
    """Put the account on the staff with `role`, as if the owner had added it."""
    async with sessions() as session:
        session.add(StaffMember(telegram_id=telegram_id, role=role, name=name, added_by=OWNER, added_at=NOW))
        await session.commit()


async def manager_chat(chat_with: MakeChat, sessions: Sessions, language: str = "en") -> Chat:
    """Mina, hired as a manager, in her chat."""
    await hire(sessions, MANAGER, Role.MANAGER)
    return chat_with(MANAGER, first_name="Mina", language_code=language)


def owner_chat(chat_with: MakeChat, language: str = "en") -> Chat:
    """The owner (in OWNER_IDS) in their chat."""
    return chat_with(OWNER, first_name="Owner", language_code=language)
