"""A voucher's life: issued (bought with points or given), listed for its member, cancelled, used once.

The code itself is stored (unique index), not a hash of it: a member opens "my vouchers" again and again
to show the code at the counter, so it must be readable later; and a hash of a 44-bit code would not
keep it secret from someone holding the database (2**44 hashes is an afternoon's work), while anyone
who can read the database can write to it anyway. Guessing from outside is what needs stopping, and
the check character plus the throttle in `loyalty.voucher_use` do that.

Status moves only from active, by one conditional UPDATE (`claim`), so a voucher is used or cancelled
once however many try at the same moment. An active voucher past its expiry is expired: derived, no job.
Writers lock the member first (`repositories.lock_member`), then the voucher: one order, so no deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, ledger
from loyalty.errors import (
    InvalidReward,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
    VoucherNotUsable,
    VoucherUsed,
)
from loyalty.rules import MAX_AMOUNT
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display, new_voucher_code
from storage import repositories
from storage.database import rowcount, write_transaction
from storage.models import LedgerEntry, Reward, Voucher, written

REFUND = "reward_refund"
LIST_LIMIT = 20


class Kind(StrEnum):
    """What a voucher gives: money off, a percentage off (perhaps capped), or an item for free."""

    FIXED = "fixed"
    PERCENT = "percent"
    ITEM = "item"


class Status(StrEnum):
    """Where a voucher stands; `expired` is never stored, it is an active voucher past its expiry."""

    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Worth:
    """What a voucher is worth: `value` money off (fixed), `value`% off up to `cap` money (percent), or an item."""

    kind: Kind
    value: int | None = None
    cap: int | None = None

    def check(self) -> None:
        """Refuse a worth the counter could not honour (InvalidReward naming the field)."""
        if self.kind is Kind.ITEM:
            if self.value is not None or self.cap is not None:
                raise InvalidReward("value", "item_has_no_value")
            return
        limit = 100 if self.kind is Kind.PERCENT else MAX_AMOUNT
        if self.value is None or not 0 < self.value <= limit:
            raise InvalidReward("value", "out_of_range")
        if self.cap is not None and (self.kind is Kind.FIXED or not 0 < self.cap <= MAX_AMOUNT):
            raise InvalidReward("cap", "out_of_range")

    def discount_on(self, amount: int) -> int:
        """Money taken off a bill of `amount` (0 for a free item, which is handed over instead)."""
        if self.kind is Kind.FIXED:
            return min(self.value or 0, amount)
        if self.kind is Kind.PERCENT:
            off = amount * (self.value or 0) // 100
            return off if self.cap is None else min(off, self.cap)
        return 0


@dataclass(frozen=True)
class VoucherInfo:
    """A voucher as members and staff see it, its status as of the moment it was read."""

    id: int
    code: str
    member_id: int
    title: str
    worth: Worth
    status: Status
    points: int
    reward_id: int | None
    gift_id: int | None
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None
    cancelled_at: datetime | None

    @property
    def shown_code(self) -> str:
        """The code grouped for reading aloud: 7KQ2-M9XW-4H."""
        return display(self.code)

    @property
    def bought(self) -> bool:
        """True if the voucher was bought with points (cancelling it gives them back)."""
        return self.points > 0


def info(voucher: Voucher, now: datetime) -> VoucherInfo:
    """The stored voucher as a plain result, expired if it is active but past its expiry at `now`."""
    status = Status(voucher.status)
    if status is Status.ACTIVE and voucher.expires_at <= now:
        status = Status.EXPIRED
    return VoucherInfo(
        id=voucher.id,
        code=voucher.code,
        member_id=voucher.member_id,
        title=voucher.title,
        worth=Worth(Kind(voucher.kind), voucher.value, voucher.cap),
        status=status,
        points=voucher.points,
        reward_id=voucher.reward_id,
        gift_id=voucher.gift_id,
        issued_at=voucher.issued_at,
        expires_at=voucher.expires_at,
        used_at=voucher.used_at,
        used_by=voucher.used_by,
        cancelled_at=voucher.cancelled_at,
    )


async def unused_codes(session: AsyncSession, count: int) -> list[str]:
    """`count` distinct fresh codes that no voucher has yet (a clash is rare: 2.6e13 codes)."""
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {new_voucher_code() for _ in range(count - len(codes))} - codes
        codes |= fresh - await repositories.existing_voucher_codes(session, fresh)
    return list(codes)


async def issue(
    session: AsyncSession,
    *,
    member_id: int,
    title: str,
    worth: Worth,
    expires_at: datetime,
    now: datetime,
    points: int = 0,
    entry_id: int | None = None,
    reward_id: int | None = None,
    gift_id: int | None = None,
) -> Voucher:
    """Add a new active voucher with a fresh code to the caller's transaction."""
    (code,) = await unused_codes(session, 1)
    voucher = Voucher(
        code=code,
        member_id=member_id,
        reward_id=reward_id,
        gift_id=gift_id,
        title=title,
        kind=worth.kind,
        value=worth.value,
        cap=worth.cap,
        points=points,
        entry_id=entry_id,
        status=Status.ACTIVE,
        issued_at=now,
        expires_at=expires_at,
    )
    session.add(voucher)
    await session.flush()
    return voucher


