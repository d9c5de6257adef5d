"""An update delivered again is handled once: after an update is handled its key is marked, and an update whose key
is marked is skipped.

The webhook answers Telegram after handling (see `bot.webhook`), so Telegram delivers an update again when the
answer never reached it: the process died while handling, or the connection broke after. The mark is written
after handling, so an update that died halfway is handled again when it comes back (what it had committed is
keyed by its update key and is not done twice); one handled whose answer got lost is skipped.

The marks live in Redis when the conversation state does (shared by instances: the same update may come back to
another one), for `KEEP`, longer than Telegram keeps an undelivered update; else in memory, the last `REMEMBERED`.
The check and the mark run inside the chat's lock (the dispatcher's events isolation), so two deliveries of one
update at once are handled one after the other, and the second is skipped.
Keys are `bot.middlewares.update_key`s: a message's and a button press's stay the same when delivered again;
other kinds of update (which change nothing keyed) are not recognised, and handled again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import timedelta
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from bot.middlewares import Handler

logger = logging.getLogger(__name__)

KEEP = timedelta(days=2)  # Telegram keeps an update it could not deliver for 24 hours
REMEMBERED = 10_000  # updates marked in memory
PREFIX = "handled:"


class Marks(Protocol):
    """Where the keys of handled updates are marked."""

    async def marked(self, key: str) -> bool:
        """Whether the update `key` was handled."""

    async def mark(self, key: str) -> None:
        """Mark the update `key` handled."""


class RedisMarks:
    """Marks in Redis, each kept for `KEEP`."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def marked(self, key: str) -> bool:
        return bool(await self.redis.exists(PREFIX + key))

    async def mark(self, key: str) -> None:
        await self.redis.set(PREFIX + key, 1, ex=KEEP)


class MemoryMarks:
    """The last `limit` marks, in this process."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self.limit = limit
        self._keys: OrderedDict[str, None] = OrderedDict()

    async def marked(self, key: str) -> bool:
        return key in self._keys

    async def mark(self, key: str) -> None:
        self._keys[key] = None
        if len(self._keys) > self.limit:
            self._keys.popitem(last=False)


def marks_for(storage: BaseStorage) -> Marks:
    """Redis's marks when the conversation state is in Redis (several instances), else this process's."""
    if isinstance(storage, RedisStorage):
        return RedisMarks(storage.redis)
    return MemoryMarks()


class HandledOnce(BaseMiddleware):
    """Skips an update already handled, and marks each update handled (or failed: it is not tried again) after its
    handler; one cancelled (the bot stopping) is not marked, so it is handled when delivered again. An outer
    middleware after `StampMiddleware`."""

    def __init__(self, marks: Marks) -> None:
        self.marks = marks

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        key: str | None = data.get("update_key")
        if key is None:
            return await handler(event, data)
        if await self.marks.marked(key):
            logger.info("update %s was handled already: skipped", event.update_id if isinstance(event, Update) else key)
            return UNHANDLED
        try:
            result = await handler(event, data)
        except Exception:
            await self.marks.mark(key)
            raise
        await self.marks.mark(key)
        return result
