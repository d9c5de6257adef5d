"""The health endpoints over HTTP: /healthz while the process lives; /readyz 200 while the database, Redis and the
Bot API answer, 503 with the one that does not named, and the broadcast sender's lease state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.health import Readiness
from bot.settings import Settings
from bot.web import create_app, serving
from scheduler.sender import Sender
from storage.database import create_engine
from tests.databases import sqlite_copy
from tests.emulator import BotAPIEmulator, FakeUser
from tests.live import free_port, running_bot, running_scheduler

NOWHERE = "127.0.0.1:9"  # nothing listens on the discard port


@contextlib.asynccontextmanager
async def api_bot(settings: Settings, url: str) -> AsyncIterator[Bot]:
    bot = create_bot(settings.model_copy(update={"bot_api_url": url}))
    try:
        yield bot
    finally:
        await bot.session.close()


async def get(readiness: Readiness, path: str) -> tuple[int, Any]:
    """GET `path` from the web server, on a free port of 127.0.0.1."""
    port = free_port()
    async with (
        serving(create_app(readiness), "127.0.0.1", port, grace=1),
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}{path}") as answer,
    ):
        return answer.status, await answer.json()


async def readyz(engine: AsyncEngine, bot: Bot, storage: BaseStorage | None = None, **more: Any) -> tuple[int, Any]:
    return await get(Readiness(engine, storage or MemoryStorage(), bot, **more), "/readyz")


async def test_ready_while_the_database_and_the_bot_api_answer(
    emulator: BotAPIEmulator, settings: Settings, engine: AsyncEngine
) -> None:
    async with api_bot(settings, emulator.url) as bot:
        status, body = await readyz(engine, bot)
    assert status == 200
    assert body == {"ready": True, "database": "ok", "redis": "not used", "bot_api": "ok", "sender": "none"}


async def test_not_ready_while_the_database_is_down_but_alive(emulator: BotAPIEmulator, settings: Settings) -> None:
    down = create_engine(f"postgresql+asyncpg://loyalty@{NOWHERE}/loyalty")
    try:
        async with api_bot(settings, emulator.url) as bot:
            status, body = await readyz(down, bot)
            alive = await get(Readiness(down, MemoryStorage(), bot), "/healthz")
    finally:
        await down.dispose()
    assert status == 503 and body["ready"] is False and body["database"] == "down" and body["bot_api"] == "ok"
    assert alive == (200, {"alive": True})


async def test_not_ready_while_redis_or_the_bot_api_is_down(
    emulator: BotAPIEmulator, settings: Settings, sqlite_template: Path, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_copy(sqlite_template, tmp_path))
    redis = RedisStorage.from_url(f"redis://{NOWHERE}/0")
    try:
        async with api_bot(settings, emulator.url) as bot:
            redis_down = await readyz(engine, bot, redis)
        async with api_bot(settings, f"http://{NOWHERE}") as bot:
            api_down = await readyz(engine, bot)
    finally:
        await redis.close()
        await engine.dispose()
    assert redis_down[0] == 503 and redis_down[1]["redis"] == "down" and redis_down[1]["database"] == "ok"
    assert api_down[0] == 503 and api_down[1]["bot_api"] == "down"


async def test_readiness_tells_whether_this_instance_s_sender_holds_the_lease(
    emulator: BotAPIEmulator, settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async def send(*_: object) -> None:
        return None

    first, second, stop = Sender(sessions, send), Sender(sessions, send), asyncio.Event()
    running = [asyncio.create_task(sender.run(stop)) for sender in (first, second)]
    try:
        await emulator.wait_for(lambda: first.holding or second.holding, 10, lambda: "no sender took the lease")
        async with api_bot(settings, emulator.url) as bot:
            states = [(await readyz(engine, bot, sender=sender))[1]["sender"] for sender in (first, second)]
    finally:
        stop.set()
        await asyncio.gather(*running)
    assert sorted(states) == ["holding", "waiting"]


async def test_polling_serves_the_health_endpoints_and_the_metrics_when_web_port_is_set(
    emulator: BotAPIEmulator, settings: Settings, sqlite_template: Path, tmp_path: Path
) -> None:
    port = free_port()
    changes = {"database_url": sqlite_copy(sqlite_template, tmp_path), "web_host": "127.0.0.1", "web_port": port}
    async with running_bot(emulator, settings, **changes), aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}/healthz") as alive:
            assert alive.status == 200
        async with client.get(f"http://127.0.0.1:{port}/readyz") as ready:
            assert ready.status == 200 and (await ready.json())["database"] == "ok"
        await FakeUser(emulator, 9, "Sara", "en").say("/help")
        async with client.get(f"http://127.0.0.1:{port}/metrics") as scraped:
            assert scraped.status == 200
            text = await scraped.text()
    assert 'loyalty_updates_total{outcome="ok",type="message"} 1.0' in text
    assert 'loyalty_bot_api_requests_total{method="sendMessage"}' in text
    assert "loyalty_members " in text


async def test_the_scheduler_serves_the_health_endpoints_when_web_port_is_set(
    emulator: BotAPIEmulator, settings: Settings, sqlite_template: Path, tmp_path: Path
) -> None:
    port = free_port()
    database_url = sqlite_copy(sqlite_template, tmp_path)
    async with (
        running_scheduler(emulator, settings, port, database_url=database_url),
        aiohttp.ClientSession() as client,
    ):
        async with client.get(f"http://127.0.0.1:{port}/healthz") as alive:
            assert alive.status == 200
        async with client.get(f"http://127.0.0.1:{port}/readyz") as ready:
            assert ready.status == 200 and (await ready.json())["database"] == "ok"
