"""Prometheus metrics of one bot, served at GET /metrics (`add_routes`).

A `Metrics` keeps its own registry, so several bots in one process (and tests) never share a counter. It counts:
- updates handled, by type and outcome (ok, unhandled: no handler took it, error), and their latency
  (`watch_dispatcher`, an outer middleware);
- Bot API requests by method, and their errors by method and code (429, 403…; "network" when no answer came)
  (`watch_bot`, a middleware of the Bot's session: each request sent, a flood answer waited out and sent again
  counts twice);
- messages the broadcast sender sent (`counted`, around its `send`): their rate is the sends a second.
The database's figures (`bot.gauges`: outbox depth, members, purchases today, the daily jobs' last runs) are read
when scraped, at most once every few seconds (`watch_database`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gauges import DatabaseFigures
from loyalty.outbox import Message
from scheduler.sender import Send, utc_now

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
CODES: tuple[tuple[type[Exception], str], ...] = (
    (TelegramRetryAfter, "429"),
    (TelegramForbiddenError, "403"),
    (TelegramBadRequest, "400"),
    (TelegramUnauthorizedError, "401"),
    (TelegramNotFound, "404"),
    (TelegramConflictError, "409"),
    (TelegramEntityTooLarge, "413"),
    (TelegramServerError, "5xx"),
    (TelegramNetworkError, "network"),
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def error_code(error: Exception) -> str:
    """The Bot API's answer to a failed request, as a label: its HTTP code, "network", or the error's type."""
    for kind, code in CODES:
        if isinstance(error, kind):
            return code
    return "other" if isinstance(error, TelegramAPIError) else type(error).__name__


class Metrics:
    """One bot's metrics in a registry of its own (see the module's docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "loyalty_updates", "Updates handled, by type and outcome", ["type", "outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "loyalty_update_duration_seconds",
            "Time to handle an update, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "loyalty_bot_api_requests", "Bot API requests sent, by method", ["method"], registry=self.registry
        )
        self.errors = Counter(
            "loyalty_bot_api_errors",
            "Bot API requests that failed, by method and code",
            ["method", "code"],
            registry=self.registry,
        )
        self.sends = Counter("loyalty_outbox_sends", "Messages the broadcast sender sent", registry=self.registry)
        self.figures: DatabaseFigures | None = None

    def watch_dispatcher(self, dispatcher: Dispatcher) -> None:
        """Count the updates the dispatcher handles, and time them."""
        dispatcher.update.outer_middleware(UpdateMetrics(self))

    def watch_bot(self, session: BaseSession) -> None:
        """Count the Bot API requests sent through `session` and their errors (register it last, innermost, to count
        every request sent)."""
        session.middleware(RequestMetrics(self))

    def counted(self, send: Send) -> Send:
        """The broadcast sender's `send`, counting each message sent."""

        async def counting(chat_id: int, message: Message) -> None:
            await send(chat_id, message)
            self.sent()

        return counting

    def sent(self) -> None:
        """One more message sent by the broadcast sender."""
        self.sends.inc()

    def watch_database(
        self,
        sessions: async_sessionmaker[AsyncSession],
        zone: ZoneInfo,
        *,
        clock: Callable[[], datetime] = utc_now,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """Serve the database's figures too (read when scraped, cached a few seconds)."""
        self.figures = DatabaseFigures(sessions, zone, clock=clock, timer=timer)
        self.registry.register(self.figures)

    async def refresh(self) -> None:
        """Read the database's figures again if the last reading is old."""
        if self.figures is not None:
            await self.figures.refresh()


class UpdateMetrics(BaseMiddleware):
    """Counts each update by type and outcome, and times it (handlers, middlewares, waiting for the chat's lock)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        kind = event.event_type
        outcome = "error"
        started = time.perf_counter()
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            self.metrics.latency.labels(kind).observe(time.perf_counter() - started)
            self.metrics.updates.labels(kind, outcome).inc()


class RequestMetrics(BaseRequestMiddleware):
    """Counts each Bot API request by method, and each failed one by method and code."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        name = method.__api_method__
        self.metrics.requests.labels(name).inc()
        try:
            return await make_request(bot, method)
        except Exception as error:
            self.metrics.errors.labels(name, error_code(error)).inc()
            raise


def add_routes(app: web.Application, metrics: Metrics, path: str = "/metrics") -> None:
    """Serve `metrics` at GET `path` in Prometheus's text format (the version the scraper accepts)."""

    async def scrape(request: web.Request) -> web.Response:
        await metrics.refresh()
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(metrics.registry), headers={"Content-Type": content_type})

    app.router.add_get(path, scrape)
