"""Queries on members and the ledger; the rules that use them live in `loyalty`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    bindparam,
    case,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class

from storage.database import rowcount, write_transaction
from storage.loop_reads import read_one
from storage.models import (
    Base,
    LedgerEntry,
    LotDraw,
    Member,
    OutboxMessage,
    PointLot,
    Purchase,
    StaffMember,
    Voucher,
    written,
)

RowT = TypeVar("RowT", bound=Base)

# Queries run on every update are built once: building a statement costs more than SQLite running it.
_MEMBER_BY_TELEGRAM_ID = select(Member).where(Member.telegram_id == bindparam("telegram_id"))
_SENDER = select(bindparam("telegram_id", type_=BigInteger).label("telegram_id")).subquery()
_LATER = aliased(PointLot)
_SOONEST = (  # when the member's first open points expire
    select(func.min(_LATER.expires_at))
    .where(_LATER.member_id == Member.id, _LATER.remaining > written(0), _LATER.expires_at > bindparam("now"))
    .correlate(Member)
    .scalar_subquery()
)
_ACCOUNT = (
    select(
        *Member.__table__.columns,
        select(StaffMember.role)
        .where(StaffMember.telegram_id == _SENDER.c.telegram_id)
        .scalar_subquery()
        .label("staff_role"),
        _SOONEST.label("soonest_expiry"),
        select(func.sum(PointLot.remaining))
        .where(PointLot.member_id == Member.id, PointLot.remaining > written(0), PointLot.expires_at == _SOONEST)
        .correlate(Member)
        .scalar_subquery()
        .label("soonest_points"),
    )
    .select_from(_SENDER)
    .outerjoin(Member, Member.telegram_id == _SENDER.c.telegram_id)
)
_NEXT_EXPIRY = (
    select(PointLot.expires_at, func.sum(PointLot.remaining))
    .where(
        PointLot.member_id == bindparam("member_id"),
        PointLot.remaining > written(0),
        PointLot.expires_at > bindparam("now"),
    )
    .group_by(PointLot.expires_at)
    .order_by(PointLot.expires_at)
    .limit(1)
)


@dataclass(frozen=True)
class _Inserter:
    """A model's INSERT … RETURNING id, and its attributes by column (all but the id)."""

    statement: Insert
    columns: tuple[tuple[str, str], ...]  # (attribute, column)


@cache
def _inserter(model: type[Base]) -> _Inserter:
    """Built once per model."""
    table = model.__table__
    attributes = [(prop.key, prop.columns[0].key) for prop in inspect(model).column_attrs]
    return _Inserter(
        insert(table).returning(table.c.id),
        tuple((attribute, column) for attribute, column in attributes if column != "id"),
    )


async def insert_now(session: AsyncSession, row: RowT) -> RowT:
    """Insert a new object at once with one Core INSERT … RETURNING id; returns it detached, its id set.

    Writes what `session.add(row)` and a flush would, without the unit of work (which costs about as much as
    the statement on the hot paths). Every column but the id is written as set on `row`, unset ones as NULL
    (Python-side column defaults are not applied), and every attribute is loaded, so reading one never needs
    the database. The session does not track the object: change its row with an UPDATE, or `session.add` it.
    """
    inserter = _inserter(type(row))
    values = {attribute: getattr(row, attribute) for attribute, _ in inserter.columns}
    row.id = await session.scalar(  # type: ignore[attr-defined]
        inserter.statement, {column: values[attribute] for attribute, column in inserter.columns}
    )
    for attribute, value in values.items():
        setattr(row, attribute, value)
    make_transient_to_detached(row)  # as if read by a session since closed: nothing pending, nothing to roll back
    return row


def _loaded(session: AsyncSession, model: type[RowT], columns: Mapping[Any, Any]) -> RowT:
    """An object of `model` made from its row's `columns`, belonging to `session` as if the session had read it (the
    session must not hold one of the same identity). Its columns go into its `__dict__` as the ORM's loading puts
    them: a constructor would record each as a change to be cleared again, five times the cost."""
    row: RowT = manager_of_class(model).new_instance()
    row.__dict__.update(
        {attribute: columns[column] for attribute, column in _inserter(model).columns}, id=columns["id"]
    )
    make_transient_to_detached(row)
    session.add(row)
    return row


async def member_by_telegram_id(session: AsyncSession, telegram_id: int) -> Member | None:
    """The member linked to a messenger account, if any."""
    return await session.scalar(_MEMBER_BY_TELEGRAM_ID, {"telegram_id": telegram_id})


@dataclass(frozen=True)
class NextExpiry:
    """The soonest-expiring open points of a member."""

    points: int
    expires_at: datetime