def refusal(voucher: Voucher, now: datetime) -> VoucherNotUsable:
    """Why a voucher that is not active at `now` cannot be used or cancelled."""
    if voucher.status == Status.USED:
        return VoucherUsed(voucher.used_at, voucher.used_by)
    if voucher.status == Status.CANCELLED:
        return VoucherCancelled(voucher.cancelled_at)
    return VoucherExpired(voucher.expires_at)


async def claim(session: AsyncSession, voucher: Voucher, now: datetime, **values: object) -> None:
    """Move an active, unexpired voucher on (used or cancelled) atomically; if it is not, raise why."""
    claimed = await session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == written(Status.ACTIVE), Voucher.expires_at > now)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(voucher)
    if rowcount(claimed) != 1:
        raise refusal(voucher, now)


@dataclass(frozen=True)
class MemberVouchers:
    """A member's vouchers by status: active soonest-expiring first, the others newest first."""

    active: list[VoucherInfo]
    used: list[VoucherInfo]
    expired: list[VoucherInfo]
    cancelled: list[VoucherInfo]


async def vouchers_of(session: AsyncSession, member_id: int, now: datetime, limit: int = LIST_LIMIT) -> MemberVouchers:
    """The member's vouchers, at most `limit` of each status."""
    live = Voucher.status == written(Status.ACTIVE)
    groups = {
        Status.ACTIVE: ((live, Voucher.expires_at > now), Voucher.expires_at),
        Status.USED: ((Voucher.status == written(Status.USED),), Voucher.used_at.desc()),
        Status.EXPIRED: ((live, Voucher.expires_at <= now), Voucher.expires_at.desc()),
        Status.CANCELLED: ((Voucher.status == written(Status.CANCELLED),), Voucher.cancelled_at.desc()),
    }
    found: dict[Status, list[VoucherInfo]] = {}
    for status, (conditions, order) in groups.items():
        statement = select(Voucher).where(Voucher.member_id == member_id, *conditions)
        vouchers = await session.scalars(statement.order_by(order, Voucher.id.desc()).limit(limit))
        found[status] = [info(voucher, now) for voucher in vouchers]
    return MemberVouchers(found[Status.ACTIVE], found[Status.USED], found[Status.EXPIRED], found[Status.CANCELLED])


async def find(session: AsyncSession, voucher_id: int, now: datetime, *, member_id: int | None = None) -> VoucherInfo:
    """One voucher (the member's own when `member_id` is given), or VoucherNotFound."""
    found = await session.get(Voucher, voucher_id, populate_existing=True)
    if found is None or member_id not in (None, found.member_id):
        raise VoucherNotFound(voucher_id)
    return info(found, now)


@dataclass(frozen=True)
class Cancelled:
    """A cancelled voucher, the points it gave back (0 for a gift) and the member's balance after."""

    voucher: VoucherInfo
    refunded: int
    balance: int


def points_back(voucher: VoucherInfo, owed: int) -> int:
    """The points giving `voucher` back returns: its cost, less what its member owes from a take-back, which a
    refund settles first (`ledger.post_reversal`)."""
    return voucher.points - min(max(owed, 0), voucher.points)


async def cancel(
    session: AsyncSession,
    voucher_id: int,
    stamp: Stamp,
    *,
    member_id: int | None,
) -> Cancelled:
    """`stamp.actor_id` cancels an active, unexpired voucher (the member's own when `member_id` is given), in one
    transaction.

    A bought voucher gives its points back as one reversal entry, lot by lot with the original expiry (points
    whose expiry has passed meanwhile cannot be spent and go with the nightly expiry, as after any reversal),
    less what the member owes from a take-back (`ledger.post_reversal`; the audit entry says how much was
    `settled`), and its reward's stock back; it stops counting towards the per-member limit. A gift gives nothing back.
    Used, expired or cancelled vouchers are refused.
    """
    actor_id, now = stamp.actor_id, stamp.at
    async with write_transaction(session):
        found = await session.get(Voucher, voucher_id)
        if found is None or member_id not in (None, found.member_id):
            raise VoucherNotFound(voucher_id)
        member = await repositories.lock_member(session, found.member_id)
        await claim(session, found, now, status=Status.CANCELLED, cancelled_at=now, cancelled_by=actor_id)
        refunded = settled = 0
        if found.entry_id is not None:
            debit = await session.get(LedgerEntry, found.entry_id)
            assert debit is not None
            entry = await ledger.post_reversal(
                session, member, debit, key=f"voucher-cancel:{found.id}", now=now, actor_id=actor_id, reason=REFUND
            )
            found.refund_entry_id = entry.id
            refunded, settled = entry.points, -debit.points - entry.points
        if found.reward_id is not None:
            await session.execute(
                update(Reward)
                .where(Reward.id == found.reward_id, Reward.stock.is_not(None))
                .values(stock=Reward.stock + 1)
                .execution_options(synchronize_session=False)
            )
        await audit.record(
            session,
            actor_id=actor_id,
            action="voucher.cancel",
            now=now,
            member_id=member.id,
            update_id=stamp.update_id,
            voucher_id=found.id,
            refunded=refunded,
            settled=settled,
        )
    return Cancelled(info(found, now), refunded, member.balance)
