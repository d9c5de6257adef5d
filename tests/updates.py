"""Telegram updates as the Bot API sends them (JSON dicts), for the emulator and for feed_update."""

from __future__ import annotations

import itertools
import time
from typing import Any

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def user_json(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    """A Telegram User object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def message_update(sender: dict[str, Any], **content: Any) -> dict[str, Any]:
    """An update carrying a private message from `sender` with `content` (text, contact, sticker…)."""
    message = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": sender["id"], "type": "private", "first_name": sender["first_name"]},
        "from": sender,
        **content,
    }
    text = content.get("text")
    if isinstance(text, str) and text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": message}


def contact_update(sender: dict[str, Any], phone: str, owner_id: int | None, forwarded: bool = False) -> dict[str, Any]:
    """A shared contact; `owner_id` is whose account the number is (None: a contact without an account)."""
    contact: dict[str, Any] = {"phone_number": phone, "first_name": sender["first_name"]}
    if owner_id is not None:
        contact["user_id"] = owner_id
    extra: dict[str, Any] = {}
    if forwarded:
        extra["forward_origin"] = {"type": "hidden_user", "date": int(time.time()), "sender_user_name": "Someone"}
    return message_update(sender, contact=contact, **extra)


def sticker_update(sender: dict[str, Any]) -> dict[str, Any]:
    """A sticker message."""
    sticker = {
        "file_id": "sticker-file",
        "file_unique_id": "sticker-unique",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return message_update(sender, sticker=sticker)


def photo_update(sender: dict[str, Any]) -> dict[str, Any]:
    """A photo message."""
    photo = [{"file_id": "photo-file", "file_unique_id": "photo-unique", "width": 90, "height": 90}]
    return message_update(sender, photo=photo)


def document_update(sender: dict[str, Any], file_id: str, name: str, size: int) -> dict[str, Any]:
    """A file sent as a document."""
    document = {"file_id": file_id, "file_unique_id": f"{file_id}-unique", "file_name": name, "file_size": size}
    return message_update(sender, document=document)


def location_update(sender: dict[str, Any], latitude: float, longitude: float) -> dict[str, Any]:
    """A location (a map pin) sent with the attachment menu."""
    return message_update(sender, location={"latitude": latitude, "longitude": longitude})


def callback_update(sender: dict[str, Any], data: str, message: dict[str, Any]) -> dict[str, Any]:
    """A press on an inline button of `message` (a message the bot sent)."""
    query = {"id": str(next(_update_ids)), "from": sender, "chat_instance": "ci", "data": data, "message": message}
    return {"update_id": next(_update_ids), "callback_query": query}
