"""The playground's Bot API server: the methods the bot calls, for one bot token, over HTTP as Telegram answers them.

`add_routes(app, chats)` serves `/bot<token>/<method>` (parameters in the query string, a JSON body, a form or
multipart with uploaded files) and `/file/bot<token>/<file_id>` (getFile's downloads). Every message the bot sends,
edits or deletes lands in `Chats`, where the page reads it; the page's actions reach the bot as updates from
`Chats` through getUpdates (long polled: `offset` confirms, `timeout` waits). A wrong token is answered 401, an
unknown method 404, a bad request 400 with Telegram's description ("message is not modified" for an edit that
changes nothing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from bot.playground.chats import BOT_TOKEN, BOT_USER, Chats

Params = dict[str, Any]
Uploads = dict[str, tuple[bytes, str, str]]  # field name -> (data, file name, content type)
Method = Callable[[Chats, Params, Uploads], Awaitable[Any]]
TEXT_FIELDS = frozenset({"text", "caption", "callback_query_id", "language_code", "file_id", "action", "title"})
MEDIA = {"sendPhoto": "photo", "sendDocument": "document"}
LONGEST_POLL = 50.0  # seconds: Telegram's getUpdates waits at most this long


class BadRequest(Exception):
    """A request the Bot API refuses with 400 and this description."""


def _value(name: str, raw: str) -> Any:
    """A form field as the Bot API reads it: JSON for numbers, booleans and objects, texts as they are."""
    if name in TEXT_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def read_params(request: web.Request) -> tuple[Params, Uploads]:
    """A method's parameters, from wherever the client put them, and the files it uploaded."""
    params: Params = {name: _value(name, value) for name, value in request.query.items()}
    uploads: Uploads = {}
    if request.content_type == "application/json" and request.can_read_body:
        params.update(await request.json())
    elif request.content_type == "multipart/form-data":
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.filename:
                kind = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = (bytes(await part.read()), part.filename, kind)
            else:
                params[part.name] = _value(part.name, await part.text())
    elif request.can_read_body:
        form = await request.post()
        params.update({name: _value(name, value) for name, value in form.items() if isinstance(value, str)})
    return params, uploads


def chat_of(params: Params) -> int:
    """The private chat a method addresses."""
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise BadRequest("Bad Request: chat not found") from None


def _markup(params: Params) -> dict[str, Any]:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = _value("reply_markup", markup)
    return markup if isinstance(markup, dict) else {}


def _file(chats: Chats, params: Params, uploads: Uploads, field: str, default_name: str) -> dict[str, Any]:
    """The file a send carries: an upload (`attach://name` or the field itself) is kept; a file_id is used again."""
    value = params.get(field)
    attached = str(value).removeprefix("attach://") if isinstance(value, str) else field
    if attached in uploads:
        data, name, kind = uploads[attached]
        file_id = chats.add_file(data, name or default_name, kind)
    else:
        file_id = str(value or "")
    stored = chats.files.get(file_id)
    described: dict[str, Any] = {
        "file_id": file_id,
        "file_unique_id": file_id,
        "file_size": len(stored.data) if stored else 0,
    }
    if stored is not None:
        described |= {"file_name": stored.name, "mime_type": stored.content_type}
    return described


def _keep_keyboard(chats: Chats, chat_id: int, markup: dict[str, Any]) -> None:
    """A reply keyboard sent with a message shows under the chat's input until another replaces or removes it."""
    if "keyboard" in markup:
        chats.chat(chat_id).keyboard = markup
    elif markup.get("remove_keyboard"):
        chats.chat(chat_id).keyboard = None


async def send(chats: Chats, params: Params, uploads: Uploads, method: str) -> dict[str, Any]:
    """sendMessage, sendPhoto, sendDocument, sendLocation, sendVenue: a new message from the bot."""
    chat_id = chat_of(params)
    content: dict[str, Any] = {}
    if method in MEDIA:
        field = MEDIA[method]
        described = _file(chats, params, uploads, field, f"{field}.png" if field == "photo" else "file")
        content[field] = [described | {"width": 512, "height": 512}] if field == "photo" else described
        if params.get("caption"):
            content["caption"] = str(params["caption"])
    elif method in ("sendLocation", "sendVenue"):
        content["location"] = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        if method == "sendVenue":
            content["venue"] = {"location": content["location"], **{k: params.get(k, "") for k in ("title", "address")}}
    else:
        if not str(params.get("text") or "").strip():
            raise BadRequest("Bad Request: message text is empty")
        content["text"] = str(params["text"])
    markup = _markup(params)
    _keep_keyboard(chats, chat_id, markup)
    if "inline_keyboard" in markup:  # Telegram gives back inline keyboards only
        content["reply_markup"] = markup
    message = chats.new_message(chat_id, BOT_USER, **content)
    await chats.changed(chat_id)
    return message


