"""The payment methods' part of /report: under the Sales figures, the period's purchases and total by method in one
line and, with on-credit sales on (`Rules.credit`), what was sold on credit and to how many members; under the Top
customers, those who bought most on credit."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from loyalty import payments, rules
from loyalty.periods import Period
from loyalty.reports import Ranked
from texts.money import amount_text
from texts.numbers import number
from texts.payments import payment_name
from texts.plurals import counted


def split_text(split: payments.Split, unit: str, credit: bool) -> str:
    """The split by method (nothing for a period without purchases), and the on-credit line when credit is on."""
    items = [
        _("payment.split_item").format(
            method=payment_name(method), count=number(tally.purchases), amount=amount_text(tally.total, unit)
        )
        for method, tally in split.methods.items()
    ]
    lines = [_("payment.split").format(methods=" · ".join(items))] if items else []
    if credit:
        on_credit = counted("payment.on_credit", split.credit_members)
        lines.append(on_credit.format(amount=amount_text(split.credit.total, unit), count=number(split.credit_members)))
    return "\n\n" + "\n".join(lines) if lines else ""


async def sales_lines(session: AsyncSession, club: Club, span: Period, unit: str) -> str:
    """The lines the Sales report of `span` ends with: the split by method, and the on-credit line if credit is on."""
    credit = (await rules.current(session, club.rules)).credit
    return split_text(await payments.split(session, span, club.zone), unit, credit)


async def top_lines(session: AsyncSession, club: Club, span: Period, listed: Callable[[list[Ranked]], str]) -> str:
    """The list the Top customers report of `span` ends with when credit is on: who bought most on credit, one a line
    as `listed` writes them; nothing when credit is off."""
    if not (await rules.current(session, club.rules)).credit:
        return ""
    members = await payments.credit_top(session, span, club.zone)
    return "\n\n" + _("payment.top_credit").format(members=listed(members))
