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

import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from pydantic import ValidationError

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


def readable(raw: Any) -> dict[str, Any] | None:
    """The update as aiogram can read it: mended, or a bare update id when it still does not parse; None when it
    has not even an update id (nothing to confirm)."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        logger.warning("skipping an update without an update id: %.200r", raw)
        return None
    mended = mend(raw)
    try:
        Update.model_validate(mended)
    except ValidationError as error:
        logger.warning("skipping update %s, which does not parse: %s", update_id, error)
        return {"update_id": update_id}
    return mended


def readable_batch(content: str, loads: Callable[..., Any], dumps: Callable[..., str]) -> str:
    """A getUpdates answer with every update made readable (anything else is passed on as it came)."""
    try:
        body = loads(content)
    except ValueError:
        return content
    if not isinstance(body, dict) or not isinstance(body.get("result"), list):
        return content
    body["result"] = [update for update in map(readable, body["result"]) if update is not None]
    return dumps(body)


class TolerantSession(AiohttpSession):
    """aiogram's HTTP session, reading getUpdates one update at a time (see the module's docstring)."""

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """Make every update of a getUpdates answer readable, then check the answer as aiogram does."""
        if isinstance(method, GetUpdates):
            content = readable_batch(content, self.json_loads, self.json_dumps)
        return super().check_response(bot, method, status_code, content)
