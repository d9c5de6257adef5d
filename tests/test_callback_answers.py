"""Every button press is answered exactly once (aiogram's CallbackAnswerMiddleware, after the handler): the owner's
menus and a member's, walked button by button, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.chat import Chat, Reply
from tests.people import joined, owner_chat

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
PRESSES = 60  # buttons pressed per walk: enough to reach every menu's second level


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


def answers(replies: list[Reply]) -> list[Reply]:
    return [reply for reply in replies if reply.name == "AnswerCallbackQuery"]


async def walk_buttons(chat: Chat, commands: list[str]) -> int:
    """Send the commands, then press every button the replies carry, breadth first; each press answered once."""
    waiting: deque[str] = deque()
    seen: set[str] = set()
    for command in commands:
        for reply in await chat.say(command):
            waiting.extend(reply.callback_data())
        await chat.say("/cancel")
    pressed = 0
    while waiting and pressed < PRESSES:
        data = waiting.popleft()
        if data in seen:
            continue
        seen.add(data)
        replies = await chat.press(data)
        pressed += 1
        assert len(answers(replies)) == 1, (data, replies)
        for reply in replies:
            waiting.extend(reply.callback_data())
    return pressed


async def test_every_button_of_the_owners_menus_is_answered_once(
    chat_with: MakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    owner = owner_chat(chat_with)
    assert await walk_buttons(owner, ["/settings", "/catalog", "/staff", "/campaign", "/gift"]) == PRESSES
    assert failures(caplog) == []


async def test_every_button_of_a_members_menus_is_answered_once(
    chat_with: MakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    member = await joined(chat_with)
    assert await walk_buttons(member, ["/language", "/rewards", "/vouchers", "/history"]) > 0
    assert failures(caplog) == []


async def test_a_forged_button_is_answered_once(chat_with: MakeChat) -> None:
    member = await joined(chat_with)
    [answer] = answers(await member.press("nothing:of:ours"))
    assert answer.method.show_alert
