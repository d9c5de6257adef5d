"""Thin aiogram routers: read the update, call the club's rules, reply in the member's language."""

from aiogram import Router

from handlers import account, counter, errors, general, profile, registration, staff


def create_router() -> Router:
    """The bot's whole tree of routers, in the order they get a chance at an update."""
    root = Router(name="loyalty")
    root.include_routers(
        counter.create_router(),
        staff.create_router(),  # before general: a member's /start staff_… must not be a welcome back
        general.create_router(),
        registration.create_router(),
        account.create_router(),
        profile.create_router(),
        general.create_fallback_router(),
        errors.create_router(),
    )
    return root
