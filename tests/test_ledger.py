"""The ledger engine on SQLite and PostgreSQL: lots, expiry, spending order, reversals, idempotency, races."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger
from loyalty.errors import InsufficientPoints
from storage.models import LedgerEntry, LotDraw, Member, PointLot
from tests.factories import NOW
from tests.lookups import books
from tests.steps import give, new_member, take

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)


async def test_spending_draws_the_soonest_expiring_points_first(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 100, "late", NOW, days=300)
    await give(sessions, member_id, 50, "soon", NOW, days=10)
    await take(sessions, member_id, 70, "spend-1", NOW + DAY)
    async with sessions() as session:
        remaining = dict((await session.execute(select(PointLot.points, PointLot.remaining))).all())
        summary = await ledger.balance(session, await session.get(Member, member_id), NOW + DAY)
    assert remaining == {50: 0, 100: 80}
    assert (summary.points, summary.expiring_points, summary.expires_at) == (80, 80, NOW + 300 * DAY)


async def test_expired_points_are_never_spent(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 50, "short", NOW, days=10)
    await give(sessions, member_id, 30, "long", NOW, days=100)
    with pytest.raises(InsufficientPoints) as refused:
        await take(sessions, member_id, 60, "too-much", NOW + 11 * DAY)
    assert (refused.value.available, refused.value.needed) == (30, 60)
    assert await books(sessions, member_id) == (80, 80, 80)  # the refusal wrote nothing, not even the expiry
    posted = await take(sessions, member_id, 30, "all-left", NOW + 11 * DAY)
    assert posted.balance == 0
    assert await books(sessions, member_id) == (0, 0, 0)


async def test_the_nightly_job_expires_due_lots_with_one_entry_per_member(sessions: Sessions) -> None:
    first, second = await new_member(sessions), await new_member(sessions)
    await give(sessions, first, 40, "a1", NOW, days=5)
    await give(sessions, first, 60, "a2", NOW, days=50)
    await give(sessions, second, 25, "b1", NOW, days=3)
    async with sessions() as session:
        assert await ledger.expire_due(session, NOW + 6 * DAY) == 65
        assert await ledger.expire_due(session, NOW + 6 * DAY) == 0
        expiries = (
            await session.execute(select(LedgerEntry.member_id, LedgerEntry.points).where(LedgerEntry.kind == "expire"))
        ).all()
        draws = await session.scalar(select(func.count()).select_from(LotDraw))
    assert sorted(expiries) == sorted([(first, -40), (second, -25)])
    assert draws == 2
    assert await books(sessions, first) == (60, 60, 60)
    assert await books(sessions, second) == (0, 0, 0)


async def test_the_same_key_credits_and_spends_once(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    assert not (await give(sessions, member_id, 100, "gift", NOW, days=30)).duplicate
    again = await give(sessions, member_id, 100, "gift", NOW, days=30)
    assert again.duplicate and again.balance == 100
    await take(sessions, member_id, 40, "spend", NOW)
    assert (await take(sessions, member_id, 40, "spend", NOW)).duplicate
    assert await books(sessions, member_id) == (60, 60, 60)


async def test_reversing_a_spend_gives_points_back_with_their_original_expiry(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 30, "soon", NOW, days=10)
    await give(sessions, member_id, 30, "late", NOW, days=90)
    spent = await take(sessions, member_id, 45, "spend", NOW)
    async with sessions() as session:
        back = await ledger.reverse_debit(session, spent.entry.id, key="refund", now=NOW + DAY, actor_id=None)
        expiries = sorted(
            (
                await session.execute(
                    select(PointLot.expires_at, PointLot.points).where(PointLot.entry_id == back.entry.id)
                )
            ).all()
        )
    assert back.balance == 60 and back.entry.reverses_id == spent.entry.id
    assert expiries == [(NOW + 10 * DAY, 30), (NOW + 90 * DAY, 15)]
    assert await books(sessions, member_id) == (60, 60, 60)


async def test_points_given_back_already_due_expire_again_at_the_same_instant(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 100, "lot", NOW, days=10)
    first = await take(sessions, member_id, 60, "first", NOW)
    second = await take(sessions, member_id, 40, "second", NOW)
    later = NOW + 11 * DAY
    async with sessions() as session:
        for debit, key in ((first, "back-1"), (second, "back-2")):
            await ledger.reverse_debit(session, debit.entry.id, key=key, now=later, actor_id=None)
            assert await ledger.expire_due(session, later) == debit.entry.points * -1
    assert await books(sessions, member_id) == (0, 0, 0)


async def test_an_adjustment_needs_a_reason_and_cannot_go_below_zero(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    async with sessions() as session:
        with pytest.raises(ValueError):
            await ledger.adjust(session, member_id, 10, reason=" ", key="a", now=NOW, actor_id=1, expiry_days=30)
        up = await ledger.adjust(
            session, member_id, 25, reason="goodwill", key="b", now=NOW, actor_id=1, expiry_days=30
        )
        with pytest.raises(InsufficientPoints):
            await ledger.adjust(session, member_id, -26, reason="typo", key="c", now=NOW, actor_id=1, expiry_days=30)
        down = await ledger.adjust(session, member_id, -5, reason="typo", key="d", now=NOW, actor_id=1, expiry_days=30)
    assert (up.balance, down.balance, down.entry.actor_id) == (25, 20, 1)
    assert await books(sessions, member_id) == (20, 20, 20)


# --- properties over random sequences ---------------------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(1, 500), st.integers(1, 60)),
        st.tuples(st.just("spend"), st.integers(1, 400), st.just(0)),
        st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool), st.just(0)),
        st.tuples(st.just("reverse"), st.just(0), st.just(0)),
        st.tuples(st.just("expire"), st.just(0), st.just(0)),
        st.tuples(st.just("repeat"), st.just(0), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 40), st.just(0)),
    ),
    min_size=1,
    max_size=14,
)


async def apply(sessions: Sessions, member_id: int, step: int, operation: tuple[str, int, int], state: dict) -> None:
    """Run one random operation; refusals for lack of points are part of the game."""
    name, amount, days = operation
    key = f"{member_id}:{step}"
    async with sessions() as session:
        try:
            if name == "credit":
                posted = await ledger.grant(
                    session,
                    member_id,
                    amount,
                    kind=ledger.Kind.BONUS,
                    reason="p",
                    key=key,
                    now=state["now"],
                    expires_at=state["now"] + days * DAY,
                )
                state["keys"].append((key, amount))
            elif name == "spend":
                posted = await ledger.spend(
                    session, member_id, amount, reason="p", key=key, now=state["now"], actor_id=None
                )
                state["debits"].append(posted.entry.id)
            elif name == "adjust":
                await ledger.adjust(
                    session, member_id, amount, reason="p", key=key, now=state["now"], actor_id=1, expiry_days=30
                )
            elif name == "reverse" and state["debits"]:
                await ledger.reverse_debit(session, state["debits"].pop(), key=key, now=state["now"], actor_id=None)
            elif name == "expire":
                await ledger.expire_due(session, state["now"])
            elif name == "repeat" and state["keys"]:
                old_key, points = state["keys"][0]
                before = await books(sessions, member_id)
                again = await ledger.grant(
                    session,
                    member_id,
                    points,
                    kind=ledger.Kind.BONUS,
                    reason="p",
                    key=old_key,
                    now=state["now"],
                    expires_at=state["now"] + DAY,
                )
                assert again.duplicate and await books(sessions, member_id) == before
            elif name == "wait":
                state["now"] += amount * DAY
        except InsufficientPoints:
            pass


async def expired_lots_drawn_after_expiry(sessions: Sessions, member_id: int) -> int:
    """Draws by spends or adjustments from lots that had already expired when the debit happened."""
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(LotDraw)
                .join(LedgerEntry, LedgerEntry.id == LotDraw.entry_id)
                .join(PointLot, PointLot.id == LotDraw.lot_id)
                .where(
                    LedgerEntry.member_id == member_id,
                    LedgerEntry.kind != "expire",
                    PointLot.expires_at <= LedgerEntry.created_at,
                )
            )
            or 0
        )


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=operations)
async def test_any_sequence_keeps_the_books_balanced(sessions: Sessions, sequence: list[tuple[str, int, int]]) -> None:
    member_id = await new_member(sessions)
    state: dict = {"now": NOW, "keys": [], "debits": []}
    for step, operation in enumerate(sequence):
        await apply(sessions, member_id, step, operation, state)
        stored, lots, entries = await books(sessions, member_id)
        assert stored == lots == entries, f"after {operation}"
        assert stored >= 0
    assert await expired_lots_drawn_after_expiry(sessions, member_id) == 0


# --- races -----------------------------------------------------------------------------------------------------


async def test_fifty_simultaneous_spends_and_credits_lose_nothing(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 100, "start", NOW, days=365)

    async def one(number: int) -> str:
        try:
            if number % 2:
                await take(sessions, member_id, 30, f"spend-{number}", NOW)
                return "spent"
            await give(sessions, member_id, 10, f"credit-{number}", NOW, days=365)
            return "credited"
        except InsufficientPoints:
            return "refused"

    outcomes = await asyncio.gather(*(one(number) for number in range(50)))
    stored, lots, entries = await books(sessions, member_id)
    assert outcomes.count("credited") == 25
    assert stored == lots == entries == 100 + 25 * 10 - 30 * outcomes.count("spent")
    assert stored >= 0 and outcomes.count("spent") >= 3


async def test_the_same_key_posted_at_once_from_ten_sessions_credits_once(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    results = await asyncio.gather(*(give(sessions, member_id, 50, "once", NOW, days=30) for _ in range(10)))
    assert sum(not result.duplicate for result in results) == 1
    assert await books(sessions, member_id) == (50, 50, 50)
