"""Factories for members, profiles, rewards and referrals."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import members
from loyalty.codes import new_member_code
from loyalty.members import Profile
from loyalty.rewards import RewardDraft, add_reward
from loyalty.rules import Rules
from loyalty.vouchers import Kind, Worth
from storage.models import Member, Reward

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = Rules(welcome_bonus=100, expiry_days=365)


def profile(name: str = "Sara", language: str = "fa", **fields: object) -> Profile:
    """A newcomer's answers."""
    return Profile(first_name=name, language=language, **fields)  # type: ignore[arg-type]


async def imported_member(session: AsyncSession, phone: str, name: str = "Imported") -> Member:
    """A member the shop imported by phone, not yet linked to a messenger account."""
    member = Member(phone=phone, code=new_member_code(), first_name=name, language="fa", balance=0, tier="bronze")
    session.add(member)
    await session.commit()
    return member


def phone_of(telegram_id: int) -> str:
    """A distinct Iranian mobile number for each messenger account id (below ten million)."""
    return f"+98912{telegram_id:07d}"


async def joined_member(
    session: AsyncSession, telegram_id: int, name: str = "Sara", *, rules: Rules = RULES, now: datetime = NOW
) -> members.Joined:
    """A member who joined through the bot, with the phone `phone_of(telegram_id)`."""
    return await members.join(session, telegram_id, phone_of(telegram_id), profile(name), rules, now)


def reward_draft(**fields: object) -> RewardDraft:
    """A reward as staff would set one: a free coffee for 100 points, valid 30 days, unlimited."""
    values: dict[str, object] = {"name": "Coffee", "cost": 100, "validity_days": 30, "worth": Worth(Kind.ITEM)}
    return RewardDraft(**(values | fields))  # type: ignore[arg-type]


async def new_reward(session: AsyncSession, **fields: object) -> Reward:
    """A reward in the catalog, added by staff account 1."""
    return await add_reward(session, reward_draft(**fields), actor_id=1, update_id=None, now=NOW)
