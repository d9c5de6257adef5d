"""A Bot API emulator: an aiohttp server the real bot polls over HTTP, recording what it sends.

Tests play users with `FakeUser`: each action queues an update, waits until the bot has fetched it and
gone quiet, and returns what the bot sent to that user meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests import updates

BOT_USER = {"id": 1000, "is_bot": True, "first_name": "Loyalty Test", "username": "loyalty_test_bot"}
SENDS = {"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
QUIET = 0.05  # seconds without a request that count as "the bot is done"


@dataclass
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    upload_size: int = 0

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def markup(self) -> dict[str, Any]:
        return self.params.get("reply_markup") or {}

    def buttons(self) -> list[str]:
        rows = self.markup.get("keyboard") or self.markup.get("inline_keyboard") or []
        return [button["text"] for row in rows for button in row]

    def callback_data(self) -> list[str]:
        rows = self.markup.get("inline_keyboard") or []
        return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


class BotAPIEmulator:
    """Answers the Bot API methods the bot uses; one valid token; chats in `blocked` answer 403."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self._queue: list[dict[str, Any]] = []
        self._confirmed = 0
        self._arrived = asyncio.Condition()
        self._message_ids = itertools.count(1)
        self._in_flight = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on a free local port."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Wake pollers and close the server."""
        async with self._arrived:
            self._arrived.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests use ---------------------------------------------------------------------------------------

    async def push(self, update: dict[str, Any]) -> None:
        """Queue an update for the bot's next getUpdates."""
        async with self._arrived:
            self._queue.append(update)
            self._arrived.notify_all()

    async def settled(self, update_id: int, chat_id: int, answered_after: int, timeout: float = 10.0) -> None:
        """Wait until the bot took `update_id` (a later getUpdates offset), answered in the chat (more than
        `answered_after` messages there), and has been quiet for a moment with no request in flight."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.calls[-1].at if self.calls else 0.0
            quiet = time.monotonic() - last > QUIET and self._in_flight == 0
            answered = len(self.sent_to(chat_id)) > answered_after
            if self._confirmed > update_id and answered and quiet:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the bot did not answer update {update_id} within {timeout} s")

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages the bot sent or edited in a chat, in order."""
        return [call for call in self.calls if call.method in SENDS and int(call.params.get("chat_id", 0)) == chat_id]

    def commands(self, language_code: str | None = None) -> list[str]:
        """The command names of the last setMyCommands for a language (None: the default list)."""
        lists = [call for call in self.calls if call.method == "setMyCommands"]
        chosen = [call for call in lists if call.params.get("language_code") == language_code]
        return [command["command"] for command in chosen[-1].params["commands"]] if chosen else []

    # --- the server -------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        call = await self._read(request, method)
        if method == "getUpdates":  # the bot always has one waiting: not work in flight
            return await self._answer(call)
        self._in_flight += 1
        try:
            self.calls.append(call)
            return await self._answer(call)
        finally:
            self._in_flight -= 1

    @staticmethod
    async def _read(request: web.Request, method: str) -> Call:
        """Parameters from JSON, a form or multipart; JSON-encoded fields decoded; uploads measured."""
        params: dict[str, Any] = {}
        upload = 0
        if request.content_type == "application/json":
            params = await request.json()
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    upload += len(data)
                else:
                    params[part.name or ""] = data.decode()  # type: ignore[union-attr]
        else:
            params = dict(await request.post())  # type: ignore[arg-type]
        for name, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                params[name] = json.loads(value)
        return Call(method, params, upload_size=upload)

    async def _answer(self, call: Call) -> web.Response:
        if call.method == "getUpdates":
            return self._ok(await self._updates(call.params))
        if call.method == "getMe":
            return self._ok(BOT_USER)
        chat_id = int(call.params.get("chat_id") or 0)
        if call.method in SENDS and chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if call.method in SENDS:
            return self._ok(self._message(call, chat_id))
        if call.method in {
            "setMyCommands",
            "deleteWebhook",
            "answerCallbackQuery",
            "sendChatAction",
            "deleteMessage",
            "close",
            "logOut",
            "deleteMyCommands",
        }:
            return self._ok(True)
        return _error(404, "Not Found: method not found")

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def _message(self, call: Call, chat_id: int) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": int(call.params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if call.method == "sendPhoto":
            message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 300, "height": 300}]
            message["caption"] = call.params.get("caption", "")
        else:
            message["text"] = call.params.get("text", "")
        if "inline_keyboard" in call.markup:
            message["reply_markup"] = call.markup
        return message

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long poll: confirm what is below `offset`, then wait up to `timeout` for something new."""
        offset = int(params.get("offset") or 0)
        self._confirmed = max(self._confirmed, offset)
        self._queue = [update for update in self._queue if update["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        async with self._arrived:
            if not self._queue and timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout)
        return list(self._queue)


class FakeUser:
    """A person chatting with the bot through the emulator."""

    def __init__(self, emulator: BotAPIEmulator, user_id: int, first_name: str = "Sara", language: str = "fa"):
        self.emulator = emulator
        self.id = user_id
        self.user = updates.user_json(user_id, first_name, language)
        self.language = language

    async def send(self, update: dict[str, Any]) -> list[Call]:
        """Deliver an update and return what the bot sent to this user because of it (the bot always answers)."""
        before = len(self.emulator.sent_to(self.id))
        await self.emulator.push(update)
        await self.emulator.settled(update["update_id"], self.id, before)
        return self.emulator.sent_to(self.id)[before:]

    async def say(self, text: str) -> list[Call]:
        return await self.send(updates.message_update(self.user, text=text))

    async def share_contact(self, phone: str, owner_id: int | None = -1, forwarded: bool = False) -> list[Call]:
        owner = self.id if owner_id == -1 else owner_id
        return await self.send(updates.contact_update(self.user, phone, owner, forwarded))

    async def sticker(self) -> list[Call]:
        return await self.send(updates.sticker_update(self.user))

    async def press(self, data: str) -> list[Call]:
        """Press an inline button on the last message that carries it."""
        message = next(call for call in reversed(self.emulator.sent_to(self.id)) if data in call.callback_data())
        bot_message = {"message_id": 1, "date": 0, "chat": {"id": self.id, "type": "private"}, "text": message.text}
        return await self.send(updates.callback_update(self.user, data, bot_message))

    async def join(self, phone: str = "09121234567") -> list[Call]:
        """Join, skipping every optional step."""
        skip = "رد شدن" if self.language == "fa" else "Skip"
        await self.say("/start")
        await self.share_contact(phone)
        await self.say(self.user["first_name"])
        for _ in range(2):
            await self.say(skip)
        return await self.say(skip)
