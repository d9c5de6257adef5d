"""Starting the bot: migrate, check the token against the Bot API, register commands, poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

from bot.broadcasts import create_sender
from bot.commands import register_commands
from bot.factory import club_of, create_bot, create_dispatcher, create_storage, utc_now
from bot.i18n import create_i18n
from bot.settings import Settings, SettingsError
from handlers.replies import tier_name
from scheduler.jobs import create_scheduler
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


async def run_polling(settings: Settings, *, handle_signals: bool = True, polling_timeout: int = 10) -> None:
    """Run the bot with long polling until interrupted (or cancelled, when signals are left to the caller)."""
    bot = create_bot(settings)
    engine = create_engine(settings.database_url)
    try:
        username = await check_bot_api(bot, settings.bot_api_url)
        await upgrade(engine)
        sessions = session_factory(engine)
        dispatcher = create_dispatcher(settings, sessions, create_storage(settings))
        i18n = create_i18n(settings.default_language)
        await register_commands(bot, i18n)
        jobs = create_scheduler(bot, i18n, sessions, club_of(settings).rules, utc_now, tier_name, settings.zone)
        jobs.start()
        stop = asyncio.Event()
        sending = asyncio.create_task(create_sender(bot, i18n, sessions, settings).run(stop))
        logger.info("@%s is up; polling %s", username, settings.bot_api_url)
        try:
            await poll(dispatcher, bot, handle_signals=handle_signals, polling_timeout=polling_timeout)
        finally:
            stop.set()
            sending.cancel()  # rows on their way stay leased and are sent again after the lease, never lost
            with contextlib.suppress(asyncio.CancelledError):
                await sending
            jobs.shutdown(wait=False)
    finally:
        await bot.session.close()
        await engine.dispose()


async def migrate(settings: Settings) -> None:
    """Apply pending migrations to DATABASE_URL."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
