"""A Bot whose requests never leave the process: for fast Dispatcher.feed_update tests and benchmarks."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, File, InputFile, Message, User

BOT_USER = User(id=1000, is_bot=True, first_name="Loyalty Test", username="loyalty_test_bot")
TOKEN = "1000:stub-token-for-tests"


class RecordingSession(BaseSession):
    """Answers every Bot API method in-process and keeps what the bot asked for in `requests`, and the bytes of a
    file it uploaded (a document written to a temporary file and gone after the send) in `uploads`, by request."""

    def __init__(self, record: bool = True) -> None:
        super().__init__()
        self.record = record
        self.requests: list[TelegramMethod[Any]] = []
        self.uploads: dict[int, bytes] = {}  # id() of a request in `requests`: the file it uploaded
        self._message_ids = itertools.count(1)
        self.files: dict[str, bytes] = {}  # what a user sent, by file id: served by getFile and its download

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> Any:
        if self.record:
            self.requests.append(method)
            await self._keep_upload(bot, method)
        returning = method.__returning__
        if returning is Message:
            return self._message(method)
        if returning is User:
            return BOT_USER
        if returning is File:
            file_id = str(getattr(method, "file_id", ""))
            return File(file_id=file_id, file_unique_id=file_id, file_path=f"documents/{file_id}")
        return True

    async def _keep_upload(self, bot: Bot, method: TelegramMethod[Any]) -> None:
        for name in type(method).model_fields:
            if isinstance(value := getattr(method, name), InputFile):
                self.uploads[id(method)] = b"".join([chunk async for chunk in value.read(bot)])

    def _message(self, method: TelegramMethod[Any]) -> Message:
        chat_id = int(getattr(method, "chat_id", 0) or 0)
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=chat_id, type="private"),
            from_user=BOT_USER,
            text=getattr(method, "text", None),
            caption=getattr(method, "caption", None),
        )

    async def close(self) -> None:
        return None

    async def stream_content(self, url: str, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield self.files.get(url.rsplit("/", 1)[-1], b"")


def stub_bot(record: bool = True) -> tuple[Bot, RecordingSession]:
    """A Bot on a RecordingSession, knowing its own identity without asking."""
    session = RecordingSession(record=record)
    return Bot(TOKEN, session=session), session
