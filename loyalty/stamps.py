"""The stamp of an update: who acts, under which update and when — what a change made for it is recorded with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Stamp:
    """Who acts (their messenger account id), the update's key (idempotency keys are built from it; see
    `bot.middlewares.update_key`), the moment (aware, UTC) and the update's id, which audit entries name.

    Built once per update (`bot.middlewares.StampMiddleware`), so every change the update makes carries the same.
    """

    actor_id: int
    update_key: str
    at: datetime
    update_id: int | None = None
