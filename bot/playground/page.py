"""The playground's web chat page and the JSON API it talks to, served beside the Bot API (`bot.playground.botapi`).

The page (`static/`: plain HTML, CSS and JavaScript, the bundled Vazirmatn font) plays the café's cast. Under `/play/`:
- `GET cast`: the people; `GET texts`: the page's own labels in Persian and English (from the catalogs), and the
  languages' names;
- `GET chats/<id>?after=<version>`: the person's chat (messages, inline buttons, the reply keyboard, button
  answers, the command menu), answered when something changed after `version` or some seconds later, with which
  chats changed when (`activity`) and whether the bot has started polling (`bot`: not while the café is seeded);
- `POST chats/<id>/text` (`{"text": …}`, also a reply-keyboard button's label), `…/press` (`{"message_id", "data"}`:
  an inline button), `…/contact` (the person's own phone from the cast), `…/file` (multipart `file`: a photo or a
  document): each becomes an update for the bot;
- `GET files/<file_id>`: a photo or a document the bot sent (or the page uploaded).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.playground.cast import CAST, Person
from bot.playground.chats import Chat, Chats
from texts.charts import FONT_FILE
from texts.languages import LANGUAGE_NAMES

STATIC = Path(__file__).parent / "static"
WAIT = 25.0  # seconds a page's long poll waits for a change
LABELS = (
    "playground.title",
    "playground.people",
    "playground.part.owner",
    "playground.part.cashier",
    "playground.part.customer",
    "playground.newcomer",
    "playground.input",
    "playground.send",
    "playground.menu",
    "playground.attach",
    "playground.download",
    "playground.edited",
    "playground.location",
    "playground.contact",
    "playground.share_confirm",
    "playground.empty",
    "playground.offline",
    "playground.starting",
)


def person_json(person: Person) -> dict[str, Any]:
    """A person as the page lists them."""
    return {
        "id": person.telegram_id,
        "name": person.first_name,
        "language": person.language,
        "phone": person.phone,
        "part": person.part,
        "member": person.member,
    }


def user_json(person: Person) -> dict[str, Any]:
    """A person as a Bot API update names its sender."""
    return {
        "id": person.telegram_id,
        "is_bot": False,
        "first_name": person.first_name,
        "language_code": person.language,
    }


def _buttons(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [
        [{key: button[key] for key in ("text", "callback_data", "url") if key in button} for button in row]
        for row in rows
    ]


def _file_url(file_id: str) -> str:
    return f"/play/files/{file_id}"


def message_json(message: dict[str, Any], chats: Chats) -> dict[str, Any]:
    """A message as the page draws it: who sent it, its text or caption, its photo or document as a link, a map pin
    or a shared contact, its inline buttons, and whether it was edited."""
    shown: dict[str, Any] = {
        "id": message["message_id"],
        "out": bool(message["from"].get("is_bot")),
        "date": message["date"],
        "text": message.get("text") or message.get("caption") or "",
        "buttons": _buttons(message),
        "edited": "edit_date" in message,
    }
    if "photo" in message:
        shown["photo"] = _file_url(message["photo"][-1]["file_id"])
    if "document" in message:
        document = message["document"]
        name = document.get("file_name") or getattr(chats.files.get(document["file_id"]), "name", "file")
        shown["document"] = {"url": _file_url(document["file_id"]), "name": name}
    if "location" in message:
        shown["location"] = message["location"] | {"title": message.get("venue", {}).get("title", "")}
    if "contact" in message:
        shown["contact"] = message["contact"]["phone_number"]
    return shown


def _keyboard(chat: Chat) -> list[list[dict[str, Any]]] | None:
    if chat.keyboard is None:
        return None
    rows = chat.keyboard.get("keyboard", [])
    return [
        [{"text": button["text"], "contact": bool(button.get("request_contact"))} for button in row] for row in rows
    ]


def commands_for(chats: Chats, person: Person) -> list[dict[str, Any]]:
    """The command menu the person's messenger would show: their chat's own, else everyone's, in their language."""
    scopes = (f"chat:{person.telegram_id}", "default")
    keys = ((scope, language) for scope in scopes for language in (person.language, ""))
    return next((chats.commands[key] for key in keys if chats.commands.get(key)), [])


def chat_json(chats: Chats, person: Person) -> dict[str, Any]:
    """Everything the page shows of one person's chat."""
    chat = chats.chat(person.telegram_id)
    return {
        "messages": [message_json(message, chats) for message in chat.messages],
        "keyboard": _keyboard(chat),
        "toasts": chat.toasts,
        "commands": commands_for(chats, person),
    }


