"""Gift vouchers (بن خرید): staff give a voucher, no points spent, to one member, a tier or every member.

A gift is a row (`gifts`) with its worth, expiry and audience, under the idempotency key of the update
that asked for it; its vouchers are issued in batches of members in id order, a transaction per batch,
so a million members are never loaded at once and the write lock is never held long. Each batch starts
after the highest member id the gift has reached, so running the same gift again (a re-delivered
update, a restart after a crash) finishes it instead of giving twice; a unique (gift, member) index
guarantees one voucher per member per gift. Members who join a tier or the club meanwhile are included
if the batches have not passed their id.

Members are told of a gift to a tier or to everyone through the broadcast outbox (`loyalty.outbox`): one
message of kind `KIND` per reachable member (`reachable`, the rule of campaign audiences), under the key
`message_key`, so enqueueing a gift's messages again adds nothing. The one member of a one-member gift is told
through the outbox too, under the same key, as a notice (`outbox.NOTICE`: at once, whatever the hour).

A gift is finished once its members are told (`mark_told`, which enqueues a one-member gift's message in the same
transaction); the staff's message is kept on the gift for that.
A gift cut short (a batch or the telling failed) is listed by `unfinished`: `finish` issues the batches left
(never one twice), after which its members are told; or `withdraw` cancels it, cancelling the vouchers whose
message never went out, so no voucher is left issued without its member being told.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, outbox, staff
from loyalty.audiences import REACHABLE
from loyalty.errors import InvalidReward, LoyaltyError, UnknownMember
from loyalty.outbox import Outgoing
from loyalty.rewards import MAX_VALIDITY_DAYS, NAME_LENGTH
from loyalty.stamps import Stamp
from loyalty.vouchers import Status, VoucherInfo, Worth, info, unused_codes
from storage.database import rowcount, write_transaction
from storage.models import Gift, Member, OutboxMessage, OutboxState, Voucher, written

BATCH = 1_000
KIND = "gift"  # the outbox kind of the messages telling members of a gift


def title_of(message: str) -> str:
    """The vouchers' title: the message's first line, shortened to fit."""
    first = " ".join(message.splitlines()[0].split())
    return first if len(first) <= NAME_LENGTH else first[: NAME_LENGTH - 1] + "…"


@dataclass(frozen=True)
class Audience:
    """Who receives a gift: one member (`member_id`), the members of `tier`, or, with neither, everyone."""

    member_id: int | None = None
    tier: str | None = None

    @property
    def kind(self) -> str:
        """member, tier or all, as stored on the gift."""
        return "member" if self.member_id is not None else "tier" if self.tier is not None else "all"

    def conditions(self) -> list[ColumnElement[bool]]:
        """The conditions that pick the audience among members."""
        if self.member_id is not None:
            return [Member.id == self.member_id]
        return [Member.tier == self.tier] if self.tier is not None else []


@dataclass(frozen=True)
class GiftDraft:
    """What a gift voucher says and is worth, and for how many days from the gift it is valid."""

    title: str
    worth: Worth
    validity_days: int

    def check(self) -> None:
        """Refuse a gift the counter could not honour (InvalidReward naming the field)."""
        if not 0 < len(self.title.strip()) <= NAME_LENGTH:
            raise InvalidReward("title", "length")
        if not 0 < self.validity_days <= MAX_VALIDITY_DAYS:
            raise InvalidReward("validity_days", "out_of_range")
        self.worth.check()


@dataclass(frozen=True)
class Gifted:
    """A gift given: how many vouchers it issued, the voucher itself for a one-member gift, if seen before, whether
    its members were told already, and what they are told (the staff's message; the title for a gift without one)."""

    gift_id: int
    issued: int
    voucher: VoucherInfo | None
    duplicate: bool
    told: bool = False
    message: str = ""


class GiftOver(LoyaltyError):
    """The gift was finished or cancelled already: there is nothing left to finish or cancel."""


def gift_key(update_key: str) -> str:
    """The idempotency key of a gift given by the update known by `update_key` (`bot.middlewares.update_key`)."""
    return f"gift-update:{update_key}"


async def give(
    session: AsyncSession,
    draft: GiftDraft,
    audience: Audience,
    stamp: Stamp,
    *,
    batch: int | None = None,
    message: str | None = None,
) -> Gifted:
    """The staff member `stamp.actor_id` gives: the gift's vouchers are issued to the whole audience, a batch per
    transaction; no points are spent.

    The gift is recorded under the stamp's update key, with the `message` its members are to be told.
    Raises InvalidReward for a bad draft, UnknownMember for a one-member gift to nobody and OwnAccount for one
    to the giver's own membership.
    """
    draft.check()
    gift, duplicate = await _open(session, draft, audience, stamp, message)
    return await _issue_rest(session, gift, stamp.at, batch or BATCH, duplicate)


async def audience_size(session: AsyncSession, audience: Audience) -> int:
    """How many members a gift to `audience` reaches now."""
    return int(await session.scalar(select(func.count()).select_from(Member).where(*audience.conditions())) or 0)


async def _issue_rest(session: AsyncSession, gift: Gift, now: datetime, batch: int, duplicate: bool) -> Gifted:
    """Issue the batches the gift has not reached yet, as first asked (a repeat never gives twice)."""
    stored = Audience(member_id=gift.member_id, tier=gift.tier)
    while await _next_batch(session, gift.id, stored, now, batch):
        pass
    await session.refresh(gift)
    voucher = None
    if stored.member_id is not None:
        voucher = await session.scalar(select(Voucher).where(Voucher.gift_id == gift.id))
    told = gift.told_at is not None
    return Gifted(
        gift.id, gift.issued, info(voucher, now) if voucher else None, duplicate, told, gift.message or gift.title
    )


@dataclass(frozen=True)
class Unfinished:
    """A gift cut short (issuing its vouchers or telling its members was not finished): what staff see of it."""

    id: int
    title: str
    audience: str
    tier: str | None
    issued: int
    message: str | None


UNFINISHED = (Gift.told_at.is_(None), Gift.cancelled_at.is_(None), Gift.audience != "campaign")


def _unfinished(gift: Gift) -> Unfinished:
    return Unfinished(gift.id, gift.title, gift.audience, gift.tier, gift.issued, gift.message)


async def unfinished(session: AsyncSession, limit: int = 10) -> list[Unfinished]:
    """The gifts staff gave whose vouchers were not all issued or whose members were not all told, oldest first."""
    found = await session.scalars(select(Gift).where(*UNFINISHED).order_by(Gift.id).limit(limit))
    return [_unfinished(gift) for gift in found]


async def get_unfinished(session: AsyncSession, gift_id: int) -> Unfinished:
    """The gift, if it is still unfinished (GiftOver if it was finished or cancelled, or there is none)."""
    gift = await session.scalar(
        select(Gift).where(Gift.id == gift_id, *UNFINISHED).execution_options(populate_existing=True)
    )
    if gift is None:
        raise GiftOver(gift_id)
    return _unfinished(gift)


async def finish(session: AsyncSession, gift_id: int, *, now: datetime, batch: int | None = None) -> Gifted:
    """Issue what an unfinished gift has not issued yet (GiftOver if it was finished or cancelled, or there is none);
    its members are then to be told (`Gifted.message`), and the gift marked told (`mark_told`)."""
    await get_unfinished(session, gift_id)
    gift = await session.get(Gift, gift_id)
    assert gift is not None
    return await _issue_rest(session, gift, now, batch or BATCH, True)


async def mark_told(session: AsyncSession, gift_id: int, now: datetime, messages: Sequence[Outgoing] = ()) -> None:
    """The gift's members were told (their messages in the outbox, `messages` enqueued now): the gift is finished."""
    async with write_transaction(session):
        await outbox.enqueue(session, messages, now)
        await session.execute(update(Gift).where(Gift.id == gift_id, Gift.told_at.is_(None)).values(told_at=now))


async def withdraw(session: AsyncSession, gift_id: int, stamp: Stamp) -> int:
    """The staff member `stamp.actor_id` cancels an unfinished gift (audited): its messages not yet sent, and the
    vouchers whose message never went out; returns how many vouchers were cancelled. Vouchers already announced
    stay. GiftOver if it is over."""
    async with write_transaction(session):
        gift = await session.get(Gift, gift_id, with_for_update=True, populate_existing=True)
        if gift is None or gift.told_at is not None or gift.cancelled_at is not None or gift.audience == "campaign":
            raise GiftOver(gift_id)
        rows = (OutboxMessage.kind == KIND) & OutboxMessage.key.like(f"{KIND}:{gift.id}:%")
        await session.execute(
            update(OutboxMessage)
            .where(rows, OutboxMessage.state == OutboxState.PENDING)
            .values(state=OutboxState.CANCELLED, claim=None)
        )
        told = select(OutboxMessage.member_id).where(
            rows, OutboxMessage.state.in_([OutboxState.SENT, OutboxState.SENDING]), OutboxMessage.member_id.is_not(None)
        )
        cancelled = await session.execute(
            update(Voucher)
            .where(Voucher.gift_id == gift.id, Voucher.status == written(Status.ACTIVE), Voucher.member_id.not_in(told))
            .values(status=Status.CANCELLED)
        )
        gift.cancelled_at = stamp.at
        gift.finished_at = gift.finished_at or stamp.at
        count = rowcount(cancelled)
        await audit.record(
            session,
            actor_id=stamp.actor_id,
            action="voucher.gift_cancel",
            now=stamp.at,
            gift_id=gift.id,
            cancelled=count,
        )
    return count


async def cancel_given(session: AsyncSession, member_id: int, actor_id: int, now: datetime) -> int:
    """Cancel, in the caller's transaction, the member's active vouchers of one-member gifts the staff account
    `actor_id` gave them (the account joins as that member: a voucher to oneself); how many."""
    own_gifts = select(Gift.id).where(Gift.member_id == member_id, Gift.created_by == actor_id)
    cancelled = await session.execute(
        update(Voucher)
        .where(Voucher.member_id == member_id, Voucher.gift_id.in_(own_gifts), Voucher.status == written(Status.ACTIVE))
        .values(status=Status.CANCELLED, cancelled_at=now, cancelled_by=actor_id)
    )
    return rowcount(cancelled)


async def _open(
    session: AsyncSession,
    draft: GiftDraft,
    audience: Audience,
    stamp: Stamp,
    message: str | None,
) -> tuple[Gift, bool]:
    """The gift under the stamp's key (`gift_key`): found (a repeat), or recorded now with its audit entry (naming
    the update id)."""
    key, actor_id, now = gift_key(stamp.update_key), stamp.actor_id, stamp.at
    async with write_transaction(session):
        seen = await session.scalar(select(Gift).where(Gift.idempotency_key == key))
        if seen is not None:
            return seen, True
        if audience.member_id is not None:
            member = await session.get(Member, audience.member_id)
            if member is None:
                raise UnknownMember(audience.member_id)
            staff.refuse_own_account(member, actor_id, "gift")  # no one gives themself a voucher
        gift = Gift(
            idempotency_key=key,
            title=draft.title.strip(),
            kind=draft.worth.kind,
            value=draft.worth.value,
            cap=draft.worth.cap,
            expires_at=now + timedelta(days=draft.validity_days),
            audience=audience.kind,
            tier=audience.tier,
            member_id=audience.member_id,
            issued=0,
            created_by=actor_id,
            created_at=now,
            message=message,
        )
        session.add(gift)
        await session.flush()
        await audit.record(
            session,
            actor_id=actor_id,
            action="voucher.gift",
            now=now,
            member_id=audience.member_id,
            update_id=stamp.update_id,
            gift_id=gift.id,
            audience=audience.kind,
            tier=audience.tier,
            title=gift.title,
            kind=gift.kind,
            value=gift.value,
        )
    return gift, False


async def _next_batch(session: AsyncSession, gift_id: int, audience: Audience, now: datetime, size: int) -> int:
    """Issue vouchers to the next `size` members of the audience the gift has not reached; 0 when done."""
    async with write_transaction(session):
        gift = await session.get(Gift, gift_id, with_for_update=True, populate_existing=True)
        assert gift is not None
        if gift.finished_at is not None:
            return 0
        reached = await session.scalar(select(func.max(Voucher.member_id)).where(Voucher.gift_id == gift.id)) or 0
        members = list(
            (
                await session.scalars(
                    select(Member.id).where(Member.id > reached, *audience.conditions()).order_by(Member.id).limit(size)
                )
            ).all()
        )
        if not members:
            gift.finished_at = now
            return 0
        codes = await unused_codes(session, len(members))
        rows = [
            {
                "code": code,
                "member_id": member_id,
                "gift_id": gift.id,
                "title": gift.title,
                "kind": gift.kind,
                "value": gift.value,
                "cap": gift.cap,
                "points": 0,
                "status": Status.ACTIVE.value,
                "issued_at": now,
                "expires_at": gift.expires_at,
            }
            for member_id, code in zip(members, codes, strict=True)
        ]
        await session.execute(insert(Voucher), rows)
        gift.issued += len(rows)
    return len(rows)


async def gift_vouchers(
    session: AsyncSession, gift_id: int, now: datetime, *, after: int = 0, limit: int = BATCH
) -> list[VoucherInfo]:
    """A page of the gift's vouchers in member order, after member id `after` (to tell the members, page by page);
    vouchers cancelled with their gift are left out."""
    statement = (
        select(Voucher)
        .where(Voucher.gift_id == gift_id, Voucher.member_id > after, Voucher.status != Status.CANCELLED)
        .order_by(Voucher.member_id)
        .limit(limit)
    )
    return [info(voucher, now) for voucher in await session.scalars(statement)]


def message_key(gift_id: int, member_id: int) -> str:
    """The outbox key of the message telling a member of a gift: one per member and gift, however often enqueued."""
    return f"{KIND}:{gift_id}:{member_id}"


@dataclass(frozen=True)
class Reachable:
    """A member broadcasts reach: their messenger chat and language."""

    member_id: int
    chat_id: int
    language: str


async def reachable(session: AsyncSession, member_ids: Collection[int]) -> dict[int, Reachable]:
    """The members among `member_ids` that broadcasts reach, by id: the rule of campaign audiences (`REACHABLE`).

    Left out: members with no messenger account, who said no to news, sent /stop, blocked the bot, or are blocked.
    """
    if not member_ids:
        return {}
    rows = await session.execute(
        select(Member.id, Member.telegram_id, Member.language).where(Member.id.in_(list(member_ids)), *REACHABLE)
    )
    return {
        member_id: Reachable(member_id, chat_id, language)
        for member_id, chat_id, language in rows
        if chat_id is not None  # always, by REACHABLE
    }
