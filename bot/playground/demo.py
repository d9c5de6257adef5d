"""`loyalty-bot demo`: the playground's Bot API server and web chat page on 127.0.0.1, and the real bot
(`bot.app.run_polling`, unchanged) polling it with a fixed token, over a SQLite database under the data folder that
is seeded with the café the first time (or again with `--reset`). No token, no internet; SIGTERM or Ctrl-C stops
the bot cleanly, then the server.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import run_polling
from bot.i18n import create_i18n
from bot.playground import DEFAULT_DATA, DEFAULT_PORT, botapi, page
from bot.playground.cafe import seed_cafe
from bot.playground.cast import OWNER
from bot.playground.chats import BOT_TOKEN, Chats
from bot.settings import Settings
from bot.web import serving
from storage.database import create_engine
from storage.migrate import upgrade

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DATABASE = "cafe.db"
GRACE = 1.0  # seconds the page's and the bot's requests in hand get when the server stops
Seed = Callable[[AsyncEngine, Settings], Awaitable[None]]


def demo_settings(port: int, data: Path) -> Settings:
    """The bot's settings in the playground: the local server, the fixed token, the café's database, the cast's
    owner; links open in the page; no webhook, Redis, proxy or web server of its own (the page's port is taken)."""
    here = f"http://{HOST}:{port}"
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=BOT_TOKEN,
        bot_api_url=here,
        deep_link_url=f"{here}/open",
        database_url=f"sqlite+aiosqlite:///{(data / DATABASE).resolve()}",
        owner_ids=(OWNER.telegram_id,),
        redis_url=None,
        webhook_url=None,
        web_port=None,
        proxy_url=None,
        backup_dir=data / "backups",
    )


async def seed_the_cafe(engine: AsyncEngine, settings: Settings) -> None:
    """The café's seed (`bot.playground.cafe`), as of now."""
    await seed_cafe(engine, settings, now=datetime.now(UTC))


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def prepare_database(settings: Settings, data: Path, *, reset: bool, seed: Seed) -> bool:
    """Make the café's database when there is none (or anew with `reset`): migrated and seeded in a file of its own,
    which becomes the database only once complete. Whether it was made."""
    database = data / DATABASE
    if reset:
        _remove_database(database)
    if database.exists():
        return False
    data.mkdir(parents=True, exist_ok=True)
    making = database.with_name(f"{DATABASE}.new")
    _remove_database(making)
    engine = create_engine(f"sqlite+aiosqlite:///{making.resolve()}")
    try:
        await upgrade(engine)
        await seed(engine, settings)
    finally:
        await engine.dispose()
    making.rename(database)
    return True


@contextlib.asynccontextmanager
async def playground_server(settings: Settings, port: int) -> AsyncIterator[Chats]:
    """The Bot API server and the page on HOST:port while the block runs; at its end the long polls are answered."""
    chats = Chats()
    app = web.Application()
    botapi.add_routes(app, chats)
    page.add_routes(app, chats, create_i18n(settings.default_language))
    async with serving(app, HOST, port, GRACE):
        try:
            yield chats
        finally:
            await chats.close()


async def run_demo(
    port: int = DEFAULT_PORT, data: Path = DEFAULT_DATA, *, reset: bool = False, seed: Seed = seed_the_cafe
) -> None:
    """The playground until cancelled."""
    settings = demo_settings(port, data)
    async with playground_server(settings, port):  # first: a port already taken is told before a long seeding
        if await prepare_database(settings, data, reset=reset, seed=seed):
            logger.info("seeded the café in %s", data / DATABASE)
        logger.info("the playground is at http://%s:%s (Ctrl-C stops it)", HOST, port)
        await run_polling(settings)
