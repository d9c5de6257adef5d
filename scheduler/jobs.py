"""Daily jobs in the bot process: expire due points at night, review tiers and announce the changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger, rules, tiers
from loyalty.rules import Rules

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


async def expire_points(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Expire every lot that is due; returns the points expired."""
    async with sessions() as session:
        expired = await ledger.expire_due(session, clock())
    logger.info("expired %s points", expired)
    return expired


async def review_tiers(
    bot: Bot,
    i18n: I18n,
    sessions: async_sessionmaker[AsyncSession],
    defaults: Rules,
    clock: Clock,
    tier_names: Callable[[str], str],
) -> list[tiers.TierChange]:
    """Move members between tiers by their spend in the window, and tell each one in their language."""
    async with sessions() as session:
        changes = await tiers.review(session, await rules.current(session, defaults), clock())
    for change in changes:
        if change.telegram_id is None:
            continue
        with i18n.context(), i18n.use_locale(change.language):
            key = "member.tier_up" if change.upgrade else "member.tier_down"
            text = i18n.gettext(key).format(tier=tier_names(change.new))
        try:
            await bot.send_message(change.telegram_id, text)
        except TelegramAPIError as error:
            logger.info("could not announce a tier change to member %s: %s", change.member_id, error)
    return changes


def create_scheduler(
    bot: Bot,
    i18n: I18n,
    sessions: async_sessionmaker[AsyncSession],
    defaults: Rules,
    clock: Clock,
    tier_names: Callable[[str], str],
    zone: object,
) -> AsyncIOScheduler:
    """The daily jobs at night, shop time; a run missed while the bot was down runs when it is back that day."""
    scheduler = AsyncIOScheduler(timezone=zone)
    day = 24 * 3600
    scheduler.add_job(
        expire_points,
        CronTrigger(hour=3, timezone=zone),
        args=[sessions, clock],
        id="expire_points",
        misfire_grace_time=day,
        coalesce=True,
        replace_existing=True,
    )
    scheduler.add_job(
        review_tiers,
        CronTrigger(hour=4, timezone=zone),
        args=[bot, i18n, sessions, defaults, clock, tier_names],
        id="review_tiers",
        misfire_grace_time=day,
        coalesce=True,
        replace_existing=True,
    )
    return scheduler
