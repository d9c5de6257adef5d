"""The real bot, started as in production (`run_polling`, or `run_webhook` taking updates from the emulator by
webhook, or `run_scheduler` alone), talking to the Bot API emulator; what such runs need: a time zone where it is
day, a free port, and the names of the settings a bot in a process of its own must not inherit."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from bot.app import run_polling, run_scheduler, run_webhook
from bot.settings import Settings
from tests.emulator import SETTLE_TIMEOUT, BotAPIEmulator

SETTING_NAMES = (
    "BOT_TOKEN",
    "BOT_API_URL",
    "DATABASE_URL",
    "OWNER_IDS",
    "TIMEZONE",
    "DEFAULT_LANGUAGE",
    "REDIS_URL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEB_HOST",
    "WEB_PORT",
)
WEBHOOK_SECRET = "test-secret_1"


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts connections on `port` of 127.0.0.1."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def daytime_zone() -> str:
    """A fixed-offset time zone where it is about noon now, so quiet hours never hold a test's campaign."""
    offset = 12 - datetime.now(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'+' if offset < 0 else '-'}{abs(offset)}"


def _why_gone(task: asyncio.Task[None]) -> str | None:
    """Why the bot's task ended, or None while it runs."""
    if not task.done():
        return None
    if task.cancelled():
        return "cancelled"
    return f"the bot ended with {task.exception()!r}"


@contextlib.asynccontextmanager
async def _running(
    emulator: BotAPIEmulator, work: Coroutine[Any, Any, None], ready: Callable[[], Awaitable[None]]
) -> AsyncIterator[None]:
    """`work` running as a task (its end reported by the emulator) once `ready` returns, until the block ends."""
    task = asyncio.create_task(work)
    emulator.watch(lambda: _why_gone(task))
    try:
        await ready()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def running_bot(emulator: BotAPIEmulator, settings: Settings, **changes: Any) -> AsyncIterator[BotAPIEmulator]:
    """The real bot (run_polling) polling the emulator with the settings changed as given, until the block ends."""
    configured = settings.model_copy(update={"bot_api_url": emulator.url, **changes})
    async with _running(emulator, run_polling(configured, polling_timeout=1), emulator.wait_polling):
        yield emulator


@contextlib.asynccontextmanager
async def running_webhook_bot(
    emulator: BotAPIEmulator, settings: Settings, **changes: Any
) -> AsyncIterator[BotAPIEmulator]:
    """The real bot (run_webhook) on a free port of 127.0.0.1, its webhook set on the emulator, until the block ends."""
    port = free_port()
    configured = settings.model_copy(
        update={
            "bot_api_url": emulator.url,
            "webhook_url": f"http://127.0.0.1:{port}/telegram",
            "webhook_secret": WEBHOOK_SECRET,
            "web_host": "127.0.0.1",
            "web_port": port,
            **changes,
        }
    )

    async def hooked() -> None:
        await emulator.wait_for(lambda: "url" in emulator.webhook, 10.0, lambda: "the bot never set its webhook")

    async with _running(emulator, run_webhook(configured), hooked):
        yield emulator


@contextlib.asynccontextmanager
async def running_scheduler(
    emulator: BotAPIEmulator, settings: Settings, port: int, **changes: Any
) -> AsyncIterator[None]:
    """`loyalty-bot scheduler` (run_scheduler) serving on `port` of 127.0.0.1, once it listens, until the block
    ends."""
    configured = settings.model_copy(
        update={"bot_api_url": emulator.url, "web_host": "127.0.0.1", "web_port": port, **changes}
    )

    async def listens() -> None:
        await emulator.wait_for(
            lambda: listening(port), SETTLE_TIMEOUT, lambda: f"the scheduler never listened on {port}"
        )

    async with _running(emulator, run_scheduler(configured), listens):
        yield
