"""Logs: the level and format (`LOG_LEVEL`, `LOG_FORMAT`), and the update in hand on every line logged while it is
handled.

`UpdateLog`, an outer middleware, keeps the update in hand (`Handling`: its id, type, chat and, once the router has
chosen it, the handler) in a context variable, and logs one line when the update is done, with its outcome and
duration; `HandlerName`, an inner middleware on every kind of event, names the handler. In JSON (`JsonFormatter`)
each line is one object: time, level, logger, message, the update in hand's fields, and a traceback if any.
aiogram's own line per update ("Update id=… is handled") says less and is turned down.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import IO, Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.types import Chat, TelegramObject, Update

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIETER = {"aiogram.event": logging.WARNING}  # loggers whose INFO lines say again what ours say


@dataclass
class Handling:
    """The update in hand: what every line logged while it is handled carries."""

    update_id: int
    update_type: str
    chat_id: int | None
    handler: str | None = None


handling: contextvars.ContextVar[Handling | None] = contextvars.ContextVar("handling", default=None)


class UpdateLog(BaseMiddleware):
    """Keeps the update in hand in `handling` and logs one line when it is done: outcome and duration."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        chat: Chat | None = data.get("event_chat")
        current = Handling(event.update_id, event.event_type, chat.id if chat else None)
        token = handling.set(current)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            logger.info(
                "update %s (%s) from chat %s by %s: %s in %s ms",
                current.update_id,
                current.update_type,
                current.chat_id,
                current.handler,
                outcome,
                duration_ms,
                extra={"outcome": outcome, "duration_ms": duration_ms},
            )
            handling.reset(token)


class HandlerName(BaseMiddleware):
    """Names the handler the router chose (module.function) in the update in hand."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        current = handling.get()
        chosen: HandlerObject | None = data.get("handler")
        if current is not None and chosen is not None:
            current.handler = f"{chosen.callback.__module__}.{chosen.callback.__qualname__}"
        return await handler(event, data)


def watch_updates(dispatcher: Dispatcher) -> None:
    """Log every update the dispatcher handles, and give lines logged meanwhile the update in hand."""
    dispatcher.update.outer_middleware(UpdateLog())
    naming = HandlerName()
    for name, observer in dispatcher.observers.items():
        if name not in ("update", "error"):
            observer.middleware(naming)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the update in hand, what the caller added as
    `outcome` and `duration_ms`, and the traceback as one string."""

    EXTRA = ("outcome", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (current := handling.get()) is not None:
            line |= {key: value for key, value in asdict(current).items() if value is not None}
        line |= {key: getattr(record, key) for key in self.EXTRA if hasattr(record, key)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to `sys.stderr` as it is when a record comes, not as it was when logging was set up (a
    redirected or captured standard error closed since would lose the lines)."""

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _ignored: IO[str]) -> None:
        """StreamHandler sets its stream; this one has none of its own."""


HANDLER_NAME = "loyalty-bot"


def configure_logging(level: str, format_: str, stream: IO[str] | None = None) -> logging.Handler:
    """Log from `level` up to `stream` (standard error), as text or one JSON object a line, in place of the handler
    an earlier call added; the handler added."""
    handler = logging.StreamHandler(stream) if stream is not None else StandardError()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if format_ == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for earlier in [each for each in root.handlers if each.get_name() == HANDLER_NAME]:
        root.removeHandler(earlier)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quieter in QUIETER.items():
        logging.getLogger(name).setLevel(quieter)
    return handler
