"""Health endpoints of the web server: `GET /healthz` (the process answers) and `GET /readyz` (it can work).

/readyz answers 200 when the database and Redis (when the conversation state lives there) answer within
`TIMEOUT`, and the Bot API answered within the last `FRESH` seconds (asked again with getMe when it has not), else
503; its small JSON body says which dependency is down, and the broadcast sender's lease state: "holding" (this
instance sends the outbox), "waiting" (another instance does) or "none" (no sender in this process). Not holding the
lease is normal with several instances, so it never makes the instance unready.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.sender import Sender

logger = logging.getLogger(__name__)

TIMEOUT = 3.0  # seconds a dependency has to answer
FRESH = 60.0  # seconds a Bot API answer counts as recent
OK, DOWN, UNUSED = "ok", "down", "not used"


@dataclass
class Readiness:
    """What /readyz looks at: the database, the conversation state's store, the Bot API and the sender."""

    engine: AsyncEngine
    storage: BaseStorage
    bot: Bot
    sender: Sender | None = None
    _reached_at: float = field(default=float("-inf"), init=False)

    async def report(self) -> dict[str, object]:
        """Each dependency's state, and `ready`: whether all of them are up."""
        database, redis, bot_api = await asyncio.gather(self._database(), self._redis(), self._bot_api())
        ready = DOWN not in (database, redis, bot_api)
        return {"ready": ready, "database": database, "redis": redis, "bot_api": bot_api, "sender": self._sender()}

    async def _database(self) -> str:
        try:
            async with asyncio.timeout(TIMEOUT), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError, TimeoutError) as error:
            logger.warning("readiness: the database does not answer (%s)", type(error).__name__)
            return DOWN
        return OK

    async def _redis(self) -> str:
        if not isinstance(self.storage, RedisStorage):
            return UNUSED
        try:
            await asyncio.wait_for(self.storage.redis.ping(), TIMEOUT)
        except (OSError, RedisError, TimeoutError) as error:
            logger.warning("readiness: Redis does not answer (%s)", type(error).__name__)
            return DOWN
        return OK

    async def _bot_api(self) -> str:
        """OK if the Bot API answered getMe within the last `FRESH` seconds, asking it again when it is older."""
        now = asyncio.get_running_loop().time()
        if now - self._reached_at < FRESH:
            return OK
        try:
            await self.bot.get_me(request_timeout=int(TIMEOUT))
        except (TelegramAPIError, OSError, TimeoutError) as error:
            logger.warning("readiness: the Bot API does not answer (%s)", type(error).__name__)
            return DOWN
        self._reached_at = now
        return OK

    def _sender(self) -> str:
        if self.sender is None:
            return "none"
        return "holding" if self.sender.holding else "waiting"


READINESS = web.AppKey("readiness", Readiness)


async def healthz(request: web.Request) -> web.Response:
    """The process is alive and its event loop answers."""
    return web.json_response({"alive": True})


async def readyz(request: web.Request) -> web.Response:
    """200 with each dependency's state when all are up, else 503 with the same body."""
    report = await request.app[READINESS].report()
    return web.json_response(report, status=200 if report["ready"] else 503)


def add_routes(app: web.Application) -> None:
    """GET /healthz and GET /readyz; the app holds its `Readiness` under `READINESS`."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
