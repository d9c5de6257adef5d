"""Registration state in Redis: a member half-way through joining can finish on another bot instance."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher, create_storage
from bot.settings import Settings
from storage.models import Member
from tests.chat import Chat
from tests.databases import REDIS_URL, unavailable
from tests.factories import NOW
from tests.stub_bot import stub_bot


@pytest.fixture
async def redis_storage() -> AsyncIterator[RedisStorage]:
    """A RedisStorage on the machine's Redis, under a key prefix of its own, emptied afterwards."""
    prefix = f"loyalty-test-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        await redis.aclose()
        unavailable("Redis", error)
    yield RedisStorage(redis, key_builder=DefaultKeyBuilder(prefix=prefix))
    async for key in redis.scan_iter(f"{prefix}:*"):
        await redis.delete(key)
    await redis.aclose()


def test_redis_url_selects_redis_storage(settings: Settings) -> None:
    assert isinstance(create_storage(settings.model_copy(update={"redis_url": REDIS_URL})), RedisStorage)


async def test_joining_continues_on_a_second_instance(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis_storage: RedisStorage
) -> None:
    bot, recording = stub_bot()
    first = Chat(
        create_dispatcher(settings, sessions, redis_storage, lambda: NOW), bot, recording, 77, language_code="en"
    )
    await first.say("/start ref_abc")
    await first.share_contact("09121234567")

    second = Chat(
        create_dispatcher(settings, sessions, redis_storage, lambda: NOW), bot, recording, 77, language_code="en"
    )
    [birthday_prompt] = await second.say("Sara")
    assert "birthday" in birthday_prompt.text.lower()
    await second.say("Skip")
    await second.say("Skip")
    [welcome] = await second.say("Skip")

    assert "Welcome" in welcome.text
    async with sessions() as session:
        member = await session.scalar(select(Member))
    assert (member.phone, member.first_name, member.referral_payload) == ("+989121234567", "Sara", "ref_abc")
