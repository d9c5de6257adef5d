"""The points ledger: every change of points is an append-only entry; credits open lots that expire.

Invariants, kept inside each write transaction (see `storage.database.write_transaction`):
- a member's `balance` equals the sum of `remaining` over the member's lots, and is never negative;
- a debit draws on the unexpired lots that expire first, and records what it took from each lot
  (`lot_draws`), so a reversal can give the points back with their original expiry;
- an idempotency key is used by one entry only: posting the same key twice changes nothing;
- no points are minted: a take-back (`take_back`: a purchase undone, a referral revoked) takes the credit's
  points as far as the member still has them, and what it could not take, because those points were spent or
  expired, is `Member.points_owed`. The shop forgives that shortfall at the counter (a voucher already used
  stays used, new earnings are the member's in full), but when spent points come back (`post_reversal`: a voucher
  given back, a debit reversed) they settle what is owed first, and only the rest returns to the member.

So for every member: balance == standing credits - standing debits - expired + points_owed, where a credit
taken back no longer stands and a debit given back no longer stands; points_owed never exceeds standing debits
plus expired points, hence the balance never exceeds the credits still standing, and while nothing is owed it is
exactly credits minus debits still standing (tests/test_money.py checks this over random sequences).

`post_credit`, `post_debit` and `post_reversal` add to the caller's write transaction and expect the member
locked (`repositories.lock_member`); `spend`, `adjust` and `reverse_debit` are whole operations.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, Update, bindparam, cast, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from loyalty import outbox
from loyalty.errors import InsufficientPoints
from loyalty.outbox import Notices
from storage import repositories
from storage.database import write_transaction
from storage.models import LedgerEntry, LotDraw, Member, PointLot, written

WELCOME = "welcome"
EXPIRED = "expired"
REVERSAL = "reversal"
EXPIRY_CHUNK = 2_000  # members per statement batch of the expiry job
REASON_LENGTH = 64  # what an entry keeps of its reason


class Kind(StrEnum):
    """What an entry is; credits are positive, debits negative."""

    EARN = "earn"
    BONUS = "bonus"
    SPEND = "spend"
    EXPIRE = "expire"
    ADJUST = "adjust"
    REVERSAL = "reversal"


@dataclass(frozen=True)
class Balance:
    """What a member sees on /balance."""

    points: int
    tier: str
    expiring_points: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Posted:
    """The outcome of an operation: its entry, the balance after it, and whether the key was seen before."""

    entry: LedgerEntry
    balance: int
    duplicate: bool


async def post_credit(
    session: AsyncSession,
    member: Member,
    *,
    points: int,
    kind: Kind,
    reason: str,
    key: str,
    now: datetime,
    expires_at: datetime,
    actor_id: int | None = None,
    reverses_id: int | None = None,
) -> LedgerEntry:
    """Credit `points` in one new lot expiring at `expires_at`."""
    if points <= 0:
        raise ValueError("a credit is a positive number of points")
    entry = await _entry(session, member, points, kind, reason, key, now, actor_id, reverses_id)
    await _open_lots(session, entry, [(points, expires_at)])
    await _move(session, member, "balance", points)
    return entry


async def post_debit(
    session: AsyncSession,
    member: Member,
    *,
    points: int,
    kind: Kind,
    reason: str,
    key: str,
    now: datetime,
    actor_id: int | None = None,
    reverses_id: int | None = None,
    first_lots: frozenset[int] = frozenset(),
) -> LedgerEntry:
    """Debit `points` from the unexpired lots, `first_lots` first, then those that expire soonest.

    Raises InsufficientPoints (writing nothing) when the unexpired lots hold fewer points.
    """
    if points <= 0:
        raise ValueError("a debit is a positive number of points")
    lots = await repositories.open_lots(session, member.id, now)
    lots.sort(key=lambda lot: (lot.id not in first_lots, lot.expires_at, lot.id))
    available = sum(lot.remaining for lot in lots)
    if available < points:
        raise InsufficientPoints(available, points)
    entry = await _entry(session, member, -points, kind, reason, key, now, actor_id, reverses_id)
    await _draw(session, entry, lots, points)
    await _move(session, member, "balance", -points)
    return entry


@dataclass(frozen=True)
class Opening:
    """The opening credit of a member new in the caller's transaction (`post_openings`)."""

    member_id: int
    points: int
    reason: str
    key: str


