"""One update at a time per chat and user, so two quick presses of one button never race each other.

aiogram runs updates as concurrent tasks; a wizard's Confirm pressed twice could then read the same state
twice before either clears it. Its FSM middleware takes an "events isolation" lock per chat and user around
each update: Redis's lock when the state lives in Redis (shared by instances), else `ChatIsolation`, an
in-process lock per chat that is dropped when nobody holds or waits for it (aiogram's own keeps one per chat
for ever, a million of them in a club that size).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

# An update holds its chat in Redis a minute at most (aiogram's default: a dead instance frees it then); one waiting
# for its chat asks Redis again every 10 ms: redis-py's 0.1 s made each update of a busy chat (a cashier's burst,
# spread over instances) wait 50 ms on average after the one before it
REDIS_LOCK = {"timeout": 60, "sleep": 0.01}


class ChatIsolation(BaseEventIsolation):
    """An asyncio lock per chat and user, kept only while in use."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, asyncio.Lock] = {}
        self._users: Counter[StorageKey] = Counter()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        """Hold the chat's lock for the block; the last one out drops it."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    @property
    def held(self) -> int:
        """Chats with a lock right now."""
        return len(self._locks)

    async def close(self) -> None:
        """Nothing to release."""


def isolation_for(storage: BaseStorage) -> BaseEventIsolation:
    """Redis's lock for state in Redis (several instances), else the in-process one."""
    if isinstance(storage, RedisStorage):
        return RedisEventIsolation(storage.redis, storage.key_builder, lock_kwargs=REDIS_LOCK)
    return ChatIsolation()
