"""The rewards catalog, redeeming points for vouchers, gift vouchers — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import gifts, ledger, rewards, voucher_use, vouchers
from loyalty.errors import (
    InsufficientPoints,
    InvalidReward,
    RewardTermsChanged,
    RewardUnavailable,
    UnknownMember,
    VoucherNotUsable,
)
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind, Status, Worth
from storage.database import create_engine, write_transaction
from storage.migrate import alembic_config, upgrade
from storage.models import AuditEntry, Gift, LedgerEntry, Member, PointLot, Reward, Voucher
from tests.databases import PostgresRun, migrated_sqlite_template, sqlite_copy, unavailable
from tests.factories import NOW, reward_draft
from tests.lookups import books, count, stock_of
from tests.steps import CASHIER, add, give, new_member, redeem, rich_member, update_ids

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)
# --- the catalog -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("worth", "field"),
    [
        (Worth(Kind.FIXED), "value"),
        (Worth(Kind.FIXED, 0), "value"),
        (Worth(Kind.FIXED, 50_000, cap=10), "cap"),
        (Worth(Kind.PERCENT, 101), "value"),
        (Worth(Kind.PERCENT, 10, cap=0), "cap"),
        (Worth(Kind.ITEM, 5), "value"),
    ],
)
def test_a_worth_the_counter_cannot_honour_is_refused(worth: Worth, field: str) -> None:
    with pytest.raises(InvalidReward) as refused:
        worth.check()
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"cost": 0}, "cost"),
        ({"validity_days": 0}, "validity_days"),
        ({"stock": -1}, "stock"),
        ({"per_member_limit": 0}, "per_member_limit"),
    ],
)
def test_a_reward_draft_with_a_wrong_field_is_refused_naming_it(changes: dict, field: str) -> None:
    with pytest.raises(InvalidReward) as refused:
        reward_draft(**changes).checked()
    assert refused.value.field == field


def test_discounts_take_money_off_a_bill_up_to_their_cap() -> None:
    assert Worth(Kind.FIXED, 50_000).discount_on(30_000) == 30_000
    assert Worth(Kind.PERCENT, 10).discount_on(250_000) == 25_000
    assert Worth(Kind.PERCENT, 10, cap=20_000).discount_on(250_000) == 20_000
    assert Worth(Kind.ITEM).discount_on(250_000) == 0


async def test_staff_add_and_change_a_reward_with_audit(sessions: Sessions) -> None:
    added = await add(sessions, name="  Free   cake ", worth=Worth(Kind.PERCENT, 20, cap=100_000), stock=5)
    async with sessions() as session:
        changed = await rewards.update_reward(
            session,
            added.id,
            dataclasses.replace(rewards.draft_of(added), cost=250, active=False),
            Stamp(2, "k", NOW + DAY, 77),
        )
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
        listed = await rewards.catalog(session)
    assert added.name == "Free cake" and rewards.worth_of(added) == Worth(Kind.PERCENT, 20, 100_000)
    assert (changed.cost, changed.active, changed.stock, changed.updated_at) == (250, False, 5, NOW + DAY)
    assert list(actions) == ["reward.add", "reward.update"]
    assert [reward.id for reward in listed] == [added.id]


async def test_changing_an_unknown_reward_is_refused(session: AsyncSession) -> None:
    with pytest.raises(RewardUnavailable) as refused:
        await rewards.update_reward(session, 999, reward_draft(), Stamp(1, "k", NOW))
    assert refused.value.reason == "unknown"


# --- what a member sees ------------------------------------------------------------------------------------------


async def test_members_see_what_they_can_afford_first_then_what_they_are_close_to(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=300)
    cheap = await add(sessions, name="Tea", cost=100)
    exact = await add(sessions, name="Cake", cost=300)
    far = await add(sessions, name="Lunch", cost=1000)
    near = await add(sessions, name="Sandwich", cost=350)
    async with sessions() as session:
        seen = await rewards.offers(session, member_id, NOW)
    assert seen.points == 300
    assert [(offer.reward.id, offer.missing) for offer in seen.affordable] == [(cheap.id, 0), (exact.id, 0)]
    assert [(offer.reward.id, offer.missing) for offer in seen.close] == [(near.id, 50), (far.id, 700)]


async def test_inactive_sold_out_and_used_up_rewards_are_not_offered(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=1000)
    await add(sessions, name="Hidden", active=False)
    await add(sessions, name="Sold out", stock=0)
    once = await add(sessions, name="Once", per_member_limit=1)
    await redeem(sessions, member_id, once.id)
    async with sessions() as session:
        seen = await rewards.offers(session, member_id, NOW)
    assert seen.affordable == [] and seen.close == []


async def test_expired_points_do_not_count_towards_what_a_member_can_afford(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=200, days=10)
    reward = await add(sessions, cost=150)
    async with sessions() as session:
        seen = await rewards.offers(session, member_id, NOW + 11 * DAY)
    assert seen.points == 0
    assert [(offer.reward.id, offer.missing) for offer in seen.close] == [(reward.id, 150)]


# --- redeeming ---------------------------------------------------------------------------------------------------


async def test_redeeming_spends_the_cost_and_gives_an_active_voucher_that_expires_on_time(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=500)
    reward = await add(sessions, name="Discount", cost=120, validity_days=14, worth=Worth(Kind.FIXED, 50_000), stock=3)
    got = await redeem(sessions, member_id, reward.id, update_id=41)
    async with sessions() as session:
        spend = await session.scalar(select(LedgerEntry).where(LedgerEntry.reason == rewards.REWARD))
        audited = await session.scalar(select(AuditEntry).where(AuditEntry.action == "reward.redeem"))
    assert (got.balance, got.duplicate) == (380, False)
    assert (got.voucher.status, got.voucher.expires_at) == (Status.ACTIVE, NOW + 14 * DAY)
    assert (got.voucher.title, got.voucher.worth, got.voucher.points) == ("Discount", Worth(Kind.FIXED, 50_000), 120)
    assert (spend.points, spend.kind, spend.member_id) == (-120, ledger.Kind.SPEND, member_id)
    assert (audited.member_id, audited.update_id) == (member_id, 41)
    assert await stock_of(sessions, reward.id) == 2
    assert await books(sessions, member_id) == (380, 380, 380)


async def test_the_same_update_redeemed_twice_gives_one_voucher(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=500)
    reward = await add(sessions, cost=100, stock=5)
    first = await redeem(sessions, member_id, reward.id, update_id=7)
    again = await redeem(sessions, member_id, reward.id, update_id=7)
    assert again.duplicate and again.voucher.code == first.voucher.code
    assert await count(sessions, Voucher) == 1
    assert await stock_of(sessions, reward.id) == 4
    assert again.balance == 400


@pytest.mark.parametrize(
    ("fields", "points", "expected"),
    [
        ({"active": False}, 1000, RewardUnavailable),
        ({"stock": 0}, 1000, RewardUnavailable),
        ({"cost": 600, "stock": 4}, 500, InsufficientPoints),
    ],
)
async def test_a_refused_redeem_writes_nothing(sessions: Sessions, fields: dict, points: int, expected: type) -> None:
    member_id = await rich_member(sessions, points=points)
    reward = await add(sessions, **fields)
    entries, audits = await count(sessions, LedgerEntry), await count(sessions, AuditEntry)
    with pytest.raises(expected):
        await redeem(sessions, member_id, reward.id)
    assert await count(sessions, LedgerEntry) == entries
    assert await count(sessions, AuditEntry) == audits
    assert await count(sessions, Voucher) == 0
    assert await stock_of(sessions, reward.id) == fields.get("stock")
    assert await books(sessions, member_id) == (points, points, points)


async def test_a_member_redeems_a_reward_no_more_than_its_limit(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=1000)
    reward = await add(sessions, cost=100, per_member_limit=2)
    await redeem(sessions, member_id, reward.id)
    await redeem(sessions, member_id, reward.id)
    with pytest.raises(RewardUnavailable) as refused:
        await redeem(sessions, member_id, reward.id)
    assert refused.value.reason == "limit_reached"
    assert await books(sessions, member_id) == (800, 800, 800)


async def test_an_unknown_reward_cannot_be_redeemed(sessions: Sessions) -> None:
    member_id = await rich_member(sessions)
    with pytest.raises(RewardUnavailable) as refused:
        await redeem(sessions, member_id, 12345)
    assert refused.value.reason == "unknown"


async def change(sessions: Sessions, reward_id: int, **fields: object) -> None:
    """The owner changes a reward in the catalog."""
    async with sessions() as session:
        stored = await session.get(Reward, reward_id)
        draft = dataclasses.replace(rewards.draft_of(stored), **fields)
        await rewards.update_reward(session, reward_id, draft, Stamp(1, "k", NOW))


async def quoted_redeem(sessions: Sessions, member_id: int, reward_id: int, quoted: str) -> rewards.Redeemed:
    async with sessions() as session:
        return await rewards.redeem(
            session,
            reward_id,
            Stamp(member_id, "k", NOW),
            member_id=member_id,
            key=f"redeem:{next(update_ids)}",
            quoted=quoted,
        )


@pytest.mark.parametrize(
    "changes",
    [{"cost": 300}, {"worth": Worth(Kind.FIXED, 10_000)}, {"validity_days": 1}, {"name": "Small coffee"}],
)
async def test_a_reward_changed_after_the_quote_is_not_redeemed_and_its_new_terms_are_told(
    sessions: Sessions, changes: dict
) -> None:
    member_id = await rich_member(sessions, points=1000)
    reward = await add(sessions, cost=100, worth=Worth(Kind.FIXED, 50_000), validity_days=30)
    quoted = rewards.terms_of(reward).fingerprint
    await change(sessions, reward.id, **changes)
    entries, audits = await count(sessions, LedgerEntry), await count(sessions, AuditEntry)

    with pytest.raises(RewardTermsChanged) as changed:
        await quoted_redeem(sessions, member_id, reward.id, quoted)

    async with sessions() as session:
        now_terms = rewards.terms_of(await session.get(Reward, reward.id))
    assert changed.value.terms == now_terms and now_terms.fingerprint != quoted
    assert await count(sessions, LedgerEntry) == entries and await count(sessions, AuditEntry) == audits
    assert await count(sessions, Voucher) == 0 and await books(sessions, member_id) == (1000, 1000, 1000)


async def test_a_reward_whose_terms_held_is_redeemed_at_the_quoted_cost(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=1000)
    reward = await add(sessions, cost=100, stock=5)
    quoted = rewards.terms_of(reward).fingerprint
    await change(sessions, reward.id, stock=3, description="Now with a cookie")  # not what the member pays for

    redeemed = await quoted_redeem(sessions, member_id, reward.id, quoted)

    assert redeemed.voucher.points == 100 and redeemed.balance == 900
    assert await stock_of(sessions, reward.id) == 2


async def test_ten_members_racing_for_the_last_item_leave_stock_at_zero(sessions: Sessions) -> None:
    members = [await rich_member(sessions, points=200) for _ in range(10)]
    reward = await add(sessions, cost=100, stock=1)

    async def one(member_id: int) -> str:
        try:
            await redeem(sessions, member_id, reward.id)
        except RewardUnavailable:
            return "sold out"
        return "got it"

    outcomes = await asyncio.gather(*(one(member_id) for member_id in members))
    assert outcomes.count("got it") == 1
    assert await stock_of(sessions, reward.id) == 0
    assert await count(sessions, Voucher) == 1
    balances = [(await books(sessions, member_id))[0] for member_id in members]
    assert sorted(balances) == [100] + [200] * 9


async def test_one_member_racing_past_their_limit_gets_one_voucher(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=1000)
    reward = await add(sessions, cost=100, per_member_limit=1)

    async def one() -> str:
        try:
            await redeem(sessions, member_id, reward.id)
        except RewardUnavailable:
            return "refused"
        return "got it"

    outcomes = await asyncio.gather(*(one() for _ in range(10)))
    assert outcomes.count("got it") == 1
    assert await books(sessions, member_id) == (900, 900, 900)


# --- gift vouchers -------------------------------------------------------------------------------------------------

GIFT = gifts.GiftDraft(title="بن خرید", worth=Worth(Kind.FIXED, 100_000), validity_days=7)


async def give_gift(sessions: Sessions, audience: gifts.Audience, update_id: int = 900, batch: int = 3) -> gifts.Gifted:
    async with sessions() as session:
        return await gifts.give(session, GIFT, audience, Stamp(1, str(update_id), NOW), batch=batch)


async def set_tier(sessions: Sessions, member_id: int, tier: str) -> None:
    async with sessions() as session:
        (await session.get(Member, member_id)).tier = tier
        await session.commit()


async def test_a_gift_to_one_member_spends_no_points(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=50)
    entries = await count(sessions, LedgerEntry)
    gifted = await give_gift(sessions, gifts.Audience(member_id=member_id))
    assert gifted.issued == 1 and not gifted.duplicate
    assert gifted.voucher is not None and gifted.voucher.member_id == member_id
    assert (gifted.voucher.worth, gifted.voucher.points, gifted.voucher.expires_at) == (
        Worth(Kind.FIXED, 100_000),
        0,
        NOW + 7 * DAY,
    )
    assert await count(sessions, LedgerEntry) == entries
    assert await books(sessions, member_id) == (50, 50, 50)
    assert await count(sessions, AuditEntry, AuditEntry.action == "voucher.gift", AuditEntry.member_id == member_id)


async def test_a_gift_to_a_tier_reaches_each_of_its_members_once(sessions: Sessions) -> None:
    members = [await new_member(sessions) for _ in range(7)]
    for member_id in members[::2]:
        await set_tier(sessions, member_id, "gold")
    gifted = await give_gift(sessions, gifts.Audience(tier="gold"))
    async with sessions() as session:
        holders = (await session.scalars(select(Voucher.member_id).order_by(Voucher.member_id))).all()
    assert gifted.issued == 4 and gifted.voucher is None
    assert list(holders) == members[::2]


async def test_a_gift_to_everyone_reaches_every_member_in_batches(sessions: Sessions) -> None:
    members = [await new_member(sessions) for _ in range(8)]
    gifted = await give_gift(sessions, gifts.Audience(), batch=3)
    async with sessions() as session:
        page = await gifts.gift_vouchers(session, gifted.gift_id, NOW, after=members[4], limit=10)
        codes = set((await session.scalars(select(Voucher.code))).all())
    assert gifted.issued == 8 == len(codes)
    assert [voucher.member_id for voucher in page] == members[5:]


async def test_the_same_gift_given_twice_gives_once(sessions: Sessions) -> None:
    for _ in range(4):
        await new_member(sessions)
    await give_gift(sessions, gifts.Audience(), update_id=5)
    again = await give_gift(sessions, gifts.Audience(), update_id=5)
    assert again.duplicate and again.issued == 4
    assert await count(sessions, Voucher) == 4


async def test_a_gift_interrupted_midway_finishes_when_run_again(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [await new_member(sessions) for _ in range(7)]
    real = gifts.unused_codes
    calls = []

    async def crash_on_second_batch(session: AsyncSession, number: int) -> list[str]:
        calls.append(number)
        if len(calls) == 2:
            raise ConnectionError("the bot was restarted")
        return await real(session, number)

    monkeypatch.setattr(gifts, "unused_codes", crash_on_second_batch)
    with pytest.raises(ConnectionError):
        await give_gift(sessions, gifts.Audience(), update_id=6, batch=3)
    assert await count(sessions, Voucher) == 3
    finished = await give_gift(sessions, gifts.Audience(), update_id=6, batch=3)
    async with sessions() as session:
        holders = (await session.scalars(select(Voucher.member_id).order_by(Voucher.member_id))).all()
        done = await session.scalar(select(Gift.finished_at))
    assert finished.issued == 7 and list(holders) == members
    assert done == NOW


async def test_a_gift_not_yet_told_is_finished_with_what_its_members_are_told(sessions: Sessions) -> None:
    await new_member(sessions)
    untitled = await give_gift(sessions, gifts.Audience(), update_id=7)
    async with sessions() as session:
        said = await gifts.give(session, GIFT, gifts.Audience(), Stamp(1, "8", NOW), message="Cake!")
        finished = [await gifts.finish(session, gift.gift_id, now=NOW) for gift in (untitled, said)]
        assert [(gift.issued, gift.message) for gift in finished] == [(1, GIFT.title), (1, "Cake!")]
        await gifts.mark_told(session, said.gift_id, NOW)
        with pytest.raises(gifts.GiftOver):
            await gifts.finish(session, said.gift_id, now=NOW)


async def test_a_gifts_audience_is_counted_as_it_would_be_given(sessions: Sessions) -> None:
    members = [await new_member(sessions) for _ in range(3)]
    await set_tier(sessions, members[0], "gold")
    async with sessions() as session:
        sizes = [
            await gifts.audience_size(session, audience)
            for audience in (gifts.Audience(), gifts.Audience(tier="gold"), gifts.Audience(member_id=members[1]))
        ]
    assert sizes == [3, 1, 1]


async def test_a_gift_to_an_unknown_member_is_refused(sessions: Sessions) -> None:
    with pytest.raises(UnknownMember):
        await give_gift(sessions, gifts.Audience(member_id=4242))
    assert await count(sessions, Gift) == 0


def test_a_gift_without_a_title_is_refused() -> None:
    with pytest.raises(InvalidReward) as refused:
        dataclasses.replace(GIFT, title=" ").check()
    assert refused.value.field == "title"


# --- properties over random sequences ---------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("redeem"), st.integers(0, 1)),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
        st.tuples(st.just("use"), st.integers(0, 7)),
        st.tuples(st.just("wait"), st.integers(1, 20)),
        st.tuples(st.just("expire"), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


async def reward_books(sessions: Sessions, member_id: int, reward_ids: list[int]) -> tuple[int, int, list]:
    """(ledger's net points on rewards, points of vouchers not cancelled, [(stock, vouchers held) per reward])."""
    async with sessions() as session:
        ledger_net = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.member_id == member_id,
                LedgerEntry.reason.in_([rewards.REWARD, vouchers.REFUND]),
            )
        )
        held = await session.scalar(
            select(func.coalesce(func.sum(Voucher.points), 0)).where(
                Voucher.member_id == member_id, Voucher.status != Status.CANCELLED
            )
        )
        stocks = []
        for reward_id in reward_ids:
            stock = await session.scalar(select(Reward.stock).where(Reward.id == reward_id))
            taken = await session.scalar(
                select(func.count()).where(Voucher.reward_id == reward_id, Voucher.status != Status.CANCELLED)
            )
            stocks.append((stock, int(taken or 0)))
    return int(ledger_net or 0), int(held or 0), stocks


