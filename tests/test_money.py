"""Points are money: no sequence of operations mints points — on SQLite and PostgreSQL.

What a take-back (a purchase undone, a referral revoked) could not take because the points were already spent is
owed by the member; a refund or reversal that later gives spent points back settles that first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, example, given, target
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger, referrals, vouchers
from loyalty.errors import InsufficientPoints, InvalidAmount
from loyalty.money import parse_amount
from loyalty.stamps import Stamp
from storage import repositories
from storage.database import write_transaction
from storage.models import AuditEntry, LedgerEntry, Member
from tests.factories import NOW
from tests.lookups import books
from tests.steps import CASHIER, add, buy, new_member, redeem, undo

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)


async def give_back(sessions: Sessions, voucher_id: int, at=NOW) -> vouchers.Cancelled:
    async with sessions() as session:
        return await vouchers.cancel(session, voucher_id, Stamp(CASHIER, "k", at, 8), member_id=None)


async def owed(sessions: Sessions, member_id: int) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(Member.points_owed).where(Member.id == member_id)) or 0)


async def test_a_refund_after_undo_returns_no_more_than_is_owed(sessions: Sessions) -> None:
    # given a member who earned 100 points and spent them all on a voucher
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 1_000_000, receipt="M1")
    reward = await add(sessions, cost=100)
    voucher = (await redeem(sessions, member_id, reward.id)).voucher
    # when the purchase is undone (nothing left to take) and then the voucher is given back
    undone = await undo(sessions, "M1")
    assert (undone.taken, undone.shortfall) == (0, 100)
    back = await give_back(sessions, voucher.id, at=NOW + DAY)
    # then the refund settles what the undo could not take, and the member is not ahead
    assert back.refunded == 0 and back.balance == 0
    assert await books(sessions, member_id) == (0, 0, 0)
    assert await owed(sessions, member_id) == 0
    async with sessions() as session:
        audited = await session.scalar(select(AuditEntry.details).where(AuditEntry.action == "voucher.cancel"))
    assert {"refunded": 0, "settled": 100}.items() <= json.loads(audited or "{}").items()


async def test_a_refund_returns_what_is_left_after_settling_the_debt(sessions: Sessions) -> None:
    # given 100 points earned by a purchase and 50 by another, all 150 spent on one voucher
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 1_000_000, receipt="P1")
    await buy(sessions, member_id, 500_000, receipt="P2")
    reward = await add(sessions, cost=150)
    voucher = (await redeem(sessions, member_id, reward.id)).voucher
    # when the first purchase is undone and the voucher is given back
    await undo(sessions, "P1")
    assert await owed(sessions, member_id) == 100
    back = await give_back(sessions, voucher.id)
    # then the member keeps just the second purchase's points
    assert (back.refunded, back.balance) == (50, 50)
    assert await books(sessions, member_id) == (50, 50, 50)
    assert await owed(sessions, member_id) == 0


# --- no sequence of operations mints points ----------------------------------------------------------------------

COSTS = (40, 90, 150)  # the catalog of the game: vouchers valid long enough to be given back after any wait

VALUES = {  # each step's name and its value; the steps a shortfall needs are the likelier
    "earn": st.integers(1, 200),  # a purchase of that many points
    "redeem": st.integers(0, len(COSTS) - 1),
    "give_back": st.integers(0, 3),
    "undo": st.integers(0, 3),
    "referral": st.integers(1, 200),
    "revoke": st.integers(0, 3),
    "adjust": st.integers(-150, 150).filter(bool),
    "wait": st.integers(1, 200),
    "expire": st.just(0),
}
WEIGHTS = {"earn": 2, "redeem": 4, "give_back": 2, "undo": 2, "revoke": 2}
step = st.sampled_from([name for name in VALUES for _ in range(WEIGHTS.get(name, 1))]).flatmap(
    lambda name: st.tuples(st.just(name), VALUES[name])
)
steps = st.lists(step, min_size=3, max_size=20)


@dataclass
class Game:
    """What a member did, as the shop sees it: credits that still stand and debits not given back."""

    member_id: int
    rewards: dict[int, int]  # cost -> reward id
    now: datetime = NOW
    credits: int = 0  # standing credits: earned, referral and adjusted up, not taken back
    debits: int = 0  # standing debits: vouchers bought and not given back, adjusted down
    receipts: list[tuple[str, int]] = field(default_factory=list)  # purchases not undone: (receipt, points)
    referrals: list[tuple[int, int]] = field(default_factory=list)  # referral credits not revoked: (entry, points)
    vouchers: list[tuple[int, int]] = field(default_factory=list)  # vouchers not given back: (id, cost)


async def take_back_referral(sessions: Sessions, game: Game, entry_id: int, points: int, key: str) -> None:
    """The referral revoked: its points taken back as `referrals.revoke` does, through `ledger.take_back`."""
    async with sessions() as session, write_transaction(session):
        member = await repositories.lock_member(session, game.member_id)
        await ledger.take_back(
            session,
            member,
            points=points,
            entry_ids=[entry_id],
            reason=referrals.REVOKED_REASON,
            key=key,
            now=game.now,
            actor_id=CASHIER,
        )


async def play(sessions: Sessions, game: Game, number: int, step: tuple[str, int]) -> None:
    """One step of the game; refusals for lack of points are part of it."""
    name, value = step
    key = f"{game.member_id}:{number}"
    if name == "earn":
        earned = await buy(sessions, game.member_id, value * 10_000, receipt=f"G{key}", at=game.now)
        game.receipts.append((f"G{key}", earned.points))
        game.credits += earned.points
    elif name == "redeem":
        cost = COSTS[value]
        try:
            bought = await redeem(sessions, game.member_id, game.rewards[cost], at=game.now)
        except InsufficientPoints:
            return
        game.vouchers.append((bought.voucher.id, cost))
        game.debits += cost
    elif name == "give_back" and game.vouchers:
        voucher_id, cost = game.vouchers.pop(value % len(game.vouchers))
        await give_back(sessions, voucher_id, at=game.now)
        game.debits -= cost
    elif name == "undo" and game.receipts:
        receipt, points = game.receipts.pop(value % len(game.receipts))
        await undo(sessions, receipt, at=game.now)
        game.credits -= points
    elif name == "referral":
        async with sessions() as session:
            posted = await ledger.grant(
                session,
                game.member_id,
                value,
                kind=ledger.Kind.BONUS,
                reason=referrals.REFERRER_REASON,
                key=f"referral:{key}",
                now=game.now,
                expires_at=game.now + 90 * DAY,
            )
        game.referrals.append((posted.entry.id, value))
        game.credits += value
    elif name == "revoke" and game.referrals:
        entry_id, points = game.referrals.pop(value % len(game.referrals))
        await take_back_referral(sessions, game, entry_id, points, f"revoke:{key}")
        game.credits -= points
    elif name == "adjust":
        try:
            async with sessions() as session:
                await ledger.adjust(
                    session, game.member_id, value, reason="p", key=key, now=game.now, actor_id=1, expiry_days=60
                )
        except InsufficientPoints:
            return
        if value > 0:
            game.credits += value
        else:
            game.debits -= value
    elif name == "wait":
        game.now += value * DAY
    elif name == "expire":
        async with sessions() as session:
            await ledger.expire_due(session, game.now)


async def expired(sessions: Sessions, member_id: int) -> int:
    """Points the member's lots lost to expiry, all told."""
    async with sessions() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.member_id == member_id, LedgerEntry.kind == ledger.Kind.EXPIRE
            )
        )
    return -int(total or 0)


