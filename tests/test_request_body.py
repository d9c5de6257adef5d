"""Requests written as JSON when they upload no file (`bot.request_body`): a body says what aiogram's own form says."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import (
    AnswerCallbackQuery,
    BanChatMember,
    EditMessageText,
    GetUpdates,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import FormData

from bot.i18n import create_i18n
from bot.request_body import json_body
from bot.updates import TolerantSession
from handlers import keyboards
from tests.stub_bot import TOKEN

KEYBOARDS: list[Callable[[], Any]] = [
    keyboards.main_menu,
    keyboards.share_phone,
    lambda: keyboards.name_choice("Sara"),
    keyboards.gender_choice,
    lambda: keyboards.open_app("https://shop.example/app"),
    lambda: keyboards.history_pages(1, 3),
    lambda: keyboards.profile_actions(news_consent=True),
    keyboards.language_actions,
    ReplyKeyboardRemove,
    lambda: ForceReply(input_field_placeholder="۰۹۱۲…"),
]
PAGES = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="‹", callback_data="history:1")]])


def form_says(method: TelegramMethod[Any], bot: Bot) -> dict[str, Any]:
    """What aiogram's form for `method` tells the Bot API: each field read as JSON where it is JSON, else as text."""
    said: dict[str, Any] = {}
    for options, _headers, value in AiohttpSession().build_form_data(bot, method)._fields:
        try:
            said[options["name"]] = json.loads(value)
        except ValueError:
            said[options["name"]] = value
    return said


def body_says(method: TelegramMethod[Any], bot: Bot) -> dict[str, Any]:
    body = json_body(bot, method)
    assert body is not None
    said: dict[str, Any] = json.loads(body)
    return said


@pytest.mark.parametrize("language", ["fa", "en"])
@pytest.mark.parametrize("keyboard", KEYBOARDS)
def test_a_reply_with_a_keyboard_says_in_json_what_aiogram_says(keyboard: Callable[[], Any], language: str) -> None:
    i18n = create_i18n("fa")
    with i18n.context(), i18n.use_locale(language):
        method = SendMessage(chat_id=7, text="سلام\nخوش آمدید", reply_markup=keyboard())
    bot = Bot(TOKEN)
    assert body_says(method, bot) == form_says(method, bot)


@pytest.mark.parametrize(
    "method",
    [
        SendMessage(chat_id=7, text="<b>سلام</b>", disable_notification=True, protect_content=False),
        EditMessageText(chat_id=7, message_id=3, text="Page 2", reply_markup=PAGES),
        AnswerCallbackQuery(callback_query_id="q1", text="Saved", show_alert=True),
    ],
)
def test_flags_numbers_and_the_bots_defaults_say_what_aiogram_says(method: TelegramMethod[Any]) -> None:
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML"))
    said = body_says(method, bot)
    assert said == form_says(method, bot)
    assert "message_thread_id" not in said  # no value: left out, as aiogram leaves it out


@pytest.mark.parametrize(
    "method",
    [
        SendPhoto(chat_id=7, photo=BufferedInputFile(b"png", filename="card.png"), caption="x"),
        BanChatMember(chat_id=7, user_id=8, until_date=datetime(2027, 1, 1, tzinfo=UTC)),
        GetUpdates(offset=5, allowed_updates=["message", "callback_query"]),
    ],
)
def test_a_file_a_date_or_a_list_is_written_by_aiogram(method: TelegramMethod[Any]) -> None:
    bot = Bot(TOKEN)
    assert json_body(bot, method) is None
    assert isinstance(TolerantSession().build_form_data(bot, method), FormData)


def test_a_reply_goes_as_a_json_body() -> None:
    bot = Bot(TOKEN)
    body = TolerantSession().build_form_data(bot, SendMessage(chat_id=7, text="سلام", reply_markup=PAGES))
    assert not isinstance(body, FormData)
    assert body.content_type == "application/json"