async def spendable(sessions: Sessions, member_id: int, at) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                    PointLot.member_id == member_id, PointLot.expires_at > at
                )
            )
        )


async def play(sessions: Sessions, member_id: int, reward_list: list[Reward], step: tuple[str, int], state: dict):
    """Run one step and check its outcome against a simple model of the vouchers."""
    name, number = step
    now, model = state["now"], state["model"]
    async with sessions() as session:
        if name == "redeem":
            reward = reward_list[number]
            expected = state["stock"][number] != 0 and await spendable(sessions, member_id, now) >= reward.cost
            try:
                got = await rewards.redeem(
                    session, reward.id, Stamp(1, "k", now), member_id=member_id, key=f"redeem:{next(update_ids)}"
                )
            except (RewardUnavailable, InsufficientPoints):
                assert not expected
                return
            assert expected
            model[got.voucher.id] = ("active", got.voucher.expires_at)
            if state["stock"][number] is not None:
                state["stock"][number] -= 1
            return
        if name in ("cancel", "use") and model:
            voucher_id = sorted(model)[number % len(model)]
            status, expires_at = model[voucher_id]
            expected = status == "active" and expires_at > now
            try:
                if name == "cancel":
                    done = await vouchers.cancel(session, voucher_id, Stamp(1, "k", now), member_id=member_id)
                    assert done.refunded == done.voucher.points
                    index = [reward.id for reward in reward_list].index(done.voucher.reward_id)
                    if state["stock"][index] is not None:
                        state["stock"][index] += 1
                else:
                    await voucher_use.use(session, voucher_id, Stamp(CASHIER, "k", now))
            except VoucherNotUsable:
                assert not expected
                return
            assert expected
            model[voucher_id] = ("cancelled" if name == "cancel" else "used", expires_at)
        elif name == "wait":
            state["now"] += number * DAY
        elif name == "expire":  # this member only: other examples' members share the database
            async with write_transaction(session):
                await ledger.expire_member(session, member_id, now)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