async def _body(request: web.Request) -> dict[str, Any]:
    """A POST's JSON object; anything else is a bad request."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object was expected")
    return body


def _whole(value: object) -> int:
    """A whole number the page sent; anything else is a bad request."""
    if not str(value).lstrip("-").isdigit():
        raise web.HTTPBadRequest(text=f"{value!r} is not a whole number")
    return int(str(value))


class Page:
    """The page's actions on behalf of the cast, as updates in `chats`."""

    def __init__(self, chats: Chats, i18n: I18n) -> None:
        self.chats = chats
        self.i18n = i18n
        self._query_ids = itertools.count(1)

    def person(self, request: web.Request) -> Person:
        person = next((one for one in CAST if str(one.telegram_id) == request.match_info["id"]), None)
        if person is None:
            raise web.HTTPNotFound(text="no such person in the playground")
        return person

    async def message(self, person: Person, **content: Any) -> dict[str, Any]:
        """A message from the person to the bot: kept in the chat and queued as an update."""
        chat = self.chats.chat(person.telegram_id)
        if chat.keyboard is not None and chat.keyboard.get("one_time_keyboard"):
            chat.keyboard = None
        if str(content.get("text", "")).startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(content["text"].split()[0])}]
        message = self.chats.new_message(person.telegram_id, user_json(person), **content)
        message["chat"]["first_name"] = person.first_name
        await self.chats.push("message", message, person.telegram_id)
        return {"version": self.chats.version}

    async def text(self, request: web.Request) -> web.Response:
        body = await _body(request)
        text = str(body.get("text") or "").strip()
        if not text:
            raise web.HTTPBadRequest(text="empty message")
        return web.json_response(await self.message(self.person(request), text=text))

    async def contact(self, request: web.Request) -> web.Response:
        person = self.person(request)
        contact = {"phone_number": person.phone, "first_name": person.first_name, "user_id": person.telegram_id}
        return web.json_response(await self.message(person, contact=contact))

    async def upload(self, request: web.Request) -> web.Response:
        person = self.person(request)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise web.HTTPBadRequest(text="no file")
        data, kind = upload.file.read(), upload.content_type or "application/octet-stream"
        file_id = self.chats.add_file(data, upload.filename, kind)
        described = {"file_id": file_id, "file_unique_id": file_id, "file_size": len(data)}
        if kind.startswith("image/"):
            return web.json_response(await self.message(person, photo=[described | {"width": 512, "height": 512}]))
        document = described | {"file_name": upload.filename, "mime_type": kind}
        return web.json_response(await self.message(person, document=document))

    async def press(self, request: web.Request) -> web.Response:
        person = self.person(request)
        body = await _body(request)
        message = self.chats.chat(person.telegram_id).find(_whole(body.get("message_id")))
        if message is None:
            raise web.HTTPNotFound(text="the message is gone")
        query_id = f"{person.telegram_id}-{next(self._query_ids)}"
        self.chats.queries[query_id] = person.telegram_id
        query = {
            "id": query_id,
            "from": user_json(person),
            "chat_instance": str(person.telegram_id),
            "data": str(body.get("data") or ""),
            "message": message,
        }
        await self.chats.push("callback_query", query, person.telegram_id)
        return web.json_response({"version": self.chats.version})

    async def chat(self, request: web.Request) -> web.Response:
        person = self.person(request)
        after = _whole(request.query.get("after", "-1"))
        await self.chats.wait_after(after, WAIT if after >= 0 else 0)
        activity = {str(chat_id): chat.changed for chat_id, chat in self.chats.chats.items()}
        return web.json_response(
            {
                "version": self.chats.version,
                "chat": chat_json(self.chats, person),
                "activity": activity,
                "bot": self.chats.polled,
            }
        )

    async def cast(self, request: web.Request) -> web.Response:
        return web.json_response([person_json(person) for person in CAST])

    async def texts(self, request: web.Request) -> web.Response:
        labels = {
            language: {key: self.i18n.gettext(key, locale=language) for key in LABELS} for language in LANGUAGE_NAMES
        }
        return web.json_response(labels | {"languages": LANGUAGE_NAMES})

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.chats.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        headers = {}
        if not stored.content_type.startswith("image/"):  # a document is downloaded under its own name
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(stored.name)}"
        return web.Response(body=stored.data, content_type=stored.content_type, headers=headers)


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _font(request: web.Request) -> web.FileResponse:
    return web.FileResponse(FONT_FILE)


def add_routes(app: web.Application, chats: Chats, i18n: I18n) -> None:
    """Serve the page, its files and its JSON API over `chats` on `app`."""
    page = Page(chats, i18n)
    app.router.add_get("/", _index)
    app.router.add_get("/static/vazirmatn.ttf", _font)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/play/cast", page.cast)
    app.router.add_get("/play/texts", page.texts)
    app.router.add_get("/play/chats/{id}", page.chat)
    app.router.add_post("/play/chats/{id}/text", page.text)
    app.router.add_post("/play/chats/{id}/contact", page.contact)
    app.router.add_post("/play/chats/{id}/file", page.upload)
    app.router.add_post("/play/chats/{id}/press", page.press)
    app.router.add_get("/play/files/{file_id}", page.file)
