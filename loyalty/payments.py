"""How a purchase was paid: cash, card, online, or on credit (نسیه) when the owner turns on-credit sales on
(`Rules.credit`); a purchase may also say nothing (NULL, as every purchase before migration 0015).

The words a cashier types for a method (`/earn … card`, '۲۵۰ هزار نسیه') live here, beside the unit words of
`loyalty.money`, and are read by their `text_key`, so 'Card', 'كارت' and 'کارت' are one word.
The reports' figures of the methods are here too: a period's kept purchases and their total by method, the members
who bought on credit, and those who bought most on credit (read along `ix_purchases_kept_created`, which covers the
method).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.errors import CreditOff
from loyalty.periods import Period
from loyalty.reports import Ranked
from loyalty.rules import Rules
from loyalty.text_keys import text_key
from storage.models import Member, Purchase


class Payment(StrEnum):
    """A payment method, as stored in `purchases.payment`."""

    CASH = "cash"
    CARD = "card"
    ONLINE = "online"
    CREDIT = "credit"


WORDS = {
    "cash": Payment.CASH,
    "نقد": Payment.CASH,
    "نقدی": Payment.CASH,
    "card": Payment.CARD,
    "کارت": Payment.CARD,
    "online": Payment.ONLINE,
    "آنلاین": Payment.ONLINE,
    "credit": Payment.CREDIT,
    "نسیه": Payment.CREDIT,
}
"""Each word a cashier may type for a method, by its `text_key`."""


def payment_of(word: str) -> Payment | None:
    """The method a typed word names, or None."""
    return WORDS.get(text_key(word))


def offered(club_rules: Rules) -> tuple[Payment, ...]:
    """The methods the counter offers: on credit only when the owner turned it on."""
    return tuple(method for method in Payment if club_rules.credit or method is not Payment.CREDIT)


def check(payment: str | None, club_rules: Rules) -> Payment | None:
    """The method to store (None: not said); CreditOff for on credit while the owner has it off, ValueError for a
    method that is none of `Payment`."""
    if payment is None:
        return None
    method = Payment(payment)
    if method not in offered(club_rules):
        raise CreditOff()
    return method


@dataclass(frozen=True)
class Tally:
    """Purchases and their total."""

    purchases: int
    total: int


NONE = Tally(0, 0)


@dataclass(frozen=True)
class Split:
    """A period's kept purchases by method (None: not said), in the order of `Payment`, not said last; only the
    methods used; and how many members bought on credit."""

    methods: dict[Payment | None, Tally]
    credit_members: int

    @property
    def credit(self) -> Tally:
        """The purchases on credit."""
        return self.methods.get(Payment.CREDIT, NONE)


def _kept_in(period: Period, zone: ZoneInfo) -> ColumnElement[bool]:
    """Purchases standing (not reversed) made in the period, the shop's days in `zone`."""
    start, end = period.bounds(zone)
    return and_(Purchase.reversed_at.is_(None), Purchase.created_at >= start, Purchase.created_at < end)


METHODS = (*Payment, None)


def _tallied(method: Payment | None) -> list[ColumnElement[int]]:
    """The count and the total of the purchases paid by `method` (None: not said), as sums over the rows."""
    paid = Purchase.payment.is_(None) if method is None else Purchase.payment == method
    return [func.sum(case((paid, 1), else_=0)), cast(func.sum(case((paid, Purchase.amount), else_=0)), BigInteger)]


async def split(session: AsyncSession, period: Period, zone: ZoneInfo) -> Split:
    """The purchases of `period` and their total by payment method, and the members who bought on credit: one pass
    over the period's range of the covering index, a count and a sum for each method (a GROUP BY sorted the period's
    purchases by method first: three times as long), the distinct members of the on-credit purchases only."""
    on_credit = func.count(distinct(case((Purchase.payment == Payment.CREDIT, Purchase.member_id))))
    sums = [term for method in METHODS for term in _tallied(method)]
    row = (await session.execute(select(on_credit, *sums).where(_kept_in(period, zone)))).one()
    tallies = {method: Tally(int(row[1 + 2 * at] or 0), int(row[2 + 2 * at] or 0)) for at, method in enumerate(METHODS)}
    return Split({method: tally for method, tally in tallies.items() if tally.purchases}, int(row[0]))


async def credit_top(session: AsyncSession, period: Period, zone: ZoneInfo, size: int = 5) -> list[Ranked]:
    """The `size` members who bought most on credit in `period`, by amount; ties go to the older member."""
    owed = cast(func.sum(Purchase.amount), BigInteger)
    rows = await session.execute(
        select(Member.code, Member.first_name, Member.phone, owed)
        .join(Purchase, Purchase.member_id == Member.id)
        .where(_kept_in(period, zone), Purchase.payment == Payment.CREDIT)
        .group_by(Member.id)
        .order_by(owed.desc(), Member.id)
        .limit(size)
    )
    return [Ranked(code, name, phone, int(value)) for code, name, phone, value in rows]
