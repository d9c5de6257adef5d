"""Fuzzing the whole bot: hypothesis-made updates of every kind it may receive, through the real dispatcher on both
databases. Whatever arrives, no exception reaches a user, every message in a private chat gets an answer, and the
books stay balanced.

The users are the owner (staff commands), two members and a newcomer. Besides made-up texts, button data and
contacts, a step may press a button or tap a keyboard key the bot showed that user before, so the fuzzer walks deep
into wizards instead of bouncing off their first step. `LOYALTY_FUZZ_EXAMPLES` sets the budget (BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import LedgerEntry, Member, PointLot
from tests import updates
from tests.chat import Chat, Reply

EXAMPLES = int(os.environ.get("LOYALTY_FUZZ_EXAMPLES", "12"))
OWNER, MEMBERS, NEWCOMER = 1, (42, 43), 44
USERS = (OWNER, *MEMBERS, NEWCOMER)
COMMANDS = (
    "/start", "/balance", "/history", "/card", "/invite", "/rewards", "/vouchers", "/profile", "/language", "/help",
    "/stop", "/earn", "/member", "/adjust", "/undo", "/redeem", "/catalog", "/gift", "/campaign", "/settings",
    "/staff", "/stats", "/block", "/unblock",
)  # fmt: skip
CALLBACK_PREFIXES = (
    "ctr",
    "ctrok",
    "ctrp",
    "set",
    "setc",
    "stf",
    "cmp",
    "wiz",
    "cat",
    "hist",
    "prof",
    "lang",
    "rdm",
    "rwd",
    "vch",
    "onb",
    "blk",
)
WORDS = ("09121234567", "+989121234567", "۰۹۱۲۱۲۳۴۵۶۷", "۲۵۰٬۰۰۰", "150000", "-5", "0", "99999999999999999999", "#کیک")

commands = st.tuples(
    st.sampled_from(COMMANDS), st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=3)
).map(lambda parts: " ".join([parts[0], *parts[1]]))
texts = st.one_of(st.text(max_size=40), commands, st.sampled_from(WORDS))
callback_data = st.one_of(
    st.text(max_size=64),
    st.tuples(
        st.sampled_from(CALLBACK_PREFIXES), st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=4)
    ).map(lambda parts: ":".join([parts[0], *map(str, parts[1])])[:64]),
)
users = st.sampled_from(USERS)
seen = st.integers(0, 20)  # which of the buttons or keys the bot last showed
steps = st.one_of(
    # what a person mostly does: commands, keys and buttons the bot showed them
    st.tuples(st.just("say"), users, commands),
    st.tuples(st.just("tap"), users, seen),
    st.tuples(st.just("press"), users, seen),
    st.tuples(st.just("press"), users, seen),
    st.tuples(st.just("say"), users, texts),
    # and what anyone may send
    st.tuples(st.just("press_data"), users, callback_data),
    st.tuples(st.just("contact"), users, st.sampled_from((*WORDS[:3], "12", "not a phone"))),
    st.tuples(st.just("foreign_contact"), users, st.sampled_from(WORDS[:3])),
    st.tuples(st.just("media"), users, st.sampled_from(("sticker", "photo"))),
    st.tuples(st.just("edited"), users, texts),
    st.tuples(st.just("group"), users, texts),
)


class Session:
    """The fuzzer's users, with what the bot last showed each of them."""

    def __init__(self, chat_with: Callable[..., Chat]) -> None:
        self.chats = {user: chat_with(user, first_name=f"User{user}", language_code="fa") for user in USERS}
        self.buttons: dict[int, list[str]] = {user: [] for user in USERS}
        self.keys: dict[int, list[str]] = {user: [] for user in USERS}

    async def join_members(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Make sure the members have joined (the database lives on across examples)."""
        async with sessions() as session:
            joined = set((await session.scalars(select(Member.telegram_id))).all())
        for number, user in enumerate(MEMBERS):
            if user not in joined:
                await self.chats[user].join(f"0912123456{number}")

    async def step(self, kind: str, user: int, value: Any) -> tuple[bool, list[Reply]]:
        """Play one step; returns whether it was a private message (which must be answered) and the replies."""
        chat = self.chats[user]
        replies = await self._play(chat, kind, user, value)
        for reply in replies:
            if reply.callback_data():
                self.buttons[user] = reply.callback_data()
            if getattr(reply.markup, "keyboard", None):
                self.keys[user] = reply.buttons()
        return kind in {"say", "tap", "contact", "foreign_contact", "media"}, replies

    async def _play(self, chat: Chat, kind: str, user: int, value: Any) -> list[Reply]:
        if kind == "say":
            return await chat.say(value)
        if kind in {"tap", "press"}:
            seen = self.keys[user] if kind == "tap" else self.buttons[user]
            if not seen:
                return await chat.say("/start")
            choice = seen[value % len(seen)]
            return await (chat.say(choice) if kind == "tap" else chat.press(choice))
        if kind == "press_data":
            return await chat.press(value)
        if kind == "contact":
            return await chat.share_contact(value)
        if kind == "foreign_contact":
            return await chat.share_contact(value, owner_id=user + 1000)
        if kind == "media":
            return await (chat.sticker() if value == "sticker" else chat.photo())
        update = updates.message_update(chat.user, text=value)
        if kind == "edited":
            update["edited_message"] = update.pop("message")
        else:
            update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Shop fans"}
        return await chat.feed(update)


async def unbalanced_members(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, int, int, int]]:
    """Members whose stored balance differs from their open lots or their ledger, or is negative."""
    lots = select(PointLot.member_id, func.sum(PointLot.remaining).label("total")).group_by(PointLot.member_id)
    entries = select(LedgerEntry.member_id, func.sum(LedgerEntry.points).label("total")).group_by(LedgerEntry.member_id)
    lots_sq, entries_sq = lots.subquery(), entries.subquery()
    query = (
        select(Member.id, Member.balance, func.coalesce(lots_sq.c.total, 0), func.coalesce(entries_sq.c.total, 0))
        .outerjoin(lots_sq, lots_sq.c.member_id == Member.id)
        .outerjoin(entries_sq, entries_sq.c.member_id == Member.id)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows if not (b == c == d and b >= 0)]


@pytest.fixture
def failures(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The updates whose handling failed (logged by the error handler) so far."""
    caplog.set_level(logging.ERROR, logger="handlers.errors")

    def failed() -> list[str]:
        return [f"{record.getMessage()}: {record.exc_info[1]!r}" for record in caplog.records
                if record.name == "handlers.errors" and record.exc_info]  # fmt: skip

    return failed


@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(played=st.lists(steps, min_size=5, max_size=40))
async def test_no_update_of_any_kind_breaks_the_bot_or_the_books(
    chat_with: Callable[..., Chat],
    sessions: async_sessionmaker[AsyncSession],
    failures: Callable[[], list[str]],
    played: list[tuple[str, int, Any]],
) -> None:
    fuzz = Session(chat_with)
    await fuzz.join_members(sessions)
    for kind, user, value in played:
        private, replies = await fuzz.step(kind, user, value)
        assert not failures(), f"{kind} {value!r} from {user} failed"
        assert replies or not private, f"{kind} {value!r} from {user} got no answer"
    assert await unbalanced_members(sessions) == []
