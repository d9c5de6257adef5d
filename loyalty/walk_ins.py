"""Walk-in customers: a purchase recorded at the counter on a phone that has not joined the club yet.

The phone becomes a waiting member (no messenger account, like a member the shop imported): the purchase and its
points are recorded on it as on any member, nobody is told, and they are the customer's when they join with that
number (`members.join` links it and says how many points were waiting).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import members, payments, purchases, rules
from loyalty.errors import ReceiptTaken
from loyalty.outbox import Notices
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from loyalty.text_keys import text_key
from storage import repositories


async def check(
    session: AsyncSession, defaults: Rules, amount: int, receipt: str | None, payment: str | None = None
) -> None:
    """Refuse, before anything is written, what the counter would refuse of a first purchase: its amount, on credit
    while the owner has it off, or a receipt number already used (InvalidAmount, CreditOff, ReceiptTaken)."""
    club_rules = await rules.current(session, defaults)
    purchases.check_amount(amount, club_rules)
    payments.check(payment, club_rules)
    if receipt is not None and await repositories.purchase_by_receipt(session, text_key(receipt)) is not None:
        raise ReceiptTaken(receipt)


async def record_walk_in(
    session: AsyncSession,
    defaults: Rules,
    *,
    phone: str,
    language: str,
    amount: int,
    receipt: str | None,
    stamp: Stamp,
    category: str | None = None,
    payment: str | None = None,
    notices: Notices[purchases.Earned] | None = None,
) -> purchases.Earned:
    """Record a purchase on the member of `phone` (E.164), made waiting in `language` when the phone is new (checked
    first, so a refused purchase makes no member); see `purchases.record_purchase`."""
    member = await repositories.member_by_phone(session, phone)
    if member is None:
        await check(session, defaults, amount, receipt, payment)
        member = await members.waiting_member(session, phone, language, stamp)
    return await purchases.record_purchase(
        session,
        defaults,
        member_id=member.id,
        amount=amount,
        receipt=receipt,
        stamp=stamp,
        category=category,
        payment=payment,
        notices=notices,
    )
