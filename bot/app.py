"""Starting the bot: check the token, the database and Redis (each failure one line saying what to fix), migrate,
register commands, take updates by long polling or by webhook (`bot.webhook`); the daily jobs and the broadcast
sender run beside them, or alone (`loyalty-bot scheduler`). The web server (`bot.web`: health endpoints, the
webhook, and the Mini App when WEBAPP_URL is set, `bot.webapp`) runs in every mode when WEB_PORT is set.

Stopping (SIGTERM or SIGINT, see `until_stopped`; a cancel in tests) is clean in every mode: no more updates are
taken (polling stops, the web server stops listening), the updates in hand get `UPDATES_GRACE` seconds to finish,
the sender releases its lease and the daily jobs stop (one still running `JOB_GRACE` seconds later is cut short and
lets its run go), so another instance takes over at once; then the connections are closed and the command exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable
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
from bot.chat_state import chat_forgetter
from bot.factory import club_of, create_bot, create_dispatcher, create_storage, utc_now
from bot.health import Readiness
from bot.i18n import create_i18n
from bot.inflight import InHand
from bot.metrics import Metrics
from bot.metrics import add_routes as metrics_route
from bot.proxy import shown
from bot.redelivery import HandledOnce, marks_for
from bot.settings import Settings, SettingsError
from bot.web import AddRoutes, create_app, serving
from bot.webapp.context import WebApp
from bot.webapp.menu import set_menu_button
from bot.webapp.mount import add_routes as webapp_routes
from bot.webhook import WebhookHandler, set_webhook, webhook_routes
from handlers.menus import register_commands, register_staff_commands
from scheduler import jobs as daily
from scheduler.jobs import Jobs, create_scheduler
from scheduler.sender import Sender
from storage.backup import NightlyBackups
from storage.database import create_engine, session_factory
from storage.migrate import upgrade

logger = logging.getLogger(__name__)

STORE_TIMEOUT = 5.0  # seconds to wait for Redis's answer at start
# seconds a stopping bot gives the updates in hand, then a running daily job: together within the 10 s that Docker
# and systemd wait after SIGTERM before they kill
UPDATES_GRACE = 5.0
JOB_GRACE = 3.0
YOUNG_COLLECTION = 20_000  # new objects between two collections of the youngest generation (Python's default: 700)


async def check_bot_api(bot: Bot, api_url: str, *, proxy_url: str | None = None) -> str:
    """Ask the Bot API who we are; a rejected token or an unreachable server (or proxy) becomes a SettingsError."""
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise SettingsError("The Bot API rejected BOT_TOKEN: check the token with @BotFather.") from None
    except TelegramNetworkError as error:
        if proxy_url:
            raise SettingsError(
                f"Cannot reach the Bot API at {api_url} through the proxy at {shown(proxy_url)} ({error.message}): "
                "check PROXY_URL and that the proxy is running."
            ) from None
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


async def poll(dispatcher: Dispatcher, bot: Bot, *, polling_timeout: int) -> None:
    """Long-poll until stopped; cancelling stops aiogram's polling cleanly first (cancelling start_polling
    alone leaves its polling task running, with the bot's session)."""
    polling = asyncio.ensure_future(  # the caller closes the bot's session, after the updates in hand
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=polling_timeout, close_bot_session=False)
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
    bot: Bot,
    i18n: I18n,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    metrics: Metrics,
    storage: BaseStorage,
) -> AsyncIterator[Sender]:
    """The daily jobs (erasing a member clears their chat's state in `storage`) and the broadcast sender (its sends
    counted), running while the block runs (which gets the sender)."""
    backups = NightlyBackups(settings.database_url, settings.backup_dir, settings.backup_keep)
    jobs = Jobs(
        i18n,
        sessions,
        club_of(settings).rules,
        utc_now,
        settings.zone,
        settings.owner_ids,
        backups=backups,
        forget_chat=chat_forgetter(storage, bot.id),
    )
    scheduler = create_scheduler(jobs)
    scheduler.start()
    stop = asyncio.Event()
    sender = create_sender(bot, i18n, sessions, settings, metrics)
    sending = asyncio.create_task(sender.run(stop))
    try:
        yield sender
    finally:
        stop.set()
        sending.cancel()  # rows on their way stay leased and are sent again after the lease, never lost
        with contextlib.suppress(asyncio.CancelledError):
            await sending  # it released the sender lease
        await daily.stop(scheduler, jobs, JOB_GRACE)


@dataclass(frozen=True)
class Running:
    """A started bot: its Bot API client, name, texts, database, conversation state, broadcast sender and metrics."""

    bot: Bot
    username: str
    i18n: I18n
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: BaseStorage
    sender: Sender
    metrics: Metrics


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Running]:
    """Check the token, the database and Redis, migrate, and run the daily jobs and the broadcast sender while the
    block runs; one `Metrics` for the process (`bot.metrics`)."""
    metrics = Metrics()
    bot = create_bot(settings, metrics=metrics)
    engine = create_engine(settings.database_url)
    storage = create_storage(settings)
    try:
        username = await check_bot_api(bot, settings.bot_api_url, proxy_url=settings.proxy_url)
        await check_database(engine)
        await check_storage(storage, settings.redis_url)
        await upgrade(engine)
        i18n = create_i18n(settings.default_language)
        sessions = session_factory(engine)
        metrics.watch_database(sessions, settings.zone)
        async with background(bot, i18n, sessions, settings, metrics, storage) as sender:
            yield Running(bot, username, i18n, engine, sessions, storage, sender, metrics)
    finally:
        await bot.session.close()
        await storage.close()
        await engine.dispose()