async def edit(chats: Chats, params: Params, method: str) -> dict[str, Any]:
    """editMessageText, editMessageCaption, editMessageReplyMarkup: a bot's message changed in place."""
    chat_id = chat_of(params)
    message = chats.chat(chat_id).find(int(params.get("message_id") or 0))
    if message is None:
        raise BadRequest("Bad Request: message to edit not found")
    changed = {key: value for key, value in message.items() if key not in ("reply_markup", "edit_date")}
    if method == "editMessageText":
        if "text" not in message:
            raise BadRequest("Bad Request: there is no text in the message to edit")
        changed["text"] = str(params.get("text") or "")
    elif method == "editMessageCaption":
        changed["caption"] = str(params.get("caption") or "")
    markup = _markup(params)
    if "inline_keyboard" in markup:
        changed["reply_markup"] = markup
    before = {key: value for key, value in message.items() if key != "edit_date"}
    if changed == before:
        raise BadRequest("Bad Request: message is not modified")
    message.clear()
    message.update(changed, edit_date=int(time.time()))
    await chats.changed(chat_id)
    return message


async def delete_message(chats: Chats, params: Params, uploads: Uploads) -> bool:
    chat = chats.chat(chat_of(params))
    message = chat.find(int(params.get("message_id") or 0))
    if message is None:
        raise BadRequest("Bad Request: message to delete not found")
    chat.messages.remove(message)
    await chats.changed(chat_of(params))
    return True


async def answer_callback_query(chats: Chats, params: Params, uploads: Uploads) -> bool:
    """A button's answer: a toast (or an alert) in the chat whose button it was."""
    chat_id = chats.queries.pop(str(params.get("callback_query_id")), None)
    if chat_id is not None and params.get("text"):
        toasts = chats.chat(chat_id).toasts
        toasts.append({"id": len(toasts) + 1, "text": str(params["text"]), "alert": bool(params.get("show_alert"))})
        await chats.changed(chat_id)
    return True


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.get("scope") or {}
    kind = str(scope.get("type", "default"))
    if "chat_id" in scope:
        kind = f"{kind}:{scope['chat_id']}"
    return kind, str(params.get("language_code") or "")


async def set_my_commands(chats: Chats, params: Params, uploads: Uploads) -> bool:
    chats.commands[_commands_key(params)] = list(params.get("commands") or [])
    return True


async def get_my_commands(chats: Chats, params: Params, uploads: Uploads) -> list[dict[str, Any]]:
    return chats.commands.get(_commands_key(params), [])


async def delete_my_commands(chats: Chats, params: Params, uploads: Uploads) -> bool:
    chats.commands.pop(_commands_key(params), None)
    return True


async def get_file(chats: Chats, params: Params, uploads: Uploads) -> dict[str, Any]:
    file_id = str(params.get("file_id") or "")
    if file_id not in chats.files:
        raise BadRequest("Bad Request: invalid file_id")
    size = len(chats.files[file_id].data)
    return {"file_id": file_id, "file_unique_id": file_id, "file_size": size, "file_path": file_id}


async def get_updates(chats: Chats, params: Params, uploads: Uploads) -> list[dict[str, Any]]:
    timeout = min(float(params.get("timeout") or 0), LONGEST_POLL)
    return await chats.updates(int(params.get("offset") or 0), timeout, int(params.get("limit") or 100))


async def get_me(chats: Chats, params: Params, uploads: Uploads) -> dict[str, Any]:
    return BOT_USER


async def accepted(chats: Chats, params: Params, uploads: Uploads) -> bool:
    """A method whose effect the playground does not show (chat actions, webhooks, the menu button)."""
    return True


def _sending(method: str) -> Method:
    async def sending(chats: Chats, params: Params, uploads: Uploads) -> dict[str, Any]:
        return await send(chats, params, uploads, method)

    return sending


def _editing(method: str) -> Method:
    async def editing(chats: Chats, params: Params, uploads: Uploads) -> dict[str, Any]:
        return await edit(chats, params, method)

    return editing


SENDS = ("sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue")
EDITS = ("editMessageText", "editMessageCaption", "editMessageReplyMarkup")
ACCEPTED = ("deleteWebhook", "setWebhook", "sendChatAction", "setChatMenuButton", "close", "logOut")
METHODS: dict[str, Method] = {
    "getme": get_me,
    "getupdates": get_updates,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "getfile": get_file,
    **{name.lower(): _sending(name) for name in SENDS},
    **{name.lower(): _editing(name) for name in EDITS},
    **{name.lower(): accepted for name in ACCEPTED},
}


def _refusal(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)


def add_routes(app: web.Application, chats: Chats) -> None:
    """Serve the Bot API for `BOT_TOKEN` over `chats` on `app`."""

    async def call(request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return _refusal(401, "Unauthorized")
        method = METHODS.get(request.match_info["method"].lower())
        if method is None:
            return _refusal(404, "Not Found: method not found")
        try:
            params, uploads = await read_params(request)
            result = await method(chats, params, uploads)
        except (BadRequest, KeyError, TypeError, ValueError) as error:
            description = str(error) if isinstance(error, BadRequest) else f"Bad Request: {error!r}"
            return _refusal(400, description)
        return web.json_response({"ok": True, "result": result})

    async def download(request: web.Request) -> web.StreamResponse:
        stored = chats.files.get(request.match_info["file_id"])
        if request.match_info["token"] != BOT_TOKEN or stored is None:
            return _refusal(404, "Not Found")
        return web.Response(body=stored.data, content_type=stored.content_type)

    app.router.add_route("*", "/bot{token}/{method}", call)
    app.router.add_get("/file/bot{token}/{file_id}", download)
