"""/block and /unblock for managers and owners: a blocked membership earns nothing from referrals."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="blocking")
