"""How the bot reads the Bot API's answers: a getUpdates answer parsed once, and each method's response model built
once for the process (pydantic keeps generic models only weakly; rebuilding one costs milliseconds)."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

from aiogram import Bot
from aiogram.methods import GetUpdates, Response, SendMessage
from aiogram.types import Message, Update

from bot.updates import TolerantSession
from tests import updates
from tests.stub_bot import TOKEN

SARA = updates.user_json(701, "Sara", "en")
SENT = {"message_id": 5, "date": 0, "chat": {"id": 701, "type": "private"}, "text": "Hello"}


def counting_session() -> tuple[TolerantSession, list[str]]:
    """A session whose JSON reader notes each answer it parses."""
    parsed: list[str] = []

    def loads(content: str) -> Any:
        parsed.append(content)
        return json.loads(content)

    return TolerantSession(json_loads=loads), parsed


def test_a_get_updates_answer_is_parsed_and_read_once() -> None:
    session, parsed = counting_session()
    bot = Bot(TOKEN, session=session)
    answer = json.dumps({"ok": True, "result": [updates.message_update(SARA, text="/balance")]})

    response = session.check_response(bot, GetUpdates(), 200, answer)

    assert len(parsed) == 1
    [update] = response.result
    assert update.message is not None and update.message.text == "/balance" and update.message.bot is bot


def test_a_get_updates_answer_with_an_odd_update_keeps_its_id_so_polling_moves_past_it() -> None:
    session, _ = counting_session()
    bot = Bot(TOKEN, session=session)
    odd = {"update_id": 8, "message": {"text": "no chat, no date"}}
    answer = json.dumps({"ok": True, "result": [odd, updates.message_update(SARA, text="/balance")]})

    first, second = session.check_response(bot, GetUpdates(), 200, answer).result

    assert first.update_id == 8 and first.message is None
    assert second.message is not None


def test_the_get_updates_response_model_outlives_garbage_collection() -> None:
    session, _ = counting_session()
    bot = Bot(TOKEN, session=session)
    session.check_response(bot, GetUpdates(), 200, json.dumps({"ok": True, "result": []}))
    model = weakref.ref(Response[list[Update]])

    gc.collect()

    assert model() is not None


def test_a_methods_response_model_outlives_garbage_collection() -> None:
    session, _ = counting_session()
    bot = Bot(TOKEN, session=session)
    session.check_response(bot, SendMessage(chat_id=701, text="Hello"), 200, json.dumps({"ok": True, "result": SENT}))
    model = weakref.ref(Response[Message])

    gc.collect()

    assert model() is not None
