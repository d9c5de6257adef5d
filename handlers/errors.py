"""The last line: an unexpected error is logged and the user gets a polite apology in their language, never a
traceback and never a button left spinning.

The handler runs after the translation context of the update has ended (aiogram's errors middleware wraps every
other one), so it opens its own with the update's `locale`, which the locale middlewares leave in the data.
A database or lock store that cannot be reached, or that stays locked, is told apart: "try again in a moment".
"""

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

LOCALE_KEY = "locale"
TEMPORARY = (OperationalError, InterfaceError, RedisError, OSError, TimeoutError)


def apology_key(error: Exception) -> str:
    """The catalog key of the apology for `error`: a moment's patience for an unreachable or busy store."""
    temporary = isinstance(error, TEMPORARY) or isinstance(error.__cause__, TEMPORARY)
    return "errors.busy" if temporary else "errors.unexpected"


async def apologise(event: ErrorEvent, i18n: I18n, locale: str | None = None) -> None:
    """Log the error with its update and tell the user, in their language, to try again."""
    logger.error("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    with i18n.context(), i18n.use_locale(locale or i18n.default_locale):
        text = _(apology_key(event.exception))
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(text)
    except Exception:  # the apology itself failed (e.g. the Bot API is down); the log has it all
        logger.warning("could not tell the user about the failure of update %s", update.update_id)


def create_router() -> Router:
    """The error handler for the whole tree."""
    router = Router(name="errors")
    router.errors.register(apologise)
    return router
