"""Gift vouchers (بن خرید) from staff to one member, a tier or every member, with a message."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="gifts")
