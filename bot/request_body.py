"""A request's body written as JSON in one step, when it uploads no file.

aiogram writes every request as a form (`AiohttpSession.build_form_data`, `BaseSession.prepare_value`): it dumps the
method to a dict, walks each value in Python (a keyboard becomes a dict of dicts, each button's empty fields dropped
one by one, then dumped with `json`), and aiohttp percent-encodes every field, byte by byte in Python: each byte of a
Persian text becomes three characters. For the bot's replies (a text in Persian and the main menu's seven buttons)
that took three quarters of what building the request did, twice what the same request took as JSON.

The Bot API takes any method's parameters as a JSON body except a file's upload (Telegram's documentation; Bale's
own client libraries send their messages so). A request whose values are only text, numbers, flags and keyboards is
written with `json` (a keyboard by pydantic, empty fields left out as aiogram leaves them); any other request (a
file, a date, a list, a nested object with defaults of its own) is written by aiogram, as before.
"""

from __future__ import annotations

import json
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.types import ForceReply, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiohttp import FormData
from aiohttp.payload import BytesPayload

KEYBOARDS = (ReplyKeyboardMarkup, InlineKeyboardMarkup, ReplyKeyboardRemove, ForceReply)
PLAIN = (str, int, float)  # a flag is an int
JSON = "application/json"


def json_body(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """The method's parameters as a JSON body, as aiogram's form would carry them (a bot-wide default resolved, no
    value or an empty text left out); None when a value is not one JSON writes as the Bot API reads it."""
    fields: dict[str, Any] = {}
    for name, value in method:
        if isinstance(value, Default):
            value = bot.default[value.name]
        if value is None or value == "":
            continue
        if isinstance(value, KEYBOARDS):
            value = value.model_dump(mode="json", exclude_none=True)
        elif not isinstance(value, PLAIN):
            return None
        fields[name] = value
    return json.dumps(fields, ensure_ascii=False).encode()


class JsonBodies(AiohttpSession):
    """aiogram's HTTP session, writing a request that uploads no file as JSON (see the module's docstring)."""

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        body = json_body(bot, method)
        if body is None:
            return super().build_form_data(bot, method)
        return BytesPayload(body, content_type=JSON)  # type: ignore[return-value]  # aiohttp posts any payload
