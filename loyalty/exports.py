"""The club's tables as rows for a file (members, purchases, ledger, vouchers), read in id order a batch at a time.

Each `Export` names its columns (a key and what kind of value each holds) and the statement that reads them; `rows`
walks the table by keyset pagination (`id > last id seen`, in id order, `batch` rows a time), so an export of a
million members holds one batch in memory, never the table. How a value is written (a date in the reader's calendar,
a header in their language) is the file writer's business, not the domain's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import LedgerEntry, Member, Purchase, Voucher

BATCH = 1000


class Kind(StrEnum):
    """What a column holds: the writer shows each kind its own way."""

    TEXT = "text"
    NUMBER = "number"  # an integer written plainly (points, ids)
    MONEY = "money"  # an integer amount in the shop's unit
    PHONE = "phone"  # E.164
    DAY = "day"  # a date (a birthday)
    MOMENT = "moment"  # an aware UTC datetime
    FLAG = "flag"  # yes / no
    CHOICE = "choice"  # one of a few stored words (a gender, tier, status…): the reader sees its name


@dataclass(frozen=True)
class Column:
    """One column of an export: its key (the header's text key) and kind."""

    key: str
    kind: Kind


@dataclass(frozen=True)
class Export:
    """A table to export: its columns and the statement reading them, the row id first (the keyset)."""

    name: str
    columns: tuple[Column, ...]
    statement: Select[*tuple[Any, ...]]
    key: InstrumentedAttribute[int]


def _columns(*pairs: tuple[str, Kind]) -> tuple[Column, ...]:
    return tuple(Column(key, kind) for key, kind in pairs)


T, N, M, P, D, W, F, C = Kind.TEXT, Kind.NUMBER, Kind.MONEY, Kind.PHONE, Kind.DAY, Kind.MOMENT, Kind.FLAG, Kind.CHOICE

MEMBERS = Export(
    "members",
    _columns(
        ("id", N), ("code", T), ("name", T), ("phone", P), ("gender", C), ("birthday", D), ("tier", C),
        ("balance", N), ("language", C), ("joined", W), ("waiting", F), ("stopped", F), ("blocked", F),
    ),
    select(
        Member.id, Member.code, Member.first_name, Member.phone, Member.gender, Member.birthday, Member.tier,
        Member.balance, Member.language, func.coalesce(Member.joined_at, Member.created_at),
        Member.telegram_id.is_(None), Member.stopped, Member.blocked,
    ),
    Member.id,
)  # fmt: skip
PURCHASES = Export(
    "purchases",
    _columns(
        ("id", N), ("member_code", T), ("amount", M), ("points", N), ("receipt", T), ("category", T),
        ("payment", C), ("at", W), ("reversed", W),
    ),
    select(
        Purchase.id, Member.code, Purchase.amount, Purchase.points, Purchase.receipt, Purchase.category,
        Purchase.payment, Purchase.created_at, Purchase.reversed_at,
    ).join(Member, Member.id == Purchase.member_id),
    Purchase.id,
)  # fmt: skip
LEDGER = Export(
    "ledger",
    _columns(("id", N), ("member_code", T), ("entry_kind", C), ("points", N), ("reason", T), ("at", W)),
    select(
        LedgerEntry.id, Member.code, LedgerEntry.kind, LedgerEntry.points, LedgerEntry.reason, LedgerEntry.created_at
    ).join(Member, Member.id == LedgerEntry.member_id),
    LedgerEntry.id,
)
VOUCHERS = Export(
    "vouchers",
    _columns(
        ("id", N), ("voucher_code", T), ("member_code", T), ("title", T), ("voucher_kind", C), ("value", N),
        ("points", N), ("status", C), ("issued", W), ("expires", W), ("used", W),
    ),
    select(
        Voucher.id, Voucher.code, Member.code, Voucher.title, Voucher.kind, Voucher.value, Voucher.points,
        Voucher.status, Voucher.issued_at, Voucher.expires_at, Voucher.used_at,
    ).join(Member, Member.id == Voucher.member_id),
    Voucher.id,
)  # fmt: skip
EXPORTS = {export.name: export for export in (MEMBERS, PURCHASES, LEDGER, VOUCHERS)}


@dataclass(frozen=True)
class Extent:
    """How many rows an export has now, and the highest row id among them (0 for none)."""

    rows: int
    last_id: int


async def rows(
    session: AsyncSession, export: Export, through: int, batch: int = BATCH
) -> AsyncIterator[tuple[Any, ...]]:
    """The export's rows with ids up to `through` (its extent when it started: rows added meanwhile are left out),
    in id order, read `batch` at a time after the last id seen (never all at once)."""
    after = 0
    while True:
        window = (export.key > after) & (export.key <= through)
        statement = export.statement.where(window).order_by(export.key).limit(batch)
        found = (await session.execute(statement)).all()
        for row in found:
            yield tuple(row)
        if len(found) < batch:
            return
        after = found[-1][0]


async def extent(session: AsyncSession, export: Export) -> Extent:
    """How many rows the export has now and the highest id among them: the rows it will write."""
    table = export.statement.subquery()
    row_id = next(iter(table.c))  # the statement's first column is the row id
    found = (await session.execute(select(func.count(), func.max(row_id)).select_from(table))).one()
    return Extent(int(found[0] or 0), int(found[1] or 0))
