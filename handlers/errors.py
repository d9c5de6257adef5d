"""The last line: an unexpected error is logged and the user gets a polite apology in their language, never a
traceback and never a button left spinning.

The handler runs after the translation context of the update has ended (aiogram's errors middleware wraps every
other one), so it opens its own with the update's `locale`, which the locale middlewares leave in the data.
A database or lock store that cannot be reached, or that stays locked, is told apart: "try again in a moment".
A wizard whose answers this version cannot read (kept by the version before an upgrade) is no fault: it ends, and
the user is asked to start again. A refusal the Bot API gives in the normal run of things (flood control that
outlasted the patient bot, `bot.flood`; a user who blocked the bot) is one warning line, without a traceback.
"""

import logging

from aiogram import Router
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError

from handlers.wizard import UnreadableAnswers
from texts.languages import speaking

logger = logging.getLogger(__name__)

TEMPORARY = (OperationalError, InterfaceError, RedisError, OSError, TimeoutError)
EXPECTED = {TelegramRetryAfter: "429", TelegramForbiddenError: "403"}  # refusals that need no traceback


def apology_key(error: Exception) -> str:
    """The catalog key of the apology for `error`: a moment's patience for an unreachable or busy store."""
    temporary = isinstance(error, TEMPORARY) or isinstance(error.__cause__, TEMPORARY)
    return "errors.busy" if temporary else "errors.unexpected"


async def apologise(event: ErrorEvent, i18n: I18n, locale: str | None = None) -> None:
    """Log the error with its update (an expected refusal in one line) and tell the user, in their language, to try
    again."""
    code = next((code for kind, code in EXPECTED.items() if isinstance(event.exception, kind)), None)
    if code is not None:
        logger.warning("update %s: the Bot API refused with %s: %s", event.update.update_id, code, event.exception)
    else:
        logger.error("update %s failed", event.update.update_id, exc_info=event.exception)
    await tell_user(event.update, i18n, locale, apology_key(event.exception))


async def end_wizard(event: ErrorEvent, i18n: I18n, state: FSMContext | None = None, locale: str | None = None) -> None:
    """A wizard or prompt whose answers cannot be read (kept before an upgrade): it ends, and the user is told."""
    logger.info("update %s: ending a wizard whose answers cannot be read (%s)", event.update.update_id, event.exception)
    if state is not None:
        await state.clear()
    await tell_user(event.update, i18n, locale, "wizard.lost")


async def tell_user(update: Update, i18n: I18n, locale: str | None, key: str) -> None:
    """Tell the user the text `key` in their language: an alert on a button, else a message in a private chat."""
    with speaking(i18n, locale or i18n.default_locale):
        text = _(key)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(text)
    except Exception:  # telling failed too (e.g. the Bot API is down); the log has it all
        logger.warning("could not tell the user of update %s", update.update_id)


def create_router() -> Router:
    """The error handler for the whole tree."""
    router = Router(name="errors")
    router.errors.register(end_wizard, ExceptionTypeFilter(UnreadableAnswers))
    router.errors.register(apologise)
    return router