async def post_openings(
    session: AsyncSession,
    openings: Sequence[Opening],
    *,
    kind: Kind,
    now: datetime,
    expires_at: datetime,
    actor_id: int | None,
) -> None:
    """Credit many members at once, each one entry and one lot expiring at `expires_at`, their balances moved: three
    set-based statements, not three per member (the lots and the balances read the entries by their keys). For
    members made in the caller's transaction, whom nobody else sees yet (so they need no lock) and whose keys are
    new."""
    if any(opening.points <= 0 for opening in openings):
        raise ValueError("a credit is a positive number of points")
    if not openings:
        return
    entries = [
        {
            "member_id": opening.member_id,
            "kind": kind.value,
            "points": opening.points,
            "reason": opening.reason,
            "idempotency_key": opening.key,
            "created_at": now,
            "actor_id": actor_id,
            "reverses_id": None,
        }
        for opening in openings
    ]
    await session.execute(_NEW_ENTRIES, entries)
    keys = [opening.key for opening in openings]
    await session.execute(_OPENING_LOTS, {"keys": keys, "expires_at": expires_at})
    await session.execute(_OPENING_BALANCES, {"keys": keys})


# RETURNING, though the ids are not read: SQLAlchemy then sends the rows as pages of multi-row VALUES on both
# databases (insertmanyvalues), where a plain executemany is an execution per row on asyncpg.
_NEW_ENTRIES = insert(LedgerEntry.__table__).returning(LedgerEntry.__table__.c.id)
_KEYED = LedgerEntry.idempotency_key.in_(bindparam("keys", expanding=True))
_OPENING_LOTS = insert(PointLot.__table__).from_select(
    ["member_id", "entry_id", "points", "remaining", "expires_at"],
    select(
        LedgerEntry.member_id,
        LedgerEntry.id,
        LedgerEntry.points,
        LedgerEntry.points,
        bindparam("expires_at", type_=PointLot.__table__.c.expires_at.type),
    ).where(_KEYED),
)
_OPENING_BALANCES = (
    update(Member.__table__)
    .where(Member.__table__.c.id == LedgerEntry.member_id, _KEYED)
    .values(balance=Member.__table__.c.balance + LedgerEntry.points)
)


async def take_back(
    session: AsyncSession,
    member: Member,
    *,
    points: int,
    entry_ids: list[int],
    reason: str,
    key: str,
    now: datetime,
    actor_id: int | None,
) -> int:
    """Reverse up to `points` credited by `entry_ids` (their own lots first), as far as the member still has
    points (due lots expire first); the caller holds the member's lock. Returns the points taken back.

    The shortfall (`points` minus those taken) is added to what the member owes, which later reversals settle
    first (`post_reversal`): spent points of a credit taken back never come back to the member.
    """
    await expire_member(session, member.id, now)
    own_lots = await repositories.lot_ids_of_entries(session, entry_ids)
    available = sum(lot.remaining for lot in await repositories.open_lots(session, member.id, now))
    taken = min(points, available)
    if taken > 0:
        await post_debit(
            session,
            member,
            points=taken,
            kind=Kind.REVERSAL,
            reason=reason,
            key=key,
            now=now,
            actor_id=actor_id,
            reverses_id=entry_ids[0] if entry_ids else None,
            first_lots=frozenset(own_lots),
        )
    if taken < points:
        await _move(session, member, "points_owed", points - taken)
    return taken