@dataclass(frozen=True)
class Account:
    """What every update needs to know of its sender: the member linked to the messenger account (None for a
    newcomer), the account's stored staff role (None for a customer), and the member's soonest-expiring points
    (None when nothing is to expire), which /balance shows."""

    member: Member | None
    role: str | None
    next_expiry: NextExpiry | None


async def account_by_telegram_id(session: AsyncSession, telegram_id: int, now: datetime) -> Account:
    """The sender's `Account`, in one query: every update needs the member and the role, and reading the soonest
    expiry with them costs an index lookup where a statement of its own costs /balance a round trip. On a SQLite file
    it is read on the loop, on PostgreSQL in autocommit (`storage.loop_reads`), and the member made without the ORM's
    loading (`_loaded`)."""
    row = await read_one(session, _ACCOUNT, {"telegram_id": telegram_id, "now": now})
    member = None if row["id"] is None else _loaded(session, Member, row)
    expires_at = row["soonest_expiry"]
    soonest = NextExpiry(int(row["soonest_points"]), expires_at) if expires_at is not None else None
    return Account(member, row["staff_role"], soonest)


async def lock_member(session: AsyncSession, member_id: int) -> Member:
    """The member, freshly read and locked for the rest of the transaction (FOR UPDATE; SQLite locks at BEGIN)."""
    statement = select(Member).where(Member.id == member_id).with_for_update()
    member = await session.scalar(statement.execution_options(populate_existing=True))
    if member is None:
        raise LookupError(f"no member {member_id}")
    return member


async def lock_members(session: AsyncSession, member_ids: list[int]) -> None:
    """Lock many members for the rest of the transaction, in id order so two lockers never deadlock."""
    if session.get_bind().dialect.name != "sqlite":
        await session.execute(select(Member.id).where(Member.id.in_(member_ids)).order_by(Member.id).with_for_update())


async def open_lots(session: AsyncSession, member_id: int, now: datetime) -> list[PointLot]:
    """The member's unexpired lots with points left."""
    statement = select(PointLot).where(
        PointLot.member_id == member_id, PointLot.remaining > written(0), PointLot.expires_at > now
    )
    return list((await session.scalars(statement.execution_options(populate_existing=True))).all())


@dataclass(frozen=True)
class Drawn:
    """Points a debit took from one lot, and when that lot expires."""

    points: int
    expires_at: datetime


async def drawn_lots(session: AsyncSession, entry_id: int) -> list[Drawn]:
    """What a debit entry took from each lot."""
    rows = await session.execute(
        select(LotDraw.points, PointLot.expires_at)
        .join(PointLot, PointLot.id == LotDraw.lot_id)
        .where(LotDraw.entry_id == entry_id)
        .order_by(LotDraw.id)
    )
    return [Drawn(points, expires_at) for points, expires_at in rows]


async def purchase_by_key(session: AsyncSession, key: str) -> Purchase | None:
    """The purchase recorded under this idempotency key, if any."""
    return await session.scalar(select(Purchase).where(Purchase.idempotency_key == key))


async def purchase_by_receipt(session: AsyncSession, receipt: str) -> Purchase | None:
    """The purchase with this receipt number, if any."""
    return await session.scalar(select(Purchase).where(Purchase.receipt == receipt))


async def lot_ids_of_entries(session: AsyncSession, entry_ids: list[int]) -> list[int]:
    """The lots these credit entries opened."""
    return list((await session.scalars(select(PointLot.id).where(PointLot.entry_id.in_(entry_ids)))).all())


async def member_by_phone(session: AsyncSession, phone: str) -> Member | None:
    """The member with this E.164 phone number, if any."""
    return await session.scalar(select(Member).where(Member.phone == phone))


async def members_named(session: AsyncSession, prefix: str, limit: int) -> list[Member]:
    """The members whose first name starts with `prefix` (any case), at most `limit`, by name; erased ones left out."""
    named = func.lower(Member.first_name).startswith(prefix.lower(), autoescape=True)
    found = select(Member).where(named, Member.forgotten_at.is_(None)).order_by(Member.first_name, Member.id)
    return list(await session.scalars(found.limit(limit)))


async def member_by_code(session: AsyncSession, code: str) -> Member | None:
    """The member with this member code, if any; an erased member (`loyalty.privacy`) is nobody's card any more."""
    return await session.scalar(select(Member).where(Member.code == code, Member.forgotten_at.is_(None)))


async def taken_codes(session: AsyncSession, codes: Collection[str]) -> set[str]:
    """Which of these member codes members have already."""
    return set(await session.scalars(select(Member.code).where(Member.code.in_(codes))))


