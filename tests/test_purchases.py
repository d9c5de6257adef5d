"""Earning at the counter, tiers, campaign multipliers, undo, the owner's rules — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from loyalty import members, purchases, rules, tiers
from loyalty.errors import (
    AlreadyReversed,
    InvalidAmount,
    InvalidRule,
    MistypedCode,
    NotAMemberReference,
    OwnAccount,
    PurchaseNotFound,
    ReceiptTaken,
    UndoRefused,
    UnknownMember,
)
from loyalty.money import parse_amount
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import AuditEntry, LedgerEntry, Member, PointLot, Purchase
from tests.factories import NOW, imported_member, joined_member
from tests.lookups import books
from tests.steps import CASHIER, RULES, buy, give, new_member, take, undo

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("250000", 250_000), ("۲۵۰٬۰۰۰", 250_000), ("250,000", 250_000), ("٢٥٠ ٠٠٠", 250_000), ("1_000", 1000)],
)
def test_amounts_are_read_in_any_digits_and_grouping(text: str, amount: int) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5000", "not_positive"),
        ("0", "not_positive"),
        ("12.5", "not_a_number"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("9" * 30, "too_large"),
        ("۱۲a", "not_a_number"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.reason == reason


async def test_points_are_whole_and_rounded_down(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    earned = await buy(sessions, member_id, 259_999, receipt="R1")
    assert (earned.points, earned.balance, earned.duplicate) == (25, 25, False)
    assert earned.progress.next_tier == "silver" and earned.progress.missing == 20_000_000 - 259_999
    assert await books(sessions, member_id) == (25, 25, 25)


async def test_a_small_purchase_is_recorded_without_points(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    earned = await buy(sessions, member_id, 9_999, receipt="small")
    assert earned.points == 0 and earned.purchase.entry_id is None
    async with sessions() as session:
        assert await tiers.qualifying_spend(session, member_id, RULES, NOW) == 9_999


async def test_a_repeated_receipt_is_already_recorded_and_earns_once(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    first = await buy(sessions, member_id, 100_000, receipt="R-7")
    again = await buy(sessions, member_id, 100_000, receipt="R-7", update_id=2)
    assert again.duplicate and again.purchase.id == first.purchase.id and again.balance == 10
    other = await new_member(sessions)
    with pytest.raises(ReceiptTaken):
        await buy(sessions, other, 50_000, receipt="R-7")
    assert await books(sessions, other) == (0, 0, 0)


async def test_without_a_receipt_the_update_is_the_key(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 100_000, update_id=77)
    assert (await buy(sessions, member_id, 100_000, update_id=77)).duplicate
    assert not (await buy(sessions, member_id, 100_000, update_id=78)).duplicate
    assert await books(sessions, member_id) == (20, 20, 20)


async def test_the_minimum_purchase_is_enforced(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    async with sessions() as session:
        with pytest.raises(InvalidAmount) as refused:
            await purchases.record_purchase(
                session,
                RULES.model_copy(update={"min_purchase": 50_000}),
                member_id=member_id,
                amount=49_999,
                receipt=None,
                stamp=Stamp(CASHIER, "1", NOW),
            )
    assert (refused.value.reason, refused.value.minimum) == ("below_minimum", 50_000)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0


async def test_reaching_a_threshold_upgrades_at_once_and_the_tier_multiplies_points(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    first = await buy(sessions, member_id, 19_000_000, receipt="A")
    upgrade = await buy(sessions, member_id, 1_000_000, receipt="B")
    assert (first.upgraded_from, upgrade.upgraded_from, upgrade.member.tier) == (None, "bronze", "silver")
    silver = await buy(sessions, member_id, 1_000_000, receipt="C")
    assert silver.points == 125  # 100 points at silver's 125%
    async with sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions.count("tier.up") == 1 and actions.count("purchase.record") == 3


async def test_a_campaign_adds_points_that_expire_on_their_own(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    async with sessions() as session, write_transaction(session):
        await purchases.new_multiplier(
            session,
            name="slow week",
            percent=200,
            starts_at=NOW - DAY,
            ends_at=NOW + DAY,
            bonus_expiry_days=30,
            actor_id=1,
            now=NOW,
        )
    earned = await buy(sessions, member_id, 500_000, receipt="double")
    after = await buy(sessions, member_id, 500_000, receipt="later", at=NOW + 2 * DAY)
    assert (earned.points, earned.campaign_points, after.points) == (100, 50, 50)
    async with sessions() as session:
        expiries = sorted((await session.execute(select(PointLot.points, PointLot.expires_at))).all())
    assert expiries == sorted([(50, NOW + 365 * DAY), (50, NOW + 30 * DAY), (50, NOW + 2 * DAY + 365 * DAY)])


async def test_undo_takes_back_the_points_as_far_as_they_are_left(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 1_000_000, receipt="U1")
    await take(sessions, member_id, 80, "spent", NOW)
    async with sessions() as session:
        undone = await purchases.undo_purchase(session, RULES, "U1", Stamp(CASHIER, "undo", NOW, 5))
    assert (undone.taken, undone.shortfall, undone.balance) == (20, 80, 0)
    async with sessions() as session:
        with pytest.raises(AlreadyReversed):
            await purchases.undo_purchase(session, RULES, "U1", Stamp(CASHIER, "undo", NOW, 6))
        with pytest.raises(PurchaseNotFound):
            await purchases.undo_purchase(session, RULES, "nope", Stamp(CASHIER, "undo", NOW, 7))
        assert await tiers.qualifying_spend(session, member_id, RULES, NOW) == 0
    assert await books(sessions, member_id) == (0, 0, 0)


async def unusual(sessions: Sessions, amount: int, club_rules: Rules = RULES) -> purchases.Unusual | None:
    async with sessions() as session:
        return await purchases.unusual(session, club_rules, amount)


async def test_the_usual_amount_is_the_median_of_the_latest_purchases_standing(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    for update_id in range(1, 20):
        await buy(sessions, member_id, 100_000 if update_id % 2 else 300_000, update_id=update_id)
    assert await unusual(sessions, 50_000_000) is None  # 19 purchases: no usual amount yet
    await buy(sessions, member_id, 90_000_000, receipt="slip", update_id=20)
    await undo(sessions, "slip")  # an undone purchase is not the shop's usual
    assert await unusual(sessions, 50_000_000) is None
    await buy(sessions, member_id, 100_000, update_id=21)
    assert await unusual(sessions, 2_000_000) is None  # 20 times is not above
    assert await unusual(sessions, 2_000_001) == purchases.Unusual(cap=None, usual=100_000)
    capped = RULES.model_copy(update={"purchase_confirm_above": 500_000})
    assert await unusual(sessions, 500_001, capped) == purchases.Unusual(cap=500_000, usual=None)
    assert await unusual(sessions, 500_000, capped) is None


async def test_the_usual_amount_reads_the_latest_purchases_along_the_primary_key(sessions: Sessions) -> None:
    """Bounded and sorted by the index: a shop of a million purchases reads USUAL_SAMPLE rows, never sorts them all."""
    async with sessions() as session:
        dialect = session.get_bind().dialect
        latest = str(purchases.LATEST_AMOUNTS.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "sqlite":
            plan = " ".join(str(row) for row in await session.execute(text("EXPLAIN QUERY PLAN " + latest)))
            assert "TEMP B-TREE" not in plan, plan
        else:
            # an empty table has no statistics: the planner is told to read by an index and not to sort, and the
            # plan must then be the primary key read backwards (the partial indexes on kept purchases cannot serve it)
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            await session.execute(text("SET LOCAL enable_sort = off"))
            plan = " ".join(str(row) for row in await session.execute(text("EXPLAIN " + latest)))
            assert "Index Scan Backward using pk_purchases" in plan and "Sort" not in plan, plan


async def undo_by_id(sessions: Sessions, purchase_id: int, actor_id: int, at: datetime) -> purchases.Undone:
    async with sessions() as session:
        stamp = Stamp(actor_id, f"undo:{actor_id}", at, 9)
        return await purchases.undo_by_id(session, RULES, purchase_id, stamp, own_within=purchases.QUICK_UNDO)


async def test_a_cashier_undoes_their_own_purchase_for_a_few_minutes(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    first = await buy(sessions, member_id, 250_000, update_id=1)
    second = await buy(sessions, member_id, 250_000, update_id=2)
    with pytest.raises(UndoRefused) as other:
        await undo_by_id(sessions, first.purchase.id, CASHIER + 1, NOW)
    with pytest.raises(UndoRefused) as late:
        await undo_by_id(sessions, first.purchase.id, CASHIER, NOW + purchases.QUICK_UNDO + timedelta(seconds=1))
    assert (other.value.reason, late.value.reason) == ("not_yours", "too_late")
    assert await books(sessions, member_id) == (50, 50, 50)
    undone = await undo_by_id(sessions, second.purchase.id, CASHIER, NOW + purchases.QUICK_UNDO)
    assert (undone.taken, undone.balance, undone.tier_change) == (25, 25, None)


async def test_undoing_sets_the_tier_from_the_spend_left_at_once(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 5_000_000, update_id=1)
    big = await buy(sessions, member_id, 20_000_000, receipt="big", update_id=2)
    assert big.member.tier == "silver"
    undone = await undo(sessions, "big", at=NOW + timedelta(days=1))
    change = undone.tier_change
    assert change is not None and (change.old, change.new, change.upgrade) == ("silver", "bronze", False)
    async with sessions() as session:
        member = await session.get(Member, member_id)
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert member is not None and member.tier == "bronze"
    assert actions[-2:] == ["purchase.undo", "tier.down"]


async def test_a_receipt_in_other_digits_case_or_invisible_marks_is_the_same_receipt(sessions: Sessions) -> None:
    # given a purchase with receipt R-۱۲۳ typed on a Persian keyboard
    member_id, other_id = await new_member(sessions), await new_member(sessions)
    first = await buy(sessions, member_id, 1_000_000, receipt="R-۱۲۳")
    # when it is typed again in ASCII, lower case, with a zero-width non-joiner
    again = await buy(sessions, member_id, 1_000_000, receipt="r-123\u200c", update_id=2)
    # then it is the purchase already recorded; for another member it is a receipt taken
    assert again.duplicate and again.purchase.id == first.purchase.id
    with pytest.raises(ReceiptTaken):
        await buy(sessions, other_id, 1_000_000, receipt="\u200fR-١٢٣", update_id=3)
    # and /undo finds it however it is typed
    async with sessions() as session:
        undone = await purchases.undo_purchase(session, RULES, "R-\u200b123", Stamp(CASHIER, "undo", NOW, 4))
    assert undone.purchase.id == first.purchase.id and undone.taken == 100
    assert await books(sessions, member_id) == (0, 0, 0)


async def test_a_category_is_stored_as_its_key(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    async with sessions() as session:
        earned = await purchases.record_purchase(
            session,
            RULES,
            member_id=member_id,
            amount=10_000,
            receipt=None,
            stamp=Stamp(CASHIER, "9", NOW),
            category="Cake-۲\u200c ك",
        )
    assert earned.purchase.category == "cake-2ک"


async def test_the_same_receipt_from_ten_cashiers_at_once_is_recorded_once(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    results = await asyncio.gather(*(buy(sessions, member_id, 300_000, receipt="RACE", update_id=n) for n in range(10)))
    assert sum(not result.duplicate for result in results) == 1
    assert await books(sessions, member_id) == (30, 30, 30)


async def test_the_daily_review_moves_tiers_down_when_spend_leaves_the_window(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 25_000_000, receipt="big")
    async with sessions() as session:
        assert await tiers.review(session, RULES, NOW + DAY) == []
        [change] = await tiers.review(session, RULES, NOW + 366 * DAY)
        assert (change.old, change.new, change.upgrade) == ("silver", "bronze", False)
        assert (await session.get(Member, member_id, populate_existing=True)).tier == "bronze"


async def test_rule_changes_are_validated_stored_and_audited(sessions: Sessions) -> None:
    async with sessions() as session:
        changed = await rules.change(session, RULES, "amount_per_point", 5_000, actor_id=1, now=NOW, update_id=9)
        await session.commit()
        assert (await rules.current(session, RULES)).amount_per_point == changed.amount_per_point == 5_000
        with pytest.raises(InvalidRule):
            await rules.change(session, RULES, "amount_per_point", 0, actor_id=1, now=NOW, update_id=10)
        with pytest.raises(InvalidRule):
            await rules.change(
                session, RULES, "tiers", [{"name": "gold", "threshold": 5}], actor_id=1, now=NOW, update_id=11
            )
        audit = (await session.execute(select(AuditEntry.action, AuditEntry.update_id))).all()
    assert audit == [("settings.change", 9)]


async def test_staff_find_members_by_code_or_phone(session: AsyncSession) -> None:
    member = await imported_member(session, "+989121112233")
    assert (await members.find(session, member.code)).id == member.id
    assert (await members.find(session, "۰۹۱۲ ۱۱۱ ۲۲۳۳")).id == member.id
    wrong_check = member.code[:-1] + str((int(member.code[-1]) + 1) % 10)
    with pytest.raises(MistypedCode):
        await members.find(session, wrong_check)
    with pytest.raises(UnknownMember):
        await members.find(session, "09129998877")
    with pytest.raises(NotAMemberReference):
        await members.find(session, "hello")


async def test_every_entry_of_a_purchase_names_the_cashier(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 100_000, receipt="who")
    async with sessions() as session:
        assert (await session.scalars(select(LedgerEntry.actor_id))).all() == [CASHIER]


# --- the hot path: what an earn reads and writes -----------------------------------------------------------------


async def test_points_due_expire_before_the_purchase_credits_its_own(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 40, "short", NOW, days=10)
    earned = await buy(sessions, member_id, 100_000, receipt="late", at=NOW + 11 * DAY)
    assert (earned.points, earned.balance) == (10, 10)
    async with sessions() as session:
        kinds = (await session.execute(select(LedgerEntry.kind, LedgerEntry.points).order_by(LedgerEntry.id))).all()
    assert kinds == [("bonus", 40), ("expire", -40), ("earn", 10)]
    assert await books(sessions, member_id) == (10, 10, 10)


async def test_a_rule_change_prices_the_very_next_purchase_and_changing_back_too(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    points = []
    for step, amount_per_point in enumerate((None, 5_000, 10_000, 5_000)):
        if amount_per_point is not None:  # at the same instant each time: the stored value, not a timestamp, counts
            async with sessions() as session:
                await rules.change(
                    session, RULES, "amount_per_point", amount_per_point, actor_id=1, now=NOW, update_id=9
                )
                await session.commit()
        points.append((await buy(sessions, member_id, 100_000, receipt=f"P{step}")).points)
    assert points == [10, 20, 10, 20]


async def test_an_ordinary_earn_is_seven_statements_after_begin(engine: AsyncEngine, sessions: Sessions) -> None:
    """The budget of the hot path (bench/earn.py): lock with rules, campaign and referrer; reads under the lock;
    entry, lot, balance, purchase, audit. A duplicate is three: lock, reads, the purchase already recorded."""
    member_id = await new_member(sessions)
    await buy(sessions, member_id, 100_000, receipt="warm")
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement != "BEGIN IMMEDIATE":  # SQLite's write lock; PostgreSQL's BEGIN is not a statement here
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessions() as session:
            earned = await purchases.record_purchase(
                session,
                RULES,
                member_id=member_id,
                amount=100_000,
                receipt="R",
                stamp=Stamp(CASHIER, "2", NOW),
            )
            assert inspect(earned.purchase).detached and not session.new and not session.dirty
        assert len(statements) == 7, statements
        statements.clear()
        assert (await buy(sessions, member_id, 100_000, receipt="R", update_id=3)).duplicate
        assert len(statements) == 3, statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert await books(sessions, member_id) == (20, 20, 20)


async def test_a_purchase_recorded_by_the_members_own_staff_account_is_refused(sessions: Sessions) -> None:
    async with sessions() as session:
        member = (await joined_member(session, 700, "Ali")).member
    with pytest.raises(OwnAccount) as refused:
        async with sessions() as session:
            await purchases.record_purchase(
                session,
                RULES,
                member_id=member.id,
                amount=500_000,
                receipt="R-1",
                stamp=Stamp(700, "1", NOW),
            )
    assert refused.value.action == "purchase"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 0
    assert await books(sessions, member.id) == (100, 100, 100)  # the welcome bonus only


# --- corrections -------------------------------------------------------------------------------------------------


async def test_a_correction_is_made_once_per_update_lasting_as_the_rules_say(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    stamp, club_rules = Stamp(CASHIER, "1000:5:9", NOW), RULES.model_copy(update={"expiry_days": 30})
    async with sessions() as session:
        member = await session.get_one(Member, member_id)
        first = await purchases.adjust(session, club_rules, member, 25, "x" * 100, stamp)
        again = await purchases.adjust(session, club_rules, member, 25, "x" * 100, stamp)  # the update again
    assert (first.duplicate, again.duplicate, again.balance) == (False, True, 25)
    assert (first.entry.reason, first.entry.actor_id, first.entry.created_at) == ("x" * 64, CASHIER, NOW)
    async with sessions() as session:
        assert await session.scalar(select(PointLot.expires_at)) == NOW + 30 * DAY


async def test_a_correction_of_the_staff_members_own_membership_is_refused(sessions: Sessions) -> None:
    async with sessions() as session:
        member = (await joined_member(session, 700, "Ali")).member
        with pytest.raises(OwnAccount) as refused:
            await purchases.adjust(session, RULES, member, 50, "thanks", Stamp(700, "1", NOW))
    assert refused.value.action == "adjust"
    assert await books(sessions, member.id) == (100, 100, 100)  # the welcome bonus only