async def take_back_adjusted(session: AsyncSession, member: Member, *, actor_id: int, key: str, now: datetime) -> int:
    """Take back (`take_back`, as a reversal) the points the staff account `actor_id` added to the member by its
    adjustments, its credits less its debits; the caller holds the member's lock. Returns them, 0 if they add none."""
    mine = (LedgerEntry.member_id == member.id) & (LedgerEntry.kind == Kind.ADJUST) & (LedgerEntry.actor_id == actor_id)
    rows = (
        await session.execute(select(LedgerEntry.id, LedgerEntry.points).where(mine).order_by(LedgerEntry.id))
    ).all()
    added = sum(points for _, points in rows)
    if added <= 0:
        return 0
    credits = [entry_id for entry_id, points in rows if points > 0]
    await take_back(
        session, member, points=added, entry_ids=credits, reason=REVERSAL, key=key, now=now, actor_id=actor_id
    )
    return added


async def _entry(
    session: AsyncSession,
    member: Member,
    points: int,
    kind: Kind,
    reason: str,
    key: str,
    now: datetime,
    actor_id: int | None,
    reverses_id: int | None,
) -> LedgerEntry:
    entry = LedgerEntry(
        member_id=member.id,
        kind=kind,
        points=points,
        reason=reason,
        idempotency_key=key,
        created_at=now,
        actor_id=actor_id,
        reverses_id=reverses_id,
    )
    return await repositories.insert_now(session, entry)


_OPEN_LOT = insert(PointLot.__table__)


async def _open_lots(session: AsyncSession, entry: LedgerEntry, lots: list[tuple[int, datetime]]) -> None:
    """The lots a credit entry opens, full: (points, expiry) each; one statement, no unit of work."""
    rows = [
        {"member_id": entry.member_id, "entry_id": entry.id, "points": points, "remaining": points, "expires_at": at}
        for points, at in lots
    ]
    if rows:
        await session.execute(_OPEN_LOT, rows)


async def _draw(session: AsyncSession, entry: LedgerEntry, lots: list[PointLot], points: int) -> None:
    """Take `points` from `lots` in order, recording each draw."""
    left = points
    for lot in lots:
        if left == 0:
            break
        taken = min(left, lot.remaining)
        lot.remaining -= taken
        session.add(LotDraw(entry_id=entry.id, lot_id=lot.id, points=taken))
        left -= taken
    await session.flush()


def _adding_to(field: str) -> Update:
    """UPDATE members SET field = field + :points WHERE id = :member_id RETURNING field."""
    column = Member.__table__.c[field]
    return (
        update(Member.__table__)
        .where(Member.__table__.c.id == bindparam("member_id"))
        .values({column: column + bindparam("points")})
        .returning(column)
    )


_MOVES = {field: _adding_to(field) for field in ("balance", "points_owed")}


async def _move(session: AsyncSession, member: Member, field: str, points: int) -> None:
    """Change one of the member's counters (`balance`, `points_owed`) atomically in the database, and on the loaded
    member as the value read back (nothing left for the unit of work to write)."""
    value = await session.scalar(_MOVES[field], {"member_id": member.id, "points": points})
    set_committed_value(member, field, value)