async def test_any_sequence_keeps_points_stock_and_vouchers_in_step(
    sessions: Sessions, sequence: list[tuple[str, int]]
) -> None:
    member_id = await rich_member(sessions, points=400, days=15)
    await give(sessions, member_id, 300, f"later-{member_id}", NOW, days=60)
    reward_list = [await add(sessions, cost=150, stock=2, validity_days=10), await add(sessions, cost=90)]
    reward_ids = [reward.id for reward in reward_list]
    state: dict = {"now": NOW, "model": {}, "stock": [2, None]}
    for step in sequence:
        state["now"] += timedelta(seconds=1)  # every operation at its own moment, as with a real clock
        await play(sessions, member_id, reward_list, step, state)
        ledger_net, held, stocks = await reward_books(sessions, member_id, reward_ids)
        stored, lots, entries = await books(sessions, member_id)
        assert ledger_net == -held, f"after {step}"
        assert stored == lots == entries and stored >= 0
        assert stocks[0][0] is not None and stocks[0][0] >= 0
        assert stocks[0][0] + stocks[0][1] == 2
        assert [stock for stock, _ in stocks] == state["stock"]


# --- the migration -------------------------------------------------------------------------------------------------


async def _down_and_up(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0002"))
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        await upgrade(engine)
    finally:
        await engine.dispose()
    return tables


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_rewards_migration_goes_down_and_up_again(backend: str, tmp_path: Path) -> None:
    run = PostgresRun() if backend == "postgresql" else None
    if run is None:
        url = sqlite_copy(migrated_sqlite_template(tmp_path), tmp_path)
    else:
        run.create()
        if run.error is not None:
            unavailable("PostgreSQL", run.error)
        url = run.url
    try:
        tables = asyncio.run(_down_and_up(url))
    finally:
        if run is not None:
            run.drop()
    assert not {"rewards", "gifts", "vouchers"} & tables and "audit_log" in tables
