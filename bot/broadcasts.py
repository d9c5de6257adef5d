"""The broadcast sender in the bot process: drains the outbox and keeps each campaign's progress message current."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from bot.settings import Settings
from handlers.staff.campaigns.view import campaign_view
from loyalty import campaigns
from loyalty.campaigns import Progress
from scheduler.sender import TEHRAN, Clock, ProgressHook, QuietHours, Sender, SenderConfig, telegram_send, utc_now
from texts.progress import FINISHED
from texts.shop import shop_names
from texts.tiers import tier_names

logger = logging.getLogger(__name__)

FINAL_TRIES = 3  # tries of a campaign's final report that meets flood answers (a live figure is just skipped)


def create_sender(
    bot: Bot,
    i18n: I18n,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    metrics: Metrics | None = None,
) -> Sender:
    """A sender at the configured rate, quiet at night in the shop's time zone, with tier names and the shop's
    neutral name translated; with `metrics`, its sends are counted."""
    config = SenderConfig(rate=settings.broadcast_rate, quiet=QuietHours(zone=settings.zone))
    send = telegram_send(bot)
    return Sender(
        sessions,
        metrics.counted(send) if metrics is not None else send,
        config,
        tier_names=tier_names(i18n),
        shop_names=shop_names(i18n),
        on_progress=progress_reporter(bot, i18n, sessions, zone=settings.zone),
    )


def progress_reporter(
    bot: Bot,
    i18n: I18n,
    sessions: async_sessionmaker[AsyncSession],
    *,
    zone: ZoneInfo = TEHRAN,
    clock: Clock = utc_now,
) -> ProgressHook:
    """Edit the campaign's progress message (in the shop's default language) with the latest figures, keeping the
    buttons its state allows (pause, resume, cancel); a final report that meets a flood answer waits and goes again."""

    async def report(progress: Progress) -> None:
        if progress.report_chat_id is None or progress.report_message_id is None:
            return
        async with sessions() as session:
            campaign = await campaigns.get(session, progress.campaign_id)
        with i18n.context():
            text, markup = campaign_view(campaign, progress, clock(), zone)
        tries = FINAL_TRIES if progress.state in FINISHED else 1
        for attempt in range(1, tries + 1):
            try:
                await bot.edit_message_text(
                    text, chat_id=progress.report_chat_id, message_id=progress.report_message_id, reply_markup=markup
                )
            except TelegramRetryAfter as error:  # the staff chat's own limit: the next live figure will do
                logger.info("progress of campaign %s waits %s s: %s", progress.campaign_id, error.retry_after, error)
                if attempt < tries:
                    await asyncio.sleep(error.retry_after)
                continue
            except TelegramAPIError as error:  # unchanged figures, or the message was deleted
                logger.debug("progress of campaign %s not shown: %s", progress.campaign_id, error)
            return

    return report
