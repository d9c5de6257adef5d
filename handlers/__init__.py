"""Thin aiogram routers: read the update, call the club's rules, reply in the member's language.

Grouped by who uses them: `staff/` (each feature's role set once on its router), `customer/`, and `general`
(help, language, /stop and the fallbacks) for everyone; the shared floor beside them (club, errors, filters,
keyboards, menus, messages, replies, wizard) is what features use, never each other.
"""

from aiogram import Router
from aiogram.filters import Command

from handlers import customer, errors, general, staff
from handlers.customer import account
from handlers.filters import IS_COMMAND


def create_router() -> Router:
    """The bot's whole tree of routers, in the order they get a chance at an update."""
    root = Router(name="loyalty")
    root.message.register(general.cancel_prompt, Command("cancel"))  # before leave_prompt ends the prompt silently
    root.message.register(general.leave_prompt, staff.PROMPTS, IS_COMMAND)  # before any router takes the command
    root.include_routers(
        staff.create_router(),  # before general: a member's /start staff_… or voucher_… is staff's
        account.create_router(),  # a member's everyday commands, which no later router takes: they pass few
        general.create_router(),
        customer.create_router(),
        general.create_fallback_router(),
        errors.create_router(),
    )
    return root
