"""The Mini App over HTTP for tests: initData signed as the messenger signs it (HMAC-SHA-256 under a key derived
from the bot's token), the Mini App served on a free port of 127.0.0.1 with a client that asks it, a member
with points to look at, and the page opened in a browser as the messenger opens it."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiogram import Bot
from aiohttp import web
from playwright.async_api import Page, Response, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import club_of
from bot.i18n import create_i18n
from bot.settings import Settings
from bot.web import serving
from bot.webapp.context import WebApp
from bot.webapp.mount import add_routes
from tests.chat import Chat
from tests.factories import NOW
from tests.live import free_port
from tests.lookups import member_of
from tests.people import MakeChat, joined
from tests.steps import give
from tests.stub_bot import TOKEN

PATH = "/app"


def signed_init_data(
    user_id: int, *, at: datetime = NOW, token: str = TOKEN, language_code: str = "fa", **fields: str
) -> str:
    """initData naming account `user_id`, signed at `at` with `token`'s key (another token's: a forgery)."""
    user = json.dumps({"id": user_id, "first_name": "Sara", "language_code": language_code}, separators=(",", ":"))
    values = {"auth_date": str(int(at.timestamp())), "query_id": "AAE-test", "user": user, **fields}
    checked = "\n".join(f"{key}={value}" for key, value in sorted(values.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    values["hash"] = hmac.new(secret, checked.encode(), hashlib.sha256).hexdigest()
    return urlencode(values)


async def member_with_600_points(
    chat_with: MakeChat, sessions: async_sessionmaker[AsyncSession], language: str = "en"
) -> Chat:
    """The default user, joined in `language` (100 welcome points), given 500 more."""
    chat = await joined(chat_with, language)
    await give(sessions, (await member_of(sessions)).id, 500, "extra", NOW, days=365)
    return chat


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass(frozen=True)
class Download:
    status: int
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True)
class MiniApp:
    """A client of the Mini App served at `base`."""

    client: aiohttp.ClientSession
    base: str

    async def ask(self, method: str, path: str, init_data: str | None, body: Any = None) -> Answer:
        """`method` `path` (under the Mini App's) with initData in the Authorization header (none if None)."""
        headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
        async with self.client.request(method, self.base + path, headers=headers, json=body) as answer:
            content = await answer.json() if answer.content_type == "application/json" else await answer.text()
            return Answer(answer.status, content)

    async def get(self, path: str, user_id: int | None = None) -> Answer:
        """GET `path` as account `user_id`, with fresh initData (no initData if None)."""
        return await self.ask("GET", path, signed_init_data(user_id) if user_id is not None else None)

    async def post(self, path: str, user_id: int, body: Any = None) -> Answer:
        """POST `body` as JSON to `path` as account `user_id`."""
        return await self.ask("POST", path, signed_init_data(user_id), body)

    async def download(self, path: str, user_id: int) -> Download:
        """GET the file at `path` as account `user_id`: its status, headers and bytes."""
        headers = {"Authorization": f"tma {signed_init_data(user_id)}"}
        async with self.client.get(self.base + path, headers=headers) as answer:
            return Download(answer.status, dict(answer.headers), await answer.read())


@contextlib.asynccontextmanager
async def mini_app(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], bot: Bot, now: datetime = NOW
) -> AsyncIterator[MiniApp]:
    """The Mini App at PATH of a web server on a free port, its clock at `now`, while the block runs."""
    webapp = WebApp(bot, sessions, create_i18n(settings.default_language), club_of(settings), lambda: now)
    app = web.Application()
    add_routes(app, webapp=webapp, path=PATH)
    port = free_port()
    async with serving(app, "127.0.0.1", port, grace=1), aiohttp.ClientSession() as client:
        yield MiniApp(client, f"http://127.0.0.1:{port}{PATH}")


# --- in a browser ---------------------------------------------------------------------------------------------------


def launch_url(app: MiniApp, init_data: str, theme: dict[str, str] | None = None) -> str:
    """The page's address as the messenger opens it: initData and the theme in the fragment."""
    fragment = f"tgWebAppData={quote(init_data, safe='')}"
    if theme is not None:
        fragment += f"&tgWebAppThemeParams={quote(json.dumps(theme), safe='')}"
    return f"{app.base}/#{fragment}"


async def open_page(page: Page, app: MiniApp, init_data: str, theme: dict[str, str] | None = None) -> Response:
    """Open the Mini App with `init_data` and wait for its first answer (the page's texts)."""
    async with page.expect_response(lambda response: response.url.endswith("/api/texts")) as texts:
        await page.goto(launch_url(app, init_data, theme))
    return await texts.value


async def open_tab(page: Page, name: str) -> None:
    """Tap the tab showing view `name` and wait until it is shown."""
    await page.locator(f"#tabs button[data-view='{name}']").click()
    await expect(page.locator(f"#view-{name}")).to_be_visible()
    await expect(page.locator("#status")).to_be_hidden()


async def visible_tabs(page: Page) -> list[str | None]:
    """The views of the tabs the page shows."""
    tabs = page.locator("#tabs button:visible")
    return [await tabs.nth(index).get_attribute("data-view") for index in range(await tabs.count())]
