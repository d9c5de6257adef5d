"""Members' own data: everything the club holds about a member (/mydata), and erasing their personal data (/forgetme,
or the owner's retention for members who stopped the bot or cannot be reached and did nothing with the club since).

Erasing keeps the member's row, ledger, purchases and vouchers for the shop's accounts, but nothing that says who the
person was: name, phone (a unique placeholder, so the same number may join again as a new member), birthday, gender,
messenger account (also in the referral that brought them), card code (a fresh one: the old card and invite link stop
working) and the phone numbers in their audit entries. Their points go by one ledger entry, their usable vouchers are
cancelled (their rewards' stock back), their waiting and sent messages are deleted, and an audit entry says so.
The caller that cannot reach the chat's conversation state itself (the retention job) passes `forget_chat`, which
clears it inside the transaction: if that fails, nothing is erased. Erasing twice changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, ledger, members
from loyalty.ledger import Kind
from loyalty.vouchers import Status
from storage import repositories
from storage.database import rowcount, write_transaction
from storage.models import (
    AuditEntry,
    Campaign,
    LedgerEntry,
    Member,
    OutboxMessage,
    Purchase,
    Referral,
    Reward,
    Voucher,
    written,
)

FORGET_REASON = "privacy.forget"  # the ledger entry that takes an erased member's points
PLACEHOLDER = "forgotten:{id}"  # an erased member's phone: unique, never a number anyone can join with
PHONE = re.compile(r"^\+\d{6,15}$")  # a stored phone number (E.164) in an audit entry's details
ChatForgetter = Callable[[int], Awaitable[None]]  # clears the conversation state of the member's chat (their account)


@dataclass(frozen=True)
class AtStake:
    """What a member loses by erasing their data: their points, active vouchers and tier."""

    points: int
    vouchers: int
    tier: str


@dataclass(frozen=True)
class Forgotten:
    """A member erased: the points their ledger gave up and the vouchers cancelled."""

    member_id: int
    points: int
    vouchers: int


def _plain(value: object) -> object:
    """A value as JSON holds it: moments and dates in ISO 8601 (UTC for moments)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(result: Any) -> list[dict[str, object]]:
    """Each row of a result as a dict of plain values."""
    return [{key: _plain(value) for key, value in row.items()} for row in result.mappings()]


async def my_data(session: AsyncSession, member: Member) -> dict[str, object]:
    """Everything the club holds about `member`, as JSON-ready data: their profile, points, ledger, purchases,
    vouchers, referrals (without the other person's data), messages to them and what the audit log says of them."""
    mid = member.id
    profile = {
        name: _plain(getattr(member, name))
        for name in (
            "first_name",
            "phone",
            "code",
            "birthday",
            "birthday_calendar",
            "gender",
            "language",
            "tier",
            "news_consent",
            "stopped",
            "out_of_reach_since",
            "joined_at",
            "created_at",
            "first_purchase_at",
        )
    }
    queries = {
        "ledger": select(LedgerEntry.kind, LedgerEntry.points, LedgerEntry.reason, LedgerEntry.created_at)
        .where(LedgerEntry.member_id == mid)
        .order_by(LedgerEntry.id),
        "purchases": select(
            Purchase.amount,
            Purchase.points,
            Purchase.category,
            Purchase.payment,
            Purchase.receipt,
            Purchase.created_at,
            Purchase.reversed_at,
        )
        .where(Purchase.member_id == mid)
        .order_by(Purchase.id),
        "vouchers": select(
            Voucher.code,
            Voucher.title,
            Voucher.kind,
            Voucher.value,
            Voucher.cap,
            Voucher.points,
            Voucher.status,
            Voucher.issued_at,
            Voucher.expires_at,
            Voucher.used_at,
            Voucher.cancelled_at,
        )
        .where(Voucher.member_id == mid)
        .order_by(Voucher.id),
        "referrals_made": select(
            Referral.status,
            Referral.opened_at,
            Referral.joined_at,
            Referral.converted_at,
            Referral.rewarded_at,
            Referral.referrer_points.label("points"),
        )
        .where(Referral.referrer_id == mid)
        .order_by(Referral.id),
        "referred_by": select(
            Referral.status,
            Referral.joined_at,
            Referral.converted_at,
            Referral.rewarded_at,
            Referral.friend_points.label("points"),
        ).where(Referral.friend_member_id == mid),
        "audit": select(AuditEntry.action, AuditEntry.created_at)
        .where(AuditEntry.member_id == mid)
        .order_by(AuditEntry.id),
    }
    data: dict[str, object] = {"profile": profile, "balance": member.balance, "points_owed": member.points_owed}
    for name, query in queries.items():
        data[name] = _rows(await session.execute(query))
    data["messages"] = await _messages(session, mid)
    return data


async def _messages(session: AsyncSession, member_id: int) -> list[dict[str, object]]:
    """The messages the outbox holds for the member: kind, state, when, and the text (a campaign's as written)."""
    query = (
        select(
            OutboxMessage.kind,
            OutboxMessage.state,
            OutboxMessage.next_attempt_at,
            OutboxMessage.sent_at,
            OutboxMessage.payload,
            Campaign.text.label("campaign_text"),
        )
        .outerjoin(Campaign, Campaign.id == OutboxMessage.campaign_id)
        .where(OutboxMessage.member_id == member_id)
        .order_by(OutboxMessage.id)
    )
    found = []
    for row in _rows(await session.execute(query)):
        payload, campaign_text = row.pop("payload"), row.pop("campaign_text")
        text = json.loads(str(payload)).get("text") if payload else campaign_text
        found.append(row | {"text": text})
    return found


