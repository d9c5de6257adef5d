"""Outer middlewares: one database session per update, and the member behind the update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import repositories

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    """Opens a session for the update as `session`; what the handler did not commit is rolled back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessions() as session:
            data["session"] = session
            return await handler(event, data)


class MemberMiddleware(BaseMiddleware):
    """Loads the member linked to the sender as `member` (None for a newcomer)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        data["member"] = await repositories.member_by_telegram_id(session, user.id) if user else None
        return await handler(event, data)


class ClockMiddleware(BaseMiddleware):
    """Gives every handler the same `now` (aware, UTC) and `today` (the shop's local date)."""

    def __init__(self, clock: Callable[[], datetime], zone: ZoneInfo) -> None:
        self.clock = clock
        self.zone = zone

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        now = self.clock()
        data["now"] = now
        data["today"] = now.astimezone(self.zone).date()
        return await handler(event, data)
