"""What the Mini App's routes need (`WebApp`), kept on its application under `WEBAPP`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.webapp.auth import MAX_AGE
from handlers.club import Club

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WebApp:
    """The bot (its token signs initData; its name makes the cards' links), the database, the texts, the shop, the
    clock, and how long a page's initData stays good."""

    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    club: Club
    clock: Clock
    max_age: timedelta = MAX_AGE


WEBAPP = web.AppKey("webapp", WebApp)