async def at_stake(session: AsyncSession, member: Member, now: datetime) -> AtStake:
    """What erasing would take from the member: unexpired points, usable vouchers, their tier."""
    points = (await ledger.balance(session, member, now)).points
    usable = await session.scalar(select(func.count()).where(*_usable(member.id, now)))
    return AtStake(points, int(usable or 0), member.tier)


def _usable(member_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The member's vouchers that could still be used: active and unexpired."""
    return Voucher.member_id == member_id, Voucher.status == written(Status.ACTIVE), Voucher.expires_at > now


async def forget(
    session: AsyncSession,
    member_id: int,
    *,
    actor_id: int | None,
    now: datetime,
    update_id: int | None = None,
    forget_chat: ChatForgetter | None = None,
) -> Forgotten | None:
    """Erase the member's personal data in one transaction (see the module), their chat's state by `forget_chat`
    when given; None if it already was."""
    async with write_transaction(session):
        member = await repositories.lock_member(session, member_id)
        if member.forgotten_at is not None:
            return None
        if forget_chat is not None and member.telegram_id is not None:
            await forget_chat(member.telegram_id)
        points = await _give_up_points(session, member, actor_id, now)
        vouchers = await _cancel_vouchers(session, member_id, actor_id, now)
        await _drop_traces(session, member)
        await _anonymise(session, member, now)
        await audit.record(
            session,
            actor_id=actor_id,
            action="member.forget",
            now=now,
            member_id=member_id,
            update_id=update_id,
            points=points,
            vouchers=vouchers,
        )
    return Forgotten(member_id, points, vouchers)


async def _give_up_points(session: AsyncSession, member: Member, actor_id: int | None, now: datetime) -> int:
    """Expire what is due, then take the rest by one ledger entry; the points taken."""
    await ledger.expire_member(session, member.id, now)
    await session.refresh(member, ["balance"])
    points = member.balance
    if points:
        key = f"forget:{member.id}"
        await ledger.post_debit(
            session, member, points=points, kind=Kind.ADJUST, reason=FORGET_REASON, key=key, now=now, actor_id=actor_id
        )
    return points


async def _cancel_vouchers(session: AsyncSession, member_id: int, actor_id: int | None, now: datetime) -> int:
    """Cancel the member's usable vouchers, nothing given back but their rewards' stock; how many."""
    usable = _usable(member_id, now)
    taken = select(Voucher.reward_id, func.count()).where(*usable, Voucher.reward_id.is_not(None))
    for reward_id, count in (await session.execute(taken.group_by(Voucher.reward_id))).all():
        stocked = update(Reward).where(Reward.id == reward_id, Reward.stock.is_not(None))
        await session.execute(stocked.values(stock=Reward.stock + count))
    cancelled = (
        update(Voucher).where(*usable).values(status=Status.CANCELLED.value, cancelled_at=now, cancelled_by=actor_id)
    )
    return rowcount(await session.execute(cancelled.execution_options(synchronize_session=False)))


async def _drop_traces(session: AsyncSession, member: Member) -> None:
    """Delete the member's messages, unlink their messenger account from the referral that brought them, and
    blank the phone numbers in their audit entries."""
    chats = [OutboxMessage.member_id == member.id]
    if member.telegram_id is not None:
        chats.append(OutboxMessage.chat_id == member.telegram_id)
    await session.execute(delete(OutboxMessage).where(or_(*chats)))
    mine = Referral.friend_member_id == member.id
    if member.telegram_id is not None:
        mine = or_(mine, Referral.friend_telegram_id == member.telegram_id)
    await session.execute(update(Referral).where(mine).values(friend_telegram_id=-Referral.id))
    entries = await session.execute(select(AuditEntry.id, AuditEntry.details).where(AuditEntry.member_id == member.id))
    for entry_id, details in entries.all():
        blanked = _without_phones(details)
        if blanked != details:
            await session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(details=blanked))


def _without_phones(details: str) -> str:
    """An audit entry's details (JSON) with every phone number in them blanked."""
    data = json.loads(details or "{}")
    if not isinstance(data, dict):
        return details
    blanked = {key: None if isinstance(value, str) and PHONE.match(value) else value for key, value in data.items()}
    return json.dumps(blanked, ensure_ascii=False, sort_keys=True) if blanked != data else details


async def _anonymise(session: AsyncSession, member: Member, now: datetime) -> None:
    """Blank the member's row of everything personal, under a fresh card code and a placeholder phone."""
    (code,) = await members.unused_codes(session, 1)
    member.telegram_id = None
    member.phone = PLACEHOLDER.format(id=member.id)
    member.code = code
    member.first_name = ""
    member.birthday = member.birthday_calendar = member.gender = member.referral_payload = None
    member.birthday_md = None
    member.news_consent = False
    member.forgotten_at = now
    await session.flush()


def idle_since(now: datetime, days: int) -> datetime:
    """The moment before which a member who stopped the bot or cannot be reached has been idle too long."""
    return now - timedelta(days=days)


async def idle_members(session: AsyncSession, now: datetime, days: int, *, after: int, limit: int) -> list[int]:
    """Members (ids above `after`, in order) not yet erased who stopped the bot or cannot be reached, have been out of
    its reach since before `days` ago (`Member.out_of_reach_since`) and have had no ledger entry (no purchase, no
    points) since then."""
    since = idle_since(now, days)
    recent = exists().where(LedgerEntry.member_id == Member.id, LedgerEntry.created_at >= since)
    query = (
        select(Member.id)
        .where(
            Member.id > after,
            Member.forgotten_at.is_(None),
            or_(Member.stopped.is_(True), Member.unreachable.is_(True)),
            Member.out_of_reach_since < since,
            ~recent,
        )
        .order_by(Member.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
