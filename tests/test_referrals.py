"""Referrals, the domain: invite payloads, attribution in the window, guards, rewards once, stats; both databases."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger, referrals, rewards, rules, vouchers
from loyalty.codes import new_member_code
from loyalty.errors import InvalidRule
from loyalty.referrals import Event, Opened, Reason, Refused, Status
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import Member, PointLot, Referral, Reward, Voucher
from tests.factories import NOW, imported_member, new_reward, phone_of
from tests.lookups import referral_points, refusals
from tests.steps import RULES, buy, join, member, open_link, referred_friend, undo

Sessions = async_sessionmaker[AsyncSession]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
REFERRER, FRIEND = 1001, 2002
BIG = 1_000_000  # a purchase worth 100 points


def with_rules(**changes: object) -> Rules:
    return RULES.model_copy(update=changes)


async def balance(sessions: Sessions, member_id: int) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(Member.balance).where(Member.id == member_id)) or 0)


async def row(sessions: Sessions, telegram_id: int) -> Referral | None:
    async with sessions() as session:
        return await session.scalar(select(Referral).where(Referral.friend_telegram_id == telegram_id))


# --- the invite payload ----------------------------------------------------------------------------------------


def test_a_member_code_makes_a_payload_telegram_accepts_and_reads_back() -> None:
    payload = referrals.payload_for("48213375")
    assert payload == "ref_48213375" and len(payload) <= 64 and payload.replace("_", "").isalnum()
    assert referrals.read_payload(payload) == "48213375"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "",
        "card_48213375",
        "ref_",
        "ref_48213376",
        "ref_4821337",
        "ref_۴۸۲۱۳۳۷۵",
        "ref_48213375x",
        "ref_" + "1" * 61,
    ],
)
def test_anything_but_an_invite_with_a_valid_code_reads_as_none(payload: str | None) -> None:
    assert referrals.read_payload(payload) is None


# --- opening a link and joining --------------------------------------------------------------------------------


async def test_a_newcomer_who_joins_days_later_within_the_window_is_attributed(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER, "Reza")
    opened = await open_link(sessions, referrer, FRIEND)

    joined = await join(sessions, FRIEND, "Mina", at=NOW + 7 * DAY)

    assert isinstance(opened, Opened) and opened.referrer_first_name == "Reza" and not opened.duplicate
    news = joined.referral
    assert news is not None and news.event is Event.JOINED and not news.rewarded
    assert (news.referrer_telegram_id, news.referrer_language, news.friend_first_name) == (REFERRER, "fa", "Mina")
    stored = await row(sessions, FRIEND)
    assert stored.status == Status.JOINED and stored.friend_member_id == joined.member.id


async def test_a_newcomer_who_joins_after_the_window_is_not_attributed(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    await open_link(sessions, referrer, FRIEND)

    joined = await join(sessions, FRIEND, at=NOW + 7 * DAY + timedelta(minutes=1))

    assert joined.referral is None
    stored = await row(sessions, FRIEND)
    assert (stored.status, stored.reason, stored.friend_member_id) == (Status.REFUSED, Reason.EXPIRED, None)
    assert await refusals(sessions) == ["expired"]


async def test_the_window_is_the_owners_to_set(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    short = with_rules(referral_window_days=1)
    await open_link(sessions, referrer, FRIEND, club_rules=short)

    joined = await join(sessions, FRIEND, at=NOW + 2 * DAY, club_rules=short)

    assert joined.referral is None and (await row(sessions, FRIEND)).reason == Reason.EXPIRED


async def test_opening_links_again_keeps_the_first_pending_referral(sessions: Sessions) -> None:
    first, second = await member(sessions, REFERRER), await member(sessions, 1002)
    opened = await open_link(sessions, first, FRIEND)

    again = await open_link(sessions, first, FRIEND, at=NOW + HOUR)
    other = await open_link(sessions, second, FRIEND, at=NOW + 2 * HOUR)

    assert isinstance(again, Opened) and isinstance(other, Opened) and again.duplicate and other.duplicate
    assert again.referral_id == other.referral_id == opened.referral_id and other.referrer_id == first.id
    assert (await join(sessions, FRIEND)).referral.referrer_id == first.id


async def test_a_link_opened_after_the_window_replaces_the_stale_referral(sessions: Sessions) -> None:
    first, second = await member(sessions, REFERRER), await member(sessions, 1002)
    await open_link(sessions, first, FRIEND)

    later = await open_link(sessions, second, FRIEND, at=NOW + 8 * DAY)
    joined = await join(sessions, FRIEND, at=NOW + 9 * DAY)

    assert isinstance(later, Opened) and not later.duplicate and later.referrer_id == second.id
    assert joined.referral is not None and joined.referral.referrer_id == second.id


async def test_a_member_opening_their_own_link_is_refused_as_self_referral(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)

    assert await open_link(sessions, referrer, REFERRER) == Refused(Reason.SELF)
    assert await row(sessions, REFERRER) is None
    assert await refusals(sessions) == ["self"]


async def test_an_existing_member_opening_a_link_is_refused(sessions: Sessions) -> None:
    referrer, already = await member(sessions, REFERRER), await member(sessions, FRIEND)

    assert await open_link(sessions, referrer, FRIEND) == Refused(Reason.ALREADY_MEMBER)
    assert await row(sessions, FRIEND) is None
    assert await refusals(sessions) == ["already_member"]
    assert (await buy(sessions, already.id, BIG, "R1")).referral is None


async def test_a_link_of_nobody_is_refused_and_garbage_is_not_a_referral(sessions: Sessions) -> None:
    async with sessions() as session:
        unknown = await referrals.opened(session, "ref_48213375", telegram_id=FRIEND, now=NOW, rules=RULES)
        garbage = await referrals.opened(session, "hello", telegram_id=FRIEND, now=NOW, rules=RULES)
    assert (unknown, garbage) == (Refused(Reason.UNKNOWN_REFERRER), Refused(Reason.NOT_A_REFERRAL))
    assert await refusals(sessions) == ["unknown_referrer"]


async def test_a_phone_already_in_the_club_is_refused_at_joining(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    async with sessions() as session:
        await imported_member(session, phone_of(FRIEND))
    await open_link(sessions, referrer, FRIEND)

    joined = await join(sessions, FRIEND, club_rules=with_rules(referral_trigger="registration"))

    assert joined.referral is None
    assert (await row(sessions, FRIEND)).reason == Reason.PHONE_IN_CLUB
    assert await referral_points(sessions, referrer.id) == 0
    assert await refusals(sessions) == ["phone_in_club"]


async def test_the_payload_given_at_joining_attributes_a_link_never_recorded(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)

    joined = await join(sessions, FRIEND, referral_payload=referrals.payload_for(referrer.code))

    assert joined.referral is not None and joined.referral.referrer_id == referrer.id


# --- rewards -----------------------------------------------------------------------------------------------------

OUTCOMES = {"referrer": (100, 0), "friend": (0, 50), "both": (100, 50), "none": (0, 0)}


@pytest.mark.parametrize("trigger", ["registration", "purchase"])
@pytest.mark.parametrize("reward_to", list(OUTCOMES))
async def test_the_owner_chooses_who_is_rewarded_and_when(sessions: Sessions, reward_to: str, trigger: str) -> None:
    club_rules = with_rules(referral_reward_to=reward_to, referral_trigger=trigger)
    referrer = await member(sessions, REFERRER)
    joined = await referred_friend(sessions, referrer, FRIEND, club_rules=club_rules)
    at_joining = (await referral_points(sessions, referrer.id), await referral_points(sessions, joined.member.id))

    earned = await buy(sessions, joined.member.id, BIG, "R1", at=NOW + DAY, club_rules=club_rules)

    expected = OUTCOMES[reward_to]
    paid_on_joining = trigger == "registration"
    assert at_joining == (expected if paid_on_joining else (0, 0))
    assert (await referral_points(sessions, referrer.id), await referral_points(sessions, joined.member.id)) == expected
    news = joined.referral if paid_on_joining else earned.referral
    assert news.rewarded and (news.referrer_points, news.friend_points) == expected
    assert earned.referral.event is Event.CONVERTED and earned.referral.rewarded is not paid_on_joining
    assert earned.balance == 100 + expected[1]
    assert (await row(sessions, FRIEND)).status == Status.REWARDED


async def test_a_first_purchase_below_the_minimum_does_not_convert_but_a_later_one_does(sessions: Sessions) -> None:
    club_rules = with_rules(referral_min_purchase=500_000)
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND, club_rules=club_rules)).member

    small = await buy(sessions, friend.id, 499_999, "R1", club_rules=club_rules)
    assert small.referral is None and await referral_points(sessions, referrer.id) == 0
    assert (await row(sessions, FRIEND)).converted_at is None

    enough = await buy(sessions, friend.id, 500_000, "R2", at=NOW + DAY, club_rules=club_rules)
    assert enough.referral is not None and enough.referral.referrer_points == 100
    assert (await row(sessions, FRIEND)).converted_at == NOW + DAY


_newcomers = itertools.count(5_000)


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(st.sampled_from([100_000, 499_999, 500_000, BIG]), min_size=1, max_size=5))
async def test_the_first_purchase_reaching_the_minimum_converts_and_pays_once(
    sessions: Sessions, amounts: list[int]
) -> None:
    club_rules = with_rules(referral_min_purchase=500_000)
    referrer = await member(sessions, next(_newcomers))
    friend = (await referred_friend(sessions, referrer, next(_newcomers), club_rules=club_rules)).member

    news = [
        (await buy(sessions, friend.id, amount, f"{friend.id}-{step}", club_rules=club_rules)).referral
        for step, amount in enumerate(amounts)
    ]

    qualifying = [step for step, amount in enumerate(amounts) if amount >= 500_000]
    assert [step for step, event in enumerate(news) if event is not None] == qualifying[:1]
    assert await referral_points(sessions, referrer.id) == (100 if qualifying else 0)


async def test_a_referral_is_rewarded_once_however_many_purchases_follow(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND)).member

    first = await buy(sessions, friend.id, BIG, "R1")
    second = await buy(sessions, friend.id, BIG, "R2")
    repeated = await buy(sessions, friend.id, BIG, "R1")

    assert first.referral is not None and second.referral is None and repeated.duplicate
    assert await referral_points(sessions, referrer.id) == 100 and await referral_points(sessions, friend.id) == 50


async def test_paid_on_registration_the_first_purchase_still_counts_as_converted_without_paying_again(
    sessions: Sessions,
) -> None:
    club_rules = with_rules(referral_trigger="registration")
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND, club_rules=club_rules)).member

    await buy(sessions, friend.id, BIG, "R1", club_rules=club_rules)

    assert (await row(sessions, FRIEND)).converted_at is not None
    assert await referral_points(sessions, referrer.id) == 100
    async with sessions() as session:
        assert await referrals.my_results(session, referrer.id) == referrals.MyResults(joined=1, bought=1, points=100)


async def test_referral_points_expire_after_their_own_days_if_the_owner_sets_them(sessions: Sessions) -> None:
    club_rules = with_rules(referral_trigger="registration", referral_expiry_days=30)
    referrer = await member(sessions, REFERRER)

    await referred_friend(sessions, referrer, FRIEND, club_rules=club_rules)

    async with sessions() as session:
        lot = await session.scalar(select(PointLot).where(PointLot.member_id == referrer.id))
    assert lot.points == 100 and lot.expires_at == NOW + HOUR + 30 * DAY


async def test_the_monthly_cap_stops_the_referrers_points_for_rolling_thirty_days(sessions: Sessions) -> None:
    club_rules = with_rules(referral_trigger="registration", referral_monthly_cap=2)
    referrer = await member(sessions, REFERRER)
    joins = [
        await referred_friend(sessions, referrer, FRIEND + number, at=NOW + number * DAY, club_rules=club_rules)
        for number in range(3)
    ]

    capped = joins[2].referral
    assert [joined.referral.referrer_points for joined in joins] == [100, 100, 0]
    assert capped.withheld is Reason.MONTHLY_CAP and capped.friend_points == 50
    assert (await row(sessions, FRIEND + 2)).reason == Reason.MONTHLY_CAP
    assert await refusals(sessions) == ["monthly_cap"]

    later = await referred_friend(sessions, referrer, FRIEND + 3, at=NOW + 30 * DAY + HOUR, club_rules=club_rules)
    assert later.referral.referrer_points == 100  # the first reward left the 30 days
    assert await referral_points(sessions, referrer.id) == 300


async def test_a_blocked_referrer_earns_nothing_but_a_stopped_one_does(sessions: Sessions) -> None:
    blocked, stopped = await member(sessions, REFERRER), await member(sessions, 1002)
    async with sessions() as session, write_transaction(session):
        await session.execute(update(Member).where(Member.id == blocked.id).values(blocked=True))
        await session.execute(update(Member).where(Member.id == stopped.id).values(stopped=True))
    friend_of_blocked = (await referred_friend(sessions, blocked, FRIEND)).member
    friend_of_stopped = (await referred_friend(sessions, stopped, FRIEND + 1)).member

    of_blocked = (await buy(sessions, friend_of_blocked.id, BIG, "R1")).referral
    of_stopped = (await buy(sessions, friend_of_stopped.id, BIG, "R2")).referral

    assert (of_blocked.referrer_points, of_blocked.friend_points, of_blocked.withheld) == (0, 50, "referrer_blocked")
    assert (of_stopped.referrer_points, of_stopped.withheld) == (100, None)
    assert await referral_points(sessions, blocked.id) == 0
    assert await refusals(sessions) == ["referrer_blocked"]


async def block_member(sessions: Sessions, member_id: int) -> None:
    """Staff block the membership (as /block does)."""
    async with sessions() as session, write_transaction(session):
        await session.execute(update(Member).where(Member.id == member_id).values(blocked=True))


async def test_a_blocked_friend_earns_nothing_on_their_first_purchase_but_the_referrer_does(
    sessions: Sessions,
) -> None:
    async with sessions() as session:
        coffee = await new_reward(session, name="Coffee")
    club_rules = with_rules(referral_friend_reward_id=coffee.id)
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND, club_rules=club_rules)).member
    await block_member(sessions, friend.id)

    event = (await buy(sessions, friend.id, BIG, "R1", club_rules=club_rules)).referral

    assert (event.referrer_points, event.friend_points, event.friend_voucher_id) == (100, 0, None)
    assert event.friend_withheld is Reason.FRIEND_BLOCKED and event.withheld is None
    assert await referral_points(sessions, friend.id) == 0 and await referral_points(sessions, referrer.id) == 100
    async with sessions() as session:
        assert await session.scalar(select(Voucher).where(Voucher.member_id == friend.id)) is None
    assert await refusals(sessions) == ["friend_blocked"]


async def test_a_friend_blocked_by_the_time_their_joining_pays_earns_nothing(sessions: Sessions) -> None:
    club_rules = with_rules(referral_trigger="registration")
    referrer = await member(sessions, REFERRER)
    assert isinstance(await open_link(sessions, referrer, FRIEND, club_rules=club_rules), Opened)
    async with sessions() as session, write_transaction(session):
        friend = Member(
            telegram_id=FRIEND,
            phone=phone_of(FRIEND),
            code=new_member_code(),
            first_name="Mina",
            language="fa",
            balance=0,
        )
        friend.tier, friend.blocked, friend.joined_at = "bronze", True, NOW + HOUR
        session.add(friend)
        await session.flush()
        event = await referrals.on_joined(
            session, friend, now=NOW + HOUR, rules=club_rules, update_id=7, phone_in_club=False
        )

    assert event is not None and event.rewarded
    assert (event.referrer_points, event.friend_points, event.friend_withheld) == (100, 0, Reason.FRIEND_BLOCKED)
    assert await referral_points(sessions, friend.id) == 0 and await referral_points(sessions, referrer.id) == 100
    assert await refusals(sessions) == ["friend_blocked"]


async def test_a_blocked_imported_member_joining_by_a_link_is_refused_as_already_in_the_club(
    sessions: Sessions,
) -> None:
    club_rules = with_rules(referral_trigger="registration")
    referrer = await member(sessions, REFERRER)
    async with sessions() as session:
        imported = await imported_member(session, phone_of(FRIEND))
    await block_member(sessions, imported.id)
    assert isinstance(await open_link(sessions, referrer, FRIEND, club_rules=club_rules), Opened)

    joined = await join(sessions, FRIEND, club_rules=club_rules)

    assert joined.referral is None and await referral_points(sessions, imported.id) == 0
    assert await refusals(sessions) == ["phone_in_club"]


async def test_a_catalog_reward_can_be_given_as_a_voucher_without_spending_points(sessions: Sessions) -> None:
    async with sessions() as session:
        coffee = await new_reward(session, name="Coffee", stock=1)
    club_rules = with_rules(referral_trigger="registration", referral_friend_reward_id=coffee.id)
    referrer = await member(sessions, REFERRER)

    first = (await referred_friend(sessions, referrer, FRIEND, club_rules=club_rules)).referral
    second = (await referred_friend(sessions, referrer, FRIEND + 1, club_rules=club_rules)).referral

    async with sessions() as session:
        voucher = await session.get(Voucher, first.friend_voucher_id)
        stock = await session.scalar(select(Reward.stock).where(Reward.id == coffee.id))
    assert (voucher.title, voucher.points, voucher.reward_id, voucher.member_id) == (
        "Coffee",
        0,
        coffee.id,
        first.friend_id,
    )
    assert stock == 0 and first.friend_points == 50
    assert second.friend_voucher_id is None and second.friend_points == 50  # out of stock: the points still come
    assert await refusals(sessions) == ["reward_unavailable"]


async def test_the_referral_rules_are_validated(sessions: Sessions) -> None:
    async with sessions() as session, write_transaction(session):
        with pytest.raises(InvalidRule) as wrong:
            await rules.change(session, RULES, "referral_reward_to", "cousin", actor_id=1, now=NOW, update_id=None)
        changed = await rules.change(
            session, RULES, "referral_trigger", "registration", actor_id=1, now=NOW, update_id=1
        )
    assert wrong.value.field == "referral_reward_to" and changed.referral_trigger == "registration"
    with pytest.raises(ValueError):
        Rules(referral_window_days=0)


# --- results and statistics ------------------------------------------------------------------------------------


async def test_a_member_sees_friends_joined_friends_who_bought_and_points_earned(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    friends = [(await referred_friend(sessions, referrer, FRIEND + number)).member for number in range(3)]
    await open_link(sessions, referrer, 3003)  # opened, never joined
    await buy(sessions, friends[0].id, BIG, "R1")

    async with sessions() as session:
        assert await referrals.my_results(session, referrer.id) == referrals.MyResults(joined=3, bought=1, points=100)
        assert await referrals.my_results(session, friends[0].id) == referrals.MyResults(joined=0, bought=0, points=0)


async def test_staff_stats_count_opened_joined_converted_the_k_factor_and_the_top_referrers(sessions: Sessions) -> None:
    reza, sara = await member(sessions, REFERRER, "Reza"), await member(sessions, 1002, "Sara")
    rezas = [(await referred_friend(sessions, reza, 2000 + number)).member for number in range(3)]
    saras = [(await referred_friend(sessions, sara, 3000 + number)).member for number in range(2)]
    for number in (1, 2, 3):
        await open_link(sessions, sara, 4000 + number)  # opened, not joined
    await buy(sessions, rezas[0].id, BIG, "R1")
    await buy(sessions, saras[0].id, BIG, "R2")
    await buy(sessions, saras[1].id, BIG, "R3")

    async with sessions() as session:
        stats = await referrals.referral_stats(session, NOW + DAY, top=5)

    # 7 members joined, 8 links opened by distinct newcomers, 5 joined, 3 converted
    assert (stats.members, stats.opened, stats.joined, stats.converted) == (7, 8, 5, 3)
    assert stats.conversion_rate == pytest.approx(3 / 8)
    assert stats.invites_per_member == pytest.approx(8 / 7)
    assert stats.k_factor == pytest.approx(3 / 7)
    assert [(top.first_name, top.joined, top.converted, top.points) for top in stats.top] == [
        ("Sara", 2, 2, 200),
        ("Reza", 3, 1, 100),
    ]


async def test_stats_of_an_empty_club_are_zero(session: AsyncSession) -> None:
    stats = await referrals.referral_stats(session, NOW)
    assert (stats.opened, stats.conversion_rate, stats.k_factor, stats.top) == (0, 0.0, 0.0, ())


# --- races -------------------------------------------------------------------------------------------------------


async def test_the_friends_first_purchase_recorded_twice_at_once_rewards_once(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND)).member

    earned = await asyncio.gather(*(buy(sessions, friend.id, BIG, f"R{number}") for number in range(2)))

    assert sum(result.referral is not None for result in earned) == 1
    assert await referral_points(sessions, referrer.id) == 100 and await referral_points(sessions, friend.id) == 50
    assert await balance(sessions, referrer.id) == 100 and await balance(sessions, friend.id) == 2 * 100 + 50


async def test_the_same_newcomer_opening_a_link_twice_at_once_makes_one_referral(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)

    results = await asyncio.gather(*(open_link(sessions, referrer, FRIEND) for _ in range(2)))

    assert sorted(result.duplicate for result in results) == [False, True]
    assert results[0].referral_id == results[1].referral_id


async def test_undoing_the_purchase_that_completed_a_referral_takes_its_rewards_back_and_it_never_pays_again(
    sessions: Sessions,
) -> None:
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND)).member
    await buy(sessions, friend.id, BIG, "R1")
    assert (await balance(sessions, referrer.id), await balance(sessions, friend.id)) == (100, 150)

    undone = await undo(sessions, "R1")
    assert undone.referral is not None and (undone.referral.referrer_taken, undone.referral.friend_taken) == (100, 50)
    assert (undone.taken, undone.balance) == (100, 0)
    assert (await balance(sessions, referrer.id), await balance(sessions, friend.id)) == (0, 0)
    refused = await row(sessions, FRIEND)
    assert refused is not None and (refused.status, refused.reason, refused.converted_at) == (
        "refused",
        "purchase_undone",
        None,
    )
    again = await buy(sessions, friend.id, BIG, "R2")  # a new first purchase: no second reward
    assert again.referral is None and await balance(sessions, referrer.id) == 0
    async with sessions() as session:
        assert (await referrals.my_results(session, referrer.id)).bought == 0


async def test_referral_points_already_spent_are_taken_back_only_as_far_as_they_are_left(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND)).member
    await buy(sessions, friend.id, BIG, "R1")
    async with sessions() as session:
        await ledger.spend(session, referrer.id, 70, reason="reward", key="spent", now=NOW, actor_id=None)
    undone = await undo(sessions, "R1")
    assert undone.referral is not None and undone.referral.referrer_taken == 30
    assert await balance(sessions, referrer.id) == 0


async def test_referral_points_spent_on_a_voucher_do_not_come_back_when_it_is_given_back_after_the_revoke(
    sessions: Sessions,
) -> None:
    # given a referrer who spent the 100 referral points on a voucher
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND)).member
    await buy(sessions, friend.id, BIG, "R1")
    async with sessions() as session:
        reward = await new_reward(session, cost=100)
        bought = await rewards.redeem(session, reward.id, Stamp(1, "k", NOW), member_id=referrer.id, key="redeem:3")
    # when the friend's purchase is undone (the referral revoked) and then the voucher is given back
    undone = await undo(sessions, "R1")
    assert undone.referral is not None and undone.referral.referrer_taken == 0
    async with sessions() as session:
        back = await vouchers.cancel(session, bought.voucher.id, Stamp(1, "k", NOW, 4), member_id=referrer.id)
    # then the refund settles what the revoke could not take back
    assert (back.refunded, back.balance) == (0, 0)


async def test_undoing_a_later_purchase_leaves_the_referral_alone(sessions: Sessions) -> None:
    referrer = await member(sessions, REFERRER)
    friend = (await referred_friend(sessions, referrer, FRIEND)).member
    await buy(sessions, friend.id, BIG, "R1")
    await buy(sessions, friend.id, BIG, "R2")
    assert (await undo(sessions, "R2")).referral is None
    assert await balance(sessions, referrer.id) == 100 and (await row(sessions, FRIEND)).status == "rewarded"
