"""/campaign for managers and owners: build a campaign for an audience, preview, test, send, follow its progress."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="campaigns")
