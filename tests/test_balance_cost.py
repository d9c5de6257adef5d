"""What a member's /balance costs the bot beyond its answer: the routers it passes on its way to the handler, and
the statements it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiogram import Router
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.loop_reads import reader_of
from tests.chat import Chat
from tests.people import joined

MakeChat = Callable[..., Chat]
ROUTERS = 4  # the dispatcher's update, the root, the staff's features (skipped at one check), and the account


async def test_a_members_update_skips_the_staff_features_with_a_check_or_two(
    chat_with: MakeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await joined(chat_with)
    passed: list[str] = []
    propagate = Router.propagate_event

    async def counted(router: Router, update_type: str, event: Any, **data: Any) -> Any:
        passed.append(router.name)
        return await propagate(router, update_type, event, **data)

    monkeypatch.setattr(Router, "propagate_event", counted)
    [reply] = await chat.say("/balance")
    assert "Points: 100" in reply.text
    assert len(passed) <= ROUTERS, passed


async def test_a_members_balance_is_read_in_one_statement_on_the_loop_on_sqlite(
    chat_with: MakeChat, engine: AsyncEngine
) -> None:
    chat = await joined(chat_with)
    handed: list[str] = []  # to aiosqlite's thread, or to asyncpg
    on_loop: list[str] = []
    reader = reader_of(engine)

    def into(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        handed.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", into)
    if reader is not None:
        reader.trace(on_loop.append)
    try:
        [reply] = await chat.say("/balance")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", into)
        if reader is not None:
            reader.trace(None)
    assert "100 points expire on 22 Nov 2027" in reply.text
    if engine.dialect.name == "sqlite":  # the member, their role and their soonest expiry, together, on the loop
        assert (len(on_loop), handed) == (1, [])
    else:
        assert len(handed) == 1, handed
