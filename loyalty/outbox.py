"""The outbox, as producers see it: every message the bot sends on its own is a row here first, for the broadcast
sender (`scheduler.sender`, with the claims and leases of `scheduler.outbox`) to send.

`enqueue` adds rows for any producer, each under a unique key; a key seen before is skipped (INSERT ... ON
CONFLICT DO NOTHING). Campaign rows come from `loyalty.campaigns.start`, unique by (campaign, member), without
key or payload: their text is written when they are sent. Below the chat and the scheduler both, so that either
enqueues without importing the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories
from storage.models import OutboxMessage, OutboxState

T = TypeVar("T")
CHUNK = 500  # rows per statement (SQLite allows a few thousand parameters in one)
TEXT_LENGTH = 4096  # the messenger's limits for a message and a photo's caption
CAPTION_LENGTH = 1024
RETURNED = (
    OutboxMessage.id,
    OutboxMessage.kind,
    OutboxMessage.campaign_id,
    OutboxMessage.member_id,
    OutboxMessage.chat_id,
    OutboxMessage.payload,
    OutboxMessage.attempts,
)


def batched(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """The items in slices of at most `size`."""
    for first in range(0, len(items), size):
        yield items[first : first + size]


@dataclass(frozen=True)
class Message:
    """A message as the messenger gets it: text, or a photo (`photo`, a file_id) with `text` as its caption.

    Also the outbox's payload (`to_json`), and a campaign's message before its placeholders are filled in.
    """

    text: str
    photo: str | None = None

    def to_json(self) -> str:
        """The message as stored in the outbox."""
        data = {"text": self.text} if self.photo is None else {"text": self.text, "photo": self.photo}
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Message:
        """A message stored in the outbox."""
        data = json.loads(raw)
        return cls(text=str(data.get("text", "")), photo=data.get("photo"))

    def limited(self) -> Message:
        """The message cut to the messenger's limit (filled-in names can make it longer than typed)."""
        limit = TEXT_LENGTH if self.photo is None else CAPTION_LENGTH
        return self if len(self.text) <= limit else Message(self.text[: limit - 1] + "…", self.photo)


@dataclass(frozen=True)
class Outgoing:
    """A message to enqueue: its unique `key` (e.g. birthday:2026:17), `kind`, chat and rendered message."""

    key: str
    kind: str
    chat_id: int
    message: Message
    member_id: int | None = None
    not_before: datetime | None = None  # None: as soon as possible


@dataclass(frozen=True)
class Claimed:
    """A row a sender holds: whom to send to, and the message (None: a campaign row, written when sent)."""

    id: int
    kind: str
    campaign_id: int | None
    member_id: int | None
    chat_id: int
    message: Message | None
    attempts: int


def claimed_row(row: Sequence[Any]) -> Claimed:
    """The row a sender holds, from the columns `RETURNED`."""
    row_id, kind, campaign_id, member_id, chat_id, payload, attempts = row
    message = Message.from_json(payload) if payload else None
    return Claimed(row_id, kind, campaign_id, member_id, chat_id, message, attempts)


async def enqueue(session: AsyncSession, messages: Sequence[Outgoing], now: datetime) -> int:
    """Add the messages to the caller's transaction; a key already in the outbox is skipped. Returns rows added."""
    added = 0
    for chunk in batched(messages):
        rows = [
            {
                "key": outgoing.key,
                "kind": outgoing.kind,
                "member_id": outgoing.member_id,
                "chat_id": outgoing.chat_id,
                "payload": outgoing.message.to_json(),
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": outgoing.not_before or now,
            }
            for outgoing in chunk
        ]
        result = await session.execute(repositories.insert_or_ignore(session, OutboxMessage).values(rows))
        added += int(result.rowcount)  # type: ignore[attr-defined]
    return added


async def known_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    """Which of these keys are in the outbox already (whatever their state)."""
    known: set[str] = set()
    for chunk in batched(sorted(set(keys))):
        known.update(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))))
    return known
