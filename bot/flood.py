"""Patient replies: a request refused for flood control waits what the messenger asks and goes again.

Telegram lets a bot send about one message a second to a chat, with short bursts. A member tapping a button a few
times, or an owner whose chat also shows a campaign's progress, meets that limit; a reply refused with 429 used to
be lost and its handler stopped halfway. `PatientRequests` sits in the Bot's session: on 429 it sleeps
`retry_after` and sends the same request again, at most `attempts` times and never for a wait over `longest_wait`
(a chat's limit clears in seconds; a longer wait means the bot is flooding as a whole, and a user would rather
hear nothing than an answer minutes late). "message is not modified" is what Telegram answers an edit that changes
nothing: the message already shows what we wanted, so it is not an error.

Only the bot that answers updates is patient; the broadcast sender paces itself and treats 429 its own way
(`scheduler.sender`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageCaption, EditMessageReplyMarkup, EditMessageText, Response, TelegramMethod
from aiogram.methods.base import TelegramType

logger = logging.getLogger(__name__)

EDITS = (EditMessageText, EditMessageCaption, EditMessageReplyMarkup)
NOT_MODIFIED = "message is not modified"


class PatientRequests(BaseRequestMiddleware):
    """Waits out flood control and goes again (a bounded number of times); an edit that changes nothing is fine."""

    def __init__(self, attempts: int = 5, longest_wait: float = 30.0) -> None:
        self.attempts = attempts
        self.longest_wait = longest_wait

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        """Send the request; wait and send again while the messenger asks us to slow down."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.longest_wait:
                    raise
                logger.info("%s: flood control, waiting %s s", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)
            except TelegramBadRequest as error:
                if isinstance(method, EDITS) and NOT_MODIFIED in error.message:
                    return cast(Any, True)  # what Telegram answers an edit of an inline message
                raise
        raise AssertionError("unreachable")  # pragma: no cover
