"""Voucher codes as people type them; a member's vouchers, cancelling, and the counter — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import gifts, ledger, rewards, voucher_codes, voucher_use, vouchers
from loyalty.errors import (
    NotAVoucherCode,
    TooManyAttempts,
    VoucherCancelled,
    VoucherExpired,
    VoucherMistyped,
    VoucherNotFound,
    VoucherUsed,
)
from loyalty.stamps import Stamp
from loyalty.voucher_codes import ALPHABET, LENGTH, display, is_valid, new_voucher_code, read_voucher_code
from loyalty.vouchers import Kind, Status, Worth
from storage.models import AuditEntry, LedgerEntry, PointLot, Voucher
from tests.factories import NOW, mistyped
from tests.lookups import audit_actions, books, stock_of
from tests.steps import CASHIER, add, give, new_member, redeem, rich_member

Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
SAMPLE = ["7KQ2M9XW4", "000000000", "ZZZZZZZZZ", "ABCDEFGHJ", "123456789"]
SAMPLE_CODES = [body + voucher_codes.check_symbol(body) for body in SAMPLE]
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
TO_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# --- codes ---------------------------------------------------------------------------------------------------------


def test_the_alphabet_has_31_symbols_and_none_that_look_alike() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("ILOUV") & set(ALPHABET)


def test_nine_random_symbols_carry_at_least_40_bits() -> None:
    bits = voucher_codes.BODY_LENGTH * math.log2(len(ALPHABET))
    assert bits >= 40
    assert round(bits, 1) == voucher_codes.ENTROPY_BITS


@given(st.integers(min_value=0, max_value=199))
def test_new_codes_are_ten_symbols_of_the_alphabet_and_valid(_: int) -> None:
    code = new_voucher_code()
    assert len(code) == LENGTH and set(code) <= set(ALPHABET)
    assert is_valid(code)


def test_codes_are_drawn_from_the_cryptographic_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voucher_codes.secrets, "choice", lambda symbols: symbols[5])
    assert new_voucher_code().startswith("555555555")


def test_codes_spread_over_the_whole_alphabet() -> None:
    codes = {new_voucher_code() for _ in range(2000)}
    assert len(codes) == 2000
    for position in range(voucher_codes.BODY_LENGTH):
        assert {code[position] for code in codes} == set(ALPHABET)


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_every_single_character_substitution_is_caught(code: str) -> None:
    for position in range(LENGTH):
        for symbol in ALPHABET.replace(code[position], ""):
            typo = code[:position] + symbol + code[position + 1 :]
            assert not is_valid(typo), typo
            assert read_voucher_code(typo) is None


@pytest.mark.parametrize("code", [*SAMPLE_CODES, *(new_voucher_code() for _ in range(20))])
def test_every_adjacent_transposition_is_caught(code: str) -> None:
    for position in range(LENGTH - 1):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        if swapped != code:
            assert not is_valid(swapped), swapped


def test_codes_are_shown_in_groups_and_read_back() -> None:
    code = SAMPLE_CODES[0]
    assert display(code) == "7KQ2-M9XW-4" + code[-1]
    assert read_voucher_code(display(code)) == code


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: display(code).lower(),
        lambda code: " ".join(code),
        lambda code: f"  {code[:5]} - {code[5:]}\n",
        lambda code: display(code).translate(TO_PERSIAN),
        lambda code: code.translate(TO_ARABIC).lower(),
    ],
)
def test_a_code_is_read_in_any_case_with_separators_and_persian_digits(typed) -> None:
    for code in SAMPLE_CODES:
        assert read_voucher_code(typed(code)) == code


def test_letters_that_look_like_digits_are_read_as_digits() -> None:
    code = SAMPLE_CODES[1]  # 000000000 and its check
    assert read_voucher_code(code.replace("0", "O")) == code
    one = "1" * 9 + voucher_codes.check_symbol("1" * 9)
    assert read_voucher_code("lI1lI1lI1" + one[-1]) == one


@pytest.mark.parametrize(
    "typed", ["", "hello", "7KQ2M9XW4", "7KQ2M9XW4HH7", "7KQ2$9XW4H", "۷کق۲م۹ایکس", "/start", "12345678"]
)
def test_garbage_is_not_read_as_a_code(typed: str) -> None:
    assert read_voucher_code(typed) is None


def test_only_ten_letters_or_digits_look_like_a_code() -> None:
    assert voucher_codes.looks_like_voucher_code("abcd-efgh-uv")
    assert not voucher_codes.looks_like_voucher_code("hello!")
    assert not voucher_codes.looks_like_voucher_code("what is this?")
    assert not voucher_codes.looks_like_voucher_code("۰۹۱۲۱۲۳۴۵۶۷")


# --- helpers for the database tests ------------------------------------------------------------------------------


async def bought(sessions: Sessions, points: int = 500, **reward: object) -> vouchers.VoucherInfo:
    """A voucher a fresh member bought for 100 points (reward fields may be changed)."""
    member_id = await rich_member(sessions, points=points)
    reward_row = await add(sessions, **({"cost": 100} | reward))
    return (await redeem(sessions, member_id, reward_row.id)).voucher


async def gifted(sessions: Sessions, validity_days: int = 7) -> vouchers.VoucherInfo:
    member_id = await rich_member(sessions, points=200)
    draft = gifts.GiftDraft("Gift", Worth(Kind.PERCENT, 15, cap=50_000), validity_days)
    async with sessions() as session:
        given_ = await gifts.give(session, draft, gifts.Audience(member_id=member_id), Stamp(1, "3", NOW))
    assert given_.voucher is not None
    return given_.voucher


async def cancel(sessions: Sessions, voucher: vouchers.VoucherInfo, at=NOW, member_id: int | None = -1):
    async with sessions() as session:
        return await vouchers.cancel(
            session, voucher.id, Stamp(1, "k", at), member_id=voucher.member_id if member_id == -1 else member_id
        )


async def look_up(sessions: Sessions, text: str, actor_id: int = CASHIER, at=NOW) -> voucher_use.Found:
    async with sessions() as session:
        return await voucher_use.look_up(session, text, Stamp(actor_id, "k", at, 61))


async def use(sessions: Sessions, voucher_id: int, actor_id: int = CASHIER, at=NOW) -> voucher_use.Found:
    async with sessions() as session:
        return await voucher_use.use(session, voucher_id, Stamp(actor_id, "k", at, 62))


def unknown_code() -> str:
    return new_voucher_code()


# --- a member's vouchers -----------------------------------------------------------------------------------------


async def test_a_members_vouchers_are_listed_by_status(sessions: Sessions) -> None:
    member_id = await rich_member(sessions, points=1000)
    short = await add(sessions, cost=100, validity_days=2)
    long = await add(sessions, cost=100, validity_days=30)
    expired = (await redeem(sessions, member_id, short.id)).voucher
    used = (await redeem(sessions, member_id, long.id)).voucher
    cancelled = (await redeem(sessions, member_id, long.id)).voucher
    active = (await redeem(sessions, member_id, long.id)).voucher
    await use(sessions, used.id)
    await cancel(sessions, cancelled)
    async with sessions() as session:
        mine = await vouchers.vouchers_of(session, member_id, NOW + 3 * DAY)
        other = await vouchers.vouchers_of(session, await new_member(sessions), NOW + 3 * DAY)
    assert [(voucher.id, voucher.status) for voucher in mine.active] == [(active.id, Status.ACTIVE)]
    assert [(voucher.id, voucher.status) for voucher in mine.used] == [(used.id, Status.USED)]
    assert [(voucher.id, voucher.status) for voucher in mine.expired] == [(expired.id, Status.EXPIRED)]
    assert [(voucher.id, voucher.status) for voucher in mine.cancelled] == [(cancelled.id, Status.CANCELLED)]
    assert other == vouchers.MemberVouchers([], [], [], [])


async def test_a_member_sees_only_their_own_voucher(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    async with sessions() as session:
        assert (await vouchers.find(session, voucher.id, NOW, member_id=voucher.member_id)).code == voucher.code
        with pytest.raises(VoucherNotFound):
            await vouchers.find(session, voucher.id, NOW, member_id=voucher.member_id + 1)


# --- cancelling --------------------------------------------------------------------------------------------------


async def test_cancelling_gives_the_points_back_with_their_original_expiry(sessions: Sessions) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 60, "soon", NOW, days=20)
    await give(sessions, member_id, 100, "late", NOW, days=200)
    reward = await add(sessions, cost=100, stock=3, per_member_limit=1)
    voucher = (await redeem(sessions, member_id, reward.id)).voucher
    done = await cancel(sessions, voucher, at=NOW + DAY)
    async with sessions() as session:
        refund = await session.get(LedgerEntry, (await session.get(Voucher, voucher.id)).refund_entry_id)
        lots = (
            await session.execute(
                select(PointLot.expires_at, PointLot.points)
                .where(PointLot.entry_id == refund.id)
                .order_by(PointLot.expires_at)
            )
        ).all()
    assert (done.refunded, done.balance, done.voucher.status) == (100, 160, Status.CANCELLED)
    assert (refund.points, refund.reason, refund.kind) == (100, vouchers.REFUND, "reversal")
    assert lots == [(NOW + 20 * DAY, 60), (NOW + 200 * DAY, 40)]
    assert await stock_of(sessions, reward.id) == 3
    assert await books(sessions, member_id) == (160, 160, 160)
    assert (await redeem(sessions, member_id, reward.id)).voucher.status is Status.ACTIVE  # the limit is free again


async def test_refunded_points_whose_expiry_has_passed_cannot_be_spent_and_expire_at_night(
    sessions: Sessions,
) -> None:
    member_id = await new_member(sessions)
    await give(sessions, member_id, 100, "short", NOW, days=5)
    await give(sessions, member_id, 100, "long", NOW, days=100)
    reward = await add(sessions, cost=150, validity_days=30)
    voucher = (await redeem(sessions, member_id, reward.id)).voucher
    done = await cancel(sessions, voucher, at=NOW + 10 * DAY)
    async with sessions() as session:
        spendable = (await rewards.offers(session, member_id, NOW + 10 * DAY)).points
        expired = await ledger.expire_due(session, NOW + 10 * DAY)
    assert (done.refunded, done.balance, spendable, expired) == (150, 200, 100, 100)
    assert await books(sessions, member_id) == (100, 100, 100)


async def test_an_expired_voucher_is_not_cancelled_and_gives_nothing_back(sessions: Sessions) -> None:
    voucher = await bought(sessions, validity_days=5)
    with pytest.raises(VoucherExpired) as refused:
        await cancel(sessions, voucher, at=NOW + 6 * DAY)
    assert refused.value.expires_at == NOW + 5 * DAY
    assert await books(sessions, voucher.member_id) == (400, 400, 400)


async def test_a_cancelled_gift_gives_no_points(sessions: Sessions) -> None:
    voucher = await gifted(sessions)
    done = await cancel(sessions, voucher)
    assert (done.refunded, done.balance, done.voucher.status) == (0, 200, Status.CANCELLED)
    assert await books(sessions, voucher.member_id) == (200, 200, 200)


async def test_a_used_voucher_cannot_be_cancelled(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    await use(sessions, voucher.id)
    with pytest.raises(VoucherUsed):
        await cancel(sessions, voucher)
    assert await books(sessions, voucher.member_id) == (400, 400, 400)


async def test_a_voucher_is_cancelled_once(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    await cancel(sessions, voucher)
    with pytest.raises(VoucherCancelled):
        await cancel(sessions, voucher)
    assert await books(sessions, voucher.member_id) == (500, 500, 500)


async def test_a_member_cannot_cancel_someone_elses_voucher(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    with pytest.raises(VoucherNotFound):
        await cancel(sessions, voucher, member_id=voucher.member_id + 1)
    assert await books(sessions, voucher.member_id) == (400, 400, 400)


# --- the counter -------------------------------------------------------------------------------------------------


async def test_a_code_looked_up_shows_its_worth_owner_and_status(sessions: Sessions) -> None:
    voucher = await bought(sessions, worth=Worth(Kind.PERCENT, 10, cap=30_000))
    found = await look_up(sessions, display(voucher.code).lower())
    assert (found.voucher.id, found.voucher.worth, found.usable) == (voucher.id, Worth(Kind.PERCENT, 10, 30_000), True)
    assert found.member.id == voucher.member_id
    assert await audit_actions(sessions, CASHIER) == ["voucher.lookup"]


async def test_used_expired_and_cancelled_vouchers_are_shown_as_such(sessions: Sessions) -> None:
    used, expired, cancelled = await bought(sessions), await bought(sessions, validity_days=1), await bought(sessions)
    await use(sessions, used.id)
    await cancel(sessions, cancelled)
    statuses = [(await look_up(sessions, v.code, at=NOW + 2 * DAY)).voucher.status for v in (used, expired, cancelled)]
    assert statuses == [Status.USED, Status.EXPIRED, Status.CANCELLED]


async def test_a_mistyped_code_is_told_apart_from_an_unknown_one(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    with pytest.raises(VoucherMistyped):
        await look_up(sessions, mistyped(voucher.code))
    with pytest.raises(VoucherNotFound):
        await look_up(sessions, unknown_code())
    assert await audit_actions(sessions, CASHIER) == ["voucher.miss", "voucher.miss"]


async def test_text_that_is_no_code_is_refused_without_counting(sessions: Sessions) -> None:
    with pytest.raises(NotAVoucherCode):
        await look_up(sessions, "how much is a coffee?")
    assert await audit_actions(sessions, CASHIER) == []


async def test_five_wrong_codes_in_a_minute_make_the_account_wait(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    for second in range(5):
        with pytest.raises((VoucherNotFound, VoucherMistyped)):
            await look_up(
                sessions, unknown_code() if second % 2 else mistyped(voucher.code), at=NOW + second * 5 * SECOND
            )
    with pytest.raises(TooManyAttempts) as refused:
        await look_up(sessions, voucher.code, at=NOW + 30 * SECOND)
    assert refused.value.retry_after == 30
    assert (await look_up(sessions, voucher.code, actor_id=CASHIER + 1, at=NOW + 30 * SECOND)).usable
    assert (await look_up(sessions, voucher.code, at=NOW + 60 * SECOND)).usable
    assert await audit_actions(sessions, CASHIER) == ["voucher.miss"] * 5 + ["voucher.throttled", "voucher.lookup"]


async def test_the_wait_is_counted_from_the_database_across_sessions(sessions: Sessions) -> None:
    for _ in range(5):
        with pytest.raises(VoucherNotFound):
            await look_up(sessions, unknown_code(), actor_id=77)
    async with sessions() as other_instance:
        assert await voucher_use.retry_after(other_instance, 77, NOW + 10 * SECOND) == 50
        assert await voucher_use.retry_after(other_instance, 77, NOW + 61 * SECOND) == 0


async def test_twenty_wrong_codes_at_once_let_no_more_than_five_through(sessions: Sessions) -> None:
    async def guess() -> str:
        try:
            await look_up(sessions, unknown_code(), actor_id=6_123_456_789)  # telegram ids pass 2**31
        except TooManyAttempts:
            return "wait"
        except VoucherNotFound:
            return "miss"
        return "found"

    outcomes = await asyncio.gather(*(guess() for _ in range(20)))
    assert (outcomes.count("miss"), outcomes.count("wait")) == (5, 15)


async def test_a_voucher_is_used_once_and_audited(sessions: Sessions) -> None:
    voucher = await bought(sessions)
    found = await use(sessions, voucher.id, at=NOW + DAY)
    with pytest.raises(VoucherUsed) as refused:
        await use(sessions, voucher.id, actor_id=CASHIER + 1)
    async with sessions() as session:
        audited = await session.scalar(select(AuditEntry).where(AuditEntry.action == "voucher.use"))
    assert (found.voucher.status, found.voucher.used_at, found.voucher.used_by) == (Status.USED, NOW + DAY, CASHIER)
    assert (refused.value.used_at, refused.value.used_by) == (NOW + DAY, CASHIER)
    assert (audited.actor_id, audited.update_id, audited.member_id) == (CASHIER, 62, voucher.member_id)
    assert json.loads(audited.details)["voucher_id"] == voucher.id


async def test_an_expired_or_cancelled_voucher_cannot_be_used(sessions: Sessions) -> None:
    expired, cancelled = await bought(sessions, validity_days=3), await gifted(sessions)
    await cancel(sessions, cancelled)
    with pytest.raises(VoucherExpired):
        await use(sessions, expired.id, at=NOW + 3 * DAY)
    with pytest.raises(VoucherCancelled):
        await use(sessions, cancelled.id)
    with pytest.raises(VoucherNotFound):
        await use(sessions, 987654)


async def test_twenty_cashiers_using_one_voucher_at_once_use_it_once(sessions: Sessions) -> None:
    voucher = await bought(sessions)

    async def attempt(cashier: int) -> str:
        try:
            await use(sessions, voucher.id, actor_id=cashier)
        except VoucherUsed:
            return "already used"
        return "used"

    outcomes = await asyncio.gather(*(attempt(CASHIER + number) for number in range(20)))
    async with sessions() as session:
        uses = await session.scalar(select(func.count()).where(AuditEntry.action == "voucher.use"))
        stored = await session.get(Voucher, voucher.id)
    assert outcomes.count("used") == 1 and outcomes.count("already used") == 19
    assert uses == 1 and stored.status == Status.USED


async def test_twenty_cancels_and_uses_at_once_settle_on_one(sessions: Sessions) -> None:
    voucher = await bought(sessions)

    async def attempt(number: int) -> str:
        try:
            if number % 2:
                await cancel(sessions, voucher)
                return "cancelled"
            await use(sessions, voucher.id)
            return "used"
        except (VoucherUsed, VoucherCancelled):
            return "refused"

    outcomes = await asyncio.gather(*(attempt(number) for number in range(20)))
    assert outcomes.count("refused") == 19
    expected = 500 if "cancelled" in outcomes else 400
    assert await books(sessions, voucher.member_id) == (expected, expected, expected)
