"""The daily jobs: points expire at night, tiers are reviewed and the changes announced in each member's language."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from handlers.replies import tier_name
from loyalty import purchases
from loyalty.rules import Rules
from scheduler.jobs import expire_points, review_tiers
from storage.models import Member
from tests.factories import NOW, imported_member
from tests.stub_bot import stub_bot

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)


async def member_with_big_purchase(sessions: Sessions, telegram_id: int, language: str) -> int:
    async with sessions() as session:
        member = await imported_member(session, f"+9891200000{telegram_id:02d}")
        member.telegram_id, member.language = telegram_id, language
        await session.commit()
        await purchases.record_purchase(
            session,
            Rules(),
            member_id=member.id,
            amount=30_000_000,
            receipt=f"R{telegram_id}",
            staff_id=1,
            update_id=telegram_id,
            now=NOW,
        )
        return member.id


async def test_a_year_later_members_are_moved_down_and_told(sessions: Sessions) -> None:
    persian = await member_with_big_purchase(sessions, 11, "fa")
    english = await member_with_big_purchase(sessions, 12, "en")
    bot, recording = stub_bot()
    changes = await review_tiers(bot, create_i18n("fa"), sessions, Rules(), lambda: NOW + 400 * DAY, tier_name)
    assert {(change.member_id, change.old, change.new) for change in changes} == {
        (persian, "silver", "bronze"),
        (english, "silver", "bronze"),
    }
    sent = {method.chat_id: method.text for method in recording.requests if isinstance(method, SendMessage)}
    assert "برنزی" in sent[11] and "Your tier is now Bronze" in sent[12]
    async with sessions() as session:
        assert (await session.get(Member, persian)).tier == "bronze"
    assert await review_tiers(bot, create_i18n("fa"), sessions, Rules(), lambda: NOW + 401 * DAY, tier_name) == []


async def test_the_night_job_expires_points_once(sessions: Sessions) -> None:
    member_id = await member_with_big_purchase(sessions, 13, "fa")
    assert await expire_points(sessions, lambda: NOW + 366 * DAY) == 3_000
    assert await expire_points(sessions, lambda: NOW + 367 * DAY) == 0
    async with sessions() as session:
        assert (await session.get(Member, member_id)).balance == 0
