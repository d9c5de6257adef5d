"""What a voucher gives, in words: an amount off, a percentage off (up to a cap), or a free item."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from loyalty.vouchers import Kind, Worth
from texts.money import amount_text
from texts.numbers import number


def worth_text(worth: Worth, currency: str) -> str:
    """What a voucher gives, in the reply's language, an amount off and a cap in the unit `currency`."""
    if worth.kind is Kind.FIXED:
        return _("worth.fixed").format(amount=amount_text(worth.value or 0, currency))
    if worth.kind is Kind.PERCENT and worth.cap is not None:
        cap = amount_text(worth.cap, currency)
        return _("worth.percent_capped").format(percent=number(worth.value or 0), cap=cap)
    if worth.kind is Kind.PERCENT:
        return _("worth.percent").format(percent=number(worth.value or 0))
    return _("worth.item")
