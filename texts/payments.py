"""Payment methods (`loyalty.payments.Payment`) by name, in the reader's language."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

from loyalty.payments import Payment

PAYMENT_NAMES = {
    Payment.CASH: __("payment.cash"),
    Payment.CARD: __("payment.card"),
    Payment.ONLINE: __("payment.online"),
    Payment.CREDIT: __("payment.credit"),
}


def payment_name(method: str | None) -> str:
    """A method's name: Cash, Card, Online, On credit; 'not said' for a purchase that says none."""
    return str(PAYMENT_NAMES[Payment(method)]) if method is not None else str(__("payment.not_said"))
