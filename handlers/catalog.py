"""The rewards catalog for managers and owners: add, edit, stock, switch on and off."""

from aiogram import Router


def create_router() -> Router:
    """Routes of this feature."""
    return Router(name="catalog")