async def expire_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Expire the member's lots that are due (inside the caller's transaction); returns points expired."""
    return await _expire_chunk(session, [member_id], now)


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """The nightly job: expire every due lot, a chunk of members per transaction; returns points expired."""
    members = (await session.scalars(_DUE_MEMBERS, {"now": now})).all()
    if session.in_transaction():
        await session.commit()
    expired = 0
    for first in range(0, len(members), EXPIRY_CHUNK):
        async with write_transaction(session):
            expired += await _expire_chunk(session, list(members[first : first + EXPIRY_CHUNK]), now)
    return expired


_DUE = (PointLot.remaining > written(0)) & (PointLot.expires_at <= bindparam("now"))
_DUE_MEMBERS = select(PointLot.member_id).where(_DUE).distinct().order_by(PointLot.member_id)
LOTS_DUE = exists().where(_DUE, PointLot.member_id == bindparam("member_id"))
"""True if member :member_id has lots due at :now, which `expire_member` would expire (for a combined read)."""


async def _expire_chunk(session: AsyncSession, member_ids: list[int], now: datetime) -> int:
    """Set-based expiry for some members: one entry per member, a draw per lot, lots emptied, balances moved."""
    await repositories.lock_members(session, member_ids)
    due = _DUE & PointLot.member_id.in_(bindparam("ids", expanding=True))
    params = {"now": now, "ids": member_ids}
    total = await session.scalar(select(func.sum(PointLot.remaining)).where(due), params)
    if not total:
        return 0
    # a fresh token per run: points given back by a reversal can fall due again at the same instant
    key = literal(f"expire:{now.isoformat()}:{secrets.token_hex(4)}:", String) + cast(PointLot.member_id, String)
    entries = (
        select(
            PointLot.member_id,
            literal(Kind.EXPIRE.value, String),
            -func.sum(PointLot.remaining),
            literal(EXPIRED, String),
            key,
            literal(now, LedgerEntry.created_at.type),
        )
        .where(due)
        .group_by(PointLot.member_id)
    )
    columns = ["member_id", "kind", "points", "reason", "idempotency_key", "created_at"]
    await session.execute(insert(LedgerEntry.__table__).from_select(columns, entries), params)
    draws = select(LedgerEntry.id, PointLot.id, PointLot.remaining).join(
        LedgerEntry, LedgerEntry.idempotency_key == key
    )
    await session.execute(
        insert(LotDraw.__table__).from_select(["entry_id", "lot_id", "points"], draws.where(due)), params
    )
    member_due = select(func.coalesce(func.sum(PointLot.remaining), 0)).where(due, PointLot.member_id == Member.id)
    members = update(Member).where(Member.id.in_(bindparam("ids", expanding=True)))
    await session.execute(members.values(balance=Member.balance - member_due.scalar_subquery()), params)
    await session.execute(update(PointLot).where(due).values(remaining=0), params)
    return int(total)


async def grant(
    session: AsyncSession,
    member_id: int,
    points: int,
    *,
    kind: Kind,
    reason: str,
    key: str,
    now: datetime,
    expires_at: datetime,
    actor_id: int | None = None,
) -> Posted:
    """Credit points (a bonus, a gift) in one transaction; the same key twice credits once."""
    async with write_transaction(session):
        member = await repositories.lock_member(session, member_id)
        seen = await repositories.entry_by_key(session, key)
        if seen is not None:
            return Posted(seen, member.balance, duplicate=True)
        entry = await post_credit(
            session,
            member,
            points=points,
            kind=kind,
            reason=reason,
            key=key,
            now=now,
            expires_at=expires_at,
            actor_id=actor_id,
        )
    return Posted(entry, member.balance, duplicate=False)


async def spend(
    session: AsyncSession, member_id: int, points: int, *, reason: str, key: str, now: datetime, actor_id: int | None
) -> Posted:
    """Spend points in one transaction (due lots expire first); the same key twice spends once."""
    async with write_transaction(session):
        member = await repositories.lock_member(session, member_id)
        seen = await repositories.entry_by_key(session, key)
        if seen is not None:
            return Posted(seen, member.balance, duplicate=True)
        await expire_member(session, member_id, now)
        entry = await post_debit(
            session, member, points=points, kind=Kind.SPEND, reason=reason, key=key, now=now, actor_id=actor_id
        )
    return Posted(entry, member.balance, duplicate=False)


async def adjust(
    session: AsyncSession,
    member_id: int,
    points: int,
    *,
    reason: str,
    key: str,
    now: datetime,
    actor_id: int,
    expiry_days: int,
    notices: Notices[Posted] | None = None,
) -> Posted:
    """A manual correction by staff, up or down, with a mandatory reason; one transaction, once per key, with its
    `notices` (`loyalty.outbox`)."""
    if points == 0 or not reason.strip():
        raise ValueError("an adjustment needs points and a reason")
    async with write_transaction(session):
        member = await repositories.lock_member(session, member_id)
        seen = await repositories.entry_by_key(session, key)
        if seen is not None:
            return Posted(seen, member.balance, duplicate=True)
        await expire_member(session, member_id, now)
        if points > 0:
            entry = await post_credit(
                session,
                member,
                points=points,
                kind=Kind.ADJUST,
                reason=reason,
                key=key,
                now=now,
                expires_at=now + timedelta(days=expiry_days),
                actor_id=actor_id,
            )
        else:
            entry = await post_debit(
                session, member, points=-points, kind=Kind.ADJUST, reason=reason, key=key, now=now, actor_id=actor_id
            )
        posted = Posted(entry, member.balance, duplicate=False)
        await outbox.notify(session, notices, posted, now=now)
    return posted


async def reverse_debit(
    session: AsyncSession, debit_id: int, *, key: str, now: datetime, actor_id: int | None
) -> Posted:
    """Give back what a debit took, lot by lot with each lot's original expiry, as one new entry."""
    async with write_transaction(session):
        debit = await session.get(LedgerEntry, debit_id)
        if debit is None or debit.points >= 0:
            raise ValueError("only a debit can be reversed this way")
        member = await repositories.lock_member(session, debit.member_id)
        seen = await repositories.entry_by_key(session, key)
        if seen is not None:
            return Posted(seen, member.balance, duplicate=True)
        entry = await post_reversal(session, member, debit, key=key, now=now, actor_id=actor_id)
    return Posted(entry, member.balance, duplicate=False)


