"""Factories for the Bot (pointed at any Telegram-compatible Bot API) and the Dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flood import PatientRequests
from bot.i18n import AccountLocaleMiddleware, MemberLocaleMiddleware, create_i18n
from bot.isolation import isolation_for
from bot.logs import watch_updates
from bot.metrics import Metrics
from bot.middlewares import (
    DatabaseMiddleware,
    HandOverMiddleware,
    MemberMiddleware,
    StampMiddleware,
)
from bot.proxy import ProxiedSession
from bot.settings import Settings
from bot.updates import TolerantSession
from handlers import create_router
from handlers.club import Club
from loyalty.rules import Rules
from scheduler.sender import Sender

Clock = Callable[[], datetime]
REDIS_TIMEOUTS = {"socket_connect_timeout": 5, "socket_timeout": 5}  # a Redis gone away fails fast, never hangs


def utc_now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def create_bot(settings: Settings, *, patient: bool = False, metrics: Metrics | None = None) -> Bot:
    """A Bot talking to `BOT_API_URL` (Telegram, Bale, or a local Bot API server), through `PROXY_URL` when set
    (`bot.proxy`), reading getUpdates one update at a time (`bot.updates`); a patient one waits out flood control
    (`bot.flood`), as the bot answering updates must; with `metrics`, its requests are counted (each try of a
    patient one)."""
    api = TelegramAPIServer.from_base(settings.bot_api_url)
    session = ProxiedSession(proxy=settings.proxy_url, api=api) if settings.proxy_url else TolerantSession(api=api)
    if patient:
        session.middleware(PatientRequests())
    if metrics is not None:
        metrics.watch_bot(session)
    return Bot(token=settings.require_token(), session=session)


def create_storage(settings: Settings) -> BaseStorage:
    """FSM state in Redis when `REDIS_URL` is set (shared by instances), else in memory."""
    if settings.redis_url:
        return RedisStorage.from_url(settings.redis_url, connection_kwargs=REDIS_TIMEOUTS)
    return MemoryStorage()


def club_of(settings: Settings) -> Club:
    """What the handlers need to know about the shop."""
    rules = Rules(welcome_bonus=settings.welcome_bonus, expiry_days=settings.points_expiry_days)
    return Club(
        zone=settings.zone,
        deep_link_url=settings.deep_link_url,
        rules=rules,
        owner_ids=frozenset(settings.owner_ids),
        ownerless_contacts=settings.ownerless_contacts,
        webapp_url=settings.webapp_url,
    )


def create_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    storage: BaseStorage | None = None,
    clock: Clock = utc_now,
    sender: Sender | None = None,
    metrics: Metrics | None = None,
) -> Dispatcher:
    """The dispatcher with its middlewares (each update logged, and counted when given `metrics`; clock, update key,
    stamp, database, the notices an update enqueues handed to the bot's `sender`, member, language; every button
    press answered once, after its handler, by aiogram's CallbackAnswerMiddleware), one update at a time per chat
    (`bot.isolation`), and the handlers."""
    storage = storage or MemoryStorage()
    i18n = create_i18n(settings.default_language)
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation_for(storage), club=club_of(settings), i18n=i18n)
    watch_updates(dispatcher)
    if metrics is not None:
        metrics.watch_dispatcher(dispatcher)
    dispatcher.update.outer_middleware(AccountLocaleMiddleware(settings.default_language))
    dispatcher.update.outer_middleware(StampMiddleware(clock, settings.zone))
    dispatcher.update.outer_middleware(DatabaseMiddleware(sessions))
    if sender is not None:
        dispatcher.update.outer_middleware(HandOverMiddleware(sender))
    dispatcher.update.outer_middleware(MemberMiddleware())
    dispatcher.update.outer_middleware(MemberLocaleMiddleware(i18n))
    dispatcher.callback_query.middleware(CallbackAnswerMiddleware())
    dispatcher.include_router(create_router())
    return dispatcher
