"""Joining the club and editing a profile, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger, members
from loyalty.errors import InvalidName, PhoneTaken
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage import repositories
from storage.models import LedgerEntry, Member, PointLot
from tests.factories import NOW, RULES, imported_member, profile

PHONE = "+989121234567"
HOUR = timedelta(hours=1)
Sessions = async_sessionmaker[AsyncSession]


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_joining_makes_a_member_and_credits_the_welcome_bonus_as_a_ledger_entry(session: AsyncSession) -> None:
    joined = await members.join(session, PHONE, profile(birthday=date(1996, 9, 21)), RULES, Stamp(42, "k", NOW))

    assert not joined.already_member
    assert joined.bonus == 100
    assert joined.member.balance == 100
    entry = await session.scalar(select(LedgerEntry))
    assert (entry.kind, entry.reason, entry.points) == ("bonus", "welcome", 100)
    lot = await session.scalar(select(PointLot))
    assert lot.remaining == 100 and lot.expires_at.year == 2027


async def test_a_newcomer_is_a_member_from_the_moment_of_their_joining_not_of_the_clock(session: AsyncSession) -> None:
    joined_at = NOW - 200 * 24 * HOUR

    joined = await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", joined_at))

    stored = await session.scalar(select(Member.created_at).where(Member.id == joined.member.id))
    assert stored == joined_at


async def test_joining_twice_credits_the_bonus_once(session: AsyncSession) -> None:
    await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))
    again = await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))

    assert again.already_member and again.bonus == 0
    assert await count(session, LedgerEntry) == 1
    assert (await session.scalar(select(Member.balance))) == 100


async def test_no_bonus_when_the_owner_sets_none(session: AsyncSession) -> None:
    joined = await members.join(session, PHONE, profile(), Rules(welcome_bonus=0), Stamp(42, "k", NOW))
    assert joined.bonus == 0 and joined.member.balance == 0
    assert await count(session, LedgerEntry) == 0


async def test_an_imported_phone_is_linked_not_duplicated(session: AsyncSession) -> None:
    imported = await imported_member(session, PHONE)

    joined = await members.join(session, PHONE, profile(name="Sara"), RULES, Stamp(42, "k", NOW))

    assert joined.member.id == imported.id
    assert joined.member.telegram_id == 42 and joined.member.first_name == "Sara"
    assert await count(session, Member) == 1


async def test_a_phone_linked_to_another_account_is_refused_and_nothing_is_written(session: AsyncSession) -> None:
    await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))

    with pytest.raises(PhoneTaken):
        await members.ensure_phone_free(session, PHONE, 43)
    with pytest.raises(PhoneTaken):
        await members.join(session, PHONE, profile(), RULES, Stamp(43, "k", NOW))
    assert await count(session, Member) == 1
    assert await count(session, LedgerEntry) == 1


async def test_simultaneous_joins_of_one_account_make_one_member(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def join_once() -> members.Joined:
        async with sessions() as session:
            return await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))

    results = await asyncio.gather(*(join_once() for _ in range(5)), return_exceptions=True)

    assert not [result for result in results if isinstance(result, BaseException)]
    async with sessions() as session:
        assert await count(session, Member) == 1
        assert await count(session, LedgerEntry) == 1
        assert await session.scalar(select(Member.balance)) == 100


async def test_balance_shows_the_soonest_expiring_points(session: AsyncSession) -> None:
    member = (await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))).member

    summary = await ledger.balance(session, member, NOW)

    assert (summary.points, summary.tier, summary.expiring_points) == (100, "bronze", 100)
    assert summary.expires_at is not None and summary.expires_at.date() == date(2027, 11, 22)


async def test_profile_edits_are_saved_and_unknown_fields_refused(session: AsyncSession) -> None:
    member = (await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))).member

    await members.update_member(session, member, first_name="Sima", news_consent=True)
    with pytest.raises(ValueError):
        await members.update_member(session, member, balance=10**6)

    await session.refresh(member)
    assert (member.first_name, member.news_consent, member.balance) == ("Sima", True, 100)


async def stopped_and_blocked(sessions: Sessions) -> int:
    """A member who sent /stop and then blocked the bot; their id."""
    async with sessions() as session:
        member = (await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))).member
        await session.execute(update(Member).values(stopped=True, unreachable=True))
        await session.commit()
        return member.id


async def flags(sessions: Sessions, member_id: int) -> tuple[bool, bool]:
    async with sessions() as session:
        member = await session.get_one(Member, member_id)
        return member.stopped, member.unreachable


async def test_a_member_back_on_start_is_resumed_and_reachable_again(sessions: Sessions) -> None:
    member_id = await stopped_and_blocked(sessions)
    async with sessions() as session:
        member = await session.get_one(Member, member_id)
        assert await members.welcome_back(session, member) is True
        assert await members.welcome_back(session, member) is False  # nothing left to undo
    assert await flags(sessions, member_id) == (False, False)


async def test_a_welcome_back_that_fails_leaves_the_member_as_they_were(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    member_id = await stopped_and_blocked(sessions)

    async def broken(*args: object) -> bool:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(repositories, "mark_reachable", broken)
    async with sessions() as session:
        with pytest.raises(ConnectionError):
            await members.welcome_back(session, await session.get_one(Member, member_id))
    assert await flags(sessions, member_id) == (True, True)  # not resumed without being reachable


async def out_of_reach_since(sessions: Sessions, member_id: int) -> datetime | None:
    async with sessions() as session:
        return (await session.get_one(Member, member_id)).out_of_reach_since


async def test_stop_notes_since_when_and_start_clears_it(sessions: Sessions) -> None:
    async with sessions() as session:
        member = (await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))).member
        await members.stop(session, member, NOW)
    assert await out_of_reach_since(sessions, member.id) == NOW
    async with sessions() as session:
        await repositories.mark_unreachable(session, [member.id], NOW + HOUR)  # the earlier moment stays
        await session.commit()
    assert await out_of_reach_since(sessions, member.id) == NOW
    async with sessions() as session:
        assert await members.welcome_back(session, await session.get_one(Member, member.id))
    assert await out_of_reach_since(sessions, member.id) is None


async def test_a_send_finding_a_member_unreachable_notes_since_when_until_they_are_reachable(
    sessions: Sessions,
) -> None:
    async with sessions() as session:
        member = (await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))).member
        await repositories.mark_unreachable(session, [member.id], NOW)
        await session.commit()
    assert await out_of_reach_since(sessions, member.id) == NOW
    async with sessions() as session:
        assert await repositories.mark_reachable(session, 42)
        await session.commit()
    assert await out_of_reach_since(sessions, member.id) is None


async def test_a_stopped_member_reachable_again_is_still_out_of_reach(sessions: Sessions) -> None:
    async with sessions() as session:
        member = (await members.join(session, PHONE, profile(), RULES, Stamp(42, "k", NOW))).member
        await repositories.mark_unreachable(session, [member.id], NOW)
        await session.commit()
    async with sessions() as session:
        await members.stop(session, await session.get_one(Member, member.id), NOW + HOUR)
        assert await repositories.mark_reachable(session, 42)
        await session.commit()
    assert await out_of_reach_since(sessions, member.id) == NOW


@pytest.mark.parametrize(("typed", "reason"), [("   ", "empty"), ("x" * 65, "too_long"), ("1234", "not_a_name")])
def test_names_that_are_not_names_are_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidName) as refused:
        members.clean_name(typed)
    assert refused.value.reason == reason


def test_names_are_trimmed_and_spaces_folded() -> None:
    assert members.clean_name("  Sara   Ahmadi ") == "Sara Ahmadi"


async def test_a_birthday_is_stored_with_its_month_and_day_in_its_own_calendar(session: AsyncSession) -> None:
    born = date(1996, 11, 21)  # 1 Azar 1375
    answers = profile("Sara", birthday=born, birthday_calendar="jalali")
    member = (await members.join(session, "+989121234567", answers, RULES, Stamp(42, "k", NOW))).member
    assert member.birthday_md == 901
    await members.update_member(session, member, birthday_calendar="gregorian")
    assert member.birthday_md == 1121
    await members.update_member(session, member, birthday=None)
    assert member.birthday_md is None
