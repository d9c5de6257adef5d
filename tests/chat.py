"""Playing a user against the Dispatcher directly (feed_update), the Bot API stubbed in-process; what they got back.

What the bot tells members on its own (a notice of a purchase, a gift's message…) goes through the outbox, which
the bot's sender drains; here `drain` does it (and the `delivered` fixture over it), when a test wants to see those.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.sender import Report, Sender, SenderConfig, telegram_send
from tests import updates
from tests.factories import NOW
from tests.stub_bot import RecordingSession


class Reply:
    """What the bot sent in answer, reduced to what tests look at."""

    def __init__(self, method: TelegramMethod[Any], upload: bytes = b"") -> None:
        self.method = method
        self.upload = upload  # the bytes of the file sent with it (a document), if any
        self.name = type(method).__name__
        self.text: str = getattr(method, "text", None) or getattr(method, "caption", None) or ""
        self.markup = getattr(method, "reply_markup", None)

    def buttons(self) -> list[str]:
        """Labels of the reply or inline keyboard."""
        rows = getattr(self.markup, "keyboard", None) or getattr(self.markup, "inline_keyboard", None) or []
        return [button.text for row in rows for button in row]

    def callback_data(self) -> list[str]:
        """Callback data of the inline keyboard."""
        rows = getattr(self.markup, "inline_keyboard", None) or []
        return [button.callback_data for row in rows for button in row if button.callback_data]

    def requests_contact(self) -> bool:
        """True if a reply keyboard button asks for the user's contact."""
        rows = getattr(self.markup, "keyboard", None) or []
        return any(button.request_contact for row in rows for button in row)

    def __repr__(self) -> str:
        return f"Reply({self.name}, {self.text!r})"


class Chat:
    """One user talking to the bot; each call returns the bot's replies to that update."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, session: RecordingSession, user_id: int, **user: Any):
        self.dispatcher, self.bot, self.session = dispatcher, bot, session
        self.user = updates.user_json(user_id, user.get("first_name", "Sara"), user.get("language_code", "fa"))

    async def feed(self, update: dict[str, Any]) -> list[Reply]:
        """Feed one update and return what the bot sent because of it."""
        start = len(self.session.requests)
        await self.dispatcher.feed_update(self.bot, Update.model_validate(update, context={"bot": self.bot}))
        sent = self.session.requests[start:]
        replies = [method for method in sent if type(method).__name__.startswith(("Send", "Edit", "Answer"))]
        return [Reply(method, self.session.uploads.get(id(method), b"")) for method in replies]

    async def say(self, text: str) -> list[Reply]:
        """Send a text message (commands included)."""
        return await self.feed(updates.message_update(self.user, text=text))

    async def share_contact(self, phone: str, owner_id: int | None = -1, forwarded: bool = False) -> list[Reply]:
        """Share a contact: by default this user's own number (owner_id -1 means 'mine')."""
        owner = self.user["id"] if owner_id == -1 else owner_id
        return await self.feed(updates.contact_update(self.user, phone, owner, forwarded))

    async def sticker(self) -> list[Reply]:
        """Send a sticker."""
        return await self.feed(updates.sticker_update(self.user))

    async def photo(self) -> list[Reply]:
        """Send a photo."""
        return await self.feed(updates.photo_update(self.user))

    async def document(self, name: str, content: bytes, size: int | None = None) -> list[Reply]:
        """Send a file as a document (its bytes served to the bot's download; `size` as the messenger states it)."""
        file_id = f"file-{len(self.session.files) + 1}"
        self.session.files[file_id] = content
        return await self.feed(
            updates.document_update(self.user, file_id, name, len(content) if size is None else size)
        )

    async def location(self, latitude: float, longitude: float) -> list[Reply]:
        """Send a location (a map pin)."""
        return await self.feed(updates.location_update(self.user, latitude, longitude))

    async def press(self, data: str) -> list[Reply]:
        """Press an inline button carrying `data` on a message the bot sent."""
        message = {"message_id": 1, "date": 0, "chat": {"id": self.user["id"], "type": "private"}, "text": "menu"}
        return await self.feed(updates.callback_update(self.user, data, message))

    async def join(self, phone: str = "09121234567", name: str | None = None) -> list[Reply]:
        """Walk the whole joining flow, skipping every optional step."""
        await self.say("/start")
        await self.share_contact(phone)
        await self.say(name or self.user["first_name"])
        skip = "فعلاً نه" if self.user.get("language_code") == "fa" else "Skip"
        await self.say(skip)
        await self.say(skip)
        return await self.say(skip)


def to(replies: list[Reply], chat_id: int) -> list[Reply]:
    """The replies sent to one chat."""
    return [reply for reply in replies if getattr(reply.method, "chat_id", None) == chat_id]


def texts(replies: list[Reply]) -> list[str]:
    """The replies' texts, in order."""
    return [reply.text for reply in replies]


async def walk(chat: Chat, *answers: str) -> list[Reply]:
    """Answer each question in turn: button data (wiz:…, cat:…) is pressed, anything else typed; the last replies."""
    replies: list[Reply] = []
    for answer in answers:
        replies = await (chat.press(answer) if answer.startswith(("wiz:", "cat:")) else chat.say(answer))
    return replies


Delivered = Callable[..., Awaitable[list[Reply]]]
"""The `delivered` fixture: `await delivered()` (or `delivered(now)`), what the outbox sends now (`drain`)."""


async def drain(
    sessions: async_sessionmaker[AsyncSession], stubbed: tuple[Bot, RecordingSession], now: datetime = NOW
) -> tuple[Report, list[Reply]]:
    """Send what the outbox holds at `now` with a real sender through the stubbed bot, unpaced and with no quiet
    hours: its report and the messages sent."""
    bot, recorder = stubbed
    start = len(recorder.requests)
    unpaced = SenderConfig(rate=1000, chat_interval=0, quiet=None)
    sender = Sender(sessions, telegram_send(bot), unpaced, clock=lambda: now)
    report = await sender.drain()
    return report, [Reply(method) for method in recorder.requests[start:] if isinstance(method, SendMessage)]
