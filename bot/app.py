"""Starting the bot: check the token, the database and Redis (each failure one line saying what to fix), migrate,
register commands, poll; the daily jobs and the broadcast sender run beside polling, or alone
(`loyalty-bot scheduler`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.utils.i18n import I18n
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcasts import create_sender
from bot.factory import club_of, create_bot, create_dispatcher, create_storage, utc_now
from bot.i18n import create_i18n
from bot.settings import Settings, SettingsError
from handlers.menus import register_commands, register_staff_commands
from scheduler.jobs import Jobs, create_scheduler
from scheduler.sender import Sender
from storage.backup import NightlyBackups
from storage.database import create_engine, session_factory
from storage.migrate import upgrade

logger = logging.getLogger(__name__)

STORE_TIMEOUT = 5.0  # seconds to wait for Redis's answer at start


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


async def check_database(engine: AsyncEngine) -> None:
    """Open the database once; one that cannot be opened becomes a SettingsError saying what to fix."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError) as error:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise SettingsError(
            f"Cannot open the database at {where} ({reason}): check DATABASE_URL and that the database is running."
        ) from None


async def check_storage(storage: BaseStorage, redis_url: str | None) -> None:
    """Ask Redis for a pong when the conversation state lives there; no answer becomes a SettingsError."""
    if not isinstance(storage, RedisStorage):
        return
    try:
        await asyncio.wait_for(storage.redis.ping(), STORE_TIMEOUT)
    except (OSError, RedisError, TimeoutError) as error:
        await storage.close()
        where = make_url(str(redis_url)).render_as_string(hide_password=True)
        raise SettingsError(
            f"Cannot reach Redis at {where} ({type(error).__name__}): check REDIS_URL and that Redis is running."
        ) from None


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
) -> AsyncIterator[Sender]:
    """The daily jobs and the broadcast sender, running while the block runs (which gets the sender)."""
    backups = NightlyBackups(settings.database_url, settings.backup_dir, settings.backup_keep)
    daily = Jobs(i18n, sessions, club_of(settings).rules, utc_now, settings.zone, settings.owner_ids, backups=backups)
    jobs = create_scheduler(daily)
    jobs.start()
    stop = asyncio.Event()
    sender = create_sender(bot, i18n, sessions, settings)
    sending = asyncio.create_task(sender.run(stop))
    try:
        yield sender
    finally:
        stop.set()
        sending.cancel()  # rows on their way stay leased and are sent again after the lease, never lost
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        jobs.shutdown(wait=False)


@dataclass(frozen=True)
class Running:
    """A started bot: its Bot API client, name, texts, database sessions, conversation state and broadcast sender."""

    bot: Bot
    username: str
    i18n: I18n
    sessions: async_sessionmaker[AsyncSession]
    storage: BaseStorage
    sender: Sender


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Running]:
    """Check the token, the database and Redis, migrate, and run the daily jobs and the broadcast sender while the
    block runs."""
    bot = create_bot(settings)
    engine = create_engine(settings.database_url)
    storage = create_storage(settings)
    try:
        username = await check_bot_api(bot, settings.bot_api_url)
        await check_database(engine)
        await check_storage(storage, settings.redis_url)
        await upgrade(engine)
        i18n = create_i18n(settings.default_language)
        sessions = session_factory(engine)
        async with background(bot, i18n, sessions, settings) as sender:
            yield Running(bot, username, i18n, sessions, storage, sender)
    finally:
        await bot.session.close()
        await storage.close()
        await engine.dispose()


async def run_polling(settings: Settings, *, handle_signals: bool = True, polling_timeout: int = 10) -> None:
    """Run the bot with long polling, the daily jobs and the broadcast sender, until interrupted (or cancelled,
    when signals are left to the caller)."""
    async with started(settings) as running:
        dispatcher = create_dispatcher(settings, running.sessions, running.storage, sender=running.sender)
        answering = create_bot(settings, patient=True)  # the sender paces itself; replies wait out flood control
        try:
            await register_commands(answering, running.i18n)
            await register_staff_commands(answering, running.i18n, running.sessions, settings.owner_ids)
            logger.info("@%s is up; polling %s", running.username, settings.bot_api_url)
            await poll(dispatcher, answering, handle_signals=handle_signals, polling_timeout=polling_timeout)
        finally:
            await answering.session.close()


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
