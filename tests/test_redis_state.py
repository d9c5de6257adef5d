"""Conversation state in Redis: a member half-way through joining can finish on another bot instance, the
updates of one chat take turns (a button pressed twice at once acts once), in Redis or in-process, and erasing an
idle member clears their chat's state there."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat_state import chat_forgetter
from bot.factory import create_dispatcher, create_storage
from bot.i18n import create_i18n
from bot.isolation import ChatIsolation, SharedChatIsolation, isolation_for
from bot.settings import Settings
from loyalty.rules import Rules
from loyalty.staff import Role
from scheduler.jobs import Jobs, forget_inactive
from storage.models import Campaign, Member
from tests.chat import Chat, walk
from tests.databases import REDIS_URL, unavailable
from tests.factories import FIRST_CHAT, NOW, add_members, member_row
from tests.people import hire
from tests.stub_bot import stub_bot
from tests.wizards import CAMPAIGN, new_campaign


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


async def test_a_campaign_wizard_goes_on_on_a_second_instance(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis_storage: RedisStorage
) -> None:
    await hire(sessions, 3, Role.MANAGER)
    bot, recording = stub_bot()
    first, second = (
        Chat(create_dispatcher(settings, sessions, redis_storage, lambda: NOW), bot, recording, 3, language_code="en")
        for _ in range(2)
    )
    await walk(await new_campaign(first), CAMPAIGN.choose("audience", "all"), "Hello {name}")
    await walk(first, CAMPAIGN.choose("gift", "points"), "50", "30")
    await walk(first, CAMPAIGN.choose("when", "later"), "2026-12-01 18:00")

    [when, _] = await walk(second, CAMPAIGN.back("confirm"), CAMPAIGN.back("send_at"))
    assert "When should it be sent?" in when.text
    [summary] = await walk(second, CAMPAIGN.choose("when", "later"), "2026-12-02 18:00")
    assert "50 points lasting 30 days" in summary.text and "Hello Sara" in summary.text
    await second.press(CAMPAIGN.confirm)
    async with sessions() as session:
        campaign = await session.scalar(select(Campaign))
    assert (campaign.text, campaign.state, campaign.send_at.day) == ("Hello {name}", "scheduled", 2)


async def test_updates_of_one_chat_take_turns_on_every_instance(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis_storage: RedisStorage
) -> None:
    shared = create_dispatcher(settings, sessions, redis_storage, lambda: NOW).fsm.events_isolation
    assert isinstance(shared, SharedChatIsolation)  # a lock in Redis: instances sharing the state take turns too
    assert isinstance(shared.shared, RedisEventIsolation)
    assert isinstance(create_dispatcher(settings, sessions).fsm.events_isolation, ChatIsolation)


async def test_the_in_process_isolation_takes_turns_per_chat_and_forgets_free_chats() -> None:
    isolation = ChatIsolation()
    one, other = (StorageKey(bot_id=1, chat_id=chat, user_id=chat) for chat in (1, 2))
    order: list[str] = []

    async def update(key: StorageKey, name: str) -> None:
        async with isolation.lock(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(update(one, "a"), update(one, "b"), update(other, "c"))
    assert order.index("a out") < order.index("b in")  # one chat: one at a time
    assert order.index("c in") < order.index("a out")  # other chats go on meanwhile
    assert isolation.held == 0


async def test_an_update_waiting_for_its_chat_on_another_instance_starts_soon_after_the_chat_is_free(
    redis_storage: RedisStorage,
) -> None:
    here, there = (isolation_for(redis_storage) for _ in range(2))  # two instances sharing Redis
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    clock = asyncio.get_running_loop().time
    waited = 0.0
    for _ in range(10):
        async with here.lock(key):
            waiting = asyncio.create_task(turn_taken(there, key))
            await asyncio.sleep(0.02)
            freed_at = clock()
        waited += await waiting - freed_at
    assert waited < 0.25  # redis-py's lock asks again every 0.1 s by default: 50 ms an update on average


async def test_updates_of_one_chat_on_one_instance_ask_redis_for_the_chat_once_each(
    redis_storage: RedisStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = 0
    ask = Lock.do_acquire

    async def counted(lock: Lock, token: str) -> bool:
        nonlocal asked
        asked += 1
        return await ask(lock, token)

    monkeypatch.setattr(Lock, "do_acquire", counted)
    isolation = isolation_for(redis_storage)
    key = StorageKey(bot_id=1, chat_id=6, user_id=6)

    async def update() -> None:
        async with isolation.lock(key):
            await asyncio.sleep(0.005)

    await asyncio.gather(*(update() for _ in range(20)))  # a cashier's burst, all on this instance

    assert asked == 20  # the others waited their turn here, not by asking Redis every 10 ms


async def turn_taken(isolation: BaseEventIsolation, key: StorageKey) -> float:
    """When this update got its chat."""
    async with isolation.lock(key):
        return asyncio.get_running_loop().time()


async def test_the_retention_job_clears_the_erased_member_s_chat_state_in_redis(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis_storage: RedisStorage
) -> None:
    long_ago = NOW - timedelta(days=400)
    async with sessions() as session:
        idle = member_row(1, stopped=True, out_of_reach_since=long_ago, joined_at=long_ago, created_at=long_ago)
        await add_members(session, [idle])
    bot, _ = stub_bot()
    chat = create_dispatcher(settings, sessions, redis_storage).fsm.get_context(bot, FIRST_CHAT + 1, FIRST_CHAT + 1)
    await chat.set_state("ProfileEdit:name")
    await chat.set_data({"phone": "+989121234567"})
    club, zone = Rules(privacy_retention_days=365), ZoneInfo("Asia/Tehran")
    jobs = Jobs(create_i18n("fa"), sessions, club, lambda: NOW, zone, forget_chat=chat_forgetter(redis_storage, bot.id))

    assert await forget_inactive(jobs, NOW) == 1

    assert (await chat.get_state(), await chat.get_data()) == (None, {})
