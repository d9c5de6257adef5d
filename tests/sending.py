"""The outbox and its sender under test: a clock moved by hand, a send that records, greetings and campaigns queued
to the made-up members of `factories.member_row`, and the states of the outbox's rows."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import campaigns
from loyalty.audiences import Audience
from loyalty.campaigns import CampaignDraft, CampaignInfo, Message
from loyalty.outbox import Outgoing
from storage.models import OutboxMessage
from tests.emulator import BotAPIEmulator
from tests.factories import FIRST_CHAT, NOW, add_members, member_row


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on by `seconds`."""
        self.now += timedelta(seconds=seconds)


class Recorder:
    """A fake `send` that records each message, or raises what `errors` says for a chat (once per listed error)."""

    def __init__(self, errors: dict[int, list[Exception]] | None = None, pause: float = 0.0) -> None:
        self.sent: list[tuple[int, Message]] = []
        self.errors = errors or {}
        self.pause = pause

    async def __call__(self, chat_id: int, message: Message) -> None:
        await asyncio.sleep(self.pause)
        if self.errors.get(chat_id):
            raise self.errors[chat_id].pop(0)
        self.sent.append((chat_id, message))

    @property
    def chats(self) -> Counter[int]:
        """How many messages each chat got."""
        return Counter(chat for chat, _ in self.sent)


def greeting(number: int, key: str | None = None) -> Outgoing:
    """A birthday greeting for member `number` (who must exist)."""
    message = Message(f"Happy birthday {number}")
    return Outgoing(key or f"birthday:2026:{number}", "birthday", FIRST_CHAT + number, message, member_id=number)


async def campaign_to(session: AsyncSession, members: Iterable[int], **fields: object) -> CampaignInfo:
    """Members with these numbers, and a started campaign to all of them."""
    await add_members(session, [member_row(number) for number in members])
    values: dict[str, object] = {"name": "Sale", "audience": Audience(), "message": Message("Hi {name}")}
    created = await campaigns.create(session, CampaignDraft(**(values | fields)), actor_id=1, now=NOW)  # type: ignore[arg-type]
    return await campaigns.start(session, created.id, actor_id=1, now=NOW)


async def states(session: AsyncSession) -> Counter[str]:
    """How many outbox rows are in each state."""
    rows = await session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    return Counter({state: count for state, count in rows})


def on_the_bot(emulator: BotAPIEmulator, members: Iterable[int]) -> Iterable[int]:
    """The members' chats are known to the emulator (they wrote to the bot)."""
    emulator.chats |= {FIRST_CHAT + number for number in members}
    return members
