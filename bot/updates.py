"""Reading getUpdates one update at a time, so one odd update never stops the bot.

aiogram validates a whole getUpdates batch at once: one update it cannot read fails the batch, polling asks for
the same offset again, and every member of the shop meets silence. `TolerantSession` reads the batch itself:
known quirks of Telegram-compatible servers are mended first; an update that still does not parse is logged and
handed on as a bare update id (aiogram skips an update of no known kind), so the offset moves past it.

Quirks mended (what Bale's own client library types differently from the Telegram Bot API):
- `contact.phone_number` arrives as a JSON number: it becomes its digits;
- `callback_query.chat_instance` is missing: it becomes an empty string;
- a user's `is_bot` is missing: a person (false).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aiogram import Bot
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from pydantic import ValidationError

from bot.request_body import JsonBodies

logger = logging.getLogger(__name__)

USER_FIELDS = ("from", "via_bot", "forward_from")
MESSAGE_FIELDS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")


def _mend_user(user: Any) -> None:
    if isinstance(user, dict) and "is_bot" not in user:
        user["is_bot"] = False


def _mend_contact(contact: Any) -> None:
    if not isinstance(contact, dict):
        return
    phone = contact.get("phone_number")
    if isinstance(phone, int | float) and not isinstance(phone, bool):
        contact["phone_number"] = str(int(phone))
    contact.setdefault("first_name", "")


def _mend_message(message: Any) -> None:
    if not isinstance(message, dict):
        return
    for field in USER_FIELDS:
        _mend_user(message.get(field))
    _mend_contact(message.get("contact"))
    _mend_message(message.get("reply_to_message"))


def mend(update: dict[str, Any]) -> dict[str, Any]:
    """The update with the known quirks of Telegram-compatible servers put right (in place)."""
    for field in MESSAGE_FIELDS:
        _mend_message(update.get(field))
    query = update.get("callback_query")
    if isinstance(query, dict):
        query.setdefault("chat_instance", "")
        _mend_user(query.get("from"))
        _mend_message(query.get("message"))
    return update


def readable(raw: Any, bot: Bot | None = None) -> Update | None:
    """The update as aiogram reads it (validated once, for `bot`): mended, or a bare update id when it still does
    not parse; None when it has not even an update id (nothing to confirm)."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        logger.warning("skipping an update without an update id: %.200r", raw)
        return None
    try:
        return Update.model_validate(mend(raw), context={"bot": bot})
    except ValidationError as error:
        logger.warning("skipping update %s, which does not parse: %s", update_id, error)
        return Update(update_id=update_id)


def readable_batch(content: str, loads: Callable[..., Any], bot: Bot) -> list[Update] | None:
    """The updates of a successful getUpdates answer, each made readable; None for any other answer (aiogram reads
    it as it came)."""
    try:
        body = loads(content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("ok") is not True or not isinstance(body.get("result"), list):
        return None
    return [update for update in (readable(raw, bot) for raw in body["result"]) if update is not None]


@functools.cache
def response_type(returning: Any) -> type[Response[Any]]:
    """aiogram's `Response[T]` for a method's result type, held for the process's life. pydantic keeps the generic
    models it makes only weakly, and a made model is a reference cycle: each garbage collection threw it away and
    the next request of that method built its schema again (milliseconds, every few dozen requests)."""
    return Response[returning]


class TolerantSession(JsonBodies):
    """aiogram's HTTP session, reading getUpdates one update at a time (see the module's docstring), and writing a
    request that uploads no file as JSON (`bot.request_body`)."""

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """Read a getUpdates answer one update at a time; check any other answer as aiogram does (its response model
        kept, see `response_type`)."""
        if isinstance(method, GetUpdates) and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            updates = readable_batch(content, self.json_loads, bot)
            if updates is not None:
                return response_type(list[Update])(ok=True, result=updates)  # type: ignore[return-value]
        response_type(method.__returning__)
        return super().check_response(bot, method, status_code, content)
