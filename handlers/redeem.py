"""The counter's side of vouchers: /redeem or a scanned voucher QR shows what it is worth, then marks it used."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="redeem")
