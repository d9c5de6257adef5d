"""Rewards for members: browse what points buy, redeem for a voucher, list and cancel one's vouchers."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="rewards")