@hypothesis_settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
@example(sequence=[("earn", 100), ("redeem", 1), ("undo", 0), ("give_back", 0)])  # the voucher given back
@example(sequence=[("referral", 50), ("redeem", 0), ("revoke", 0), ("wait", 20), ("give_back", 0)])
async def test_no_sequence_leaves_a_member_with_points_no_credit_covers(
    sessions: Sessions, sequence: list[tuple[str, int]]
) -> None:
    rewards = {cost: (await add(sessions, cost=cost, validity_days=3000)).id for cost in COSTS}
    game = Game(await new_member(sessions), rewards)
    for number, step in enumerate(sequence):
        await play(sessions, game, number, step)
        stored, lots, entries = await books(sessions, game.member_id)
        gone, debt = await expired(sessions, game.member_id), await owed(sessions, game.member_id)
        assert stored == lots == entries >= 0, f"after {step}"
        assert stored == game.credits - game.debits - gone + debt, f"after {step}"
        assert 0 <= debt <= game.debits + gone, f"after {step}"
        assert stored <= game.credits, f"after {step}: more points than the credits still standing"
        if debt:
            event("a member owed points")  # shown by --hypothesis-show-statistics
    target(float(await owed(sessions, game.member_id)), label="points owed")


# --- amounts typed the way people type them ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("۱۰ هزار تومان", 10_000),
        ("10 هزار تومان", 10_000),
        ("۲.۵ میلیون", 2_500_000),
        ("2.5 میلیون", 2_500_000),
        ("۲٫۵م", 2_500_000),
        ("2٫5 م", 2_500_000),
        ("250 هزار", 250_000),
        ("۲۵۰ هزار", 250_000),
        ("1.5m", 1_500_000),
        ("۱.۵ million", 1_500_000),
        ("10k", 10_000),
        ("۱۰K", 10_000),
        ("۲۵۰٬۰۰۰ ریال", 250_000),
        ("250,000 تومان", 250_000),
        ("250000 Toman", 250_000),
        ("250000 rial", 250_000),
        ("1.2000 هزار", 1200),
        ("1,500 هزار", 1_500_000),
    ],
)
def test_amounts_are_read_with_multipliers_and_a_unit_word(text: str, amount: int) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("۲.۵", "not_a_number"),
        ("2.5 تومان", "not_a_number"),
        ("1.2345 هزار", "not_a_number"),
        ("۱٫۲۳۴۵ هزار", "not_a_number"),
        ("هزار", "not_a_number"),
        ("تومان", "not_a_number"),
        ("10 هزار هزار", "not_a_number"),
        ("1.5.5m", "not_a_number"),
        ("-2 هزار", "not_positive"),
        ("-۲.۵ میلیون", "not_positive"),
        ("0k", "not_positive"),
        ("99999999 میلیون", "too_large"),
        ("9" * 30 + "k", "too_large"),
    ],
)
def test_bad_amounts_with_multipliers_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.reason == reason
