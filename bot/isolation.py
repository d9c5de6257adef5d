"""One update at a time per chat and user, so two quick presses of one button never race each other.

aiogram runs updates as concurrent tasks; a wizard's Confirm pressed twice could then read the same state
twice before either clears it. Its FSM middleware takes an "events isolation" lock per chat and user around
each update: `ChatIsolation`, an in-process lock per chat that is dropped when nobody holds or waits for it
(aiogram's own keeps one per chat for ever, a million of them in a club that size), and when the state lives in
Redis (shared by instances), Redis's lock behind it (`SharedChatIsolation`).
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


class SharedChatIsolation(BaseEventIsolation):
    """A chat's turn across instances: its updates on this instance queue for the in-process lock, and only the
    first of them asks Redis for the chat. Redis's lock alone made every waiting update ask Redis every 10 ms: 20
    updates of one chat held 5 ms each asked 210 times, and a cashier's burst cost each update several times the
    CPU of answering it (`bench.e2e --redis`)."""

    def __init__(self, shared: BaseEventIsolation) -> None:
        self.here = ChatIsolation()
        self.shared = shared

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        """Hold the chat on this instance, then in Redis, for the block."""
        async with self.here.lock(key), self.shared.lock(key):
            yield

    async def close(self) -> None:
        """Release Redis's side."""
        await self.shared.close()


def isolation_for(storage: BaseStorage) -> BaseEventIsolation:
    """Redis's lock behind the in-process one for state in Redis (several instances), else the in-process one."""
    if isinstance(storage, RedisStorage):
        return SharedChatIsolation(RedisEventIsolation(storage.redis, storage.key_builder, lock_kwargs=REDIS_LOCK))
    return ChatIsolation()
