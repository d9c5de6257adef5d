"""Logs (`bot.logs`): LOG_LEVEL and LOG_FORMAT=json (one JSON object a line, carrying the update, chat, handler and
duration of the update being handled); an expected flood answer (429) or a blocked chat (403) is one line, no
traceback; the migrations at start are one line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot, create_dispatcher
from bot.logs import JsonFormatter, configure_logging
from bot.settings import Settings, SettingsError, load_settings
from storage.database import create_engine
from storage.migrate import upgrade
from tests import updates
from tests.chat import Chat
from tests.emulator import BotAPIEmulator
from tests.factories import NOW
from tests.stub_bot import stub_bot


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes in JSON from INFO up, for the test's length."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_each_handled_update_logs_one_json_line_with_its_update_chat_handler_and_duration(
    json_lines: io.StringIO, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    bot, session = stub_bot()
    chat = Chat(create_dispatcher(settings, sessions, clock=lambda: NOW), bot, session, 42, language_code="en")

    await chat.say("/help")

    handled = [line for line in parsed(json_lines) if "duration_ms" in line]
    assert len(handled) == 1, parsed(json_lines)
    [line] = handled
    assert line["level"] == "INFO"
    assert line["chat_id"] == 42
    assert isinstance(line["update_id"], int)
    assert line["handler"] == "handlers.general.show_help"
    assert line["update_type"] == "message"
    assert line["outcome"] == "ok"
    assert line["duration_ms"] >= 0
    assert {"time", "logger", "message"} <= line.keys()


def test_a_line_logged_outside_an_update_names_none_and_keeps_its_traceback_in_the_line(
    json_lines: io.StringIO,
) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests").exception("it broke")

    [line] = parsed(json_lines)
    assert line["message"] == "it broke"
    assert "ValueError: boom" in line["exception"]
    assert "update_id" not in line  # no update in hand


@pytest.mark.parametrize("refusal", ["429", "403"])
async def test_an_expected_refusal_of_the_bot_api_logs_no_traceback(
    refusal: str,
    emulator: BotAPIEmulator,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    bot: Bot = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}))
    emulator.chats.add(42)
    if refusal == "429":
        emulator.flood_control(chance=1.0)
    else:
        emulator.blocked.add(42)
    dispatcher = create_dispatcher(settings, sessions, clock=lambda: NOW)
    update = updates.message_update(updates.user_json(42, "Sara", "en"), text="/help")
    try:
        await dispatcher.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
    finally:
        await bot.session.close()

    assert [record.getMessage() for record in caplog.records if record.exc_info] == []
    assert any(refusal in record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)


async def test_the_migrations_at_start_log_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        await upgrade(engine)
        await upgrade(engine)
    finally:
        await engine.dispose()

    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert "migrated from empty to 00" in lines[0]
    assert "up to date" in lines[1]


def test_log_level_and_format_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = load_settings(None)
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")

    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings(None)


def test_configure_logging_sets_the_level_and_the_format() -> None:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging("WARNING", "json", stream=stream)
    try:
        logging.getLogger("tests").info("not shown")
        logging.getLogger("tests").warning("shown")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    assert [line["message"] for line in parsed(stream)] == ["shown"]


def test_logging_set_up_twice_writes_once_to_the_standard_error_of_the_moment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging("INFO", "text")
        configure_logging("INFO", "text")  # as each `loyalty-bot` command in one process does
        logging.getLogger("loyalty.test").warning("once")
        assert capsys.readouterr().err.count("once") == 1
    finally:
        for handler in [each for each in root.handlers if each not in before]:
            root.removeHandler(handler)
