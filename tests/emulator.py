"""A Bot API emulator: an aiohttp server that the real bot polls over HTTP, recording everything it asks for.

`BotAPIEmulator` answers the methods the bot uses the way Telegram does (long-polled getUpdates with offsets,
Message objects with ids, 401 for a wrong token, 403 for a blocked chat, 404 for an unknown method).
`FakeUser` plays a person: each action queues an update, waits until the bot has fetched it, answered and
gone quiet, and returns what the bot sent to that person meanwhile.
A bot in webhook mode registers its URL with setWebhook (`webhook` keeps the call's parameters); `deliver` then
POSTs an update to it, as Telegram does, with the secret token it registered (or another one), over kept-alive
connections, at most `MAX_CONNECTIONS` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import json
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import BodyPartReader, web

from tests import updates

BOT_USER: dict[str, Any] = {"id": 1000, "is_bot": True, "first_name": "Loyalty Test", "username": "loyalty_test_bot"}
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue"})
PIN_METHODS = frozenset({"sendLocation", "sendVenue"})
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
MESSAGE_METHODS = SEND_METHODS | EDIT_METHODS
# Form fields that are plain strings; every other field arrives JSON-encoded (numbers, booleans, objects).
STRING_FIELDS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "language_code", "file_id", "url", "emoji", "action"}
)
QUIET = 0.05  # seconds without a request (none in flight) after which the bot counts as done
# aiogram handles each polled update in a task running one of these; while one runs the bot is not done, however
# long it goes without a request (drawing a chart or a QR card between two calls, on a busy machine)
HANDLING = frozenset({"Dispatcher._process_update", "Dispatcher._process_with_semaphore"})
SETTLE_TIMEOUT = 10.0  # seconds a user waits for the bot to answer before the test fails
SKIP_LABELS = {"fa": "فعلاً نه", "en": "Skip"}
MAX_CONNECTIONS = 40  # Telegram's default for a webhook: updates delivered at once (further ones wait their turn)

Handler = Callable[["Call"], Awaitable[Any]]


class APIError(Exception):
    """A Bot API refusal: an HTTP status and Telegram's description (`parameters` e.g. retry_after for 429)."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        """The JSON body Telegram sends with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.code)


@dataclass
class Call:
    """One Bot API request the bot made, and what the emulator answered."""

    method: str
    params: dict[str, Any]
    uploads: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    result: Any = None
    error: str | None = None

    @property
    def chat_id(self) -> int | None:
        """The chat the call targets, if any."""
        chat = self.params.get("chat_id")
        return int(chat) if isinstance(chat, int | str) and str(chat).lstrip("-").isdigit() else None

    @property
    def text(self) -> str:
        """The message text, photo caption or callback-answer text."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def markup(self) -> dict[str, Any]:
        """The reply_markup as a dict ({} when there is none)."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else {}

    @property
    def upload_size(self) -> int:
        """Bytes of the files uploaded with the call."""
        return sum(len(data) for data in self.uploads.values())

    def buttons(self) -> list[str]:
        """Labels of the reply or inline keyboard."""
        rows = self.markup.get("keyboard") or self.markup.get("inline_keyboard") or []
        return [button["text"] for row in rows for button in row]

    def callback_data(self) -> list[str]:
        """Callback data of the inline keyboard."""
        rows = self.markup.get("inline_keyboard") or []
        return [button["callback_data"] for row in rows for button in row if "callback_data" in button]

    def requests_contact(self) -> bool:
        """True if a reply-keyboard button asks for the user's own contact."""
        rows = self.markup.get("keyboard") or []
        return any(button.get("request_contact") for row in rows for button in row)

    def __repr__(self) -> str:
        outcome = f" -> {self.error}" if self.error else ""
        return f"Call({self.method}, chat={self.chat_id}, {self.text[:40]!r}{outcome})"