async def code_exists(session: AsyncSession, code: str) -> bool:
    """True if a member already has this member code."""
    return await session.scalar(select(Member.id).where(Member.code == code)) is not None


async def entry_by_key(session: AsyncSession, key: str) -> LedgerEntry | None:
    """The ledger entry written under this idempotency key, if any."""
    return await session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


async def next_expiry(session: AsyncSession, member_id: int, now: datetime) -> NextExpiry | None:
    """The open points that expire first, summed over lots expiring at that same moment (one query)."""
    row = (await session.execute(_NEXT_EXPIRY, {"member_id": member_id, "now": now})).first()
    return NextExpiry(points=int(row[1]), expires_at=row[0]) if row else None


async def history_page(
    session: AsyncSession, member_id: int, page: int, size: int
) -> tuple[Sequence[LedgerEntry], int]:
    """One page of a member's entries, newest first, and the number of entries in all."""
    total = await session.scalar(select(func.count()).where(LedgerEntry.member_id == member_id))
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.member_id == member_id)
        .order_by(LedgerEntry.id.desc())
        .offset(page * size)
        .limit(size)
    )
    return rows.all(), int(total or 0)


# --- rewards and vouchers --------------------------------------------------------------------------------------


async def lock_number(session: AsyncSession, number: int) -> None:
    """Make transactions that lock the same number take turns until commit (PostgreSQL advisory lock).

    SQLite needs nothing: `write_transaction` takes the database's write lock at BEGIN.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(literal(number, BigInteger))))


async def existing_voucher_codes(session: AsyncSession, codes: Collection[str]) -> set[str]:
    """Which of these codes some voucher already has."""
    return set((await session.scalars(select(Voucher.code).where(Voucher.code.in_(list(codes))))).all())


async def voucher_by_code(session: AsyncSession, code: str) -> Voucher | None:
    """The voucher with this canonical code, freshly read, if any."""
    statement = select(Voucher).where(Voucher.code == code).execution_options(populate_existing=True)
    return await session.scalar(statement)


async def voucher_by_entry(session: AsyncSession, entry_id: int) -> Voucher | None:
    """The voucher bought by this spend entry, if any."""
    return await session.scalar(select(Voucher).where(Voucher.entry_id == entry_id))


async def rewards_taken(session: AsyncSession, member_id: int) -> dict[int, int]:
    """How many vouchers of each reward the member holds or held (cancelled ones not counted)."""
    rows = await session.execute(
        select(Voucher.reward_id, func.count())
        .where(Voucher.member_id == member_id, Voucher.reward_id.is_not(None), Voucher.status != "cancelled")
        .group_by(Voucher.reward_id)
    )
    return {reward_id: int(count) for reward_id, count in rows if reward_id is not None}


# --- campaigns and the outbox ----------------------------------------------------------------------------------


def insert_or_ignore(session: AsyncSession, model: type[Base]) -> Insert:
    """An INSERT that skips rows clashing with a unique key (ON CONFLICT DO NOTHING) on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()


async def mark_unreachable(session: AsyncSession, member_ids: Collection[int], now: datetime) -> None:
    """Note that these members blocked the bot or their chat is gone, so broadcasts leave them out; out of reach
    since `now` unless they already were."""
    if member_ids:
        since = func.coalesce(Member.out_of_reach_since, literal(now, Member.out_of_reach_since.type))
        chosen = Member.id.in_(sorted(set(member_ids)))
        await session.execute(update(Member).where(chosen).values(unreachable=True, out_of_reach_since=since))


async def mark_reachable(session: AsyncSession, telegram_id: int) -> bool:
    """The member wrote to the bot again: broadcasts reach them again (still out of reach if they had sent /stop).
    True if they were unreachable."""
    since = case((Member.stopped.is_(True), Member.out_of_reach_since), else_=None)
    result = await session.execute(
        update(Member)
        .where(Member.telegram_id == telegram_id, Member.unreachable.is_(True))
        .values(unreachable=False, out_of_reach_since=since)
    )
    return bool(rowcount(result))


async def delete_outbox_rows(session: AsyncSession, *conditions: ColumnElement[bool], chunk: int) -> int:
    """Delete the outbox rows meeting `conditions`, `chunk` a transaction (resumable); returns how many."""
    deleted = 0
    while True:
        async with write_transaction(session):
            some = select(OutboxMessage.id).where(*conditions).limit(chunk)
            result = await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(some)))
        deleted += rowcount(result)
        if rowcount(result) < chunk:
            return deleted
