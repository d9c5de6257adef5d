"""Webhook mode end to end: the real bot (`run_webhook`) serves its webhook on a real port, sets it on the Bot API
emulator, and the emulator delivers updates to it over HTTP as Telegram does. On SQLite with the state in memory;
an update delivered twice also with PostgreSQL and Redis, as several instances run."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.app import run_webhook
from bot.factory import create_dispatcher
from bot.settings import Settings, SettingsError
from tests import updates
from tests.databases import REDIS_URL, sqlite_copy
from tests.emulator import BotAPIEmulator
from tests.live import WEBHOOK_SECRET, running_webhook_bot
from tests.stub_bot import TOKEN

LEILA = updates.user_json(521, "Leila", "en")


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
async def hooked(emulator: BotAPIEmulator, settings: Settings, sqlite_url: str) -> AsyncIterator[BotAPIEmulator]:
    """The real bot in webhook mode, its webhook set on the emulator, on an empty SQLite database."""
    async with running_webhook_bot(emulator, settings, database_url=sqlite_url) as running:
        yield running


def replies(emulator: BotAPIEmulator) -> list[str]:
    return [call.text for call in emulator.replies_to(LEILA["id"])]


async def test_the_webhook_is_set_with_the_secret_the_update_types_used_and_pending_updates_kept(
    hooked: BotAPIEmulator, settings: Settings
) -> None:
    used = create_dispatcher(settings, async_sessionmaker()).resolve_used_update_types()
    assert hooked.webhook["url"].endswith("/telegram")
    assert hooked.webhook["secret_token"] == WEBHOOK_SECRET
    assert sorted(hooked.webhook["allowed_updates"]) == sorted(used)
    assert hooked.webhook["drop_pending_updates"] is False


async def test_an_update_with_the_right_secret_is_handled_before_it_is_answered(hooked: BotAPIEmulator) -> None:
    assert await hooked.deliver(updates.message_update(LEILA, text="/start")) == 200
    [welcome] = replies(hooked)
    assert "Welcome to the customer club of our shop" in welcome


@pytest.mark.parametrize("secret", ["wrong", ""], ids=["wrong", "missing"])
async def test_an_update_with_a_wrong_or_missing_secret_is_refused_logged_and_never_handled(
    hooked: BotAPIEmulator, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        assert await hooked.deliver(updates.message_update(LEILA, text="/start"), secret=secret) == 401
    assert replies(hooked) == []
    assert any("secret" in record.getMessage() for record in caplog.records)


async def test_an_update_that_does_not_parse_is_answered_200_logged_and_skipped(
    hooked: BotAPIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    odd = updates.message_update(LEILA, text="/start")
    odd["message"]["chat"] = "not a chat"
    with caplog.at_level(logging.WARNING):
        assert await hooked.deliver(odd) == 200
        assert await hooked.deliver(b"{not json") == 200
        assert await hooked.deliver({"no": "update id"}) == 200
    assert replies(hooked) == []
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert f"skipping update {odd['update_id']}" in logged and "not JSON" in logged and "without an update id" in logged
    assert await hooked.deliver(updates.message_update(LEILA, text="/start")) == 200
    assert len(replies(hooked)) == 1


async def test_an_update_delivered_twice_is_handled_once(hooked: BotAPIEmulator) -> None:
    start = updates.message_update(LEILA, text="/start")
    assert await hooked.deliver(start) == 200
    assert await hooked.deliver(start) == 200
    assert len(replies(hooked)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_update_delivered_twice_is_handled_once_with_the_state_in_redis(
    emulator: BotAPIEmulator, settings: Settings, database_url: str, engine: AsyncEngine
) -> None:
    user = updates.user_json(random.randrange(10**9, 2 * 10**9), "Leila", "en")  # marks of earlier runs stay in Redis
    start = updates.message_update(user, text="/start")
    async with running_webhook_bot(emulator, settings, database_url=database_url, redis_url=REDIS_URL):
        assert await emulator.deliver(start) == 200
        assert await emulator.deliver(start) == 200
    assert len(emulator.replies_to(user["id"])) == 1


async def test_the_web_server_answers_health_and_readiness_beside_the_webhook(hooked: BotAPIEmulator) -> None:
    base = hooked.webhook["url"].removesuffix("/telegram")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/healthz") as alive:
            assert alive.status == 200
        async with session.get(f"{base}/readyz") as ready:
            body = await ready.json()
            assert ready.status == 200, body
    assert body["ready"] is True and body["database"] == "ok" and body["bot_api"] == "ok"
    assert TOKEN not in str(body)


async def test_webhook_mode_without_a_secret_says_how_to_set_one(settings: Settings) -> None:
    hooked = settings.model_copy(update={"webhook_url": "https://bot.example.com/telegram"})
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is not set"):
        await run_webhook(hooked)