def _decode(name: str, value: Any) -> Any:
    """A form field back to its JSON value (reply_markup to a dict, chat_id to an int…); text stays text."""
    if not isinstance(value, str) or name in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The parameters of a Bot API request (query string, JSON, form or multipart) and its uploaded files."""
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, bytes] = {}
    if request.content_type == "application/json" and request.can_read_body:
        params.update(await request.json())
    elif request.content_type == "multipart/form-data":
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            if part.filename:
                uploads[part.name or part.filename] = bytes(await part.read())
            else:
                params[part.name or ""] = await part.text()
    elif request.can_read_body:
        params.update({name: value for name, value in (await request.post()).items() if isinstance(value, str)})
    return {name: _decode(name, value) for name, value in params.items()}, uploads


def _updated_chat(update: dict[str, Any]) -> int | None:
    """The user an update comes from."""
    for kind in ("message", "callback_query", "edited_message"):
        sender = update.get(kind, {}).get("from") if isinstance(update.get(kind), dict) else None
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return sender["id"]
    return None


class _Own(enum.Enum):
    """The default owner of a shared contact: the user sharing it."""

    ACCOUNT = enum.auto()


OWN = _Own.ACCOUNT


class BotAPIEmulator:
    """A Bot API server on 127.0.0.1 for one bot token: `url` goes into BOT_API_URL.

    Chats in `blocked` answer 403 like a user who blocked the bot; chats that never wrote to the bot answer
    400 "chat not found". `calls` records every request in order.

    Flood control is off unless a test turns it on (`flood_control`): then a send (and, if asked, an edit) beyond
    `flood_limit` (messages, seconds) over all chats, a second send to one chat within `chat_interval` seconds, or a
    random one of `flood_chance` of the sends (drawn from `flood_rng`) is answered 429 with `retry_after`, like
    Telegram; `too_many` counts those answers. Refused sends do not count towards the limits.
    """

    def __init__(self, token: str, *, quiet: float = QUIET) -> None:
        self.token = token
        self.quiet = quiet
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self.chats: set[int] = set()
        self.files: dict[str, bytes] = {}
        self.failures: list[str] = []
        self.flood_limit: tuple[int, float] | None = None
        self.chat_interval: float | None = None
        self.flood_chance = 0.0
        self.edits_count = False
        self.flood_rng = random.Random(0)
        self.too_many = 0
        self._sends: deque[float] = deque()  # when the sends of the last `flood_limit` seconds were accepted
        self._chat_sends: dict[int, float] = {}
        self._pending: list[dict[str, Any]] = []
        self._confirmed = 0  # updates with update_id below this were confirmed by a getUpdates offset
        self._arrived = asyncio.Condition()
        self._polling = asyncio.Event()
        self._closing = False
        self._in_flight = 0
        self._last_activity = 0.0
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._commands: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        self._query_owners: dict[str, int] = {}
        self._bot_gone: Callable[[], str | None] = lambda: None
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None  # delivers webhook updates
        self._url = ""
        self.delays: dict[str, float] = {}  # seconds to wait before answering a method (lower-case name)
        self.webhook: dict[str, Any] = {}  # the parameters of the last setWebhook ({} when none is set)
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send,
            "sendphoto": self._send,
            "senddocument": self._send,
            "sendlocation": self._send,
            "sendvenue": self._send,
            "editmessagetext": self._edit,
            "editmessagecaption": self._edit,
            "editmessagereplymarkup": self._edit,
            "deletemessage": self._delete_message,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            **dict.fromkeys(("answercallbackquery", "sendchataction", "close", "logout"), self._true),
        }

    # --- lifecycle --------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL for BOT_API_URL, e.g. http://127.0.0.1:38451."""
        if not self._url:
            raise RuntimeError("the emulator is not started")
        return self._url

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Answer waiting long polls at once and close the server."""
        self._closing = True
        async with self._arrived:
            self._arrived.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def watch(self, bot_gone: Callable[[], str | None]) -> None:
        """Tell waits how to notice that the bot died: `bot_gone` returns why, or None while it runs."""
        self._bot_gone = bot_gone

    async def wait_polling(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait for the bot's first getUpdates (it has started), failing early if the bot died."""
        await self.wait_for(self._polling.is_set, timeout, lambda: "the bot never called getUpdates")

    # --- what tests use ---------------------------------------------------------------------------------------

    async def push(self, update: dict[str, Any]) -> None:
        """Queue an update for the bot's next getUpdates; its sender becomes a known chat."""
        self._know(update)
        async with self._arrived:
            self._pending.append(update)
            self._arrived.notify_all()

    def _know(self, update: dict[str, Any]) -> None:
        """The update's sender becomes a known chat, and the owner of its button press (see `replies_to`)."""
        if (chat := _updated_chat(update)) is not None:
            self.chats.add(chat)
        if "callback_query" in update:
            self._query_owners[update["callback_query"]["id"]] = int(update["callback_query"]["from"]["id"])

    async def settled(
        self, update_id: int, ready: Callable[[], bool] = lambda: True, timeout: float = SETTLE_TIMEOUT
    ) -> None:
        """Wait until a later getUpdates confirmed `update_id`, `ready()` holds, and the bot has been idle
        (no request in flight) for `quiet` seconds; raise AssertionError after `timeout` seconds."""

        def done() -> bool:
            return self._confirmed > update_id and ready() and self._idle()

        await self.wait_for(done, timeout, lambda: self._stuck(update_id))

    async def deliver(self, update: dict[str, Any] | bytes, secret: str | None = None, url: str | None = None) -> int:
        """POST an update (or any body) to the webhook set (or to `url`: one of several instances behind a load
        balancer), with its secret token unless another is given ("" sends none), as Telegram does; the HTTP status
        the bot answered, once it has answered."""
        if "url" not in self.webhook:
            raise AssertionError("the bot set no webhook")
        if isinstance(update, dict):
            self._know(update)
        token = self.webhook.get("secret_token", "") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers["Content-Type"] = "application/json"
        if self._client is None:
            self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS))
        async with self._client.post(url or self.webhook["url"], data=body, headers=headers) as answer:
            await answer.read()
            return answer.status

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages the bot sent or edited in a chat, in order (refused ones left out)."""
        return [
            call
            for call in self.calls
            if call.method in MESSAGE_METHODS and call.chat_id == chat_id and call.error is None
        ]

    def replies_to(self, user_id: int) -> list[Call]:
        """Messages sent or edited in the user's chat and answers to the user's button presses, in order."""
        return [call for call in self.calls if call.error is None and self._is_reply_to(call, user_id)]

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they are now (edits applied, deleted ones gone), oldest first."""
        return [message for (chat, _), message in sorted(self._messages.items()) if chat == chat_id]

    def flood_control(
        self,
        limit: tuple[int, float] | None = (30, 1.0),
        chat_interval: float | None = 1.0,
        chance: float = 0.0,
        edits: bool = False,
    ) -> None:
        """Answer 429 like Telegram: beyond `limit` sends over all chats, within `chat_interval` in one chat, and
        at random for `chance` of the sends; with `edits`, message edits count as sends. Telegram's own limits are
        the default."""
        self.flood_limit, self.chat_interval, self.flood_chance = limit, chat_interval, chance
        self.edits_count = edits

    def commands(self, language_code: str | None = None, scope: str = "default") -> list[str]:
        """The command names currently set for a language (None: the list for every other language) and a scope:
        its type ("default", "all_private_chats"…), or "chat:<chat id>" for one chat's own menu."""
        return [command["command"] for command in self._commands.get((language_code, scope), [])]

    # --- the server -------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        """Serve a method call; a bug in the emulator fails the waiting test at once instead of by timeout."""
        try:
            return await self._serve(request)
        except Exception as error:
            self.failures.append(f"{request.match_info['method']}: {error!r}")
            return APIError(500, f"Internal Server Error: {error!r}").response()

    async def _serve(self, request: web.Request) -> web.Response:
        """Record the call, check the token and answer it."""
        params, uploads = await read_request(request)
        call = Call(request.match_info["method"], params, uploads)
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            call.error = "401 Unauthorized"
            return APIError(401, "Unauthorized").response()
        if call.method.lower() == "getupdates":  # always waiting on the bot's side: not work in flight
            return await self._answer(call)
        self._in_flight += 1
        self._last_activity = time.monotonic()
        try:
            return await self._answer(call)
        finally:
            self._in_flight -= 1
            self._last_activity = time.monotonic()

    async def _answer(self, call: Call) -> web.Response:
        """Run the method (names are case-insensitive, as on Telegram) and wrap its result or refusal."""
        handler = self._methods.get(call.method.lower())
        try:
            if handler is None:
                raise APIError(404, "Not Found: method not found")
            self._refuse(call)
            await asyncio.sleep(self.delays.get(call.method.lower(), 0))
            call.result = await handler(call)
        except APIError as error:
            call.error = f"{error.code} {error.description}"
            return error.response()
        return web.json_response({"ok": True, "result": call.result})

    def _refuse(self, call: Call) -> None:
        """Refusals that do not depend on the method, and flood control of sends when it is on."""
        if call.chat_id in self.blocked:
            raise APIError(403, "Forbidden: bot was blocked by the user")
        if call.chat_id is not None and call.chat_id not in self.chats:
            raise APIError(400, "Bad Request: chat not found")
        if call.method in SEND_METHODS or (self.edits_count and call.method in EDIT_METHODS):
            self._flood_control(call.chat_id)

    def _flood_control(self, chat_id: int | None) -> None:
        """Refuse a send with 429 when it breaks a limit that is on; otherwise count it towards the limits."""
        now = time.monotonic()
        if self.flood_chance and self.flood_rng.random() < self.flood_chance:
            self._too_many(1)
        if self.flood_limit is not None:
            count, period = self.flood_limit
            while self._sends and self._sends[0] <= now - period:
                self._sends.popleft()
            if len(self._sends) >= count:
                self._too_many(self._sends[0] + period - now)
        last = self._chat_sends.get(chat_id or 0)
        if self.chat_interval is not None and last is not None and now - last < self.chat_interval:
            self._too_many(last + self.chat_interval - now)
        if self.flood_limit is not None:
            self._sends.append(now)
        if self.chat_interval is not None and chat_id is not None:
            self._chat_sends[chat_id] = now

    def _too_many(self, wait: float) -> None:
        """A 429 asking to wait `wait` seconds, in whole seconds as Telegram says it (at least one)."""
        self.too_many += 1
        retry_after = max(1, math.ceil(wait))
        raise APIError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot{token}/{path}: a file uploaded earlier."""
        if request.match_info["token"] != self.token:
            return APIError(401, "Unauthorized").response()
        data = self.files.get(request.match_info["path"])
        if data is None:
            return APIError(404, "Not Found").response()
        return web.Response(body=data, content_type="application/octet-stream")

    def _idle(self) -> bool:
        quiet = self._in_flight == 0 and time.monotonic() - self._last_activity >= self.quiet
        return quiet and not _handling_updates()

    async def wait_for(self, condition: Callable[[], bool], timeout: float, why: Callable[[], str]) -> None:
        """Poll `condition` every few milliseconds; fail with `why()` on timeout or at once if the bot died."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.failures:
                raise AssertionError(f"the emulator failed: {self.failures[0]}")
            if (gone := self._bot_gone()) is not None:
                raise AssertionError(f"the bot stopped: {gone}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{why()} within {timeout:g} s")
            await asyncio.sleep(0.005)

    def _stuck(self, update_id: int) -> str:
        """Why a wait for `update_id` failed, with the last calls."""
        state = "was never fetched and confirmed" if self._confirmed <= update_id else "got no (complete) answer"
        return f"update {update_id} {state}; last calls: {self.calls[-5:]}"

    def _is_reply_to(self, call: Call, user_id: int) -> bool:
        if call.method == "answerCallbackQuery":
            return self._query_owners.get(str(call.params.get("callback_query_id"))) == user_id
        return call.method in MESSAGE_METHODS and call.chat_id == user_id

    # --- the methods ------------------------------------------------------------------------------------------

    async def _true(self, call: Call) -> bool:
        return True

    async def _set_webhook(self, call: Call) -> bool:
        self.webhook = dict(call.params)
        return True

    async def _delete_webhook(self, call: Call) -> bool:
        self.webhook = {}
        return True

    async def _get_me(self, call: Call) -> dict[str, Any]:
        return BOT_USER

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        """Long poll: confirm updates below `offset`, then wait up to `timeout` seconds for one to arrive."""
        self._polling.set()
        offset = int(call.params.get("offset") or 0)
        if offset > 0:
            self._confirmed = max(self._confirmed, offset)
            self._pending = [update for update in self._pending if update["update_id"] >= offset]
        timeout = float(call.params.get("timeout") or 0)
        async with self._arrived:
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait_for(lambda: self._pending or self._closing), timeout)
        return self._pending[: int(call.params.get("limit") or 100)]

    async def _send(self, call: Call) -> dict[str, Any]:
        """sendMessage / sendPhoto / sendDocument / sendLocation / sendVenue: a new message in the chat."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": call.chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if call.method == "sendPhoto":
            message["photo"] = self._photo_sizes(call)
            if call.text:
                message["caption"] = call.text
        elif call.method == "sendDocument":
            message["document"] = self._document(call)
            if call.text:
                message["caption"] = call.text
        elif call.method in PIN_METHODS:
            message["location"] = {name: call.params[name] for name in ("latitude", "longitude")}
        else:
            message["text"] = call.text
        if "inline_keyboard" in call.markup:  # Telegram returns inline keyboards only
            message["reply_markup"] = call.markup
        self._messages[(int(message["chat"]["id"]), message["message_id"])] = message
        return message

    def _photo_sizes(self, call: Call) -> list[dict[str, Any]]:
        """The PhotoSize list of a sent photo; an uploaded one is kept for getFile and downloads."""
        photo = str(call.params.get("photo", ""))
        file_id = photo
        if photo.startswith("attach://"):
            data = call.uploads.get(photo.removeprefix("attach://"), b"")
            file_id = f"photo-{len(self.files) + 1}"
            self.files[f"photos/{file_id}.png"] = data
        size = len(self.files.get(f"photos/{file_id}.png", b""))
        return [{"file_id": file_id, "file_unique_id": file_id, "width": 320, "height": 320, "file_size": size}]

    def _document(self, call: Call) -> dict[str, Any]:
        """The Document of a sent file; an uploaded one is kept for getFile and downloads (`document_bytes`)."""
        document = str(call.params.get("document", ""))
        file_id = document
        if document.startswith("attach://"):
            file_id = f"document-{len(self.files) + 1}"
            self.files[f"documents/{file_id}"] = call.uploads.get(document.removeprefix("attach://"), b"")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files.get(f"documents/{file_id}", b"")),
        }

    def document_bytes(self, call: Call) -> bytes:
        """The bytes of the file a sendDocument call sent."""
        assert isinstance(call.result, dict), f"{call!r} did not send a document"
        return self.files[f"documents/{call.result['document']['file_id']}"]

    async def _edit(self, call: Call) -> dict[str, Any]:
        """editMessageText / Caption / ReplyMarkup, refused like Telegram when nothing would change."""
        key = (call.chat_id or 0, int(call.params.get("message_id") or 0))
        if key not in self._messages:
            raise APIError(400, "Bad Request: message to edit not found")
        old = self._messages[key]
        new = dict(old, edit_date=int(time.time()))
        new.pop("reply_markup", None)
        if "inline_keyboard" in call.markup:
            new["reply_markup"] = call.markup
        if call.method == "editMessageText":
            if "text" not in old:
                raise APIError(400, "Bad Request: there is no text in the message to edit")
            new["text"] = call.text
        elif call.method == "editMessageCaption":
            new["caption"] = call.text
        if {**new, "edit_date": None} == {**old, "edit_date": None}:
            raise APIError(400, "Bad Request: message is not modified")
        self._messages[key] = new
        return new

    async def _delete_message(self, call: Call) -> bool:
        if self._messages.pop((call.chat_id or 0, int(call.params.get("message_id") or 0)), None) is None:
            raise APIError(400, "Bad Request: message to delete not found")
        return True

    @staticmethod
    def _commands_key(call: Call) -> tuple[str | None, str]:
        scope = call.params.get("scope") or {"type": "default"}
        kind = scope.get("type", "default")
        if "chat_id" in scope:  # chat, chat_administrators, chat_member: each chat (and user) has its own menu
            kind = ":".join([kind, str(scope["chat_id"]), *([str(scope["user_id"])] if "user_id" in scope else [])])
        return call.params.get("language_code") or None, kind

    async def _set_my_commands(self, call: Call) -> bool:
        self._commands[self._commands_key(call)] = list(call.params.get("commands") or [])
        return True

    async def _get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        return self._commands.get(self._commands_key(call), [])

    async def _delete_my_commands(self, call: Call) -> bool:
        self._commands.pop(self._commands_key(call), None)
        return True

    async def _get_file(self, call: Call) -> dict[str, Any]:
        file_id = str(call.params.get("file_id", ""))
        path = next((path for path in (f"photos/{file_id}.png", f"documents/{file_id}") if path in self.files), "")
        if not path:
            raise APIError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files[path]), "file_path": path}


def _handling_updates() -> bool:
    """Whether the bot, in this event loop, is still handling a polled update."""
    return any(
        getattr(task.get_coro(), "__qualname__", None) in HANDLING for task in asyncio.all_tasks() if not task.done()
    )


class FakeUser:
    """A person chatting with the bot through the emulator; each action returns the bot's replies to it."""

    def __init__(
        self, emulator: BotAPIEmulator, user_id: int, first_name: str = "Sara", language_code: str | None = "fa"
    ) -> None:
        self.emulator = emulator
        self.id = user_id
        self.language_code = language_code
        self.user = updates.user_json(user_id, first_name, language_code)

    async def send(self, update: dict[str, Any], *, expect_reply: bool = True) -> list[Call]:
        """Deliver an update, wait until the bot is done with it, and return what it sent this user meanwhile."""
        before = len(self.emulator.replies_to(self.id))
        await self.emulator.push(update)

        def answered() -> bool:
            return not expect_reply or len(self.emulator.replies_to(self.id)) > before

        await self.emulator.settled(update["update_id"], answered)
        return self.emulator.replies_to(self.id)[before:]

    async def say(self, text: str) -> list[Call]:
        """Send a text message (commands included)."""
        return await self.send(updates.message_update(self.user, text=text))

    async def share_contact(self, phone: str, owner_id: int | _Own | None = OWN, forwarded: bool = False) -> list[Call]:
        """Share a contact: by default this user's own number; None is a contact without an account."""
        owner = self.id if owner_id is OWN else owner_id
        assert not isinstance(owner, _Own)
        return await self.send(updates.contact_update(self.user, phone, owner, forwarded))

    async def sticker(self) -> list[Call]:
        """Send a sticker."""
        return await self.send(updates.sticker_update(self.user))

    async def photo(self) -> list[Call]:
        """Send a photo."""
        return await self.send(updates.photo_update(self.user))

    async def document(self, name: str, content: bytes) -> list[Call]:
        """Send a file as a document; the bot may download it (getFile and the file URL)."""
        file_id = f"upload-{len(self.emulator.files) + 1}"
        self.emulator.files[f"documents/{file_id}"] = content
        return await self.send(updates.document_update(self.user, file_id, name, len(content)))

    async def location(self, latitude: float, longitude: float) -> list[Call]:
        """Send a location (a map pin)."""
        return await self.send(updates.location_update(self.user, latitude, longitude))

    async def press(self, data: str, message: Call | None = None) -> list[Call]:
        """Press the inline button carrying `data` on `message` (default: the latest bot message that has it)."""
        pressed = self._message_with(data) if message is None else self._current(message)
        return await self.send(updates.callback_update(self.user, data, pressed))

    async def join(self, phone: str = "09121234567", name: str | None = None) -> list[Call]:
        """Walk the whole joining flow with this user's own contact, skipping every optional step."""
        skip = SKIP_LABELS.get(self.language_code or "", SKIP_LABELS["fa"])
        await self.say("/start")
        await self.share_contact(phone)
        await self.say(name or self.user["first_name"])
        await self.say(skip)
        await self.say(skip)
        return await self.say(skip)

    def _message_with(self, data: str) -> dict[str, Any]:
        for message in reversed(self.emulator.messages(self.id)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(button.get("callback_data") == data for row in rows for button in row):
                return message
        raise AssertionError(f"no message from the bot to {self.id} has a button with callback data {data!r}")

    def _current(self, message: Call) -> dict[str, Any]:
        """The message a reply produced, as it is now."""
        sent = message.result
        assert isinstance(sent, dict), f"{message!r} did not produce a message"
        current = [kept for kept in self.emulator.messages(self.id) if kept["message_id"] == sent["message_id"]]
        return current[0] if current else sent
