"""The domain driven without the chat, each step in its own session as a request's would be: members, points,
purchases, rewards and referrals, under one set of rules (RULES: no welcome bonus, a point for each 10,000)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import ledger, members, purchases, referrals, rewards
from loyalty.referrals import Opened, Refused
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.models import Member, Reward
from tests.factories import NOW, imported_member, joined_member, new_reward, phone_of, profile

Sessions = async_sessionmaker[AsyncSession]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
RULES = Rules(welcome_bonus=0, amount_per_point=10_000)  # 100 referrer, 50 friend, on the first purchase
CASHIER = 500  # the staff account that records purchases and undoes them
update_ids = iter(range(10_000_000, 99_999_999))  # for the keys of redeems, which must never meet
_phones = iter(range(1_000_000, 9_999_999))


async def new_member(sessions: Sessions) -> int:
    """A member imported by phone, holding nothing; their id."""
    async with sessions() as session:
        return (await imported_member(session, f"+98912{next(_phones)}")).id


async def give(sessions: Sessions, member_id: int, points: int, key: str, at: datetime, days: int) -> ledger.Posted:
    """A bonus of `points` given `at`, lasting `days`."""
    async with sessions() as session:
        return await ledger.grant(
            session,
            member_id,
            points,
            kind=ledger.Kind.BONUS,
            reason="test",
            key=key,
            now=at,
            expires_at=at + days * DAY,
        )


async def take(sessions: Sessions, member_id: int, points: int, key: str, at: datetime) -> ledger.Posted:
    """`points` spent on a reward `at`."""
    async with sessions() as session:
        return await ledger.spend(session, member_id, points, reason="reward", key=key, now=at, actor_id=None)


async def rich_member(sessions: Sessions, points: int = 1000, days: int = 365) -> int:
    """A member holding `points` that expire in `days`."""
    member_id = await new_member(sessions)
    if points:
        await give(sessions, member_id, points, f"start-{member_id}", NOW, days=days)
    return member_id


async def buy(
    sessions: Sessions,
    member_id: int,
    amount: int,
    receipt: str | None = None,
    at: datetime = NOW,
    club_rules: Rules = RULES,
    update_id: int = 1,
    payment: str | None = None,
) -> purchases.Earned:
    """A purchase the cashier records (paid by `payment`, if said); without a receipt the update is its key."""
    async with sessions() as session:
        return await purchases.record_purchase(
            session,
            club_rules,
            member_id=member_id,
            amount=amount,
            receipt=receipt,
            stamp=Stamp(CASHIER, str(update_id), at, update_id),
            payment=payment,
        )


async def undo(sessions: Sessions, receipt: str, at: datetime = NOW) -> purchases.Undone:
    """The cashier undoes the purchase of `receipt`."""
    async with sessions() as session:
        return await purchases.undo_purchase(session, RULES, receipt, Stamp(CASHIER, "undo", at, 7))


async def add(sessions: Sessions, **fields: object) -> Reward:
    """A reward in the catalog (see `factories.reward_draft` for what is not given)."""
    async with sessions() as session:
        return await new_reward(session, **fields)


async def redeem(
    sessions: Sessions, member_id: int, reward_id: int, update_id: int | None = None, at: datetime = NOW
) -> rewards.Redeemed:
    """The member redeems their points for the reward."""
    update = update_id if update_id is not None else next(update_ids)
    async with sessions() as session:
        return await rewards.redeem(
            session, reward_id, Stamp(member_id, "k", at, update), member_id=member_id, key=f"redeem:{update}"
        )


async def member(sessions: Sessions, telegram_id: int, name: str = "Ali", at: datetime = NOW) -> Member:
    """A member who joined through the bot under RULES."""
    async with sessions() as session:
        return (await joined_member(session, telegram_id, name, rules=RULES, now=at)).member


async def open_link(
    sessions: Sessions, referrer: Member, telegram_id: int, at: datetime = NOW, club_rules: Rules = RULES
) -> Opened | Refused:
    """A newcomer opens the referrer's invite link."""
    async with sessions() as session:
        payload = referrals.payload_for(referrer.code)
        return await referrals.opened(session, payload, telegram_id=telegram_id, now=at, rules=club_rules)


async def join(
    sessions: Sessions,
    telegram_id: int,
    name: str = "Mina",
    at: datetime = NOW,
    club_rules: Rules = RULES,
    **fields: object,
) -> members.Joined:
    """A newcomer joins with their own phone (`factories.phone_of`); `fields` add to their profile."""
    async with sessions() as session:
        return await members.join(
            session, phone_of(telegram_id), profile(name, **fields), club_rules, Stamp(telegram_id, "k", at, 7)
        )


async def referred_friend(
    sessions: Sessions, referrer: Member, telegram_id: int, at: datetime = NOW, club_rules: Rules = RULES
) -> members.Joined:
    """A newcomer who opened the referrer's link and joined an hour later."""
    assert isinstance(await open_link(sessions, referrer, telegram_id, at, club_rules), Opened)
    return await join(sessions, telegram_id, f"Friend {telegram_id}", at + HOUR, club_rules)