async def post_reversal(
    session: AsyncSession,
    member: Member,
    debit: LedgerEntry,
    *,
    key: str,
    now: datetime,
    actor_id: int | None,
    reason: str = REVERSAL,
) -> LedgerEntry:
    """Give back what `debit` took, lot by lot with each lot's original expiry, in the caller's transaction;
    the member locked and freshly read.

    What the member owes (`take_back`) is settled first, from the drawn lots that expire soonest: the entry gives
    back only the rest, perhaps 0 points (it still records that the debit was reversed).
    """
    settled = min(member.points_owed, -debit.points)
    drawn = sorted(await repositories.drawn_lots(session, debit.id), key=lambda lot: lot.expires_at)
    back = _after_settling([(lot.points, lot.expires_at) for lot in drawn], settled)
    points = -debit.points - settled
    entry = await _entry(session, member, points, Kind.REVERSAL, reason, key, now, actor_id, debit.id)
    await _open_lots(session, entry, back)
    if settled:
        await _move(session, member, "points_owed", -settled)
    if points:
        await _move(session, member, "balance", points)
    return entry


def _after_settling(lots: list[tuple[int, datetime]], settled: int) -> list[tuple[int, datetime]]:
    """The (points, expiry) lots left to give back once `settled` points are kept from the first ones."""
    left = []
    for points, expires_at in lots:
        kept = min(points, settled)
        settled -= kept
        if points > kept:
            left.append((points - kept, expires_at))
    return left


async def balance(session: AsyncSession, member: Member, now: datetime) -> Balance:
    """The member's points, tier and the points that expire first."""
    return summary(member, await repositories.next_expiry(session, member.id, now))


def summary(member: Member, soonest: repositories.NextExpiry | None) -> Balance:
    """The member's points and tier, and the points that expire first as already read (`soonest`)."""
    return Balance(
        points=member.balance,
        tier=member.tier,
        expiring_points=soonest.points if soonest else 0,
        expires_at=soonest.expires_at if soonest else None,
    )
