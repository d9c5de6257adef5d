"""/stats for managers and owners: the club's figures, starting with referrals."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="stats")
