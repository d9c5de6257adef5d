"""The playground driven as its page drives it: the Bot API server and the page's JSON API on a test server, Bot API
calls made as the bot makes them, a person's actions and what their chat shows afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.i18n import create_i18n
from bot.playground import botapi, page
from bot.playground.cast import CASHIER, Person
from bot.playground.chats import BOT_TOKEN, Chats
from bot.playground.demo import run_demo
from bot.settings import Settings
from bot.web import serving
from storage.models import StaffMember
from tests.live import free_port, listening

ANSWER_TIMEOUT = 15.0  # seconds the bot gets to answer a person
QUIET = 0.3  # seconds without a change after which the bot has answered


@contextlib.asynccontextmanager
async def playground_client() -> AsyncIterator[tuple[Chats, aiohttp.ClientSession]]:
    """The playground's server over fresh chats on a free port, and a client of it (paths from its root)."""
    chats = Chats()
    app = web.Application()
    botapi.add_routes(app, chats)
    page.add_routes(app, chats, create_i18n("fa"))
    port = free_port()
    async with serving(app, "127.0.0.1", port, 0.5), aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
        try:
            yield chats, client
        finally:
            await chats.close()


async def bot_call(client: aiohttp.ClientSession, method: str, **params: Any) -> dict[str, Any]:
    """A Bot API method called as the bot calls it (JSON), and Telegram's answer."""
    async with client.post(f"/bot{BOT_TOKEN}/{method}", json=params) as answer:
        body: dict[str, Any] = await answer.json()
        return body


async def stub_seed(engine: AsyncEngine, settings: Settings) -> None:
    """The smallest café the demo's tests need: the cashier on the staff (the real café takes some 20 s to seed, and
    has tests of its own)."""
    async with async_sessionmaker(engine)() as session, session.begin():
        at = datetime.now(UTC)
        session.add(
            StaffMember(telegram_id=CASHIER.telegram_id, role="cashier", name="Reza", added_by=None, added_at=at)
        )


class Visitor:
    """The page's JSON API at `url`, used as a person on the page uses it."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def chat(self, person: Person) -> dict[str, Any]:
        async with self.http.get(f"{self.url}/play/chats/{person.telegram_id}") as answer:
            answer.raise_for_status()
            body: dict[str, Any] = await answer.json()
            return dict(body["chat"])

    async def bot_messages(self, person: Person) -> list[dict[str, Any]]:
        return [message for message in (await self.chat(person))["messages"] if message["out"]]

    async def act(self, person: Person, action: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Do `action` (text, contact, press) as the person; the bot's messages that came to them after it."""
        seen = len(await self.bot_messages(person))
        async with self.http.post(f"{self.url}/play/chats/{person.telegram_id}/{action}", json=body or {}) as answer:
            answer.raise_for_status()
        return await self.answers(person, seen)

    async def say(self, person: Person, text: str) -> list[dict[str, Any]]:
        return await self.act(person, "text", {"text": text})

    async def answers(self, person: Person, seen: int) -> list[dict[str, Any]]:
        """The bot's messages to the person after the first `seen`, once some came and the chat went quiet."""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        last: list[dict[str, Any]] = []
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            now = (await self.bot_messages(person))[seen:]
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif last and time.monotonic() - quiet_since >= QUIET:
                return last
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not answer {person.first_name} within {ANSWER_TIMEOUT:g} s")


async def until_the_bot_polls(url: str, process: asyncio.subprocess.Process) -> None:
    """Wait until the page at `url` says the bot has started polling, failing if the `process` serving it ends."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline and process.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{url}/play/chats/{CASHIER.telegram_id}") as answer:
                    if (await answer.json())["bot"]:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the bot at {url} never polled (the process: {process.returncode})")


@contextlib.asynccontextmanager
async def demo(tmp_path: Path) -> AsyncIterator[Visitor]:
    """`loyalty-bot demo` over the stub café, and a visitor of its page, until the block ends."""
    port = free_port()
    task = asyncio.create_task(run_demo(port, tmp_path, seed=stub_seed))
    try:
        for _ in range(200):
            if listening(port) or task.done():
                break
            await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http:
            yield Visitor(http, f"http://127.0.0.1:{port}")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def texts_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(message["text"]) for message in messages)


def keyboard_labels(chat: dict[str, Any], wanted: Callable[[dict[str, Any]], bool] = lambda button: True) -> list[str]:
    """The labels of the reply keyboard under the chat's input (those `wanted`)."""
    return [button["text"] for row in chat["keyboard"] or [] for button in row if wanted(button)]
