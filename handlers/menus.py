"""The command menu each messenger shows, in both languages: the customer menu for everyone, and in a staff
member's own chat the staff commands of their role above it."""

from __future__ import annotations

import logging
from collections.abc import Collection

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import staff
from loyalty.staff import Role

logger = logging.getLogger(__name__)

CUSTOMER_COMMANDS = {
    "start": "command.start",
    "balance": "command.balance",
    "history": "command.history",
    "card": "command.card",
    "rewards": "command.rewards",
    "vouchers": "command.vouchers",
    "invite": "command.invite",
    "profile": "command.profile",
    "shop": "command.shop",
    "language": "command.language",
    "help": "command.help",
    "stop": "command.stop",
    "privacy": "command.privacy",
    "mydata": "command.mydata",
    "forgetme": "command.forgetme",
}
# The staff commands by the lowest role that may use them (as the routers' HasRole filters say); the /help
# paragraphs of handlers/staff.py's ROLE_HELP name the same commands, role by role.
STAFF_COMMANDS: dict[Role, dict[str, str]] = {
    Role.CASHIER: {"earn": "command.earn", "member": "command.member", "redeem": "command.redeem"},
    Role.MANAGER: {
        "adjust": "command.adjust",
        "undo": "command.undo",
        "catalog": "command.catalog",
        "gift": "command.gift",
        "campaign": "command.campaign",
        "stats": "command.stats",
        "report": "command.report",
        "digest": "command.digest",
        "export": "command.export",
        "block": "command.block",
        "unblock": "command.unblock",
        "phone": "command.phone",
    },
    Role.OWNER: {"staff": "command.staff", "settings": "command.settings", "import": "command.import"},
}


def required_role(command: str) -> Role | None:
    """The lowest role that may use the staff command `command` (None if it is no staff command)."""
    return next((role for role, table in STAFF_COMMANDS.items() if command in table), None)


def included_roles(role: Role | None) -> list[Role]:
    """The roles whose commands `role` may use, lowest first (none for a customer)."""
    return [included for included in Role if staff.at_least(role, included)]


def staff_command_names(role: Role | None) -> list[str]:
    """The staff commands `role` may use, lowest role's first."""
    return [name for included in included_roles(role) for name in STAFF_COMMANDS[included]]


def _menu(i18n: I18n, language: str, table: dict[str, str]) -> list[BotCommand]:
    """The commands of `table` with descriptions in `language`."""
    return [BotCommand(command=name, description=i18n.gettext(key, locale=language)) for name, key in table.items()]


def customer_commands(i18n: I18n, language: str) -> list[BotCommand]:
    """The customer commands with descriptions in `language`."""
    return _menu(i18n, language, CUSTOMER_COMMANDS)


def staff_commands(i18n: I18n, language: str, role: Role) -> list[BotCommand]:
    """A staff member's menu in `language`: the staff commands of `role` first, then the customer commands."""
    table = {name: key for included in included_roles(role) for name, key in STAFF_COMMANDS[included].items()}
    return _menu(i18n, language, table) + customer_commands(i18n, language)


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """setMyCommands for each language, and the shop's default language for everyone else."""
    for language in i18n.available_locales:
        await bot.set_my_commands(customer_commands(i18n, language), language_code=language)
    await bot.set_my_commands(customer_commands(i18n, i18n.default_locale))


def _chat_languages(i18n: I18n) -> list[tuple[str | None, str]]:
    """(language_code of the scope, language of the descriptions): each language, then everyone else's."""
    return [*((language, language) for language in i18n.available_locales), (None, i18n.default_locale)]


async def show_staff_menu(bot: Bot, i18n: I18n, telegram_id: int, role: Role) -> bool:
    """Give a staff member's own chat the menu of `role`, in each language; False (logged) if the API refused."""
    scope = BotCommandScopeChat(chat_id=telegram_id)
    try:
        for code, language in _chat_languages(i18n):
            await bot.set_my_commands(staff_commands(i18n, language, role), scope=scope, language_code=code)
    except TelegramAPIError as error:
        logger.warning("Could not set the %s command menu of %s: %s", role, telegram_id, error)
        return False
    return True


async def hide_staff_menu(bot: Bot, i18n: I18n, telegram_id: int) -> bool:
    """Take a former staff member's own menu away, so the customer menu shows again; False (logged) on failure."""
    scope = BotCommandScopeChat(chat_id=telegram_id)
    try:
        for code, _ in _chat_languages(i18n):
            await bot.delete_my_commands(scope=scope, language_code=code)
    except TelegramAPIError as error:
        logger.warning("Could not delete the staff command menu of %s: %s", telegram_id, error)
        return False
    return True


async def register_staff_commands(
    bot: Bot, i18n: I18n, sessions: async_sessionmaker[AsyncSession], owner_ids: Collection[int]
) -> None:
    """At start-up: every current staff member's menu (OWNER_IDS owners included); a refusal skips only that one."""
    async with sessions() as session:
        entries = await staff.list_staff(session, owner_ids)
    for entry in entries:
        await show_staff_menu(bot, i18n, entry.telegram_id, entry.role)


NEEDS_ROLE = {
    Role.MANAGER: __("staff.needs_manager"),
    Role.OWNER: __("staff.needs_owner"),
}
"""What a staff member hears for a staff command above their role, by the lowest role that may use it (every staff
member is at least a cashier)."""

ROLE_HELP = {
    Role.CASHIER: __("staff.help_cashier"),
    Role.MANAGER: __("staff.help_manager"),
    Role.OWNER: __("staff.help_owner"),
}


def role_help(role: Role) -> list[str]:
    """The staff commands a role opens, one paragraph per role it includes (those of its command menu)."""
    return [str(ROLE_HELP[included]) for included in included_roles(role)]