@contextlib.asynccontextmanager
async def web_server(settings: Settings, running: Running, *more: AddRoutes) -> AsyncIterator[None]:
    """The web server (health endpoints, the metrics, the Mini App when WEBAPP_URL is set, and `more` routes) while
    the block runs, when it has a port to listen on."""
    port = settings.listen_port
    if port is None:
        yield
        return
    readiness = Readiness(running.engine, running.storage, running.bot, running.sender)
    metrics_routes = functools.partial(metrics_route, metrics=running.metrics)
    routes = (metrics_routes, *mini_app(settings, running), *more)
    async with serving(create_app(readiness, *routes), settings.web_host, port, UPDATES_GRACE):
        yield


def mini_app(settings: Settings, running: Running) -> tuple[AddRoutes, ...]:
    """The Mini App's routes at WEBAPP_URL's path (`bot.webapp`), or none without WEBAPP_URL."""
    if settings.webapp_path is None:
        return ()
    webapp = WebApp(running.bot, running.sessions, running.i18n, club_of(settings), utc_now)
    return (functools.partial(webapp_routes, webapp=webapp, path=settings.webapp_path),)


@contextlib.asynccontextmanager
async def answering(settings: Settings, running: Running, dispatcher: Dispatcher) -> AsyncIterator[Bot]:
    """The bot that answers updates (it waits out flood control; the sender paces itself), with the commands
    registered; at the end of the block the updates in hand are finished, then its session closed."""
    in_hand = InHand()
    in_hand.install(dispatcher)
    bot = create_bot(settings, patient=True, metrics=running.metrics)
    try:
        await register_commands(bot, running.i18n)
        await register_staff_commands(bot, running.i18n, running.sessions, settings.owner_ids)
        if settings.webapp_url:
            await set_menu_button(bot, running.i18n, settings.webapp_url)
        freeze_start_up_objects()
        yield bot
    finally:
        await in_hand.finish(UPDATES_GRACE)
        await bot.session.close()


def freeze_start_up_objects() -> None:
    """Exempt what start-up built from garbage collection, and collect the young less often.

    The modules, aiogram's and pydantic's models, the catalogs and the dispatcher are some 365,000 objects that live
    as long as the process, and each full collection walked them all again while updates were handled (a fifth of
    the CPU an update cost in `bench.e2e`). An update then makes some thousands of objects (models, the session's
    states, the request), almost all freed as soon as it is answered; Python's default of a young collection every
    700 new objects walked the updates in hand several times each and moved them to the older generations, to be
    walked there again: 5% of the instructions of a /balance (`BENCHMARKS.md`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


async def run_polling(settings: Settings, *, polling_timeout: int = 10) -> None:
    """Run the bot with long polling, the daily jobs and the broadcast sender, until cancelled."""
    async with started(settings) as running:
        dispatcher = create_dispatcher(
            settings, running.sessions, running.storage, sender=running.sender, metrics=running.metrics
        )
        async with answering(settings, running, dispatcher) as bot, web_server(settings, running):
            await bot.delete_webhook(drop_pending_updates=False)  # a webhook left set would refuse getUpdates
            logger.info("@%s is up; polling %s", running.username, settings.bot_api_url)
            await poll(dispatcher, bot, polling_timeout=polling_timeout)


async def run_webhook(settings: Settings) -> None:
    """Run the bot taking updates by webhook at WEBHOOK_URL (`bot.webhook`), with the daily jobs and the broadcast
    sender, until cancelled."""
    url, secret = str(settings.webhook_url), settings.require_webhook_secret()
    async with started(settings) as running:
        dispatcher = create_dispatcher(
            settings, running.sessions, running.storage, sender=running.sender, metrics=running.metrics
        )
        dispatcher.update.outer_middleware(HandledOnce(marks_for(running.storage)))
        async with answering(settings, running, dispatcher) as bot:
            routes = webhook_routes(WebhookHandler(dispatcher, bot, secret), url)
            async with web_server(settings, running, routes):
                await set_webhook(bot, dispatcher, url, secret)  # once listening: updates may come at once
                logger.info("@%s is up; updates come by webhook to %s", running.username, url)
                await asyncio.Event().wait()


async def run_bot(settings: Settings) -> None:
    """Run the bot, taking updates by webhook when WEBHOOK_URL is set, else by long polling, until cancelled."""
    await (run_webhook(settings) if settings.webhook_url else run_polling(settings))


async def run_scheduler(settings: Settings) -> None:
    """Run only the daily jobs and the broadcast sender (no updates), until cancelled."""
    async with started(settings) as running, web_server(settings, running):
        logger.info("@%s: the daily jobs and the broadcast sender are up", running.username)
        await asyncio.Event().wait()


async def until_stopped(work: Awaitable[None]) -> None:
    """Run `work` until it ends or SIGTERM or SIGINT comes, which cancels it: its clean stop (see the module's
    docstring). A stop by signal ends normally."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()

    def on_signal(number: signal.Signals) -> None:
        logger.info("%s: stopping", number.name)
        signalled.set()
        task.cancel()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number)
    try:
        await task
    except asyncio.CancelledError:
        if not signalled.is_set():
            raise
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)


async def migrate(settings: Settings) -> None:
    """Apply pending migrations to DATABASE_URL."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
