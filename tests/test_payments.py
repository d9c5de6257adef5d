"""How a purchase was paid: the words for it, the method stored with it, on credit only when the owner turned it
on, and a period's purchases split by method — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import payments, walk_ins
from loyalty.errors import CreditOff
from loyalty.payments import Payment, Tally, offered, payment_of
from loyalty.stamps import Stamp
from storage.models import Member, Purchase
from tests.factories import NOW
from tests.lookups import audit_log, count
from tests.paid import TEHRAN, WEEK, paid_club
from tests.steps import CASHIER, RULES, buy, new_member

Sessions = async_sessionmaker[AsyncSession]
ON_CREDIT = RULES.model_copy(update={"credit": True})


@pytest.mark.parametrize(
    ("word", "method"),
    [
        ("card", Payment.CARD),
        ("Card", Payment.CARD),
        ("کارت", Payment.CARD),
        ("كارت", Payment.CARD),
        ("نقد", Payment.CASH),
        ("نقدی", Payment.CASH),
        ("CASH", Payment.CASH),
        ("آنلاین", Payment.ONLINE),
        ("online", Payment.ONLINE),
        ("نسیه", Payment.CREDIT),
        ("credit", Payment.CREDIT),
        ("R-12", None),
        ("تومان", None),
    ],
)
def test_the_words_cashiers_type_name_a_method(word: str, method: Payment | None) -> None:
    assert payment_of(word) == method


def test_on_credit_is_offered_only_when_the_owner_turned_it_on() -> None:
    assert offered(RULES) == (Payment.CASH, Payment.CARD, Payment.ONLINE)
    assert offered(ON_CREDIT) == (Payment.CASH, Payment.CARD, Payment.ONLINE, Payment.CREDIT)


async def test_the_method_is_stored_with_the_purchase_and_audited(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    earned = await buy(sessions, member_id, 100_000, payment="card")
    async with sessions() as session:
        stored = await session.scalar(select(Purchase.payment))
    assert earned.purchase.payment == stored == "card"
    [(_, _, details)] = [entry for entry in await audit_log(sessions) if entry[0] == "purchase.record"]
    assert details["payment"] == "card"


async def test_a_purchase_may_say_no_method(sessions: Sessions) -> None:
    earned = await buy(sessions, await new_member(sessions), 100_000)
    assert earned.purchase.payment is None


async def test_on_credit_is_refused_while_the_owner_has_it_off_and_nothing_is_written(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    with pytest.raises(CreditOff):
        await buy(sessions, member_id, 100_000, payment="credit")
    assert await count(sessions, Purchase) == 0


async def test_on_credit_is_recorded_once_the_owner_turned_it_on(sessions: Sessions) -> None:
    earned = await buy(sessions, await new_member(sessions), 100_000, payment="credit", club_rules=ON_CREDIT)
    assert (earned.purchase.payment, earned.points) == ("credit", 10)


async def test_the_same_update_twice_records_once_with_the_first_method(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 100_000, payment="cash")
    again = await buy(sessions, member_id, 100_000, payment="card")
    assert again.duplicate and again.purchase.payment == "cash"
    assert await count(sessions, Purchase) == 1


async def test_a_walk_in_on_credit_while_it_is_off_makes_no_member(sessions: Sessions) -> None:
    with pytest.raises(CreditOff):
        async with sessions() as session:
            await walk_ins.record_walk_in(
                session,
                RULES,
                phone="+989121234567",
                language="fa",
                amount=100_000,
                receipt=None,
                stamp=Stamp(CASHIER, "1", NOW),
                payment="credit",
            )
    assert await count(sessions, Member) == 0


async def test_the_period_is_split_by_method_with_the_members_on_credit(session: AsyncSession) -> None:
    await paid_club(session)
    split = await payments.split(session, WEEK, TEHRAN)
    assert split.methods == {
        Payment.CASH: Tally(1, 100_000),
        Payment.CARD: Tally(2, 500_000),
        Payment.CREDIT: Tally(3, 800_000),
        None: Tally(1, 50_000),
    }
    assert (split.credit, split.credit_members) == (Tally(3, 800_000), 2)
    assert all(type(tally.total) is int for tally in split.methods.values())  # PostgreSQL sums as NUMERIC


async def test_an_empty_period_has_no_methods_and_nothing_on_credit(session: AsyncSession) -> None:
    split = await payments.split(session, WEEK, TEHRAN)
    assert (split.methods, split.credit, split.credit_members) == ({}, Tally(0, 0), 0)


async def test_the_members_who_bought_most_on_credit_the_older_first_of_equals(session: AsyncSession) -> None:
    await paid_club(session)
    top = await payments.credit_top(session, WEEK, TEHRAN)
    assert [(member.code, member.value) for member in top] == [("00000002", 400_000), ("00000003", 400_000)]
