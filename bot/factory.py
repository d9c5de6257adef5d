"""Factories for the Bot (pointed at any Telegram-compatible Bot API) and the Dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import MemberLocaleMiddleware, create_i18n
from bot.isolation import isolation_for
from bot.middlewares import ClockMiddleware, DatabaseMiddleware, MemberMiddleware, UpdateKeyMiddleware
from bot.settings import Settings
from handlers import create_router
from handlers.club import Club
from loyalty.rules import Rules

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def create_bot(settings: Settings) -> Bot:
    """A Bot talking to `BOT_API_URL` (Telegram, Bale, or a local Bot API server)."""
    server = TelegramAPIServer.from_base(settings.bot_api_url)
    return Bot(token=settings.require_token(), session=AiohttpSession(api=server))


def create_storage(settings: Settings) -> BaseStorage:
    """FSM state in Redis when `REDIS_URL` is set (shared by instances), else in memory."""
    if settings.redis_url:
        return RedisStorage.from_url(settings.redis_url)
    return MemoryStorage()


def club_of(settings: Settings) -> Club:
    """What the handlers need to know about the shop."""
    rules = Rules(welcome_bonus=settings.welcome_bonus, expiry_days=settings.points_expiry_days)
    return Club(
        zone=settings.zone, deep_link_url=settings.deep_link_url, rules=rules, owner_ids=frozenset(settings.owner_ids)
    )


def create_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    storage: BaseStorage | None = None,
    clock: Clock = utc_now,
) -> Dispatcher:
    """The dispatcher with its middlewares (clock, update key, database, member, language), one update at a time
    per chat (`bot.isolation`), and the handlers."""
    storage = storage or MemoryStorage()
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation_for(storage), club=club_of(settings))
    dispatcher.update.outer_middleware(ClockMiddleware(clock, settings.zone))
    dispatcher.update.outer_middleware(UpdateKeyMiddleware())
    dispatcher.update.outer_middleware(DatabaseMiddleware(sessions))
    dispatcher.update.outer_middleware(MemberMiddleware())
    dispatcher.update.outer_middleware(MemberLocaleMiddleware(create_i18n(settings.default_language)))
    dispatcher.include_router(create_router())
    return dispatcher
