"""Starting the bot: migrate, check the token against the Bot API, register commands, poll; the daily jobs and
the broadcast sender run beside polling, or alone (`loyalty-bot scheduler`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import create_sender
from bot.factory import club_of, create_bot, create_dispatcher, create_storage, utc_now
from bot.i18n import create_i18n
from bot.settings import Settings, SettingsError
from handlers.menus import register_commands, register_staff_commands
from handlers.replies import tier_name
from scheduler.jobs import Jobs, create_scheduler
from storage.database import create_engine, session_factory
from storage.migrate import upgrade

logger = logging.getLogger(__name__)


async def check_bot_api(bot: Bot, api_url: str) -> str:
    """Ask the Bot API who we are; a rejected token or an unreachable server becomes a SettingsError."""
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise SettingsError("The Bot API rejected BOT_TOKEN: check the token with @BotFather.") from None
    except TelegramNetworkError:
        raise SettingsError(
            f"Cannot reach the Bot API at {api_url}: check BOT_API_URL and the network connection."
        ) from None
    return me.username or str(me.id)


async def poll(dispatcher: Dispatcher, bot: Bot, *, handle_signals: bool, polling_timeout: int) -> None:
    """Long-poll until stopped; cancelling stops aiogram's polling cleanly first (cancelling start_polling
    alone leaves its polling task running, with the bot's session)."""
    polling = asyncio.ensure_future(
        dispatcher.start_polling(bot, handle_signals=handle_signals, polling_timeout=polling_timeout)
    )
    try:
        await asyncio.shield(polling)
    except asyncio.CancelledError:
        try:
            await dispatcher.stop_polling()
        except RuntimeError:  # cancelled before polling started
            polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        raise


@contextlib.asynccontextmanager
async def background(
    bot: Bot, i18n: I18n, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[None]:
    """The daily jobs and the broadcast sender, running while the block runs."""
    jobs = create_scheduler(Jobs(bot, i18n, sessions, club_of(settings).rules, utc_now, tier_name, settings.zone))
    jobs.start()
    stop = asyncio.Event()
    sending = asyncio.create_task(create_sender(bot, i18n, sessions, settings).run(stop))
    try:
        yield
    finally:
        stop.set()
        sending.cancel()  # rows on their way stay leased and are sent again after the lease, never lost
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        jobs.shutdown(wait=False)


@dataclass(frozen=True)
class Running:
    """A started bot: its Bot API client, name, texts and database sessions."""

    bot: Bot
    username: str
    i18n: I18n
    sessions: async_sessionmaker[AsyncSession]


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Running]:
    """Check the token, migrate, and run the daily jobs and the broadcast sender while the block runs."""
    bot = create_bot(settings)
    engine = create_engine(settings.database_url)
    try:
        username = await check_bot_api(bot, settings.bot_api_url)
        await upgrade(engine)
        running = Running(bot, username, create_i18n(settings.default_language), session_factory(engine))
        async with background(bot, running.i18n, running.sessions, settings):
            yield running
    finally:
        await bot.session.close()
        await engine.dispose()


async def run_polling(settings: Settings, *, handle_signals: bool = True, polling_timeout: int = 10) -> None:
    """Run the bot with long polling, the daily jobs and the broadcast sender, until interrupted (or cancelled,
    when signals are left to the caller)."""
    async with started(settings) as running:
        dispatcher = create_dispatcher(settings, running.sessions, create_storage(settings))
        await register_commands(running.bot, running.i18n)
        await register_staff_commands(running.bot, running.i18n, running.sessions, settings.owner_ids)
        logger.info("@%s is up; polling %s", running.username, settings.bot_api_url)
        await poll(dispatcher, running.bot, handle_signals=handle_signals, polling_timeout=polling_timeout)


async def run_scheduler(settings: Settings) -> None:
    """Run only the daily jobs and the broadcast sender (no polling), until interrupted or cancelled."""
    async with started(settings) as running:
        logger.info("@%s: the daily jobs and the broadcast sender are up", running.username)
        await asyncio.Event().wait()


async def migrate(settings: Settings) -> None:
    """Apply pending migrations to DATABASE_URL."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
