"""What the playground's Bot API server keeps: every chat's messages (the bot's and the person's, as the Bot API
shapes them), each chat's reply keyboard, command menus and button answers, the files sent both ways, and the
updates waiting for the bot's getUpdates. A change wakes whoever waits for one (the bot's long poll, the page's)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_USER: dict[str, Any] = {"id": 7000000000, "is_bot": True, "first_name": "Café Club", "username": "cafe_club_bot"}
GENERIC_TYPE = "application/octet-stream"
BOT_TOKEN = f"{BOT_USER['id']}:playground-token-no-secret"  # a fixed, well-formed token: the server knows no other


@dataclass(frozen=True)
class StoredFile:
    """A file sent to the server (a QR card, a chart, an export, an upload from the page)."""

    data: bytes
    name: str
    content_type: str


@dataclass
class Chat:
    """One private chat: its messages in order, the reply keyboard shown under the input (None: the letters), the
    answers to button presses (toasts, numbered from 1), and when it last changed (the server's version then)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    keyboard: dict[str, Any] | None = None
    toasts: list[dict[str, Any]] = field(default_factory=list)
    changed: int = 0

    def find(self, message_id: int) -> dict[str, Any] | None:
        """The message with that id, if it is still there."""
        return next((message for message in self.messages if message["message_id"] == message_id), None)


class Chats:
    """Every chat by its id, the files, the update queue and the change counter (`version`)."""

    def __init__(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (scope, language) -> the menu
        self.queries: dict[str, int] = {}  # a button press's callback_query id -> its chat, for its answer
        self.version = 0
        self.polled = False  # whether the bot has asked for updates yet (it starts once the café is seeded)
        self.closing = False
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()

    def chat(self, chat_id: int) -> Chat:
        """The chat with that id (a new, empty one the first time)."""
        return self.chats.setdefault(chat_id, Chat())

    def new_message(self, chat_id: int, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        """A message in a chat, stored, as the Bot API shapes it."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": sender,
            **content,
        }
        self.chat(chat_id).messages.append(message)
        return message

    def add_file(self, data: bytes, name: str, content_type: str) -> str:
        """Keep a file (its type told by its name when the sender did not say); its file_id."""
        file_id = f"file-{len(self.files) + 1}"
        if content_type in ("", GENERIC_TYPE):
            content_type = mimetypes.guess_type(name)[0] or GENERIC_TYPE
        self.files[file_id] = StoredFile(data, name, content_type)
        return file_id

    async def changed(self, chat_id: int | None = None) -> None:
        """Count a change (in a chat, when given) and wake the waiting."""
        async with self._changed:
            self.version += 1
            if chat_id is not None:
                self.chat(chat_id).changed = self.version
            self._changed.notify_all()

    async def push(self, kind: str, body: dict[str, Any], chat_id: int) -> int:
        """Queue an update of `kind` (message, callback_query) for the bot; its update_id."""
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, kind: body})
        await self.changed(chat_id)
        return update_id

    async def updates(self, offset: int, timeout: float, limit: int) -> list[dict[str, Any]]:
        """getUpdates: forget the updates below `offset` (confirmed), then wait up to `timeout` seconds for any."""
        if not self.polled:
            self.polled = True
            await self.changed()
        if offset > 0:
            self._pending = [update for update in self._pending if update["update_id"] >= offset]
        await self.wait(lambda: bool(self._pending), timeout)
        return self._pending[:limit]

    async def wait_after(self, version: int, timeout: float) -> None:
        """Wait up to `timeout` seconds for a change after `version`."""
        await self.wait(lambda: self.version > version, timeout)

    async def wait(self, condition: Callable[[], bool], timeout: float) -> None:
        """Wait up to `timeout` seconds for `condition()` to hold (or the server to close)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: condition() or self.closing), timeout)

    async def close(self) -> None:
        """Answer every waiting long poll at once."""
        self.closing = True
        await self.changed()
