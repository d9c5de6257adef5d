"""The updates in hand: a stopping bot stops taking updates, then waits for those it is handling (`finish`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject

from bot.middlewares import Handler

logger = logging.getLogger(__name__)


class InHand(BaseMiddleware):
    """Knows the tasks handling an update right now (an outer middleware of the dispatcher)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def install(self, dispatcher: Dispatcher) -> None:
        """Make this the dispatcher's first outer middleware: it knows an update from its start, while it waits for
        its chat's lock too (aiogram's own outer middlewares, which take that lock, come first otherwise)."""
        others = list(dispatcher.update.outer_middleware)
        for middleware in others:
            dispatcher.update.outer_middleware.unregister(middleware)
        for middleware in (self, *others):
            dispatcher.update.outer_middleware.register(middleware)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        assert task is not None  # a middleware always runs in a task
        self._tasks.add(task)
        try:
            return await handler(event, data)
        finally:
            self._tasks.discard(task)

    async def finish(self, grace: float) -> None:
        """Wait up to `grace` seconds for the updates in hand; cancel those still running after it (a webhook update
        is then delivered again, as it was never answered) and say how many."""
        if not self._tasks:
            return
        logger.info("finishing %s updates in hand", len(self._tasks))
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=grace)
        if unfinished:
            logger.warning("%s updates were not finished within %s s; cancelled", len(unfinished), grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
