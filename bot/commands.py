"""The command menu each messenger shows, in both languages."""

from aiogram import Bot
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n

from bot.settings import SUPPORTED_LANGUAGES

CUSTOMER_COMMANDS = {
    "start": "command.start",
    "balance": "command.balance",
    "history": "command.history",
    "card": "command.card",
    "rewards": "command.rewards",
    "vouchers": "command.vouchers",
    "invite": "command.invite",
    "profile": "command.profile",
    "language": "command.language",
    "help": "command.help",
    "stop": "command.stop",
}


def customer_commands(i18n: I18n, language: str) -> list[BotCommand]:
    """The customer commands with descriptions in `language`."""
    return [
        BotCommand(command=name, description=i18n.gettext(key, locale=language))
        for name, key in CUSTOMER_COMMANDS.items()
    ]


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """setMyCommands for each language, and the shop's default language for everyone else."""
    for language in SUPPORTED_LANGUAGES:
        await bot.set_my_commands(customer_commands(i18n, language), language_code=language)
    await bot.set_my_commands(customer_commands(i18n, i18n.default_locale))
