"""The last line: an unexpected error is logged and the user gets a polite apology, never a traceback."""

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

logger = logging.getLogger(__name__)


async def apologise(event: ErrorEvent) -> None:
    """Log the error with its update and tell the user to try again."""
    logger.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    try:
        if update.message is not None:
            await update.message.answer(_("errors.unexpected"))
        elif update.callback_query is not None:
            await update.callback_query.answer(_("errors.unexpected"), show_alert=True)
    except Exception:  # the apology itself failed (e.g. the Bot API is down); the log has it all
        logger.warning("could not tell the user about the failure of update %s", update.update_id)


def create_router() -> Router:
    """The error handler for the whole tree."""
    router = Router(name="errors")
    router.errors.register(apologise)
    return router
