"""Outer middlewares: the clock, the update's key and stamp, one database session per update, the member
(and staff role) behind the update, and the notices the update enqueued handed to the broadcast sender."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from handlers.club import Club
from loyalty import outbox
from loyalty.staff import role_from
from loyalty.stamps import Stamp
from scheduler.sender import Sender
from storage import repositories
from storage.database import AFTER_COMMIT, AFTER_ROLLBACK, close_session

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    """Opens a session for the update as `session`; what the handler did not commit is rolled back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        session = data["session"] = self.sessions()
        try:
            return await handler(event, data)
        finally:
            await close_session(session)


class HandOverMiddleware(BaseMiddleware):
    """Gives the bot's broadcast sender the notices an update enqueues the moment they commit (see
    `scheduler.sender`): while it holds the sender lease, its `courier` goes on the update's session, so they are
    written claimed by it, and `take` gets them after the commit; rows of a transaction rolled back are dropped."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        courier = self.sender.courier()
        if courier is not None:
            info = data["session"].info
            info[outbox.COURIER] = courier
            info[AFTER_COMMIT] = self._committed
            info[AFTER_ROLLBACK] = self._rolled_back
        return await handler(event, data)

    def _committed(self, session: Session) -> None:
        if rows := outbox.handed(session.info):
            self.sender.take(rows)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        outbox.handed(session.info)  # never written


class MemberMiddleware(BaseMiddleware):
    """Loads the member linked to the sender as `member` (None for a newcomer), the sender's staff `role` (None
    for a customer; the staff routers' role check reads it) and the member's soonest-expiring points as
    `next_expiry` (for /balance), in one query."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        club: Club = data["club"]
        data["member"], data["role"], data["next_expiry"] = None, None, None
        if user is not None:
            account = await repositories.account_by_telegram_id(session, user.id, data["now"])
            data["member"], data["next_expiry"] = account.member, account.next_expiry
            data["role"] = role_from(user.id, account.role, club.owner_ids)
        return await handler(event, data)


class StampMiddleware(BaseMiddleware):
    """Gives every handler the same `now` (aware, UTC) and `today` (the shop's local date), the update's
    `update_key` (what idempotency keys are built from, see `update_key`) and, when it has a sender, its `stamp`
    (`loyalty.stamps.Stamp`: the sender, the update's key and id, and `now`). One middleware, not three: each layer
    costs every update a call."""

    def __init__(self, clock: Callable[[], datetime], zone: ZoneInfo) -> None:
        self.clock = clock
        self.zone = zone

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        now = self.clock()
        data["now"] = now
        data["today"] = now.astimezone(self.zone).date()
        if isinstance(event, Update):
            bot: Bot = data["bot"]
            key = data["update_key"] = update_key(bot.id, event)
            user: User | None = data.get("event_from_user")
            if user is not None:
                data["stamp"] = Stamp(user.id, key, now, event.update_id)
        return await handler(event, data)


def update_key(bot_id: int, update: Update) -> str:
    """What the update is known by, unique over bots and over restarts of the messenger's update ids.

    A message: the bot, the chat and the message (message ids never restart within a chat); a button press: the
    bot and the query (query ids are unique); anything else: the bot, the update id and when it came in.
    The same update delivered again has the same key, except for the last kind, which writes nothing keyed.
    """
    if update.message is not None:
        return f"{bot_id}:{update.message.chat.id}:{update.message.message_id}"
    if update.callback_query is not None:
        return f"{bot_id}:cb:{update.callback_query.id}"
    return f"{bot_id}:u:{update.update_id}:{time.time_ns()}"
