"""Vouchers at the counter: look a code up (wrong guesses throttled), then mark the voucher used, once.

Every look-up is written to the audit log: `voucher.lookup` for a code found, `voucher.miss` for a mistyped
or unknown one, `voucher.throttled` for a look-up refused. After `MAX_MISSES` misses from one account within
`WINDOW`, look-ups are refused until the oldest of them is a window old. The count is read from the audit
log, so it holds across bot instances; per account, look-ups take turns (an advisory lock on PostgreSQL,
the write lock on SQLite), so a burst of parallel guesses cannot all slip in under the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, outbox
from loyalty.errors import LoyaltyError, NotAVoucherCode, TooManyAttempts, VoucherMistyped, VoucherNotFound
from loyalty.outbox import Notices
from loyalty.stamps import Stamp
from loyalty.voucher_codes import looks_like_voucher_code, read_voucher_code
from loyalty.vouchers import Status, VoucherInfo, claim, info
from storage import repositories
from storage.database import write_transaction
from storage.models import VOUCHER_MISS, AuditEntry, Member, Voucher

MAX_MISSES = 5
WINDOW = timedelta(minutes=1)
MISS = "voucher.miss"


@dataclass(frozen=True)
class Found:
    """A voucher as staff see it at the counter: what it is worth, whose it is, and its status now."""

    voucher: VoucherInfo
    member: Member

    @property
    def usable(self) -> bool:
        """True if the voucher can be marked used now."""
        return self.voucher.status is Status.ACTIVE


async def retry_after(session: AsyncSession, actor_id: int, now: datetime) -> int:
    """Seconds the account must wait before its next look-up (0: it may look up now)."""
    misses = (
        await session.scalars(
            select(AuditEntry.created_at)
            .where(VOUCHER_MISS, AuditEntry.actor_id == actor_id, AuditEntry.created_at > now - WINDOW)
            .order_by(AuditEntry.created_at.desc())
            .limit(MAX_MISSES)
        )
    ).all()
    if len(misses) < MAX_MISSES:
        return 0
    return max(1, math.ceil((misses[-1] + WINDOW - now).total_seconds()))


async def look_up(session: AsyncSession, text: str, stamp: Stamp) -> Found:
    """The voucher with the code staff `stamp.actor_id` typed, whatever its status; refusals say why (mistyped,
    unknown, wait).

    Raises NotAVoucherCode, VoucherMistyped, VoucherNotFound or TooManyAttempts; the attempt is audited
    (and the miss counted) even when it is refused.
    """
    refused: LoyaltyError | None = None
    actor_id, now = stamp.actor_id, stamp.at
    async with write_transaction(session):
        await repositories.lock_number(session, actor_id)
        wait = await retry_after(session, actor_id, now)
        code = read_voucher_code(text)
        found = await repositories.voucher_by_code(session, code) if code and not wait else None
        if wait:
            refused, action = TooManyAttempts(wait), "voucher.throttled"
        elif not looks_like_voucher_code(text):
            raise NotAVoucherCode
        elif found is None:
            refused, action = (VoucherMistyped() if code is None else VoucherNotFound(code)), MISS
        else:
            action = "voucher.lookup"
        await audit.record(
            session,
            actor_id=actor_id,
            action=action,
            now=now,
            member_id=found.member_id if found else None,
            update_id=stamp.update_id,
            typed=text[:32],
            voucher_id=found.id if found else None,
        )
    if refused is not None:
        raise refused
    assert found is not None  # nothing refused: the code was found
    return await _found(session, found, now)


async def use(
    session: AsyncSession,
    voucher_id: int,
    stamp: Stamp,
    *,
    notices: Notices[Found] | None = None,
) -> Found:
    """Mark the voucher used by staff `stamp.actor_id`: exactly once, however many try at the same moment; its `notices`
    (to the member) are enqueued in the same transaction (`loyalty.outbox`).

    Raises VoucherNotFound, or VoucherUsed / VoucherExpired / VoucherCancelled saying when.
    """
    actor_id, now = stamp.actor_id, stamp.at
    async with write_transaction(session):
        voucher = await session.get(Voucher, voucher_id)
        if voucher is None:
            raise VoucherNotFound(voucher_id)
        await repositories.lock_member(session, voucher.member_id)  # members first, as every writer does
        await claim(session, voucher, now, status=Status.USED, used_at=now, used_by=actor_id)
        await audit.record(
            session,
            actor_id=actor_id,
            action="voucher.use",
            now=now,
            member_id=voucher.member_id,
            update_id=stamp.update_id,
            voucher_id=voucher.id,
            title=voucher.title,
        )
        found = await _found(session, voucher, now)
        await outbox.notify(session, notices, found, now=now)
    return found


async def _found(session: AsyncSession, voucher: Voucher, now: datetime) -> Found:
    """The voucher with its member, as the counter shows them."""
    return Found(info(voucher, now), await session.get_one(Member, voucher.member_id))
