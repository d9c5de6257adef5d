"""The outbox, as producers see it: every message the bot sends on its own (not a reply) is a row here first.

Greetings, reminders, tier changes, gift messages and the chat's notices to another person (a member told of a
purchase, an adjustment, an undo or a voucher used; a referrer told of a friend's join or first purchase) are
added with `enqueue`, each under a unique key, in their member's language, as the row's payload (`Message`).
A key seen before is skipped (INSERT ... ON CONFLICT DO NOTHING), so a retried update or job adds nothing twice.
Campaign rows come from `loyalty.campaigns.start`, unique by (campaign, member), without key or payload: their
text is written when they are sent.

A change that tells someone takes `notices` (`Notices`): a function from the change's outcome to the messages
telling of it, called inside the change's own write transaction (`notify`), so a notice is in the outbox if and
only if the change committed. The chat side writes the texts (it has the catalogs); the domain only enqueues.

The broadcast sender (`scheduler.sender`, with the claims and leases of `scheduler.outbox`) sends the rows,
paced; it finds them by claiming them (`Claimed`), a write transaction. A notice need not wait for that: when the
bot's own sender holds the sender lease, the bot puts a `Courier` on the update's session (`session.info`), and
the rows of its kinds are written already claimed by that sender, under a lease, and collected for it (`handed`),
to be handed over in memory once the transaction commits (`bot.middlewares.HandOverMiddleware`). Should the
process die first, the lease runs out and any sender takes the rows over, as after any crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories
from storage.database import rowcount
from storage.models import OutboxMessage, OutboxState

T = TypeVar("T")
CHUNK = 500  # rows per statement (SQLite allows a few thousand parameters in one)
TEXT_LENGTH = 4096  # the messenger's limits for a message and a photo's caption
CAPTION_LENGTH = 1024
NOTICE = "notice"  # the kind of the chat's messages to another person than the one it answers
COURIER = "loyalty.outbox.courier"  # `session.info` keys: the session's `Courier`, and the rows claimed for it
HANDED = "loyalty.outbox.handed"
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
    """A message as the messenger gets it: text, or a photo (`photo`, a file_id) with `text` as its caption, and
    buttons under it (`buttons`: each its label and the data a press sends back, one a row).

    Also the outbox's payload (`to_json`), and a campaign's message before its placeholders are filled in.
    """

    text: str
    photo: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        """The message as stored in the outbox (only what it has)."""
        data: dict[str, object] = {"text": self.text}
        if self.photo is not None:
            data["photo"] = self.photo
        if self.buttons:
            data["buttons"] = [list(button) for button in self.buttons]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Message:
        """A message stored in the outbox."""
        data = json.loads(raw)
        buttons = tuple((str(label), str(press)) for label, press in data.get("buttons", ()))
        return cls(text=str(data.get("text", "")), photo=data.get("photo"), buttons=buttons)

    def limited(self) -> Message:
        """The message cut to the messenger's limit (filled-in names can make it longer than typed)."""
        limit = TEXT_LENGTH if self.photo is None else CAPTION_LENGTH
        return self if len(self.text) <= limit else Message(self.text[: limit - 1] + "…", self.photo, self.buttons)


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


@dataclass(frozen=True)
class Courier:
    """The sender in this process, taking rows of `kinds` as they are enqueued: written claimed by it (`token`) for
    `lease`, and collected in the session for it (`handed`)."""

    token: str
    lease: timedelta
    kinds: frozenset[str]


Notices = Callable[[T], Sequence[Outgoing]]
"""What a change tells whom: from its outcome, the messages to enqueue in its transaction (see `notify`)."""


def notice_key(what: str, *ids: object) -> str:
    """The key of a notice of one change, e.g. notice:purchase:17 (a purchase, an entry, a voucher: what happened
    once), so the same change never enqueues two notices."""
    return ":".join([NOTICE, what, *map(str, ids)])


async def enqueue(session: AsyncSession, messages: Sequence[Outgoing], now: datetime) -> int:
    """Add the messages to the caller's transaction; a key already in the outbox is skipped. Returns rows added.

    With a `Courier` on the session, rows of its kinds are written claimed by it and collected for it (`handed`).
    """
    courier: Courier | None = session.info.get(COURIER)
    added = 0
    for chunk in batched(messages):
        rows = [_row(outgoing, now, courier) for outgoing in chunk]
        statement = repositories.insert_or_ignore(session, OutboxMessage).values(rows)
        if courier is None:
            added += rowcount(await session.execute(statement))
            continue
        inserted = [claimed_row(row) for row in await session.execute(statement.returning(*RETURNED))]
        added += len(inserted)
        taken = [row for row in inserted if row.attempts]  # written claimed: a first try under way
        session.info.setdefault(HANDED, []).extend(taken)
    return added


def _row(outgoing: Outgoing, now: datetime, courier: Courier | None) -> dict[str, object]:
    """The outbox row of a message: pending, or sending under the courier's claim when it takes its kind."""
    row: dict[str, object] = {
        "key": outgoing.key,
        "kind": outgoing.kind,
        "member_id": outgoing.member_id,
        "chat_id": outgoing.chat_id,
        "payload": outgoing.message.to_json(),
        "state": OutboxState.PENDING.value,
        "claim": None,
        "attempts": 0,
        "next_attempt_at": outgoing.not_before or now,
    }
    if courier is not None and outgoing.kind in courier.kinds and outgoing.not_before is None:
        row |= {"state": OutboxState.SENDING.value, "claim": courier.token, "attempts": 1}
        row["next_attempt_at"] = now + courier.lease
    return row


async def notify(session: AsyncSession, notices: Notices[T] | None, *outcomes: T, now: datetime) -> int:
    """Enqueue what `notices` tells of each outcome, in the caller's (the change's) write transaction; rows added."""
    if notices is None:
        return 0
    return await enqueue(session, [message for outcome in outcomes for message in notices(outcome)], now)


def handed(info: MutableMapping[Any, Any]) -> list[Claimed]:
    """The rows claimed for the session's courier since last asked (taken off the session of this `info`)."""
    rows: list[Claimed] = info.pop(HANDED, [])
    return rows


async def known_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    """Which of these keys are in the outbox already (whatever their state)."""
    known: set[str] = set()
    for chunk in batched(sorted(set(keys))):
        known.update(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))))
    return known
