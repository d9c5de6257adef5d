"""Factories for members, profiles, rewards, referrals and codes; rows of a made-up club to insert in bulk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from loyalty import members, purchases
from loyalty.codes import new_member_code
from loyalty.members import Profile
from loyalty.rewards import RewardDraft, add_reward
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from loyalty.voucher_codes import ALPHABET
from loyalty.vouchers import Kind, Worth
from storage.models import Member, Purchase, Reward

_KEPT = aliased(Purchase)
PREVIOUS_PURCHASES = (
    update(Purchase)
    .where(Purchase.reversed_at.is_(None))
    .values(
        previous_at=select(func.max(_KEPT.created_at))
        .where(
            _KEPT.member_id == Purchase.member_id,
            _KEPT.reversed_at.is_(None),
            or_(
                _KEPT.created_at < Purchase.created_at,
                and_(_KEPT.created_at == Purchase.created_at, _KEPT.id < Purchase.id),
            ),
        )
        .scalar_subquery()
    )
    .execution_options(synchronize_session=False)
)
"""Sets every kept purchase's `previous_at` from its member's kept purchases, in the order of time, then id."""

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = Rules(welcome_bonus=100, expiry_days=365)
FIRST_CHAT = 7_000_000  # member_row(n) chats at FIRST_CHAT + n
DAY = timedelta(days=1)


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
    return await members.join(session, phone_of(telegram_id), profile(name), rules, Stamp(telegram_id, "k", now))


def reward_draft(**fields: object) -> RewardDraft:
    """A reward as staff would set one: a free coffee for 100 points, valid 30 days, unlimited."""
    values: dict[str, object] = {"name": "Coffee", "cost": 100, "validity_days": 30, "worth": Worth(Kind.ITEM)}
    return RewardDraft(**(values | fields))  # type: ignore[arg-type]


async def new_reward(session: AsyncSession, **fields: object) -> Reward:
    """A reward in the catalog, added by staff account 1."""
    return await add_reward(session, reward_draft(**fields), Stamp(1, "k", NOW))


def mistyped(code: str) -> str:
    """The voucher code with its first character changed: the check character catches it."""
    return ALPHABET[(ALPHABET.index(code[0]) + 1) % len(ALPHABET)] + code[1:]


def member_row(number: int, **fields: Any) -> dict[str, Any]:
    """A member (id `number`) on the bot who wants news, joined a month ago, as a row to insert; `fields` change it."""
    row: dict[str, Any] = {
        "id": number,
        "telegram_id": FIRST_CHAT + number,
        "phone": phone_of(number),
        "code": f"{number:08d}",
        "first_name": f"Member {number}",
        "language": "fa",
        "news_consent": True,
        "stopped": False,
        "blocked": False,
        "unreachable": False,
        "balance": 0,
        "tier": "bronze",
        "joined_at": NOW - 30 * DAY,
        "created_at": NOW - 30 * DAY,
    }
    return row | fields


async def add_members(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert members in bulk and commit."""
    await session.execute(insert(Member), rows)
    await session.commit()


async def add_purchases(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert purchases in bulk, then set on them and their members what the counter keeps as it records them (each
    member's first purchase, each purchase's previous one), as `loyalty.purchases` would have; no commit."""
    await session.execute(insert(Purchase), rows)
    await session.execute(purchases.FIRST_PURCHASES)
    await session.execute(PREVIOUS_PURCHASES)


def purchase(
    number: int, member_id: int, amount: int, days_ago: int, category: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A purchase (id `number`) of `amount` by the member `days_ago`, as a row to insert; `fields` change it."""
    return {
        "id": number,
        "member_id": member_id,
        "amount": amount,
        "idempotency_key": f"test:{number}",
        "category": category,
        "points": 0,
        "staff_id": 1,
        "created_at": NOW - days_ago * DAY,
        **fields,
    }


def referral(number: int, referrer_id: int, status: str) -> dict[str, Any]:
    """A referral (id `number`) by the member in `status`, as a row to insert."""
    return {
        "id": number,
        "referrer_id": referrer_id,
        "friend_telegram_id": 900 + number,
        "status": status,
        "opened_at": NOW,
    }


def campaign_row(number: int, name: str, at: datetime, **fields: object) -> dict[str, object]:
    """A campaign row (id `number`), done, started `at`."""
    return {
        "id": number,
        "name": name,
        "state": "done",
        "audience": "{}",
        "text": "Hello",
        "created_at": at,
        "started_at": at,
        "finished_at": at + timedelta(hours=1),
        "recipients": 0,
        **fields,
    }


def outbox_row(campaign_id: int, member_id: int, state: str) -> dict[str, object]:
    """A campaign's outbox row for a member."""
    return {
        "kind": "campaign",
        "campaign_id": campaign_id,
        "member_id": member_id,
        "chat_id": 1000 + member_id,
        "state": state,
        "next_attempt_at": NOW,
    }
