"""The bot's menu button opening the Mini App, for every chat with the bot (set at start when WEBAPP_URL is set)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

logger = logging.getLogger(__name__)


async def set_menu_button(bot: Bot, i18n: I18n, url: str) -> None:
    """Make the menu button open the Mini App at `url`, labelled in the shop's language. A Bot API without menu
    buttons (another messenger's) is logged and let be: the button under /card opens the Mini App too."""
    with i18n.context(), i18n.use_locale(i18n.default_locale):
        label = _("button.open_app")
    try:
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text=label, web_app=WebAppInfo(url=url)))
    except TelegramAPIError as error:
        logger.warning("the Bot API refused the Mini App's menu button (%s); /card's button still opens it", error)
