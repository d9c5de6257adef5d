"""The bot's web server (aiohttp): the health endpoints, the webhook in webhook mode, and the routes other parts
add: each part has an `add_routes(app)` and is listed in `ROUTES` (the webhook's route is passed to `create_app`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot import health
from bot.health import Readiness

logger = logging.getLogger(__name__)

AddRoutes = Callable[[web.Application], None]
ROUTES: tuple[AddRoutes, ...] = (health.add_routes,)  # every mode's routes; a part with routes of its own adds its here


def create_app(readiness: Readiness, *more: AddRoutes) -> web.Application:
    """The web application: every part's routes in `ROUTES`, then `more` (the webhook's)."""
    app = web.Application()
    app[health.READINESS] = readiness
    for add_routes in (*ROUTES, *more):
        add_routes(app)
    return app


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str, port: int, grace: float) -> AsyncIterator[None]:
    """Serve `app` on host:port while the block runs; at its end stop listening, then give the requests in hand up
    to `grace` seconds to be answered (aiohttp cancels those still running after that)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=grace)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        logger.info("the web server listens on %s:%s", host, port)
        yield
    finally:
        await runner.cleanup()
