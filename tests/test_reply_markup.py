"""The bot's keyboards written in one step (`bot.reply_markup`): a request says what aiogram's own writing says."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile, ForceReply, ReplyKeyboardRemove

from bot.i18n import create_i18n
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


def fields(session: AiohttpSession, method: TelegramMethod[Any]) -> dict[str, Any]:
    """A request's form fields by name, the keyboard's JSON read; a file (named at random) by its file name."""
    written: dict[str, Any] = {}
    for options, _headers, value in session.build_form_data(Bot(TOKEN), method)._fields:
        name, filename = options["name"], options.get("filename")
        if filename is not None:
            written[filename] = "a file"
        elif isinstance(value, str) and value.startswith("attach://"):
            written[name] = "attach://"
        else:
            written[name] = json.loads(value) if name == "reply_markup" else value
    return written


@pytest.mark.parametrize("language", ["fa", "en"])
@pytest.mark.parametrize("keyboard", KEYBOARDS)
def test_a_keyboard_is_written_as_aiogram_writes_it(keyboard: Callable[[], Any], language: str) -> None:
    i18n = create_i18n("fa")
    with i18n.context(), i18n.use_locale(language):
        method = SendMessage(chat_id=7, text="سلام", reply_markup=keyboard())
    assert fields(TolerantSession(), method) == fields(AiohttpSession(), method)


def test_a_request_with_a_file_and_no_keyboard_is_written_by_aiogram() -> None:
    method = SendPhoto(chat_id=7, photo=BufferedInputFile(b"png", filename="card.png"), caption="x")
    written = fields(TolerantSession(), method)
    assert written == fields(AiohttpSession(), method)
    assert "reply_markup" not in written
