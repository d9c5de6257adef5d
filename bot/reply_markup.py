"""A request's keyboard written as JSON in one step.

aiogram writes a request's fields by dumping the whole method to a dict and walking each value in Python
(`AiohttpSession.build_form_data`, `BaseSession.prepare_value`): a keyboard becomes a dict of dicts, each button's
empty fields are dropped one by one, and the result is dumped with `json`. Most of the bot's replies carry a keyboard
(the main menu: seven buttons), and that walk cost about a third of what writing the request did. A keyboard holds
only text, numbers, flags and nested objects of the same (no files, dates or bot-wide defaults, which the walk is
for), so pydantic writes it directly, empty fields left out as aiogram leaves them; the rest of the method is
written by aiogram.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.types import ForceReply, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiohttp import FormData

KEYBOARDS = (ReplyKeyboardMarkup, InlineKeyboardMarkup, ReplyKeyboardRemove, ForceReply)


class QuickKeyboards(AiohttpSession):
    """aiogram's HTTP session, writing a request's keyboard in one step (see the module's docstring)."""

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        keyboard = getattr(method, "reply_markup", None)
        if not isinstance(keyboard, KEYBOARDS):
            return super().build_form_data(bot, method)
        form = super().build_form_data(bot, method.model_copy(update={"reply_markup": None}))
        form.add_field("reply_markup", keyboard.model_dump_json(exclude_none=True))
        return form
