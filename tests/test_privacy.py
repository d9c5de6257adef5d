"""Keeping members' personal data no longer than the owner says: the daily job erases, as /forgetme does, the members
who stopped the bot or cannot be reached and did nothing with the club for longer than the owner's days; the owner
sets those days in /settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import club_of
from bot.i18n import create_i18n
from bot.settings import Settings
from loyalty import members, privacy, rules, vouchers
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind, Worth
from scheduler.jobs import DAILY, Jobs, forget_inactive
from storage.database import write_transaction
from storage.models import AuditEntry, LedgerEntry, Member, Voucher
from tests.chat import Chat
from tests.factories import NOW, add_members, joined_member, member_row, new_reward
from tests.people import owner_chat

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)
LONG_AGO = NOW - 400 * DAY


def jobs_on(sessions: Sessions, **club: object) -> Jobs:
    return Jobs(create_i18n("fa"), sessions, Rules(**club), lambda: NOW, ZoneInfo("Asia/Tehran"))  # type: ignore[arg-type]


async def five_members(sessions: Sessions) -> None:
    """All joined long ago and did nothing since: 1 stopped and 2 unreachable long ago; 3 stopped long ago but bought
    ten days ago; 4 active; 5 stopped only lately."""
    joined = {"joined_at": LONG_AGO, "created_at": LONG_AGO}
    rows = [
        member_row(1, stopped=True, out_of_reach_since=LONG_AGO, **joined),
        member_row(2, unreachable=True, out_of_reach_since=LONG_AGO, **joined),
        member_row(3, stopped=True, out_of_reach_since=LONG_AGO, **joined),
        member_row(4, **joined),
        member_row(5, stopped=True, out_of_reach_since=NOW - 100 * DAY, **joined),
    ]
    async with sessions() as session:
        await add_members(session, rows)
        entry = {"member_id": 3, "kind": "earn", "points": 0, "reason": "purchase", "idempotency_key": "t:3"}
        await session.execute(insert(LedgerEntry), [entry | {"created_at": NOW - 10 * DAY}])
        await session.commit()


async def erased(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        return list(
            await session.scalars(select(Member.id).where(Member.forgotten_at.is_not(None)).order_by(Member.id))
        )


async def test_the_job_erases_only_stopped_or_unreachable_members_idle_past_the_limit(sessions: Sessions) -> None:
    await five_members(sessions)
    assert await forget_inactive(jobs_on(sessions, privacy_retention_days=365), NOW) == 2
    assert await erased(sessions) == [1, 2]
    async with sessions() as session:
        gone = await session.get(Member, 1)
        assert (
            gone is not None
            and gone.telegram_id is None
            and gone.first_name == ""
            and gone.phone != member_row(1)["phone"]
        )
    assert await forget_inactive(jobs_on(sessions, privacy_retention_days=365), NOW) == 0  # once


async def test_a_chat_state_that_cannot_be_cleared_leaves_the_member_unerased(sessions: Sessions) -> None:
    await five_members(sessions)

    async def storage_gone(telegram_id: int) -> None:
        raise ConnectionError("Redis went away")

    jobs = replace(jobs_on(sessions, privacy_retention_days=365), forget_chat=storage_gone)
    with pytest.raises(ConnectionError):
        await forget_inactive(jobs, NOW)
    assert await erased(sessions) == []  # tried again after the job's lease


async def test_without_a_limit_personal_data_is_kept(sessions: Sessions) -> None:
    await five_members(sessions)
    assert await forget_inactive(jobs_on(sessions), NOW) == 0
    assert await erased(sessions) == []


def test_the_job_is_one_of_the_daily_jobs() -> None:
    assert "forget_inactive" in [job.name for job in DAILY]


async def test_the_owner_sets_the_days_in_settings(chat_with: MakeChat, sessions: Sessions, settings: Settings) -> None:
    owner = owner_chat(chat_with)
    [menu] = await owner.say("/settings")
    assert "set:ask:privacy_retention_days:" in menu.callback_data() and "kept forever" in menu.text
    await owner.press("set:ask:privacy_retention_days:")
    [reply] = await owner.say("365")
    assert "365 days" in reply.text
    async with sessions() as session:
        assert (await rules.current(session, club_of(settings).rules)).privacy_retention_days == 365


async def test_erasing_blanks_the_phone_in_the_members_audit_entries(session: AsyncSession) -> None:
    walk_in = await members.waiting_member(session, "+989121111111", "fa", Stamp(7, "k", NOW))
    assert await privacy.forget(session, walk_in.id, actor_id=None, now=NOW) is not None
    details = (await session.scalars(select(AuditEntry.details).where(AuditEntry.member_id == walk_in.id))).all()
    assert len(details) == 2 and not any("+989121111111" in text for text in details)
    assert await privacy.forget(session, walk_in.id, actor_id=None, now=NOW) is None  # once


async def test_erasing_cancels_usable_vouchers_and_gives_their_rewards_stock_back(session: AsyncSession) -> None:
    member = (await joined_member(session, 42)).member
    coffee = await new_reward(session, stock=5)
    async with write_transaction(session):
        for expires_at in (NOW + 30 * DAY, NOW - DAY):  # one usable, one expired already
            await vouchers.issue(
                session,
                member_id=member.id,
                title="Coffee",
                worth=Worth(Kind.ITEM),
                expires_at=expires_at,
                now=NOW - 40 * DAY,
                reward_id=coffee.id,
            )
    forgotten = await privacy.forget(session, member.id, actor_id=None, now=NOW)
    assert forgotten is not None and forgotten.vouchers == 1 and forgotten.points == 100
    statuses = await session.scalars(select(Voucher.status).where(Voucher.member_id == member.id).order_by(Voucher.id))
    assert list(statuses) == ["cancelled", "active"]  # the expired one stays expired
    await session.refresh(coffee)
    assert coffee.stock == 6
